"""Building the payout providers from settings (used by the container).

Bank and mobile-money destinations go through Paystack (``PAYSTACK_SECRET_KEY``), or through
the sandbox gateway when ``CHORUS_PAYOUT_PROVIDER=sandbox`` — the default of ``chorus dev``
without a Paystack key, refused in production. Stripe connected accounts need
``STRIPE_SECRET_KEY`` (and ``STRIPE_WEBHOOK_SECRET`` for its webhooks). A provider that is
not configured makes its endpoints answer 503 ``payouts_unavailable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from adapters.paystack.gateway import PaystackPayoutGateway
from adapters.paystack.webhooks import PaystackWebhookVerifier
from adapters.sandbox.payouts import SandboxPayoutGateway
from adapters.stripe.payouts import StripePayoutGateway, StripeWebhookVerifier
from core.domain.payouts import DEFAULT_DAILY_CAPS, DEFAULT_MINIMUMS, DestinationKind, PayoutRules
from core.errors import FeatureUnavailable
from core.ports.payouts import PayoutGateway
from entrypoints.settings import Environment, Settings

T = TypeVar("T")


def payouts_unavailable(what: str) -> FeatureUnavailable:
    return FeatureUnavailable(
        f"Payouts through {what} are not configured on this server.", code="payouts_unavailable"
    )


@dataclass(frozen=True, slots=True)
class ConfiguredGateways:
    """Implements ``core.ports.payouts.PayoutGateways``: ``bank`` pays bank and mobile-money
    destinations, ``connected_accounts`` Stripe connected accounts."""

    bank: PayoutGateway | None
    connected_accounts: PayoutGateway | None

    def for_kind(self, kind: DestinationKind) -> PayoutGateway:
        if kind is DestinationKind.STRIPE_ACCOUNT:
            if self.connected_accounts is None:
                raise payouts_unavailable("Stripe (STRIPE_SECRET_KEY)")
            return self.connected_accounts
        if self.bank is None:
            raise payouts_unavailable("Paystack (PAYSTACK_SECRET_KEY)")
        return self.bank

    def named(self, provider: str) -> PayoutGateway:
        for gateway in (self.bank, self.connected_accounts):
            if gateway is not None and gateway.provider == provider:
                return gateway
        raise payouts_unavailable(provider)

    async def aclose(self) -> None:
        for gateway in (self.bank, self.connected_accounts):
            close = getattr(gateway, "aclose", None)
            if close is not None:
                await close()


def make_payout_gateways(settings: Settings) -> ConfiguredGateways:
    payouts = settings.payouts
    if payouts.provider == "sandbox":
        if settings.environment is Environment.PRODUCTION:
            # ``load_settings`` already refuses this at start; settings built by hand still
            # never get a sandbox in production: payouts are then simply unavailable.
            return ConfiguredGateways(bank=None, connected_accounts=None)
        sandbox = SandboxPayoutGateway()
        return ConfiguredGateways(bank=sandbox, connected_accounts=sandbox)
    paystack = settings.paystack_secret_key
    stripe_key = payouts.stripe_secret_key
    return ConfiguredGateways(
        bank=PaystackPayoutGateway(
            secret_key=paystack.reveal(),
            base_url=payouts.paystack_api_base,
            timeout_seconds=payouts.timeout_seconds,
        )
        if paystack
        else None,
        connected_accounts=StripePayoutGateway(
            secret_key=stripe_key.reveal(), base_url=payouts.stripe_api_base
        )
        if stripe_key
        else None,
    )


def make_paystack_webhooks(settings: Settings) -> PaystackWebhookVerifier | None:
    key = settings.paystack_secret_key
    return PaystackWebhookVerifier(secret_key=key.reveal()) if key else None


def make_stripe_webhooks(settings: Settings) -> StripeWebhookVerifier | None:
    secret = settings.payouts.stripe_webhook_secret
    return StripeWebhookVerifier(webhook_secret=secret.reveal()) if secret else None


def require_configured(adapter: T | None, what: str) -> T:
    """The adapter, or 503 ``payouts_unavailable`` naming what to configure."""
    if adapter is None:
        raise payouts_unavailable(what)
    return adapter


def payout_rules(settings: Settings) -> PayoutRules:
    return PayoutRules(
        minimums={**DEFAULT_MINIMUMS, **settings.payouts.minimums},
        daily_caps={**DEFAULT_DAILY_CAPS, **settings.payouts.daily_caps},
    )


def reconcile_after(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.payouts.reconcile_after_minutes)
