"""Members, their roles and status, and what each may do."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from core.domain.streaks import check_time_zone
from core.domain.visibility import Visibility
from core.errors import InvalidInput, PermissionDenied

MAX_DISPLAY_NAME_LENGTH = 80
MAX_LANGUAGES = 20
SUPPORTED_PAYOUT_CURRENCIES = frozenset({"NGN", "GHS", "KES", "ZAR", "USD"})


class Role(StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"
    ADMIN = "admin"


class ProfileStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # read-only: no earning, no payouts
    BANNED = "banned"  # nothing at all


@dataclass(frozen=True, slots=True)
class Profile:
    id: UUID
    role: Role
    status: ProfileStatus
    display_name: str | None
    languages: tuple[str, ...]
    payout_currency: str | None
    created_at: datetime
    updated_at: datetime
    time_zone: str | None = None  # IANA name; days (streaks, goals) are counted in it, UTC if None
    show_on_leaderboards: bool = False  # opt-in: the display name appears on leaderboards
    visibility: Visibility = Visibility.VISIBLE  # moderation may hide the public name

    @classmethod
    def new(cls, profile_id: UUID, now: datetime) -> Profile:
        return cls(
            id=profile_id,
            role=Role.MEMBER,
            status=ProfileStatus.ACTIVE,
            display_name=None,
            languages=(),
            payout_currency=None,
            created_at=now,
            updated_at=now,
        )


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a member (with their profile) or the platform's service identity."""

    profile: Profile | None
    is_service: bool = False

    @property
    def profile_id(self) -> UUID | None:
        return self.profile.id if self.profile else None

    @property
    def role(self) -> Role | None:
        return self.profile.role if self.profile else None

    def require_member(self) -> Profile:
        if self.profile is None:
            raise PermissionDenied("This endpoint is for members.", code="member_required")
        return self.profile


def ensure_may_read(profile: Profile) -> None:
    """Banned members may do nothing at all."""
    if profile.status is ProfileStatus.BANNED:
        raise PermissionDenied("This account is banned.", code="account_banned")


def ensure_may_write(profile: Profile) -> None:
    """Suspended members are read-only; banned members may do nothing."""
    ensure_may_read(profile)
    if profile.status is ProfileStatus.SUSPENDED:
        raise PermissionDenied("This account is suspended (read-only).", code="account_suspended")


def ensure_role(principal: Principal, *allowed: Role) -> None:
    """The service identity passes every role check; members need one of ``allowed``."""
    if principal.is_service:
        return
    profile = principal.require_member()
    ensure_may_read(profile)
    if profile.role not in allowed:
        raise PermissionDenied(
            f"This needs one of the roles: {', '.join(sorted(r.value for r in allowed))}.",
            code="role_required",
        )


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """A partial update of a member's own profile; ``None`` means "leave as is"."""

    display_name: str | None = None
    languages: tuple[str, ...] | None = None
    payout_currency: str | None = None
    time_zone: str | None = None
    show_on_leaderboards: bool | None = None


def normalise_language(code: str) -> str:
    """BCP-47-ish language tags (``yo``, ``ha``, ``pcm``, ``en-NG``), lower-cased primary tag."""
    parts = code.strip().split("-")
    primary = parts[0].lower()
    if not (2 <= len(primary) <= 3 and primary.isascii() and primary.isalpha()):
        raise InvalidInput(f"{code!r} is not a language code.", code="invalid_language")
    rest = []
    for part in parts[1:]:
        if not (part.isascii() and part.isalnum() and 2 <= len(part) <= 8):
            raise InvalidInput(f"{code!r} is not a language code.", code="invalid_language")
        rest.append(part.upper() if len(part) == 2 else part)
    return "-".join([primary, *rest])


def normalise_display_name(name: str) -> str:
    """1–80 characters after collapsing whitespace."""
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_DISPLAY_NAME_LENGTH:
        raise InvalidInput(
            f"Display name must be 1–{MAX_DISPLAY_NAME_LENGTH} characters.",
            code="invalid_display_name",
        )
    return cleaned


def apply_changes(profile: Profile, changes: ProfileChanges, now: datetime) -> Profile:
    """Validate and apply a member's own profile changes."""
    updated = profile
    if changes.display_name is not None:
        updated = replace(updated, display_name=normalise_display_name(changes.display_name))
    if changes.languages is not None:
        if len(changes.languages) > MAX_LANGUAGES:
            raise InvalidInput(f"At most {MAX_LANGUAGES} languages.", code="too_many_languages")
        languages = tuple(dict.fromkeys(normalise_language(c) for c in changes.languages))
        updated = replace(updated, languages=languages)
    if changes.payout_currency is not None:
        currency = changes.payout_currency.upper()
        if currency not in SUPPORTED_PAYOUT_CURRENCIES:
            raise InvalidInput(
                f"Payout currency must be one of {', '.join(sorted(SUPPORTED_PAYOUT_CURRENCIES))}.",
                code="unsupported_currency",
            )
        updated = replace(updated, payout_currency=currency)
    if changes.time_zone is not None:
        updated = replace(updated, time_zone=check_time_zone(changes.time_zone))
    if changes.show_on_leaderboards is not None:
        updated = replace(updated, show_on_leaderboards=changes.show_on_leaderboards)
    if updated is profile:
        return profile
    return replace(updated, updated_at=now)
