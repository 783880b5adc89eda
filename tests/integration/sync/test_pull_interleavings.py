"""The pull never skips a change: for any interleaving of transactions that change a
member's clips, notifications and balance — committed in any order, some rolled back — and
pulls (page by page), applying the pulls in order reproduces the member's state on the
server. Real PostgreSQL, real concurrent transactions, the real feed adapter."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adapters.postgres.sync_feed import PostgresChangeFeed
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from core.domain.ledger import reward_earned
from core.domain.member_notifications import Notification
from core.domain.money import Money
from core.domain.notifications import NotificationCategory
from core.domain.sync_cursor import SyncCursor
from tests.integration.money.helpers import insert_clip, insert_profile
from tests.integration.sync.helpers import bulk_clips

pytestmark = pytest.mark.integration

WRITERS = 3
OWN_CLIPS = 3
NOW = datetime(2026, 6, 1, tzinfo=UTC)
BALANCE = ("balance",)
_SET_STATUS = sa.text(
    "UPDATE voice_clips SET status = :status, "
    "decided_at = CASE WHEN :status = 'pending' THEN NULL ELSE now() END WHERE id = :id"
)

writer = st.integers(0, WRITERS - 1)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("notify"), writer),
        st.tuples(st.just("read"), writer, st.integers(0, 20)),
        st.tuples(
            st.just("status"),
            writer,
            st.integers(0, OWN_CLIPS - 1),
            st.sampled_from(["pending", "accepted", "rejected", "disputed"]),
        ),
        st.tuples(st.just("earn"), writer, st.integers(1, 900)),
        st.tuples(st.just("commit"), writer),
        st.tuples(st.just("rollback"), writer),
        st.tuples(st.just("pull")),
    ),
    max_size=30,
)


@dataclass
class Writer:
    """One open transaction: its unit of work and what it changed, not yet committed."""

    uow: PostgresUnitOfWork
    changes: dict[tuple[Any, ...], Any] = field(default_factory=dict)


@dataclass
class World:
    engine: Any
    member: uuid.UUID
    clips: list[uuid.UUID]
    earning_clips: list[uuid.UUID]
    page_size: int
    committed: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    history: dict[tuple[Any, ...], list[Any]] = field(default_factory=dict)
    writers: dict[int, Writer] = field(default_factory=dict)
    replica: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    cursor: SyncCursor = field(default_factory=SyncCursor)
    window_start: dict[tuple[Any, ...], int] | None = None  # history lengths at its first page

    def held_by_other(self, key: tuple[Any, ...], number: int) -> bool:
        """A row another open transaction changed is locked until it ends (waiting for it
        would stall this single-threaded schedule, so such a step is skipped)."""
        return any(key in w.changes for n, w in self.writers.items() if n != number)

    async def writer(self, number: int) -> Writer:
        if number not in self.writers:
            uow = PostgresUnitOfWork(self.engine)
            await uow.__aenter__()
            self.writers[number] = Writer(uow)
        return self.writers[number]

    def commit_changes(self, changes: dict[tuple[Any, ...], Any]) -> None:
        for key, value in changes.items():
            if key == BALANCE:
                value = self.committed[BALANCE] + value
            self.committed[key] = value
            self.history.setdefault(key, []).append(value)


async def run(world: World, schedule: list[tuple[Any, ...]]) -> None:
    for step in schedule:
        await apply_step(world, step)
    for number in sorted(world.writers):  # the rest commits, in the order opened
        await apply_step(world, ("commit", number))
    await finish_window(world)
    if world.cursor.until is not None or world.window_start is not None:
        await finish_window(world)
    await finish_window(world)  # a whole window that saw every commit
    assert world.replica == world.committed


async def finish_window(world: World) -> None:
    await apply_step(world, ("pull",))
    while world.cursor.until is not None:
        await apply_step(world, ("pull",))


async def apply_step(world: World, step: tuple[Any, ...]) -> None:
    kind = step[0]
    if kind == "pull":
        await pull(world)
        return
    number = step[1]
    if kind in ("commit", "rollback"):
        open_writer = world.writers.pop(number, None)
        if open_writer is None:
            return
        if kind == "commit":
            await open_writer.uow.commit()
            world.commit_changes(open_writer.changes)
        await open_writer.uow.__aexit__(None, None, None)
        return
    key, value = change_of(world, step)
    if key is None or world.held_by_other(key, number):
        return
    current = await world.writer(number)
    await write(world, current, step, key)
    if key == BALANCE:
        value += current.changes.get(BALANCE, 0)
    current.changes[key] = value


def change_of(world: World, step: tuple[Any, ...]) -> tuple[tuple[Any, ...] | None, Any]:
    kind = step[0]
    if kind == "notify":
        return ("notification", uuid.uuid4()), False
    if kind == "read":
        known = sorted(
            k for k in world.committed if k[0] == "notification"
        )  # committed ones only: a pending one is another transaction's to read
        return (known[step[2] % len(known)], True) if known else (None, None)
    if kind == "status":
        return ("clip", world.clips[step[2]]), step[3]
    assert kind == "earn"
    return BALANCE, step[2]


async def write(world: World, current: Writer, step: tuple[Any, ...], key: tuple[Any, ...]) -> None:
    uow = current.uow
    kind = step[0]
    if kind == "notify":
        await uow.notifications.add_if_absent(
            Notification(
                id=key[1],
                profile_id=world.member,
                category=NotificationCategory.BADGE,
                title="t",
                body="b",
                data={},
                created_at=NOW,
                source_event_id=uuid.uuid4(),
            )
        )
    elif kind == "read":
        await uow.notifications.mark_read(world.member, [key[1]], NOW)
    elif kind == "status":
        await uow.connection.execute(_SET_STATUS, {"status": step[3], "id": key[1]})
    else:
        await uow.ledger.post(
            reward_earned(
                transaction_id=uuid.uuid4(),
                profile_id=world.member,
                clip_id=world.earning_clips.pop(),
                reward_kind="validation_agreed",
                amount=Money(step[2], "NGN"),
                occurred_at=NOW,
            )
        )


async def pull(world: World) -> None:
    if world.cursor.until is None:  # the first page of a window
        world.window_start = {key: len(values) for key, values in world.history.items()}
    page = await PostgresChangeFeed(world.engine).page(
        world.member, world.cursor, world.page_size, currency="NGN", now=NOW
    )
    for clip in page.clips:
        world.replica[("clip", clip.id)] = clip.status.value
    for notification in page.notifications:
        world.replica[("notification", notification.id)] = notification.is_read
    if page.balance is not None:
        world.replica[BALANCE] = page.balance.pending.amount_minor
    world.cursor = page.cursor
    if not page.has_more:
        check_window(world)


def check_window(world: World) -> None:
    """After a window: whatever was committed before its first page and not changed since
    is in the replica with exactly that value. A row changed again while the window was
    being paged may have left it (its new version belongs to the next window): it holds
    one of its committed values, and the next window brings the latest."""
    assert world.window_start is not None
    for key, values in world.history.items():
        seen_at_start = world.window_start.get(key, 0)
        if seen_at_start == len(values):
            assert world.replica.get(key) == values[-1], f"{key} is missing or stale"
        elif key in world.replica:
            assert world.replica[key] in values, key
    world.window_start = None


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(schedule=steps, page_size=st.integers(1, 3))
@example(  # a transaction that started first commits after a later one that a pull saw
    schedule=[("notify", 0), ("notify", 1), ("commit", 1), ("pull",), ("commit", 0), ("pull",)],
    page_size=2,
)
@example(  # a balance change commits after a later clip decision was pulled
    schedule=[("earn", 0, 100), ("status", 1, 0, "accepted"), ("commit", 1), ("pull",),
              ("commit", 0), ("pull",)],
    page_size=1,
)  # fmt: skip
async def test_applying_the_pulls_in_order_reproduces_the_members_state(
    engine, schedule, page_size
):
    member = await insert_profile(engine)
    clips = [await insert_clip(engine, member) for _ in range(OWN_CLIPS)]
    earning_clips = await bulk_clips(engine, 20)
    world = World(engine, member, clips, earning_clips, page_size)
    world.committed = {("clip", clip): "pending" for clip in clips} | {BALANCE: 0}
    world.history = {key: [value] for key, value in world.committed.items()}
    try:
        await run(world, schedule)
    finally:
        for open_writer in world.writers.values():
            await open_writer.uow.__aexit__(None, None, None)
