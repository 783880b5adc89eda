"""``SandboxPayoutGateway``: a payment provider that moves no money, for ``chorus dev``.

Every account resolves to ``SANDBOX ACCOUNT ••••1234``; every transfer succeeds at once.
Transfers are remembered in this process only, so after a restart the sandbox has none: a
payout left ``sending`` is then sent again with the same reference, as a real provider that
never received it would allow. The entrypoints refuse to build it when
``CHORUS_ENV=production``.
"""

from __future__ import annotations

import hashlib

from core.domain.payouts import (
    AccountDetails,
    Observation,
    Recipient,
    ResolvedAccount,
    TransferState,
)
from core.ports.payouts import TransferOrder

PROVIDER = "sandbox"


class SandboxPayoutGateway:
    """Implements ``core.ports.payouts.PayoutGateway`` without any provider."""

    def __init__(self) -> None:
        self._transfers: dict[str, Observation] = {}

    @property
    def provider(self) -> str:
        return PROVIDER

    async def resolve_account(self, details: AccountDetails) -> ResolvedAccount:
        return ResolvedAccount(f"SANDBOX ACCOUNT {details.last4}")

    async def create_recipient(self, details: AccountDetails, account_name: str) -> Recipient:
        digest = hashlib.sha256(repr(details).encode()).hexdigest()[:12].upper()
        return Recipient(PROVIDER, f"SBX_RCP_{digest}", f"Sandbox {details.bank_code or 'bank'}")

    async def send_transfer(self, order: TransferOrder) -> Observation:
        return self._transfers.setdefault(
            order.reference,
            Observation(TransferState.SUCCESS, f"SBX_TRF_{order.reference[:8].upper()}"),
        )

    async def find_transfer(self, reference: str) -> Observation | None:
        return self._transfers.get(reference)
