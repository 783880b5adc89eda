"""Building the push, analytics and background-work pieces from settings (used by the
container). Push works without ``EXPO_PUSH_ACCESS_TOKEN`` (Expo only requires it when the
project enables "enhanced push security"); in development without Expo configured the
sandbox sender logs pushes instead of sending them (``CHORUS_PUSH_SENDER``); analytics is a
no-op without ``POSTHOG_API_KEY``."""

from __future__ import annotations

import os
import random
import secrets
import socket
from collections.abc import Callable
from datetime import timedelta

from adapters.expo.push_sender import ExpoPushSender
from adapters.posthog.analytics import NoopAnalytics, PostHogAnalytics, build_analytics
from adapters.sandbox.push import SandboxPushSender
from core.domain.notifications import BackoffPolicy
from entrypoints.settings import Settings


def make_push_sender(settings: Settings) -> ExpoPushSender | SandboxPushSender:
    if settings.push_sender == "sandbox":
        if not settings.is_development:  # settings refuse it; never build it in production
            raise ValueError("the sandbox push sender is refused in production")
        return SandboxPushSender()
    token = settings.expo_push_access_token
    return ExpoPushSender(
        access_token=token.reveal() if token else None, host=settings.expo_push_url
    )


def make_analytics(settings: Settings) -> PostHogAnalytics | NoopAnalytics:
    key = settings.posthog_api_key
    return build_analytics(key.reveal() if key else None, host=settings.posthog_host)


def make_backoff(settings: Settings) -> BackoffPolicy:
    worker = settings.worker
    return BackoffPolicy(
        base_seconds=worker.backoff_base_seconds,
        cap_seconds=worker.backoff_cap_seconds,
        max_attempts=worker.max_attempts,
    )


def make_jitter() -> Callable[[], float]:
    """Uniform draws in [0, 1) for backoff jitter (not for secrets)."""
    return random.Random(secrets.randbits(64)).random  # noqa: S311 - jitter, not security


def make_worker_id() -> str:
    """``host:pid:random`` — shown as ``locked_by`` on claimed work."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def days(value: int) -> timedelta:
    return timedelta(days=value)
