"""The consensus model's refit in PostgreSQL: one snapshot read, one merging write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres.clip_tables import consensus_model, validator_stats
from adapters.postgres.clips import CONFUSION_COLUMNS, WHOLE_COUNTERS, to_crowd_model
from adapters.postgres.errors import storage_errors
from core.domain.accuracy import ValidatorAccuracy
from core.domain.clips import ClipStatus, Verdict
from core.domain.consensus_refit import RefitPlan, RefitSnapshot
from core.domain.dawid_skene import Answer, ConfusionCounts, CrowdModel

_MODEL_ROW = sa.select(consensus_model).where(consensus_model.c.id == 1)
# Votes that teach: on gold clips every scored answer (gold answers — also late within a
# reservation or crowded out — and votes cast before the clip became gold) with its known
# truth; on clips settled by consensus the solicited, timely votes cast while pending, truth
# unknown. Late (reserved or not), unsolicited and rushed votes never teach.
_TEACHING_ANSWERS = sa.text(
    "SELECT v.validator_id, v.clip_id, v.verdict, c.is_gold, c.status "
    "FROM validations v JOIN voice_clips c ON c.id = v.clip_id "
    "WHERE (c.is_gold AND v.outcome IN ('gold', 'gold_late', 'counted', 'ignored_probation', "
    "       'ignored_weightless', 'late_reserved', 'crowded_out')) "
    "   OR (NOT c.is_gold AND c.status <> 'pending' AND v.outcome IN "
    "       ('counted', 'ignored_probation', 'ignored_weightless', 'crowded_out'))"
)
_RUSHED = sa.text(
    "SELECT validator_id, verdict, count(*) AS votes FROM validations "
    "WHERE outcome = 'too_fast' GROUP BY validator_id, verdict"
)
_ENSURE_ROWS = sa.text(
    "INSERT INTO validator_stats (validator_id, updated_at) "
    "SELECT validator_id, now() FROM unnest(CAST(:ids AS uuid[])) AS d(validator_id) "
    "ORDER BY validator_id ON CONFLICT DO NOTHING"
)
# counts := plan + (now − snapshot): what was learned online after the snapshot is kept.
_MERGE = sa.text(
    "UPDATE validator_stats vs SET "
    "n11 = greatest(0, d.n11 + vs.n11 - d.snapshot_n11), "
    "n01 = greatest(0, d.n01 + vs.n01 - d.snapshot_n01), "
    "n00 = greatest(0, d.n00 + vs.n00 - d.snapshot_n00), "
    "n10 = greatest(0, d.n10 + vs.n10 - d.snapshot_n10), "
    "on_probation = d.on_probation, published_accuracy = d.published_accuracy, "
    "published_gold_answers = d.published_gold_answers, published_at = :at, updated_at = now() "
    "FROM (SELECT * FROM unnest(CAST(:ids AS uuid[]), "
    "CAST(:n11 AS float8[]), CAST(:n01 AS float8[]), CAST(:n00 AS float8[]), "
    "CAST(:n10 AS float8[]), CAST(:snapshot_n11 AS float8[]), CAST(:snapshot_n01 AS float8[]), "
    "CAST(:snapshot_n00 AS float8[]), CAST(:snapshot_n10 AS float8[]), "
    "CAST(:on_probation AS boolean[]), CAST(:published_accuracy AS float8[]), "
    "CAST(:published_gold_answers AS integer[])) "
    "AS u(validator_id, n11, n01, n00, n10, snapshot_n11, snapshot_n01, snapshot_n00, "
    "snapshot_n10, on_probation, published_accuracy, published_gold_answers) "
    "ORDER BY validator_id) AS d "
    "WHERE vs.validator_id = d.validator_id"
)
_SAVE_MODEL = sa.text(
    "INSERT INTO consensus_model (id, sensitivity, specificity, valid_share, prior_strength, "
    "refit_at, updated_at) VALUES (1, :sensitivity, :specificity, :valid_share, "
    ":prior_strength, :at, now()) "
    "ON CONFLICT (id) DO UPDATE SET sensitivity = excluded.sensitivity, "
    "specificity = excluded.specificity, valid_share = excluded.valid_share, "
    "prior_strength = excluded.prior_strength, refit_at = excluded.refit_at, updated_at = now()"
)


def _history(row: Any) -> ValidatorAccuracy:
    return ValidatorAccuracy(
        confusion=ConfusionCounts(*(getattr(row, c) for c in CONFUSION_COLUMNS)),
        **{name: getattr(row, name) for name in WHOLE_COUNTERS},
    )


def _answers(rows: Any) -> Iterator[Answer]:
    for row in rows:
        truth = ClipStatus(row.status).verdict if row.is_gold else None
        yield Answer(row.validator_id, row.clip_id, Verdict(row.verdict), truth)


class PostgresConsensusModelStore:
    """Implements ``core.ports.consensus_model.ConsensusModelStore``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def current(self) -> CrowdModel:
        async with storage_errors(), self._engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(consensus_model).where(consensus_model.c.id == 1)
                )
            ).one_or_none()
        return to_crowd_model(row) if row is not None else CrowdModel()

    async def snapshot(self) -> RefitSnapshot:
        async with storage_errors(), self._engine.connect() as connection:
            await connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            async with connection.begin():
                return await self._read(connection)

    async def _read(self, connection: AsyncConnection) -> RefitSnapshot:
        model_row = (await connection.execute(_MODEL_ROW)).one_or_none()
        histories = {
            row.validator_id: _history(row)
            for row in await connection.execute(sa.select(validator_stats))
        }
        answers = list(_answers(await connection.execute(_TEACHING_ANSWERS)))
        rushed: dict[UUID, ConfusionCounts] = {}
        for row in await connection.execute(_RUSHED):
            answer = ConfusionCounts.of_rushed_answer(Verdict(row.verdict))
            scaled = ConfusionCounts(*(value * row.votes for value in answer.as_tuple()))
            rushed[row.validator_id] = rushed.get(row.validator_id, ConfusionCounts()).plus(scaled)
        return RefitSnapshot(
            model=to_crowd_model(model_row) if model_row is not None else CrowdModel(),
            histories=histories,
            answers=answers,
            rushed=rushed,
        )

    async def apply(self, snapshot: RefitSnapshot, plan: RefitPlan) -> None:
        ordered = sorted(plan.counts)
        parameters: dict[str, Any] = {
            "ids": ordered,
            "on_probation": [plan.on_probation[who] for who in ordered],
            "published_accuracy": [plan.published_accuracy[who] for who in ordered],
            "published_gold_answers": [plan.published_gold_answers.get(who) for who in ordered],
            "at": plan.at,
        }
        for index, column in enumerate(CONFUSION_COLUMNS):
            parameters[column] = [plan.counts[who].as_tuple()[index] for who in ordered]
            parameters[f"snapshot_{column}"] = [
                snapshot.histories.get(who, ValidatorAccuracy()).confusion.as_tuple()[index]
                for who in ordered
            ]
        model = plan.model
        async with storage_errors(), self._engine.begin() as connection:
            if ordered:
                await connection.execute(_ENSURE_ROWS, {"ids": ordered})
                await connection.execute(_MERGE, parameters)
            await connection.execute(
                _SAVE_MODEL,
                {
                    "sensitivity": model.sensitivity,
                    "specificity": model.specificity,
                    "valid_share": model.valid_share,
                    "prior_strength": model.prior_strength,
                    "at": plan.at,
                },
            )
