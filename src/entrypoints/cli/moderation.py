"""``chorus moderation``: what moderators and operators look at from a terminal.

    chorus moderation standing MEMBER_ID [--json]

Exit codes: 0 success, 1 failure (unknown member, database unreachable), 2 bad usage.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import click

from core.domain.identity import Principal
from core.use_cases.moderation_standing import MemberStanding
from entrypoints.worker.cli import _operate

SERVICE = Principal(profile=None, is_service=True)


@click.group()
def moderation() -> None:
    """Moderation and fraud defences (docs/moderation.md)."""


def standing_json(standing: MemberStanding) -> dict[str, Any]:
    """The standing as JSON: ids, codes and counts (no display name, no notes' authors)."""
    profile, record, rates = standing.profile, standing.validator, standing.reliability
    return {
        "profileId": str(profile.id),
        "role": profile.role.value,
        "status": profile.status.value,
        "visibility": profile.visibility.value,
        "payoutsFrozen": standing.payouts_frozen,
        "flagsAgainst": {
            status.value: {reason.value: n for reason, n in sorted(reasons.items())}
            for status, reasons in sorted(standing.flags_against.items())
        },
        "flagsRaised": {status.value: n for status, n in sorted(standing.flags_raised.items())},
        "validation": {
            "balancedAccuracy": round(rates.balanced_accuracy, 4),
            "sensitivity": round(rates.sensitivity, 4),
            "specificity": round(rates.specificity, 4),
            "onProbation": record.on_probation,
            "goldRight": record.history.gold_right,
            "goldWrong": record.history.gold_wrong,
            "rushedVotes": record.history.rushed_votes,
        },
        "decisions": [
            {
                "id": str(d.id),
                "at": d.created_at.isoformat(),
                "target": str(d.target),
                "action": d.action.value,
                "reason": d.reason.value,
                "by": d.actor_kind.value,
            }
            for d in standing.decisions
        ],
        "fraudSignals": [
            {"at": s.created_at.isoformat(), "kind": s.kind.value, **dict(s.detail)}
            for s in standing.signals
        ],
        "earningsCapDays": [
            {
                "day": day.day.isoformat(),
                "currency": day.currency,
                "earnedMinor": day.earned_minor,
                "withheldMinor": day.withheld_minor,
            }
            for day in standing.capped_days
        ],
    }


def _lines(data: dict[str, Any]) -> list[str]:
    validation = data["validation"]
    lines = [
        f"Member {data['profileId']}: {data['role']}, {data['status']}"
        + (f", profile {data['visibility']}" if data["visibility"] != "visible" else "")
        + (", payouts FROZEN" if data["payoutsFrozen"] else ""),
        f"Validation: balanced accuracy {validation['balancedAccuracy']:.2f} "
        f"(sensitivity {validation['sensitivity']:.2f}, specificity "
        f"{validation['specificity']:.2f}), gold {validation['goldRight']} right / "
        f"{validation['goldWrong']} wrong, {validation['rushedVotes']} rushed votes"
        + (", ON PROBATION" if validation["onProbation"] else ""),
    ]
    against = data["flagsAgainst"]
    lines.append(
        "Flags against them: "
        + (
            "; ".join(
                f"{status}: " + ", ".join(f"{reason} {n}" for reason, n in reasons.items())
                for status, reasons in against.items()
            )
            or "none"
        )
    )
    raised = data["flagsRaised"]
    lines.append(
        "Flags they raised: "
        + (", ".join(f"{status} {n}" for status, n in raised.items()) or "none")
    )
    lines.append(f"Decisions ({len(data['decisions'])} latest):")
    lines += [
        f"  {d['at']}  {d['action']:<12} {d['reason']:<22} {d['target']}  by {d['by']}"
        for d in data["decisions"]
    ] or ["  none"]
    lines.append(f"Fraud signals ({len(data['fraudSignals'])} latest):")
    lines += [
        f"  {s['at']}  {s['kind']:<14} "
        + " ".join(f"{k}={v}" for k, v in s.items() if k not in {"at", "kind"})
        for s in data["fraudSignals"]
    ] or ["  none"]
    if data["earningsCapDays"]:
        lines.append("Days the earnings cap withheld pay:")
        lines += [
            f"  {d['day']}  {d['currency']} earned {d['earnedMinor']}, withheld "
            f"{d['withheldMinor']} (minor units)"
            for d in data["earningsCapDays"]
        ]
    return lines


@moderation.command("standing")
@click.argument("member_id", type=click.UUID)
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
def standing(member_id: UUID, as_json: bool) -> None:
    """A member's flags (against them and raised by them), moderation decisions,
    validation accuracy, fraud signals and days the earnings cap withheld pay."""
    found = _operate(lambda container: container.member_standing()(SERVICE, member_id))
    data = standing_json(found)
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo("\n".join(_lines(data)))
