"""Clips, votes, skips, validator statistics and the validation queue in PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.clip_tables import clip_skips, validations, validator_stats, voice_clips
from adapters.postgres.keyset import newest_first
from core.domain.accuracy import ValidatorAccuracy
from core.domain.clips import (
    AudioInfo,
    Clip,
    ClipStatus,
    ClipTally,
    Verdict,
    Visibility,
    VoteOutcome,
)
from core.domain.validation import VoteRecord

ACCURACY_COUNTERS = ("gold_right", "gold_wrong", "consensus_agreed", "consensus_disagreed")

# The statements a vote runs are built once: SQLAlchemy then only looks up its compiled
# form, instead of building, hashing and matching a new expression on every call.
_CLIP_BY_ID = sa.select(voice_clips).where(voice_clips.c.id == sa.bindparam("clip_id"))
_CLIP_BY_ID_FOR_UPDATE = _CLIP_BY_ID.with_for_update()
_SAVE_TALLY = sa.update(voice_clips).where(voice_clips.c.id == sa.bindparam("clip_id"))
_ADD_VOTE = (
    insert(validations)
    .on_conflict_do_nothing(constraint="validations_one_per_validator")
    .returning(validations.c.id)
)
_VOTES_FOR_CLIP = (
    sa.select(validations)
    .where(validations.c.clip_id == sa.bindparam("clip_id"))
    .order_by(validations.c.created_at, validations.c.id)
)
_STATS_OF = sa.select(validator_stats).where(
    validator_stats.c.validator_id == sa.bindparam("validator_id")
)
# One statement, rows in validator-id order: transactions touching the same validators lock
# their rows in the same order and cannot deadlock.
_ADD_TO_STATS = sa.text(
    "INSERT INTO validator_stats (validator_id, gold_right, gold_wrong, consensus_agreed, "
    "consensus_disagreed, updated_at) "
    "SELECT validator_id, gold_right, gold_wrong, consensus_agreed, consensus_disagreed, now() "
    "FROM unnest(CAST(:validator_ids AS uuid[]), CAST(:gold_right AS integer[]), "
    "CAST(:gold_wrong AS integer[]), CAST(:consensus_agreed AS integer[]), "
    "CAST(:consensus_disagreed AS integer[])) "
    "AS d(validator_id, gold_right, gold_wrong, consensus_agreed, consensus_disagreed) "
    "ORDER BY validator_id "
    "ON CONFLICT (validator_id) DO UPDATE SET "
    "gold_right = validator_stats.gold_right + excluded.gold_right, "
    "gold_wrong = validator_stats.gold_wrong + excluded.gold_wrong, "
    "consensus_agreed = validator_stats.consensus_agreed + excluded.consensus_agreed, "
    "consensus_disagreed = validator_stats.consensus_disagreed + excluded.consensus_disagreed, "
    "updated_at = now()"
)


def _to_clip(row: sa.Row[Any]) -> Clip:
    return Clip(
        id=row.id,
        contributor_id=row.contributor_id,
        client_id=row.client_id,
        language=row.language,
        prompt=row.prompt,
        audio_key=row.audio_key,
        audio=AudioInfo(
            format=row.audio_format,
            mime_type=row.mime_type,
            duration_ms=row.duration_ms,
            size_bytes=row.size_bytes,
        ),
        tally=ClipTally(
            status=ClipStatus(row.status),
            valid_votes=row.valid_votes,
            invalid_votes=row.invalid_votes,
            log_odds_sum=row.log_odds_sum,
            is_gold=row.is_gold,
        ),
        visibility=Visibility(row.visibility),
        queue_rank=row.queue_rank,
        created_at=row.created_at,
        decided_at=row.decided_at,
    )


def _clip_row(clip: Clip) -> dict[str, object]:
    return {
        "id": clip.id,
        "contributor_id": clip.contributor_id,
        "client_id": clip.client_id,
        "language": clip.language,
        "prompt": clip.prompt,
        "audio_key": clip.audio_key,
        "audio_format": clip.audio.format,
        "mime_type": clip.audio.mime_type,
        "duration_ms": clip.audio.duration_ms,
        "size_bytes": clip.audio.size_bytes,
        "visibility": clip.visibility.value,
        "created_at": clip.created_at,
        **_tally_values(clip.tally, clip.queue_rank, clip.decided_at),
    }


def _tally_values(tally: ClipTally, queue_rank: int, decided_at: datetime | None) -> dict[str, Any]:
    return {
        "status": tally.status.value,
        "valid_votes": tally.valid_votes,
        "invalid_votes": tally.invalid_votes,
        "log_odds_sum": tally.log_odds_sum,
        "is_gold": tally.is_gold,
        "queue_rank": queue_rank,
        "decided_at": decided_at,
    }


def _to_vote(row: sa.Row[Any]) -> VoteRecord:
    return VoteRecord(
        id=row.id,
        clip_id=row.clip_id,
        validator_id=row.validator_id,
        verdict=Verdict(row.verdict),
        outcome=VoteOutcome(row.outcome),
        accuracy=row.accuracy,
        on_probation=row.on_probation,
        created_at=row.created_at,
    )


class PostgresClipRepository:
    """Implements ``core.ports.clips.ClipRepository``."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add_if_absent(self, clip: Clip) -> bool:
        statement = (
            insert(voice_clips)
            .values(_clip_row(clip))
            .on_conflict_do_nothing(constraint="voice_clips_client_id")
            .returning(voice_clips.c.id)
        )
        return (await self._connection.execute(statement)).scalar_one_or_none() is not None

    async def get(self, clip_id: UUID) -> Clip | None:
        return await self._one(_CLIP_BY_ID, {"clip_id": clip_id})

    async def get_for_update(self, clip_id: UUID) -> Clip | None:
        return await self._one(_CLIP_BY_ID_FOR_UPDATE, {"clip_id": clip_id})

    async def by_client_id(self, contributor_id: UUID, client_id: UUID) -> Clip | None:
        return await self._one(
            sa.select(voice_clips).where(
                voice_clips.c.contributor_id == contributor_id,
                voice_clips.c.client_id == client_id,
            )
        )

    async def list_by_contributor(
        self, contributor_id: UUID, *, before: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[Clip]:
        query = sa.select(voice_clips).where(voice_clips.c.contributor_id == contributor_id)
        page = newest_first(
            query, voice_clips.c.created_at, voice_clips.c.id, before=before, limit=limit
        )
        return [_to_clip(row) for row in await self._connection.execute(page)]

    async def save_tally(
        self, clip_id: UUID, tally: ClipTally, queue_rank: int, decided_at: datetime | None
    ) -> None:
        await self._connection.execute(
            _SAVE_TALLY, {"clip_id": clip_id, **_tally_values(tally, queue_rank, decided_at)}
        )

    async def _one(
        self, query: sa.Select[Any], parameters: Mapping[str, Any] | None = None
    ) -> Clip | None:
        row = (await self._connection.execute(query, parameters)).one_or_none()
        return _to_clip(row) if row else None


class PostgresVoteRepository:
    """Implements ``core.ports.clips.VoteRepository`` on the seed's ``validations`` table."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add_if_absent(self, vote: VoteRecord) -> bool:
        row = {
            "id": vote.id,
            "clip_id": vote.clip_id,
            "validator_id": vote.validator_id,
            "verdict": vote.verdict.value,
            "outcome": vote.outcome.value,
            "accuracy": vote.accuracy,
            "on_probation": vote.on_probation,
            "created_at": vote.created_at,
        }
        return (await self._connection.execute(_ADD_VOTE, row)).scalar_one_or_none() is not None

    async def for_clip(self, clip_id: UUID) -> Sequence[VoteRecord]:
        rows = await self._connection.execute(_VOTES_FOR_CLIP, {"clip_id": clip_id})
        return [_to_vote(row) for row in rows]


class PostgresSkipRepository:
    """Implements ``core.ports.clips.SkipRepository``."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, validator_id: UUID, clip_id: UUID, at: datetime) -> None:
        await self._connection.execute(
            insert(clip_skips)
            .values(validator_id=validator_id, clip_id=clip_id, created_at=at)
            .on_conflict_do_nothing()
        )


class PostgresValidatorStatsRepository:
    """Implements ``core.ports.clips.ValidatorStatsRepository`` with atomic increments."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, validator_id: UUID) -> ValidatorAccuracy:
        result = await self._connection.execute(_STATS_OF, {"validator_id": validator_id})
        row = result.one_or_none()
        if row is None:
            return ValidatorAccuracy()
        return ValidatorAccuracy(**{name: getattr(row, name) for name in ACCURACY_COUNTERS})

    async def add(self, deltas: Mapping[UUID, ValidatorAccuracy]) -> None:
        if not deltas:
            return
        ordered = sorted(deltas)
        parameters: dict[str, list[Any]] = {"validator_ids": ordered}
        for name in ACCURACY_COUNTERS:
            parameters[name] = [getattr(deltas[validator_id], name) for validator_id in ordered]
        await self._connection.execute(_ADD_TO_STATS, parameters)


def _not_seen_by(validator_id: UUID) -> list[sa.ColumnElement[bool]]:
    voted = sa.select(validations.c.id).where(
        validations.c.validator_id == validator_id, validations.c.clip_id == voice_clips.c.id
    )
    skipped = sa.select(clip_skips.c.clip_id).where(
        clip_skips.c.validator_id == validator_id, clip_skips.c.clip_id == voice_clips.c.id
    )
    return [
        voice_clips.c.contributor_id != validator_id,
        ~sa.exists(voted),
        ~sa.exists(skipped),
    ]


class PostgresClipQueue:
    """Implements ``core.ports.clips.ClipQueue``. Both reads walk a partial index in order
    (``voice_clips_queue``, ``voice_clips_gold``) and anti-join the caller's votes and skips
    by primary-key probes, so their cost depends on the page size and on how many of the
    caller's own votes sit in front of it — not on the number of clips."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def pending(self, validator_id: UUID, language: str, limit: int) -> Sequence[Clip]:
        query = (
            sa.select(voice_clips)
            .where(
                voice_clips.c.language == language,
                voice_clips.c.status == ClipStatus.PENDING.value,
                voice_clips.c.visibility == Visibility.VISIBLE.value,
                ~voice_clips.c.is_gold,
                *_not_seen_by(validator_id),
            )
            .order_by(voice_clips.c.queue_rank, voice_clips.c.created_at, voice_clips.c.id)
            .limit(limit)
        )
        return [_to_clip(row) for row in await self._connection.execute(query)]

    async def gold(
        self, validator_id: UUID, language: str, limit: int, pivot: UUID
    ) -> Sequence[Clip]:
        if limit <= 0:
            return []
        base = sa.select(voice_clips).where(
            voice_clips.c.language == language,
            voice_clips.c.is_gold,
            voice_clips.c.visibility == Visibility.VISIBLE.value,
            *_not_seen_by(validator_id),
        )
        after = base.where(voice_clips.c.id >= pivot).order_by(voice_clips.c.id).limit(limit)
        found = [_to_clip(row) for row in await self._connection.execute(after)]
        if len(found) < limit:
            wrap = base.where(voice_clips.c.id < pivot).order_by(voice_clips.c.id)
            rows = await self._connection.execute(wrap.limit(limit - len(found)))
            found += [_to_clip(row) for row in rows]
        return found
