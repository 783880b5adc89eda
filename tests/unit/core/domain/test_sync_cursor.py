"""The pull's cursor: snapshots, windows and the opaque encoding. The windows of successive
snapshots hand out every committed transaction exactly once, whatever order transactions
commit in; a cursor that remembers the highest transaction seen does not."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core.domain.sync_cursor import (
    ORIGIN,
    FeedPosition,
    SyncCursor,
    XidSnapshot,
    in_window,
)
from core.errors import InvalidInput


@st.composite
def snapshots(draw: st.DrawFn) -> XidSnapshot:
    xmin = draw(st.integers(1, 10**12))
    xmax = xmin + draw(st.integers(0, 50))
    running = draw(st.sets(st.integers(xmin + 1, max(xmin + 1, xmax - 1)), max_size=10))
    xip = tuple(sorted(x for x in running if xmin < x < xmax))
    if xmin < xmax:
        xip = (xmin, *xip)  # xmin is the oldest transaction still running
    return XidSnapshot(xmin, xmax, tuple(dict.fromkeys(xip)))


cursors = st.builds(
    SyncCursor,
    since=snapshots(),
    until=st.none(),
    position=st.none(),
) | st.builds(
    lambda since, until, source, xid, item: SyncCursor(
        since, until, FeedPosition(source, xid, item)
    ),
    snapshots(),
    snapshots(),
    st.sampled_from(["clips", "notifications"]),
    st.integers(0, 2**63 - 1),
    st.uuids(),
)


@given(cursors)
def test_a_cursor_survives_the_round_trip(cursor):
    assert SyncCursor.decode(cursor.encode()) == cursor


@given(snapshots())
def test_a_snapshot_reads_back_from_its_text(snapshot):
    assert XidSnapshot.parse(snapshot.text) == snapshot


@given(st.text(max_size=300))
@example("")
@example("eJyrVipTslJQSjNU0lFQKkktLokHAEG6Bpk")
def test_garbage_is_an_invalid_cursor_never_a_crash(text):
    try:
        SyncCursor.decode(text)
    except InvalidInput as error:
        refused = error
    else:
        return  # only what ``encode`` makes decodes
    assert refused.code == "invalid_cursor"


@pytest.mark.parametrize(
    "text", ["5:3:", "3:9:2", "3:9:7,5", "0:0:", "1:2:3", "a:b:", "3:9", "3:9:4,4"]
)
def test_malformed_snapshots_are_refused(text):
    with pytest.raises(ValueError):  # noqa: PT011 - any ValueError
        XidSnapshot.parse(text)


def test_visibility_follows_the_snapshot():
    snapshot = XidSnapshot(10, 20, (10, 15))
    assert snapshot.visible(9)
    assert not snapshot.visible(10)
    assert snapshot.visible(11)
    assert not snapshot.visible(15)
    assert not snapshot.visible(20)
    assert not ORIGIN.visible(1)  # rows from before sync existed carry xid 1
    assert XidSnapshot(3, 3).visible(1)


def take_snapshot(next_xid: int, running: set[int]) -> XidSnapshot:
    """What PostgreSQL's pg_current_snapshot() says: every xid below the oldest running one
    has ended, none from the next unassigned one on."""
    xip = tuple(sorted(running))
    return XidSnapshot(xip[0] if xip else next_xid, next_xid, xip)


# A schedule: "b" begins a transaction (it gets the next xid), "c<n>" commits the n-th
# running one (any order), "s" takes a snapshot (a pull).
schedules = st.lists(
    st.one_of(st.just("b"), st.just("s"), st.integers(0, 5).map(lambda n: f"c{n}")),
    max_size=60,
)


def run(schedule: list[str]) -> tuple[list[int], list[XidSnapshot]]:
    next_xid, running, committed, taken = 3, [], [], [ORIGIN]
    for step in schedule:
        if step == "b":
            running.append(next_xid)
            next_xid += 1
        elif step == "s":
            taken.append(take_snapshot(next_xid, set(running)))
        elif running:
            committed.append(running.pop(int(step[1:]) % len(running)))
    committed += running  # the rest commits, then a last pull sees everything
    taken.append(take_snapshot(next_xid, set()))
    return committed, taken


@given(schedules)
@example(["b", "b", "c1", "s", "c0", "s"])  # the younger transaction commits first
def test_successive_windows_hand_out_every_commit_exactly_once(schedule):
    committed, taken = run(schedule)
    for xid in committed:
        windows = [n for n in range(1, len(taken)) if in_window(taken[n - 1], taken[n], xid)]
        assert len(windows) == 1, (xid, windows)


def test_a_highest_xid_cursor_would_skip_the_late_commit():
    committed, taken = run(["b", "b", "c1", "s", "c0", "s"])
    seen_up_to = 0
    delivered: list[int] = []
    for snapshot in taken[1:]:
        new = [x for x in committed if snapshot.visible(x) and x > seen_up_to]
        delivered += new
        seen_up_to = max([seen_up_to, *new])
    assert sorted(delivered) != sorted(committed)  # xid 3 committed after 4 was seen
    assert {x for x in committed if in_window(taken[1], taken[2], x)} == {3}


def test_positions_need_their_window():
    cursor = SyncCursor(ORIGIN, None, FeedPosition("clips", 5, uuid.uuid4()))
    with pytest.raises(InvalidInput):
        SyncCursor.decode(cursor.encode())
