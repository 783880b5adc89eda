"""CPU time of processes read from Linux ``/proc``, for benchmarks that report CPU per request.

``/proc/<pid>/stat`` counts ``utime`` + ``stime`` (the process's own CPU) and ``cutime`` +
``cstime`` (that of its children it has waited for), in ticks of ``SC_CLK_TCK`` (10 ms).

- ``ProcessTree``: a process and all its descendants (``chorus serve`` and its worker
  processes; a PostgreSQL cluster of the benchmark's own: the postmaster and its children).
  Each live process counts its own ticks plus its waited-for children's, so a child that
  exits during a window is still counted once (in its parent's ``cutime``).
- ``DatabaseBackends``: the backends of one database on a shared cluster, found by the
  process title PostgreSQL gives them (``postgres: <user> <database> <host> <state>``) and
  sampled by a thread every ``interval`` seconds: a backend that starts and ends between two
  samples is missed, one that ends is counted up to its last sample. Cluster-wide work (WAL
  writer, checkpointer) is not attributed.
- ``machine_busy_ticks``: the whole machine's busy ticks (``/proc/stat``), to show how much
  CPU went to other jobs.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def stat(pid: int) -> tuple[int, int, int] | None:
    """``(ppid, own ticks, waited-for children's ticks)`` of ``pid``; ``None`` once gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (of all its threads)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.scandir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                found += [int(c) for c in Path(task.path, "children").read_text().split()]
    return found


def descendants(root: int) -> list[int]:
    """``root`` and every process below it."""
    seen, todo = [], [root]
    while todo:
        pid = todo.pop()
        seen.append(pid)
        todo += children(pid)
    return seen


def machine_busy_ticks() -> int:
    """Busy ticks of all CPUs (user, nice, system, irq, softirq, steal) since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return user + nice + system + irq + softirq + steal


def postmaster_of(backend: int) -> int | None:
    """The postmaster of PostgreSQL backend ``backend`` (``None`` if not visible here)."""
    found = stat(backend)
    if found is None:
        return None
    try:
        title = Path(f"/proc/{found[0]}/cmdline").read_bytes()
    except OSError:
        return None
    return found[0] if b"postgres" in title else None


class ProcessTree:
    """A process and its descendants; ``ticks()`` is monotonic while the root lives."""

    def __init__(self, root: int) -> None:
        self.root = root

    def per_process(self) -> dict[int, int]:
        """Ticks (own + waited-for children's) of each live process of the tree."""
        counted: dict[int, int] = {}
        for pid in descendants(self.root):
            found = stat(pid)
            if found is not None:
                counted[pid] = found[1] + found[2]
        return counted

    def ticks(self) -> int:
        return sum(self.per_process().values())


class DatabaseBackends:
    """The processes of a shared PostgreSQL cluster serving one database; use as a window:
    ``start()`` … ``stop()`` returns the ticks they used in between."""

    def __init__(self, postmaster: int, database: str, interval: float = 0.05) -> None:
        self.postmaster, self.interval = postmaster, interval
        self._needle = f" {database} "
        self._first: dict[int, int] = {}
        self._last: dict[int, int] = {}
        self._titles: dict[int, bool] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _serves_database(self, pid: int) -> bool:
        if pid not in self._titles:
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                return False
            self._titles[pid] = self._needle in f"{title} "
        return self._titles[pid]

    def _sample(self, baseline: bool) -> None:
        for pid in children(self.postmaster):
            if not self._serves_database(pid):
                continue
            found = stat(pid)
            if found is None:
                continue
            # A backend first seen after the start was born in the window: all its ticks count.
            self._first.setdefault(pid, found[1] if baseline else 0)
            self._last[pid] = found[1]

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample(baseline=False)

    def start(self) -> None:
        self._first, self._last, self._titles = {}, {}, {}
        self._sample(baseline=True)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> int:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample(baseline=False)
        return sum(self._last[pid] - self._first[pid] for pid in self._last)

    @property
    def backends_seen(self) -> int:
        return len(self._last)
