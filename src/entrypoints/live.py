"""Building the LiveKit adapters from settings. Live streaming is optional: without
``LIVEKIT_URL``, ``LIVEKIT_API_KEY`` and ``LIVEKIT_API_SECRET`` (production has no defaults)
the adapters are ``None`` and every live endpoint answers 503 ``live_unavailable``.
``LIVEKIT_PUBLIC_URL`` (default ``LIVEKIT_URL``) is the address phones are given."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from adapters.livekit.video import LiveKitVideo
from adapters.livekit.webhooks import LiveKitWebhookVerifier
from core.errors import FeatureUnavailable
from entrypoints.settings import Settings

T = TypeVar("T")


def livekit_credentials(settings: Settings) -> tuple[str, str, str] | None:
    """``(url, api key, api secret)``, or ``None`` unless all three are set."""
    url, key, secret = settings.livekit_url, settings.livekit_api_key, settings.livekit_api_secret
    if not (url and key and secret and secret.reveal()):
        return None
    return url, key, secret.reveal()


def live_unavailable() -> FeatureUnavailable:
    return FeatureUnavailable(
        "Live streaming is not configured on this server (LIVEKIT_URL, LIVEKIT_API_KEY, "
        "LIVEKIT_API_SECRET).",
        code="live_unavailable",
    )


def make_live_video(settings: Settings) -> LiveKitVideo | None:
    """The room service client; it connects on first use, so building it is cheap."""
    credentials = livekit_credentials(settings)
    if credentials is None:
        return None
    url, key, secret = credentials
    return LiveKitVideo(
        url=url,
        public_url=settings.livekit_public_url,
        api_key=key,
        api_secret=secret,
        token_ttl=timedelta(minutes=settings.livekit_token_ttl_minutes),
        empty_timeout=timedelta(seconds=settings.livekit_empty_timeout_seconds),
        max_participants=settings.livekit_max_participants,
    )


def make_live_webhooks(settings: Settings) -> LiveKitWebhookVerifier | None:
    credentials = livekit_credentials(settings)
    if credentials is None:
        return None
    _, key, secret = credentials
    return LiveKitWebhookVerifier(api_key=key, api_secret=secret)


def require_live(adapter: T | None) -> T:
    """The adapter, or 503 ``live_unavailable`` when live streaming is not configured."""
    if adapter is None:
        raise live_unavailable()
    return adapter
