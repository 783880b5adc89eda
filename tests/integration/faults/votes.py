"""A vote load for fault runs, and what it must find afterwards.

A world of contributors' clips and validators is built through the API (so it holds
whatever the code of the day writes), then validators vote on clips in a random order,
``valid`` mostly: a clip's second vote usually decides it and posts rewards, later ones
are late. Every response is kept with the time it was sent, so a run can say how many
5xx it saw, when the service was back, and which votes were acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

import asyncpg
import httpx

from tests.audio import wav_bytes
from tests.tokens import bearer, hs256, service_token

AUDIO = wav_bytes(1.2)
LANGUAGE = "yo"
RATES = {"clip_accepted": 5_000, "validation_agreed": 1_000}
RETRY_PAUSE = 0.1  # seconds; the app honours Retry-After, the load keeps the pressure on


@dataclass(frozen=True)
class World:
    clips: tuple[str, ...]
    validators: tuple[uuid.UUID, ...]


@dataclass(frozen=True)
class Sent:
    """One request: when it was sent (monotonic), what came back (status, or 0 when no
    response came: connection refused or dropped)."""

    started: float
    status: int
    validator: uuid.UUID
    clip: str
    retry_after: str | None = None


@dataclass
class LoadReport:
    sent: list[Sent] = field(default_factory=list)
    # Set once this many answers were recorded (``votes_through`` strikes on it).
    milestone: tuple[int, asyncio.Event] | None = None

    def record(self, item: Sent) -> None:
        self.sent.append(item)
        if self.milestone is not None and len(self.sent) >= self.milestone[0]:
            self.milestone[1].set()

    @property
    def statuses(self) -> Counter[int]:
        return Counter(item.status for item in self.sent)

    @property
    def server_errors(self) -> int:
        return sum(1 for item in self.sent if item.status >= 500)

    @property
    def internal_errors(self) -> int:
        return sum(1 for item in self.sent if item.status == 500)

    @property
    def acknowledged(self) -> list[Sent]:
        return [item for item in self.sent if 200 <= item.status < 300]

    @property
    def unavailable_without_retry_after(self) -> int:
        return sum(1 for item in self.sent if item.status == 503 and not item.retry_after)

    def back_after(self, up_at: float) -> float:
        """Seconds from ``up_at`` until every vote sent from then on got an answer that is
        not a failure (0 when none failed after it)."""
        failed = [item.started for item in self.sent if item.status == 0 or item.status >= 500]
        return max(0.0, max(failed, default=up_at) - up_at)


def tokens_for(validators: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[str, str]]:
    return {validator: bearer(hs256(validator)) for validator in validators}


async def build_world(base_url: str, *, clips: int, validators: int) -> World:
    """Reward rates, then ``clips`` clips by as many contributors, then ``validators``
    validators (their profiles are made by their first request)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        service = bearer(service_token())
        for kind, amount in RATES.items():
            rate = {"kind": kind, "amountMinor": amount, "currency": "NGN", "language": None}
            response = await client.post("/monetization/rates", json=rate, headers=service)
            assert response.status_code in (201, 409), response.text
        made: list[str] = []
        for _ in range(clips):
            form = {"language": LANGUAGE, "prompt": "Ẹ káàárọ̀", "clientId": str(uuid.uuid4())}
            response = await client.post(
                "/clips",
                files={"audio": ("clip.wav", AUDIO, "audio/wav")},
                data=form,
                headers=bearer(hs256(uuid.uuid4())),
            )
            assert response.status_code == 201, response.text
            made.append(response.json()["id"])
        people = tuple(uuid.uuid4() for _ in range(validators))
        for headers in tokens_for(people).values():
            assert (await client.get("/me", headers=headers)).status_code == 200
    return World(tuple(made), people)


def vote_plan(world: World, votes_per_clip: int, seed: int = 7) -> list[tuple[uuid.UUID, str]]:
    """(validator, clip) pairs, each at most once, shuffled."""
    chooser = random.Random(seed)
    plan = [
        (validator, clip)
        for clip in world.clips
        for validator in chooser.sample(world.validators, votes_per_clip)
    ]
    chooser.shuffle(plan)
    return plan


async def drive_votes(
    base_urls: Sequence[str],
    plan: Sequence[tuple[uuid.UUID, str]],
    *,
    concurrency: int,
    stop: asyncio.Event,
    seed: int = 11,
    report: LoadReport | None = None,
) -> LoadReport:
    """Send the planned votes, ``concurrency`` at a time, spread over ``base_urls``, until
    all were answered or ``stop`` is set. As the app does, a vote that got no answer or a
    5xx is sent again a little later (its first outcome may be unknown: it may have been
    stored, and the retry then finds it, 409)."""
    report = report if report is not None else LoadReport()
    queue: asyncio.Queue[tuple[uuid.UUID, str]] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    tokens = tokens_for({validator for validator, _ in plan})
    verdicts = random.Random(seed)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def voter(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            try:
                validator, clip = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            verdict = "valid" if verdicts.random() < 0.85 else "invalid"
            started = time.monotonic()
            try:
                response = await client.post(
                    "/monetization/validate",
                    json={"clipId": clip, "verdict": verdict},
                    headers=tokens[validator],
                )
            except httpx.TransportError:
                status, retry_after = 0, None
            else:
                status, retry_after = response.status_code, response.headers.get("retry-after")
            report.record(Sent(started, status, validator, clip, retry_after))
            if status == 0 or status >= 500:
                queue.put_nowait((validator, clip))
                await asyncio.sleep(RETRY_PAUSE)

    clients = [httpx.AsyncClient(base_url=url, timeout=30, limits=limits) for url in base_urls]
    try:
        await asyncio.gather(*(voter(clients[n % len(clients)]) for n in range(concurrency)))
    finally:
        for client in clients:
            await client.aclose()
    return report


async def votes_through(
    base_urls: Sequence[str],
    plan: Sequence[tuple[uuid.UUID, str]],
    strike: Callable[[], Awaitable[float]],
    *,
    concurrency: int,
    lead: float,
    finish_within: float,
) -> tuple[LoadReport, float]:
    """Drive ``plan`` and, after ``lead`` seconds of it or once a quarter of it was answered
    (whichever comes first: on a fast machine a fixed lead could leave too little of the
    plan for the fault to meet), ``strike``; return the load's report and the time
    ``strike`` returned (when what it broke was back)."""
    stop = asyncio.Event()
    quarter_answered = asyncio.Event()
    progress = LoadReport(milestone=(max(1, len(plan) // 4), quarter_answered))
    load = asyncio.create_task(
        drive_votes(base_urls, plan, concurrency=concurrency, stop=stop, report=progress)
    )
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(quarter_answered.wait(), timeout=lead)
        if load.done():
            raise AssertionError("the load ended before the fault struck: make the plan longer")
        back = await strike()
        return await asyncio.wait_for(load, timeout=finish_within), back
    finally:
        stop.set()
        await asyncio.gather(load, return_exceptions=True)


async def votes_stored(database_url: str, acknowledged: Iterable[Sent]) -> tuple[int, int]:
    """(acknowledged votes missing, acknowledged votes stored more than once)."""
    pairs = [(item.validator, uuid.UUID(item.clip)) for item in acknowledged]
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT wanted.validator_id, wanted.clip_id, count(v.id) AS stored "
            "FROM unnest($1::uuid[], $2::uuid[]) AS wanted(validator_id, clip_id) "
            "LEFT JOIN validations v USING (validator_id, clip_id) "
            "GROUP BY wanted.validator_id, wanted.clip_id",
            [validator for validator, _ in pairs],
            [clip for _, clip in pairs],
        )
    finally:
        await connection.close()
    return (
        sum(1 for row in rows if row["stored"] == 0),
        sum(1 for row in rows if row["stored"] > 1),
    )
