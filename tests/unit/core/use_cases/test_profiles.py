from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.identity import (
    MAX_DISPLAY_NAME_LENGTH,
    Principal,
    Profile,
    ProfileChanges,
    ProfileStatus,
    Role,
)
from core.errors import InvalidInput, PermissionDenied
from core.ports.token_verifier import VerifiedToken
from core.use_cases.profiles import IdentifyCaller, SetMemberRole, UpdateOwnProfile
from tests.fakes import (
    FakeProfileLookup,
    FakeTextScreener,
    FakeUnitOfWork,
    FixedClock,
    InMemoryStore,
    SequentialIds,
)

MEMBER = uuid.UUID("5f0c7c1e-0000-4000-8000-000000000001")


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


def identify(store: InMemoryStore, clock: FixedClock | None = None) -> IdentifyCaller:
    return IdentifyCaller(
        uow_factory=lambda: FakeUnitOfWork(store),
        lookup=FakeProfileLookup(store),
        clock=clock or FixedClock(),
        ids=SequentialIds(),
    )


async def test_first_sight_creates_an_active_member_and_records_one_event(store):
    principal = await identify(store)(VerifiedToken(subject=MEMBER, is_service=False))
    assert principal.profile is not None
    assert principal.profile.role is Role.MEMBER
    assert principal.profile.status is ProfileStatus.ACTIVE
    await identify(store)(VerifiedToken(subject=MEMBER, is_service=False))
    assert [e.name for e in store.outbox] == ["profile.created"]
    assert list(store.profiles) == [MEMBER]


class LookupThatLosesTheRace(FakeProfileLookup):
    """Misses on its first read: another first request creates the profile right after."""

    def __init__(self, store: InMemoryStore, created_meanwhile: Profile) -> None:
        super().__init__(store)
        self.created_meanwhile = created_meanwhile
        self.reads = 0

    async def get(self, profile_id: uuid.UUID) -> Profile | None:
        self.reads += 1
        if self.reads == 1:
            self.store.profiles[profile_id] = self.created_meanwhile
            return None
        return await super().get(profile_id)


async def test_a_first_request_that_loses_the_race_reads_the_winners_profile(store):
    winners = replace(Profile.new(MEMBER, FixedClock().now()), display_name="Adé")
    lookup = LookupThatLosesTheRace(store, winners)
    identify_caller = IdentifyCaller(
        uow_factory=lambda: FakeUnitOfWork(store),
        lookup=lookup,
        clock=FixedClock(),
        ids=SequentialIds(),
    )
    principal = await identify_caller(VerifiedToken(subject=MEMBER, is_service=False))
    assert principal.profile == winners
    assert lookup.reads == 2
    assert store.outbox == []  # the winner recorded profile.created, not this request
    assert store.profiles == {MEMBER: winners}


async def test_service_identity_has_no_profile(store):
    principal = await identify(store)(VerifiedToken(subject=None, is_service=True))
    assert principal.is_service
    assert principal.profile is None
    assert store.profiles == {}


async def test_banned_member_is_refused(store):
    await identify(store)(VerifiedToken(subject=MEMBER, is_service=False))
    store.profiles[MEMBER] = replace(store.profiles[MEMBER], status=ProfileStatus.BANNED)
    with pytest.raises(PermissionDenied) as refused:
        await identify(store)(VerifiedToken(subject=MEMBER, is_service=False))
    assert refused.value.code == "account_banned"


async def test_update_normalises_and_stamps_time(store):
    clock = FixedClock()
    principal = await identify(store, clock)(VerifiedToken(subject=MEMBER, is_service=False))
    clock.advance(minutes=5)
    update = UpdateOwnProfile(
        uow_factory=lambda: FakeUnitOfWork(store), clock=clock, screener=FakeTextScreener()
    )
    changes = ProfileChanges(
        display_name="  Ada   Lovelace ", languages=("YO", "yo", "en-ng"), payout_currency="ngn"
    )
    updated = await update(principal, changes)
    assert updated.display_name == "Ada Lovelace"
    assert updated.languages == ("yo", "en-NG")
    assert updated.payout_currency == "NGN"
    assert updated.updated_at == clock.now()
    assert store.profiles[MEMBER] == updated


async def test_suspended_member_cannot_write_and_nothing_changes(store):
    principal = await identify(store)(VerifiedToken(subject=MEMBER, is_service=False))
    store.profiles[MEMBER] = replace(store.profiles[MEMBER], status=ProfileStatus.SUSPENDED)
    before = store.profiles[MEMBER]
    update = UpdateOwnProfile(
        uow_factory=lambda: FakeUnitOfWork(store), clock=FixedClock(), screener=FakeTextScreener()
    )
    with pytest.raises(PermissionDenied):
        await update(principal, ProfileChanges(display_name="New"))
    assert store.profiles[MEMBER] == before


@pytest.mark.parametrize(
    "changes",
    [
        ProfileChanges(display_name="   "),
        ProfileChanges(display_name="x" * (MAX_DISPLAY_NAME_LENGTH + 1)),
        ProfileChanges(languages=("english",)),
        ProfileChanges(languages=("y0",)),
        ProfileChanges(payout_currency="EUR"),
    ],
)
async def test_bad_changes_are_refused_and_nothing_is_written(store, changes):
    principal = await identify(store)(VerifiedToken(subject=MEMBER, is_service=False))
    before = store.profiles[MEMBER]
    update = UpdateOwnProfile(
        uow_factory=lambda: FakeUnitOfWork(store), clock=FixedClock(), screener=FakeTextScreener()
    )
    with pytest.raises(InvalidInput):
        await update(principal, changes)
    assert store.profiles[MEMBER] == before


async def test_only_admins_and_service_assign_roles(store):
    member = await identify(store)(VerifiedToken(subject=MEMBER, is_service=False))
    assign = SetMemberRole(
        uow_factory=lambda: FakeUnitOfWork(store), clock=FixedClock(), ids=SequentialIds()
    )
    other = uuid.UUID(int=99)
    with pytest.raises(PermissionDenied):
        await assign(member, other, Role.ADMIN)
    promoted = await assign(Principal(profile=None, is_service=True), MEMBER, Role.ADMIN)
    assert promoted.role is Role.ADMIN
    with pytest.raises(PermissionDenied) as refused:
        await assign(Principal(profile=promoted), MEMBER, Role.MEMBER)
    assert refused.value.code == "self_demotion"
    moderator = await assign(Principal(profile=promoted), other, Role.MODERATOR)
    assert moderator.role is Role.MODERATOR


@given(st.text(max_size=200))
def test_display_names_are_either_refused_or_trimmed_and_bounded(name):
    from core.domain.identity import Profile, apply_changes

    clock = FixedClock()
    profile = Profile.new(MEMBER, clock.now())
    try:
        updated = apply_changes(profile, ProfileChanges(display_name=name), clock.now())
    except InvalidInput:
        assert not name.split() or len(" ".join(name.split())) > MAX_DISPLAY_NAME_LENGTH
    else:
        assert updated.display_name == " ".join(name.split())
        assert 1 <= len(updated.display_name) <= MAX_DISPLAY_NAME_LENGTH


@given(st.lists(st.from_regex(r"[a-zA-Z]{2,3}(-[a-zA-Z]{2})?", fullmatch=True), max_size=20))
def test_language_normalisation_is_idempotent(codes):
    from core.domain.identity import normalise_language

    for code in codes:
        once = normalise_language(code)
        assert normalise_language(once) == once
