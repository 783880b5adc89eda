"""``chorus worker`` / ``chorus jobs`` on the command line and their settings."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from entrypoints.cli.main import cli
from entrypoints.settings import SettingsError, load_settings


def test_help_lists_the_worker_commands() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "worker" in result.output
    assert "jobs" in result.output
    jobs = CliRunner().invoke(cli, ["jobs", "--help"])
    for command in ("list", "retry", "show", "tasks"):
        assert command in jobs.output


def test_worker_settings_are_read_and_checked() -> None:
    settings = load_settings(
        {
            "CHORUS_ENV": "test",
            "CHORUS_WORKER_CONCURRENCY": "4",
            "CHORUS_WORKER_POLL_SECONDS": "0.25",
            "CHORUS_WORKER_LEASE_SECONDS": "60",
            "CHORUS_WORKER_METRICS_PORT": "9109",
            "CHORUS_EXPO_PUSH_URL": "http://127.0.0.1:9999",
        }
    )
    assert settings.worker.concurrency == 4
    assert settings.worker.poll_seconds == 0.25
    assert settings.worker.lease_seconds == 60
    assert settings.worker.metrics_port == 9109
    assert settings.expo_push_url == "http://127.0.0.1:9999"
    assert load_settings({"CHORUS_ENV": "test"}).expo_push_url == "https://exp.host"


def test_bad_worker_settings_are_each_reported() -> None:
    with pytest.raises(SettingsError) as bad:
        load_settings(
            {
                "CHORUS_ENV": "test",
                "CHORUS_WORKER_POLL_SECONDS": "soon",
                "CHORUS_WORKER_LEASE_SECONDS": "0",
                "CHORUS_WORKER_BACKOFF_BASE_SECONDS": "10",
                "CHORUS_WORKER_BACKOFF_CAP_SECONDS": "5",
                "CHORUS_EXPO_PUSH_URL": "exp.host",
            }
        )
    text = "\n".join(bad.value.problems)
    for name in (
        "CHORUS_WORKER_POLL_SECONDS",
        "CHORUS_WORKER_LEASE_SECONDS",
        "CHORUS_WORKER_BACKOFF_CAP_SECONDS",
        "CHORUS_EXPO_PUSH_URL",
    ):
        assert name in text


def test_the_worker_refuses_production_without_a_database() -> None:
    env = {"CHORUS_ENV": "production", "DATABASE_URL": None}
    result = CliRunner().invoke(cli, ["worker"], env=env)
    assert result.exit_code == 2
    assert "DATABASE_URL" in result.output


def test_development_sends_pushes_to_the_sandbox_unless_expo_is_configured() -> None:
    from entrypoints.notifications import make_push_sender

    dev = {"CHORUS_ENV": "development"}
    assert load_settings(dev).push_sender == "sandbox"
    assert load_settings({"CHORUS_ENV": "test"}).push_sender == "sandbox"
    assert load_settings(dev | {"EXPO_PUSH_ACCESS_TOKEN": "t"}).push_sender == "expo"
    assert load_settings(dev | {"CHORUS_EXPO_PUSH_URL": "http://127.0.0.1:9"}).push_sender == (
        "expo"
    )
    assert load_settings(dev | {"CHORUS_PUSH_SENDER": "expo"}).push_sender == "expo"
    assert type(make_push_sender(load_settings(dev))).__name__ == "SandboxPushSender"


def test_production_always_sends_through_expo_and_refuses_the_sandbox() -> None:
    production = {"CHORUS_ENV": "production", "SUPABASE_URL": "https://p.supabase.co"}
    assert load_settings(production).push_sender == "expo"
    with pytest.raises(SettingsError, match="CHORUS_PUSH_SENDER: the sandbox push sender"):
        load_settings(production | {"CHORUS_PUSH_SENDER": "sandbox"})
    with pytest.raises(SettingsError, match="CHORUS_PUSH_SENDER: must be expo or sandbox"):
        load_settings(production | {"CHORUS_PUSH_SENDER": "fcm"})
