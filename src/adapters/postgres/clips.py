"""Clips, votes, skips, validator statistics and the validation queue in PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.clip_tables import (
    clip_servings,
    clip_skips,
    validations,
    validator_stats,
    voice_clips,
)
from adapters.postgres.keyset import newest_first
from adapters.postgres.sync_tables import clip_reservations
from core.domain.accuracy import ValidatorAccuracy, ValidatorRecord
from core.domain.clips import (
    AudioInfo,
    Clip,
    ClipStatus,
    ClipTally,
    Verdict,
    Visibility,
    VoteOutcome,
)
from core.domain.dawid_skene import ConfusionCounts, CrowdModel
from core.domain.validation import Serving, VoteRecord, VoteTarget

WHOLE_COUNTERS = (
    "gold_right",
    "gold_wrong",
    "consensus_agreed",
    "consensus_disagreed",
    "rushed_votes",
)
CONFUSION_COLUMNS = ("n11", "n01", "n00", "n10")  # in ConfusionCounts' field order

# The statements a vote runs are built once: SQLAlchemy then only looks up its compiled
# form, instead of building, hashing and matching a new expression on every call.
_CLIP_BY_ID = sa.select(voice_clips).where(voice_clips.c.id == sa.bindparam("clip_id"))
_CLIP_BY_ID_FOR_UPDATE = _CLIP_BY_ID.with_for_update()
_GOLD_IN_LANGUAGE = sa.alias(voice_clips, "gold_in_language")
_CLIP_FOR_VOTE = (
    sa.select(
        voice_clips,
        clip_servings.c.served_at,
        sa.exists()
        .where(
            _GOLD_IN_LANGUAGE.c.language == voice_clips.c.language,
            _GOLD_IN_LANGUAGE.c.is_gold,
            _GOLD_IN_LANGUAGE.c.visibility == Visibility.VISIBLE.value,
        )
        .label("language_has_gold"),
    )
    .select_from(
        voice_clips.outerjoin(
            clip_servings,
            sa.and_(
                clip_servings.c.clip_id == voice_clips.c.id,
                clip_servings.c.validator_id == sa.bindparam("validator_id"),
            ),
        )
    )
    .where(voice_clips.c.id == sa.bindparam("clip_id"))
    .with_for_update(of=voice_clips)
)
_SAVE_SHADOW = sa.update(voice_clips).where(
    voice_clips.c.id == sa.bindparam("clip_id"), voice_clips.c.is_gold
)
_RECORD_SERVINGS = sa.text(
    "INSERT INTO clip_servings (validator_id, clip_id, served_at) "
    "SELECT :validator_id, clip_id, :served_at "
    "FROM unnest(CAST(:clip_ids AS uuid[])) AS s(clip_id) "
    "ORDER BY clip_id ON CONFLICT DO NOTHING"
)
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
_VOTES_FOR_CLIP_AFTER = (
    sa.select(validations)
    .where(
        validations.c.clip_id == sa.bindparam("clip_id"),
        validations.c.created_at > sa.bindparam("after"),
    )
    .order_by(validations.c.created_at, validations.c.id)
)
_STATS_OF = sa.select(validator_stats).where(
    validator_stats.c.validator_id == sa.bindparam("validator_id")
)
# One row whatever exists: the validator's stats (NULLs for a newcomer) and the crowd model
# (NULLs before the model row exists, e.g. in a database emptied by tests).
_STATS_WITH_MODEL = sa.text(
    "SELECT vs.*, m.sensitivity AS model_sensitivity, m.specificity AS model_specificity, "
    "m.valid_share AS model_valid_share, m.prior_strength AS model_prior_strength "
    "FROM (SELECT 1) AS one "
    "LEFT JOIN consensus_model m ON m.id = 1 "
    "LEFT JOIN validator_stats vs ON vs.validator_id = :validator_id"
)
# One statement, rows in validator-id order: transactions touching the same validators lock
# their rows in the same order and cannot deadlock.
_ADD_TO_STATS = sa.text(
    "INSERT INTO validator_stats (validator_id, gold_right, gold_wrong, consensus_agreed, "
    "consensus_disagreed, rushed_votes, n11, n01, n00, n10, updated_at) "
    "SELECT validator_id, gold_right, gold_wrong, consensus_agreed, consensus_disagreed, "
    "rushed_votes, n11, n01, n00, n10, now() "
    "FROM unnest(CAST(:validator_ids AS uuid[]), CAST(:gold_right AS integer[]), "
    "CAST(:gold_wrong AS integer[]), CAST(:consensus_agreed AS integer[]), "
    "CAST(:consensus_disagreed AS integer[]), CAST(:rushed_votes AS integer[]), "
    "CAST(:n11 AS float8[]), CAST(:n01 AS float8[]), CAST(:n00 AS float8[]), "
    "CAST(:n10 AS float8[])) "
    "AS d(validator_id, gold_right, gold_wrong, consensus_agreed, consensus_disagreed, "
    "rushed_votes, n11, n01, n00, n10) "
    "ORDER BY validator_id "
    "ON CONFLICT (validator_id) DO UPDATE SET "
    "gold_right = validator_stats.gold_right + excluded.gold_right, "
    "gold_wrong = validator_stats.gold_wrong + excluded.gold_wrong, "
    "consensus_agreed = validator_stats.consensus_agreed + excluded.consensus_agreed, "
    "consensus_disagreed = validator_stats.consensus_disagreed + excluded.consensus_disagreed, "
    "rushed_votes = validator_stats.rushed_votes + excluded.rushed_votes, "
    "n11 = validator_stats.n11 + excluded.n11, n01 = validator_stats.n01 + excluded.n01, "
    "n00 = validator_stats.n00 + excluded.n00, n10 = validator_stats.n10 + excluded.n10, "
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
            prior_log_odds=row.prior_log_odds,
            established_votes=row.established_votes,
        ),
        visibility=Visibility(row.visibility),
        queue_rank=row.queue_rank,
        created_at=row.created_at,
        decided_at=row.decided_at,
        shadow_status=ClipStatus(row.shadow_status) if row.shadow_status else None,
        shadow_settled_at=row.shadow_settled_at,
        audio_sha256=row.audio_sha256,
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
        "audio_sha256": clip.audio_sha256,
        **_tally_values(clip.tally, clip.queue_rank, clip.decided_at),
    }


def _tally_values(tally: ClipTally, queue_rank: int, decided_at: datetime | None) -> dict[str, Any]:
    return {
        "status": tally.status.value,
        "valid_votes": tally.valid_votes,
        "invalid_votes": tally.invalid_votes,
        "log_odds_sum": tally.log_odds_sum,
        "is_gold": tally.is_gold,
        "prior_log_odds": tally.prior_log_odds,
        "established_votes": tally.established_votes,
        "queue_rank": queue_rank,
        "decided_at": decided_at,
    }


def _shadow_values(shadow: ClipTally) -> dict[str, Any]:
    return {
        "valid_votes": shadow.valid_votes,
        "invalid_votes": shadow.invalid_votes,
        "log_odds_sum": shadow.log_odds_sum,
        "prior_log_odds": shadow.prior_log_odds,
        "established_votes": shadow.established_votes,
    }


def _to_vote(row: sa.Row[Any]) -> VoteRecord:
    return VoteRecord(
        id=row.id,
        clip_id=row.clip_id,
        validator_id=row.validator_id,
        verdict=Verdict(row.verdict),
        outcome=VoteOutcome(row.outcome),
        evidence=row.evidence,
        accuracy=row.accuracy,
        on_probation=row.on_probation,
        established=row.established,
        created_at=row.created_at,
    )


def _to_history(row: Any) -> ValidatorAccuracy:
    return ValidatorAccuracy(
        confusion=ConfusionCounts(*(getattr(row, name) for name in CONFUSION_COLUMNS)),
        **{name: getattr(row, name) for name in WHOLE_COUNTERS},
    )


def _to_record(row: Any) -> ValidatorRecord:
    return ValidatorRecord(
        history=_to_history(row),
        on_probation=row.on_probation,
        published_accuracy=row.published_accuracy,
        published_at=row.published_at,
        published_gold_answers=row.published_gold_answers,
    )


def to_crowd_model(row: Any, prefix: str = "") -> CrowdModel:
    """The crowd model of a ``consensus_model`` row (columns optionally prefixed); the
    defaults when the row is missing."""
    if getattr(row, f"{prefix}sensitivity", None) is None:
        return CrowdModel()
    return CrowdModel(
        sensitivity=getattr(row, f"{prefix}sensitivity"),
        specificity=getattr(row, f"{prefix}specificity"),
        valid_share=getattr(row, f"{prefix}valid_share"),
        prior_strength=getattr(row, f"{prefix}prior_strength"),
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

    async def get_for_vote(self, clip_id: UUID, validator_id: UUID) -> VoteTarget | None:
        result = await self._connection.execute(
            _CLIP_FOR_VOTE, {"clip_id": clip_id, "validator_id": validator_id}
        )
        row = result.one_or_none()
        if row is None:
            return None
        serving = (
            Serving(validator_id, clip_id, row.served_at) if row.served_at is not None else None
        )
        return VoteTarget(_to_clip(row), serving, row.language_has_gold, row.reserved_until)

    async def by_client_id(self, contributor_id: UUID, client_id: UUID) -> Clip | None:
        return await self._one(
            sa.select(voice_clips).where(
                voice_clips.c.contributor_id == contributor_id,
                voice_clips.c.client_id == client_id,
            )
        )

    async def with_same_audio(self, clip: Clip, limit: int) -> Sequence[Clip]:
        if clip.audio_sha256 is None:
            return []
        key = f"chorus.clip_audio:{clip.audio_sha256}"
        await self._connection.execute(
            sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(key, 0)))
        )
        rows = await self._connection.execute(
            sa.select(voice_clips)
            .where(voice_clips.c.audio_sha256 == clip.audio_sha256, voice_clips.c.id != clip.id)
            .order_by(voice_clips.c.created_at, voice_clips.c.id)
            .limit(limit)
        )
        return [_to_clip(row) for row in rows]

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

    async def save_shadow(
        self,
        clip_id: UUID,
        shadow: ClipTally,
        settled: tuple[ClipStatus, datetime] | None,
    ) -> None:
        values = _shadow_values(shadow)
        if settled is not None:
            values["shadow_status"], values["shadow_settled_at"] = settled[0].value, settled[1]
        await self._connection.execute(_SAVE_SHADOW.values(**values), {"clip_id": clip_id})

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
            "evidence": vote.evidence,
            "established": vote.established,
        }
        return (await self._connection.execute(_ADD_VOTE, row)).scalar_one_or_none() is not None

    async def for_clip(
        self, clip_id: UUID, *, after: datetime | None = None
    ) -> Sequence[VoteRecord]:
        if after is None:
            rows = await self._connection.execute(_VOTES_FOR_CLIP, {"clip_id": clip_id})
        else:
            rows = await self._connection.execute(
                _VOTES_FOR_CLIP_AFTER, {"clip_id": clip_id, "after": after}
            )
        return [_to_vote(row) for row in rows]


class PostgresClipServings:
    """Implements ``core.ports.clips.ClipServings``: one statement per page, first serving
    kept."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def record(self, validator_id: UUID, clip_ids: Sequence[UUID], at: datetime) -> None:
        if not clip_ids:
            return
        await self._connection.execute(
            _RECORD_SERVINGS,
            {"validator_id": validator_id, "clip_ids": list(clip_ids), "served_at": at},
        )


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

    async def get(self, validator_id: UUID) -> ValidatorRecord:
        result = await self._connection.execute(_STATS_OF, {"validator_id": validator_id})
        row = result.one_or_none()
        return ValidatorRecord() if row is None else _to_record(row)

    async def get_with_model(self, validator_id: UUID) -> tuple[ValidatorRecord, CrowdModel]:
        result = await self._connection.execute(_STATS_WITH_MODEL, {"validator_id": validator_id})
        row = result.one()
        record = ValidatorRecord() if row.validator_id is None else _to_record(row)
        return record, to_crowd_model(row, "model_")

    async def add(self, deltas: Mapping[UUID, ValidatorAccuracy]) -> None:
        changes = {who: delta for who, delta in deltas.items() if not delta.is_empty}
        if not changes:
            return
        ordered = sorted(changes)
        parameters: dict[str, list[Any]] = {"validator_ids": ordered}
        for name in WHOLE_COUNTERS:
            parameters[name] = [getattr(changes[who], name) for who in ordered]
        for index, name in enumerate(CONFUSION_COLUMNS):
            parameters[name] = [changes[who].confusion.as_tuple()[index] for who in ordered]
        await self._connection.execute(_ADD_TO_STATS, parameters)


_VALIDATOR = sa.bindparam("validator_id", type_=voice_clips.c.contributor_id.type)
_NOW = sa.bindparam("now", type_=voice_clips.c.created_at.type)


def _not_seen_by() -> list[sa.ColumnElement[bool]]:
    """Not the validator's own clip, not voted on, skipped or reserved by them (bound
    parameters ``validator_id`` and ``now``)."""
    voted = sa.select(validations.c.id).where(
        validations.c.validator_id == _VALIDATOR, validations.c.clip_id == voice_clips.c.id
    )
    skipped = sa.select(clip_skips.c.clip_id).where(
        clip_skips.c.validator_id == _VALIDATOR, clip_skips.c.clip_id == voice_clips.c.id
    )
    reserved = sa.select(clip_reservations.c.clip_id).where(
        clip_reservations.c.validator_id == _VALIDATOR,
        clip_reservations.c.clip_id == voice_clips.c.id,
        clip_reservations.c.used_at.is_(None),
        clip_reservations.c.expires_at > _NOW,
    )
    return [
        voice_clips.c.contributor_id != _VALIDATOR,
        ~sa.exists(voted),
        ~sa.exists(skipped),
        ~sa.exists(reserved),
    ]


def _has_free_slot() -> sa.ColumnElement[bool]:
    """Counted votes (of a gold clip's shadow round) plus holding reservations leave a slot
    (bound parameters ``now`` and ``vote_cap``); reservations are counted only on clips one
    may still hold (``reserved_until``)."""
    holding = (
        sa.select(sa.func.count())
        .where(
            clip_reservations.c.clip_id == voice_clips.c.id,
            clip_reservations.c.used_at.is_(None),
            clip_reservations.c.expires_at > _NOW,
        )
        .scalar_subquery()
    )
    return sa.or_(
        voice_clips.c.reserved_until.is_(None),
        voice_clips.c.reserved_until <= _NOW,
        voice_clips.c.valid_votes + voice_clips.c.invalid_votes + holding
        < sa.bindparam("vote_cap", type_=sa.Integer),
    )


# The queue's statements are built once; a request only binds its values.
_PENDING_PAGE = (
    sa.select(voice_clips)
    .where(
        voice_clips.c.language == sa.bindparam("language"),
        voice_clips.c.status == ClipStatus.PENDING.value,
        voice_clips.c.visibility == Visibility.VISIBLE.value,
        ~voice_clips.c.is_gold,
        *_not_seen_by(),
        _has_free_slot(),
    )
    .order_by(voice_clips.c.queue_rank, voice_clips.c.created_at, voice_clips.c.id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
)


def _gold_page() -> sa.CompoundSelect[Any]:
    """Gold clips from ``pivot`` on in id order, then from the start (wrapping around): two
    index-ordered halves in one statement, the first half first."""
    served_before_settling = sa.select(clip_servings.c.clip_id).where(
        clip_servings.c.validator_id == _VALIDATOR,
        clip_servings.c.clip_id == voice_clips.c.id,
        clip_servings.c.served_at < voice_clips.c.shadow_settled_at,
    )
    base = sa.select(voice_clips, sa.literal(0).label("wrapped")).where(
        voice_clips.c.language == sa.bindparam("language"),
        voice_clips.c.is_gold,
        voice_clips.c.visibility == Visibility.VISIBLE.value,
        *_not_seen_by(),
        ~sa.exists(served_before_settling),
        _has_free_slot(),
    )
    pivot = sa.bindparam("pivot", type_=voice_clips.c.id.type)
    limit = sa.bindparam("limit", type_=sa.Integer)
    after = base.where(voice_clips.c.id >= pivot).order_by(voice_clips.c.id).limit(limit)
    before = (
        base.with_only_columns(*voice_clips.c, sa.literal(1).label("wrapped"))
        .where(voice_clips.c.id < pivot)
        .order_by(voice_clips.c.id)
        .limit(limit)
    )
    return sa.union_all(after.subquery().select(), before.subquery().select())


_GOLD_HALVES = _gold_page().subquery()
_GOLD_PAGE = (
    sa.select(_GOLD_HALVES)
    .order_by(_GOLD_HALVES.c.wrapped, _GOLD_HALVES.c.id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
)


class PostgresClipQueue:
    """Implements ``core.ports.clips.ClipQueue``. Both reads walk a partial index in order
    (``voice_clips_queue``, ``voice_clips_gold``) and anti-join the caller's votes and skips
    by primary-key probes, so their cost depends on the page size and on how many of the
    caller's own votes sit in front of it — not on the number of clips."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def pending(
        self, validator_id: UUID, language: str, limit: int, *, now: datetime, vote_cap: int
    ) -> Sequence[Clip]:
        if limit <= 0:
            return []
        rows = await self._connection.execute(
            _PENDING_PAGE,
            {
                "validator_id": validator_id,
                "language": language,
                "now": now,
                "vote_cap": vote_cap,
                "limit": limit,
            },
        )
        return [_to_clip(row) for row in rows]

    async def gold(
        self,
        validator_id: UUID,
        language: str,
        limit: int,
        pivot: UUID,
        *,
        now: datetime,
        vote_cap: int,
    ) -> Sequence[Clip]:
        if limit <= 0:
            return []
        rows = await self._connection.execute(
            _GOLD_PAGE,
            {
                "validator_id": validator_id,
                "language": language,
                "now": now,
                "vote_cap": vote_cap,
                "limit": limit,
                "pivot": pivot,
            },
        )
        return [_to_clip(row) for row in rows]
