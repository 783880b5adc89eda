"""Live streams: who may go live, watch, chat and end a stream, and how room events from the
video service move a stream's viewer counts and lifecycle (``live`` → ``ended``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from core.domain.identity import (
    Principal,
    Profile,
    ProfileStatus,
    Role,
    ensure_may_read,
    ensure_may_write,
    normalise_language,
)
from core.domain.visibility import Visibility
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied

MAX_TITLE_LENGTH = 120
MAX_MESSAGE_LENGTH = 500
STREAM_MODERATORS = frozenset({Role.MODERATOR, Role.ADMIN})


class StreamStatus(StrEnum):
    LIVE = "live"
    ENDED = "ended"


class LiveRole(StrEnum):
    """What a participant does in a stream's room."""

    HOST = "host"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class LiveStream:
    """One broadcast. ``viewer_sessions`` are the room sessions (participant sids) of the
    viewers connected now — the host is not a viewer — so counting is idempotent."""

    id: UUID
    host_id: UUID
    title: str
    language: str
    room_name: str
    status: StreamStatus
    started_at: datetime
    ended_at: datetime | None
    viewer_sessions: frozenset[str]
    peak_viewers: int
    visibility: Visibility = Visibility.VISIBLE  # moderation may hide or remove a stream

    @property
    def is_live(self) -> bool:
        return self.status is StreamStatus.LIVE

    @property
    def current_viewers(self) -> int:
        return len(self.viewer_sessions)

    @property
    def duration(self) -> timedelta | None:
        """How long the stream ran; ``None`` while it is live."""
        if self.ended_at is None:
            return None
        return self.ended_at - self.started_at


@dataclass(frozen=True, slots=True)
class LiveGrants:
    """What a room token allows. Media publishing is for the host only."""

    can_publish: bool
    can_subscribe: bool
    can_publish_data: bool


HOST_GRANTS = LiveGrants(can_publish=True, can_subscribe=True, can_publish_data=True)
VIEWER_GRANTS = LiveGrants(can_publish=False, can_subscribe=True, can_publish_data=True)
READ_ONLY_VIEWER_GRANTS = LiveGrants(can_publish=False, can_subscribe=True, can_publish_data=False)


def room_name_for(stream_id: UUID) -> str:
    """The video room of a stream, derived from its id."""
    return f"live-{stream_id}"


def participant_identity(profile_id: UUID) -> str:
    """A member's identity inside a video room."""
    return str(profile_id)


def normalise_title(title: str) -> str:
    cleaned = " ".join(title.split())
    if not cleaned or len(cleaned) > MAX_TITLE_LENGTH:
        raise InvalidInput(
            f"Title must be 1–{MAX_TITLE_LENGTH} characters.", code="invalid_stream_title"
        )
    return cleaned


def ensure_not_already_live(host_id: UUID, streams: Iterable[LiveStream]) -> None:
    """One live stream per host."""
    if any(s.host_id == host_id and s.is_live for s in streams):
        raise Conflict("You already have a live stream.", code="already_live")


def start_stream(
    *,
    stream_id: UUID,
    host: Profile,
    title: str,
    language: str,
    now: datetime,
    hosts_streams: Iterable[LiveStream],
) -> LiveStream:
    """A new live stream. The host must be allowed to write and not be live already."""
    ensure_may_write(host)
    ensure_not_already_live(host.id, hosts_streams)
    return LiveStream(
        id=stream_id,
        host_id=host.id,
        title=normalise_title(title),
        language=normalise_language(language),
        room_name=room_name_for(stream_id),
        status=StreamStatus.LIVE,
        started_at=now,
        ended_at=None,
        viewer_sessions=frozenset(),
        peak_viewers=0,
    )


def ensure_live(stream: LiveStream) -> None:
    if not stream.is_live:
        raise Conflict("This stream has ended.", code="stream_ended")


def ensure_may_end(stream: LiveStream, principal: Principal) -> None:
    """The host, a moderator, an admin or the service identity may end a stream."""
    if principal.is_service:
        return
    profile = principal.require_member()
    ensure_may_read(profile)
    if profile.id != stream.host_id and profile.role not in STREAM_MODERATORS:
        raise PermissionDenied(
            "Only the host or a moderator may end this stream.", code="not_stream_host"
        )


def _ended(stream: LiveStream, now: datetime) -> LiveStream:
    if not stream.is_live:
        return stream
    return replace(
        stream,
        status=StreamStatus.ENDED,
        ended_at=max(now, stream.started_at),
        viewer_sessions=frozenset(),
    )


def end_stream(stream: LiveStream, principal: Principal, now: datetime) -> LiveStream:
    """Ends a live stream; ending an ended stream changes nothing."""
    ensure_may_end(stream, principal)
    return _ended(stream, now)


def ensure_shown(stream: LiveStream, member: Profile | None = None) -> None:
    """A stream moderation hid or removed is "not found", except to its host and to
    moderators and admins."""
    if stream.visibility is Visibility.VISIBLE:
        return
    if member is not None and (member.id == stream.host_id or member.role in STREAM_MODERATORS):
        return
    raise NotFound("No such live stream.", code="stream_not_found")


def grants_for(stream: LiveStream, member: Profile, role: LiveRole | None = None) -> LiveGrants:
    """Room grants for ``member``: host grants for the host, viewer grants for everyone else.

    No tokens for streams moderation hid (except for the host and moderators), for ended
    streams or for banned members; asking for ``HOST`` as anyone but the host is refused.
    Suspended (read-only) members may watch but not chat."""
    ensure_shown(stream, member)
    ensure_live(stream)
    ensure_may_read(member)
    is_host = member.id == stream.host_id
    wanted = role or (LiveRole.HOST if is_host else LiveRole.VIEWER)
    if wanted is LiveRole.HOST:
        if not is_host:
            raise PermissionDenied("Only the host may publish.", code="host_only")
        ensure_may_write(member)
        return HOST_GRANTS
    if member.status is ProfileStatus.SUSPENDED:
        return READ_ONLY_VIEWER_GRANTS
    return VIEWER_GRANTS


@dataclass(frozen=True, slots=True)
class LiveMessage:
    """A chat message posted in a live stream."""

    id: UUID
    stream_id: UUID
    author_id: UUID
    body: str
    created_at: datetime
    visibility: Visibility = Visibility.VISIBLE  # hidden or removed messages are not listed


def normalise_message_body(body: str) -> str:
    cleaned = body.strip()
    if not cleaned or len(cleaned) > MAX_MESSAGE_LENGTH:
        raise InvalidInput(
            f"A message must be 1–{MAX_MESSAGE_LENGTH} characters.", code="invalid_message"
        )
    return cleaned


def compose_message(
    *, message_id: UUID, stream: LiveStream, author: Profile, body: str, now: datetime
) -> LiveMessage:
    """A chat message: the stream must be live and the author allowed to write."""
    ensure_live(stream)
    ensure_may_write(author)
    return LiveMessage(
        id=message_id,
        stream_id=stream.id,
        author_id=author.id,
        body=normalise_message_body(body),
        created_at=now,
    )


class RoomEventKind(StrEnum):
    ROOM_FINISHED = "room_finished"
    PARTICIPANT_JOINED = "participant_joined"
    PARTICIPANT_LEFT = "participant_left"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class RoomEvent:
    """A verified notification from the video service about one room. ``id`` is the
    service's event id (stable across redeliveries); the participant fields are set for
    participant events."""

    id: str
    kind: RoomEventKind
    room_name: str
    participant_identity: str | None = None
    participant_session: str | None = None
    occurred_at: datetime | None = None


def apply_room_event(stream: LiveStream, event: RoomEvent, now: datetime) -> LiveStream:
    """The stream after ``event``. Idempotent: viewers are counted by session, so a
    redelivered join or leave changes nothing, and an ended stream stays as it is. Events for
    other rooms, the host's own presence and unknown kinds are ignored."""
    if event.room_name != stream.room_name or not stream.is_live:
        return stream
    if event.kind is RoomEventKind.ROOM_FINISHED:
        return _ended(stream, now)
    session = event.participant_session or event.participant_identity
    if session is None or event.participant_identity == participant_identity(stream.host_id):
        return stream
    if event.kind is RoomEventKind.PARTICIPANT_JOINED:
        sessions = stream.viewer_sessions | {session}
        return replace(
            stream, viewer_sessions=sessions, peak_viewers=max(stream.peak_viewers, len(sessions))
        )
    if event.kind is RoomEventKind.PARTICIPANT_LEFT:
        return replace(stream, viewer_sessions=stream.viewer_sessions - {session})
    return stream
