"""Use cases of live streams: going live, joining, ending, listing, chat and the video
service's room events."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar
from uuid import UUID

from core.domain.events import DomainEvent
from core.domain.identity import Principal, Profile, ensure_may_write
from core.domain.jobs import PermanentFailure
from core.domain.live import (
    HOST_GRANTS,
    LiveGrants,
    LiveMessage,
    LiveRole,
    LiveStream,
    RoomEventKind,
    apply_room_event,
    compose_message,
    end_stream,
    ensure_live,
    ensure_may_end,
    ensure_shown,
    grants_for,
    normalise_message_body,
    participant_identity,
    start_stream,
)
from core.domain.moderation import public_name
from core.errors import Conflict, InvalidInput, NotFound, RateLimited
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.live_streams import Position
from core.ports.live_video import LiveVideo, LiveWebhookVerifier
from core.ports.screening import TextScreener
from core.ports.unit_of_work import UnitOfWork
from core.use_cases.screening import ensure_screened

T = TypeVar("T")

MAX_PAGE_SIZE = 100
CHAT_MESSAGES_PER_WINDOW = 5
CHAT_WINDOW = timedelta(seconds=10)
ENDED_BY_VIDEO_SERVICE = "video_service"
ENDED_BY_SERVICE = "service"


@dataclass(frozen=True, slots=True)
class StartStreamCommand:
    title: str
    language: str


@dataclass(frozen=True, slots=True)
class StreamJoin:
    """What an app needs to join a stream's video room: the URL, a signed token and what the
    token allows."""

    stream: LiveStream
    url: str
    token: str
    identity: str
    role: LiveRole
    grants: LiveGrants


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; ``next`` is where the following page starts (``None``: last)."""

    items: tuple[T, ...]
    next: Position | None


class WebhookOutcome(StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"


def _stream_not_found() -> NotFound:
    return NotFound("No such live stream.", code="stream_not_found")


def _ensure_page_size(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(
            f"A page holds 1–{MAX_PAGE_SIZE} items.", code="invalid_page_size", limit=limit
        )


def _page(rows: Sequence[T], limit: int, position: Callable[[T], Position]) -> Page[T]:
    items = tuple(rows[:limit])
    more = len(rows) > limit
    return Page(items=items, next=position(items[-1]) if more and items else None)


def _join(video: LiveVideo, stream: LiveStream, member: Profile, grants: LiveGrants) -> StreamJoin:
    identity = participant_identity(member.id)
    return StreamJoin(
        stream=stream,
        url=video.client_url,
        token=video.issue_token(stream.room_name, identity, public_name(member) or "", grants),
        identity=identity,
        role=LiveRole.HOST if grants == HOST_GRANTS else LiveRole.VIEWER,
        grants=grants,
    )


def stream_ended_event(event_id: UUID, stream: LiveStream, ended_by: str) -> DomainEvent:
    """``stream.ended``: who ended it (a profile id, ``service`` or ``video_service``), how
    long it ran and its peak audience."""
    duration = stream.duration
    assert stream.ended_at is not None
    assert duration is not None
    return DomainEvent(
        id=event_id,
        name="stream.ended",
        occurred_at=stream.ended_at,
        payload={
            "streamId": str(stream.id),
            "hostId": str(stream.host_id),
            "endedBy": ended_by,
            "durationSeconds": int(duration.total_seconds()),
            "peakViewers": stream.peak_viewers,
        },
    )


@dataclass(frozen=True, slots=True)
class StartStream:
    """A member goes live: a new stream, its video room, and the host's publish token.

    Rules: only members who may write (not suspended, not banned) go live; the title is 1–120
    characters after collapsing whitespace and the language a language tag; one live stream
    per host — guaranteed by storage, so of concurrent starts by one host exactly one
    succeeds and the others get 409 ``already_live``; the room is created before the stream
    is committed, so if the video service fails nothing is kept; ``stream.started`` is
    recorded.
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator
    video: LiveVideo

    async def __call__(self, principal: Principal, command: StartStreamCommand) -> StreamJoin:
        host = principal.require_member()
        now = self.clock.now()
        async with self.uow_factory() as uow:
            stream = start_stream(
                stream_id=self.ids.new_id(),
                host=host,
                title=command.title,
                language=command.language,
                now=now,
                hosts_streams=await uow.live_streams.live_streams_of(host.id),
            )
            if not await uow.live_streams.add(stream):
                raise Conflict("You already have a live stream.", code="already_live")
            await self.video.create_room(stream.room_name)
            uow.record(
                DomainEvent(
                    id=self.ids.new_id(),
                    name="stream.started",
                    occurred_at=now,
                    payload={
                        "streamId": str(stream.id),
                        "hostId": str(host.id),
                        "language": stream.language,
                    },
                )
            )
            await uow.commit()
        return _join(self.video, stream, host, HOST_GRANTS)


@dataclass(frozen=True, slots=True)
class IssueStreamToken:
    """A member asks for a token to join a stream's room.

    Rules: the stream must exist (404) and be live (409 ``stream_ended``); banned members get
    nothing; the host gets publish + subscribe + data grants, everyone else subscribe + chat
    data and never publish (suspended members: subscribe only); asking for the ``host`` role
    as anyone but the host is refused (403 ``host_only``). The identity in the token is the
    member's profile id.
    """

    uow_factory: Callable[[], UnitOfWork]
    video: LiveVideo

    async def __call__(
        self, principal: Principal, stream_id: UUID, role: LiveRole | None = None
    ) -> StreamJoin:
        member = principal.require_member()
        async with self.uow_factory() as uow:
            stream = await uow.live_streams.get(stream_id)
        if stream is None:
            raise _stream_not_found()
        return _join(self.video, stream, member, grants_for(stream, member, role))


@dataclass(frozen=True, slots=True)
class EndStream:
    """The host, a moderator, an admin or the service identity ends a live stream.

    Rules: anyone else is refused (403 ``not_stream_host``); ending an ended stream is a
    conflict (409 ``stream_ended``); the video room is closed (everyone disconnected) before
    the end is committed, so if the video service fails the stream stays live and the call
    can be retried; the duration is recorded and ``stream.ended`` is recorded. Concurrent
    ends of one stream happen one after another: exactly one succeeds.
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator
    video: LiveVideo

    async def __call__(self, principal: Principal, stream_id: UUID) -> LiveStream:
        async with self.uow_factory() as uow:
            stream = await uow.live_streams.get(stream_id, lock=True)
            if stream is None:
                raise _stream_not_found()
            ensure_may_end(stream, principal)
            ensure_live(stream)
            ended = end_stream(stream, principal, self.clock.now())
            await self.video.delete_room(stream.room_name)
            await uow.live_streams.save(ended)
            ended_by = str(principal.profile_id) if principal.profile_id else ENDED_BY_SERVICE
            uow.record(stream_ended_event(self.ids.new_id(), ended, ended_by))
            await uow.commit()
        return ended


@dataclass(frozen=True, slots=True)
class ListLiveStreams:
    """The streams live now, newest first, a page at a time (1–100 per page)."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(self, *, limit: int = 20, after: Position | None = None) -> Page[LiveStream]:
        _ensure_page_size(limit)
        async with self.uow_factory() as uow:
            rows = await uow.live_streams.list_live(limit=limit + 1, after=after)
        return _page(rows, limit, lambda s: Position(at=s.started_at, id=s.id))


@dataclass(frozen=True, slots=True)
class GetStream:
    """One stream, live or ended (404 ``stream_not_found`` if there is none, or if moderation
    hid or removed it)."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(self, stream_id: UUID) -> LiveStream:
        async with self.uow_factory() as uow:
            stream = await uow.live_streams.get(stream_id)
        if stream is None:
            raise _stream_not_found()
        ensure_shown(stream)
        return stream


@dataclass(frozen=True, slots=True)
class PostChatMessage:
    """A member posts a chat message in a live stream; it is kept for the stream's history.

    Rules: the stream must exist and be shown (404) and be live (409 ``stream_ended``); the
    author must be allowed to write (suspended or banned: 403); the body is 1–500 characters
    after trimming (422 ``invalid_message``) and passes screening in the stream's language
    (422 ``content_blocked`` with the category: block-listed words, phone numbers, emails,
    links, payment handles, or what the moderation service flags); at most ``max_messages``
    per member per stream within ``window`` (429 ``chat_rate_limited`` with a retry delay) —
    counted in storage, so the limit holds across processes and concurrent posts.
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator
    screener: TextScreener
    max_messages: int = CHAT_MESSAGES_PER_WINDOW
    window: timedelta = CHAT_WINDOW

    async def __call__(self, principal: Principal, stream_id: UUID, body: str) -> LiveMessage:
        author = principal.require_member()
        async with self.uow_factory() as uow:
            stream = await uow.live_streams.get(stream_id)
        if stream is None:
            raise _stream_not_found()
        ensure_shown(stream, author)
        ensure_live(stream)
        ensure_may_write(author)
        # Screened outside any transaction: a moderation service may take a moment.
        text = normalise_message_body(body)
        await ensure_screened(self.screener, text, language=stream.language, what="message")
        now = self.clock.now()
        async with self.uow_factory() as uow:
            stream = await uow.live_streams.get(stream_id)
            if stream is None:
                raise _stream_not_found()
            message = compose_message(
                message_id=self.ids.new_id(), stream=stream, author=author, body=body, now=now
            )
            posted = await uow.live_streams.add_message_within_limit(
                message, limit=self.max_messages, since=now - self.window
            )
            if not posted:
                seconds = max(1, math.ceil(self.window.total_seconds()))
                raise RateLimited(
                    f"At most {self.max_messages} messages every {seconds} seconds; slow down.",
                    code="chat_rate_limited",
                    retry_after_seconds=seconds,
                )
            await uow.commit()
        return message


@dataclass(frozen=True, slots=True)
class ListChatMessages:
    """A stream's chat history (live or ended), newest first, a page at a time (1–100);
    messages moderation hid or removed are left out, and a hidden stream is not found."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(
        self, stream_id: UUID, *, limit: int = 50, before: Position | None = None
    ) -> Page[LiveMessage]:
        _ensure_page_size(limit)
        async with self.uow_factory() as uow:
            stream = await uow.live_streams.get(stream_id)
            if stream is None:
                raise _stream_not_found()
            ensure_shown(stream)
            rows = await uow.live_streams.list_messages(stream_id, limit=limit + 1, before=before)
        return _page(rows, limit, lambda m: Position(at=m.created_at, id=m.id))


@dataclass(frozen=True, slots=True)
class HandleLiveWebhook:
    """A signed notification from the video service about a room.

    Rules: the signature, the body's hash and the token's expiry must check out (401
    otherwise, and nothing changes); unknown kinds and rooms that are not a live stream are
    accepted and ignored; each event is applied at most once (redeliveries, in any order,
    are ``duplicate``); a finished room ends its stream (``stream.ended``, by the video
    service); viewers joining and leaving move the current and peak viewer counts — the host
    is never a viewer. Events for one stream are applied one after another.
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator
    verifier: LiveWebhookVerifier

    async def __call__(self, body: str, authorization: str) -> WebhookOutcome:
        event = self.verifier.verify(body, authorization)
        if event.kind is RoomEventKind.UNKNOWN:
            return WebhookOutcome.IGNORED
        now = self.clock.now()
        async with self.uow_factory() as uow:
            stream = await uow.live_streams.get_by_room(event.room_name, lock=True)
            if stream is None or not stream.is_live:
                return WebhookOutcome.IGNORED
            if event.id and not await uow.live_streams.mark_event_handled(event.id, now):
                return WebhookOutcome.DUPLICATE
            updated = apply_room_event(stream, event, now)
            if updated != stream:
                await uow.live_streams.save(updated)
                if not updated.is_live:
                    uow.record(
                        stream_ended_event(self.ids.new_id(), updated, ENDED_BY_VIDEO_SERVICE)
                    )
            await uow.commit()
        return WebhookOutcome.APPLIED


ROOM_CLOSE_REQUESTED = "live.room_close_requested"


def room_close_requested(event_id: UUID, stream: LiveStream, at: datetime) -> DomainEvent:
    """Asks the worker to close a stream's video room (``CloseLiveRoom``): a stream ended by
    moderation is ended in its transaction, and the video service is told afterwards, with
    retries, so that a moderation decision never waits for (or fails with) the video service."""
    return DomainEvent(
        id=event_id,
        name=ROOM_CLOSE_REQUESTED,
        occurred_at=at,
        payload={"streamId": str(stream.id), "roomName": stream.room_name},
    )


@dataclass(frozen=True, slots=True)
class CloseLiveRoom:
    """Event handler for ``live.room_close_requested``: delete the stream's video room (so
    everyone in it is disconnected). A room already gone is fine; without a video service
    there is no room to close. An outage fails the job, which the worker retries."""

    video: LiveVideo | None

    async def __call__(self, event: DomainEvent) -> None:
        room = event.payload.get("roomName")
        if not isinstance(room, str) or not room:
            raise PermanentFailure("The event names no room.", code="malformed_event")
        if self.video is not None:
            await self.video.delete_room(room)
