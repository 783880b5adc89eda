"""``chorus payouts``: operate payouts (added to the ``chorus`` group in ``cli/main.py``).

    chorus payouts list [--status sending] [--limit 50] [--json]
    chorus payouts show PAYOUT_ID
    chorus payouts reconcile [--older-than-minutes 10]
    chorus payouts retry PAYOUT_ID
    chorus payouts freeze MEMBER_ID --reason "…" / unfreeze MEMBER_ID
    chorus payouts cancel PAYOUT_ID --reason "…"

Exit codes: 0 success, 1 failure (unknown payout, provider or database unreachable, a
finished payout to retry), 2 bad usage or configuration.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any
from uuid import UUID

import click

from core.domain.identity import Principal
from core.domain.payouts import Payout, PayoutNotFound, PayoutStatus
from entrypoints.worker.cli import _operate

STATUSES = [status.value for status in PayoutStatus]


@click.group()
def payouts() -> None:
    """Inspect, reconcile and retry payouts; freeze a member's payouts."""


def _line(payout: Payout) -> str:
    problem = f"  {payout.failure_code}" if payout.failure_code else ""
    return (
        f"{payout.id}  {payout.status.value:<9} {payout.amount}  {payout.provider:<8} "
        f"member {payout.profile_id}  attempts {payout.attempts}  "
        f"requested {payout.requested_at:%Y-%m-%d %H:%M}{problem}"
    )


def _json(payout: Payout) -> dict[str, Any]:
    return {
        "id": str(payout.id),
        "profileId": str(payout.profile_id),
        "status": payout.status.value,
        "amountMinor": payout.amount.amount_minor,
        "currency": payout.amount.currency,
        "provider": payout.provider,
        "destinationId": str(payout.destination_id),
        "attempts": payout.attempts,
        "transferCode": payout.transfer_code,
        "failureCode": payout.failure_code,
        "failureDetail": payout.failure_detail,
        "requestedAt": payout.requested_at.isoformat(),
        "updatedAt": payout.updated_at.isoformat(),
        "finishedAt": payout.finished_at.isoformat() if payout.finished_at else None,
    }


@payouts.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only this status.")
@click.option("--limit", type=click.IntRange(1, 100), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_payouts(status: str | None, limit: int, as_json: bool) -> None:
    """Payouts, newest first (no bank details)."""
    found = _operate(
        lambda container: container.list_payouts()(
            Principal(profile=None, is_service=True),
            status=PayoutStatus(status) if status else None,
            before=None,
            limit=limit,
        )
    )
    for payout in found:
        click.echo(json.dumps(_json(payout)) if as_json else _line(payout))


@payouts.command("show")
@click.argument("payout_id", type=click.UUID)
def show(payout_id: UUID) -> None:
    """One payout as JSON, with why it failed or waits."""

    async def get(container: Any) -> Payout:
        async with container.unit_of_work() as uow:
            payout: Payout | None = await uow.payouts.get(payout_id)
        if payout is None:
            raise PayoutNotFound("No such payout.")
        return payout

    click.echo(json.dumps(_json(_operate(get)), indent=2))


@payouts.command("reconcile")
@click.option(
    "--older-than-minutes",
    type=click.IntRange(0, 100_000),
    default=None,
    help="Payouts in flight unchanged for this long [default: CHORUS_PAYOUT_RECONCILE_AFTER_"
    "MINUTES].",
)
@click.option("--batch-size", type=click.IntRange(1, 1000), default=100, show_default=True)
def reconcile(older_than_minutes: int | None, batch_size: int) -> None:
    """Ask the provider about every payout in flight for a while (by its reference) and
    settle it; send the ones that never reached it. Safe to run at any time."""

    async def run(container: Any) -> Any:
        use_case = container.reconcile_payouts()
        if older_than_minutes is not None:
            use_case = replace(use_case, older_than=timedelta(minutes=older_than_minutes))
        try:
            return await replace(use_case, batch_size=batch_size)()
        finally:
            await container.payout_gateways().aclose()

    summary = _operate(run)
    click.echo(
        f"Checked {summary.checked} payout(s): {summary.settled} settled, "
        f"{summary.in_flight} still in flight, {summary.errors} error(s)."
    )


@payouts.command("retry")
@click.argument("payout_id", type=click.UUID)
def retry(payout_id: UUID) -> None:
    """Advance one payout in flight now: verify it by reference, or send it if it never
    reached the provider."""

    async def run(container: Any) -> PayoutStatus:
        try:
            status: PayoutStatus = await container.retry_payout()(payout_id)
            return status
        finally:
            await container.payout_gateways().aclose()

    click.echo(f"Payout {payout_id} is {_operate(run).value}.")


@payouts.command("cancel")
@click.argument("payout_id", type=click.UUID)
@click.option("--reason", required=True, help="Why (kept with the payout).")
def cancel(payout_id: UUID, reason: str) -> None:
    """Cancel a payout that has not reached the provider (one held because the member was
    banned or frozen): the hold goes back to their available balance."""

    async def run(container: Any) -> Payout:
        try:
            cancelled: Payout = await container.cancel_held_payout()(
                Principal(profile=None, is_service=True), payout_id, reason
            )
            return cancelled
        finally:
            await container.payout_gateways().aclose()

    click.echo(f"Payout {payout_id} is {_operate(run).status.value}; the hold went back.")


@payouts.command("freeze")
@click.argument("member_id", type=click.UUID)
@click.option("--reason", required=True, help="Why (kept for operators).")
def freeze(member_id: UUID, reason: str) -> None:
    """Freeze a member's payouts: no new payout, and those not yet sent are held (not sent)
    until they are unfrozen or cancelled."""
    _set_frozen(member_id, frozen=True, reason=reason)
    click.echo(f"Payouts of {member_id} are frozen.")


@payouts.command("unfreeze")
@click.argument("member_id", type=click.UUID)
def unfreeze(member_id: UUID) -> None:
    """Let a member withdraw again; their held payouts are sent by the next reconciliation
    (or now, with `chorus payouts retry`)."""
    _set_frozen(member_id, frozen=False, reason="")
    click.echo(f"Payouts of {member_id} are no longer frozen.")


def _set_frozen(member_id: UUID, *, frozen: bool, reason: str) -> None:
    async def run(container: Any) -> None:
        async with container.unit_of_work() as uow:
            await uow.payouts.set_frozen(
                member_id, frozen=frozen, reason=reason, at=container.clock().now()
            )
            await uow.commit()

    _operate(run)
