"""Recording a fraud signal, shared by the use cases that detect one (rewards, uploads, the
burst scan): stored and announced in the caller's unit of work, logged for operators."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from core.domain.events import DomainEvent
from core.domain.fraud import FraudSignal, SignalKind
from core.ports.ids import IdGenerator
from core.ports.unit_of_work import UnitOfWork

log = logging.getLogger("chorus.fraud")
FRAUD_SIGNAL = "fraud.signal"


async def record_fraud_signal(
    uow: UnitOfWork,
    *,
    profile_id: UUID,
    kind: SignalKind,
    detail: Mapping[str, Any],
    now: datetime,
    ids: IdGenerator,
) -> FraudSignal:
    """Store the signal and record ``fraud.signal`` (the worker counts it in
    ``chorus_fraud_signals_total{kind}``) in ``uow``; log one line with ids and counts only."""
    signal = FraudSignal(ids.new_id(), profile_id, kind, now, dict(detail))
    await uow.fraud_signals.add(signal)
    uow.record(
        DomainEvent(
            ids.new_id(),
            FRAUD_SIGNAL,
            now,
            {"signalId": str(signal.id), "profileId": str(profile_id), "kind": kind.value,
             **signal.detail},
        )
    )  # fmt: skip
    log.warning(
        "fraud_signal kind=%s member=%s %s",
        kind.value,
        profile_id,
        " ".join(f"{key}={value}" for key, value in sorted(signal.detail.items())),
    )
    return signal
