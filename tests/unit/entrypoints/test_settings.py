from __future__ import annotations

import pytest

from entrypoints.settings import DEV_JWT_SECRET, Environment, SettingsError, load_settings

GOOD_SECRET = "s" * 40


def test_production_needs_a_way_to_verify_callers():
    with pytest.raises(SettingsError) as error:
        load_settings({})
    assert any("SUPABASE_JWT_SECRET" in p for p in error.value.problems)


def test_every_bad_value_is_reported_once_and_secrets_are_not_echoed():
    env = {
        "SUPABASE_JWT_SECRET": GOOD_SECRET,
        "CHORUS_PORT": "eighty",
        "CHORUS_WORKERS": "0",
        "DATABASE_URL": "mysql://root:hunter2@db/x",
        "REDIS_URL": "http://cache",
        "CHORUS_LOG_LEVEL": "chatty",
        "CHORUS_CORS_ORIGINS": "https://ok.example,ftp://nope",
    }
    with pytest.raises(SettingsError) as error:
        load_settings(env)
    problems = error.value.problems
    assert [p.split(":")[0] for p in problems] == [
        "DATABASE_URL",
        "CHORUS_LOG_LEVEL",
        "CHORUS_CORS_ORIGINS",
        "CHORUS_PORT",
        "CHORUS_WORKERS",
        "REDIS_URL",
    ]
    assert "hunter2" not in str(error.value)


def test_dev_secret_is_refused_in_production():
    with pytest.raises(SettingsError, match="development secret"):
        load_settings({"SUPABASE_JWT_SECRET": DEV_JWT_SECRET})


def test_short_secret_is_refused():
    with pytest.raises(SettingsError, match="at least 32"):
        load_settings({"SUPABASE_JWT_SECRET": "short"})


def test_development_defaults_give_dev_auth_and_livekit_dev_keys():
    settings = load_settings({}, environment=Environment.DEVELOPMENT)
    assert settings.dev_auth_enabled
    assert settings.livekit_api_key == "devkey"
    assert settings.livekit_url == "ws://localhost:7880"


def test_production_settings_read_the_seed_names():
    settings = load_settings(
        {
            "SUPABASE_JWT_SECRET": GOOD_SECRET,
            "DATABASE_URL": "postgres://u:p@db.example:5432/postgres",
            "SUPABASE_URL": "https://abc.supabase.co",
            "LIVEKIT_API_KEY": "k",
            "LIVEKIT_API_SECRET": "v",
            "LIVEKIT_URL": "wss://live.example",
            "POSTHOG_API_KEY": "phc_x",
        }
    )
    assert not settings.dev_auth_enabled
    assert settings.jwks_url == "https://abc.supabase.co/auth/v1/.well-known/jwks.json"
    assert settings.expected_issuer == "https://abc.supabase.co/auth/v1"
    assert "p@db" not in repr(settings)
    assert settings.database_url is not None
    assert "p@db" in settings.database_url.reveal()


def test_metrics_token_and_docs_switch():
    settings = load_settings(
        {
            "SUPABASE_JWT_SECRET": GOOD_SECRET,
            "CHORUS_METRICS_TOKEN": "t" * 20,
            "CHORUS_DOCS_ENABLED": "false",
        }
    )
    assert settings.metrics_token is not None
    assert settings.metrics_token.reveal() == "t" * 20
    assert settings.docs_enabled is False
    assert load_settings({"SUPABASE_JWT_SECRET": GOOD_SECRET}).docs_enabled is True
    with pytest.raises(SettingsError) as error:
        load_settings(
            {
                "SUPABASE_JWT_SECRET": GOOD_SECRET,
                "CHORUS_METRICS_TOKEN": "short",
                "CHORUS_DOCS_ENABLED": "maybe",
            }
        )
    assert [p.split(":")[0] for p in error.value.problems] == [
        "CHORUS_DOCS_ENABLED",
        "CHORUS_METRICS_TOKEN",
    ]
    assert "short" not in str(error.value)


def test_http_limits_are_read_and_validated():
    settings = load_settings(
        {
            "SUPABASE_JWT_SECRET": GOOD_SECRET,
            "CHORUS_HTTP_HEADER_TIMEOUT_SECONDS": "2.5",
            "CHORUS_HTTP_MAX_CONNECTIONS": "300",
        }
    )
    assert settings.http.header_timeout_seconds == 2.5
    assert settings.http.max_connections == 300
    assert settings.http.max_headers == 100
    with pytest.raises(SettingsError) as error:
        load_settings(
            {
                "SUPABASE_JWT_SECRET": GOOD_SECRET,
                "CHORUS_HTTP_BODY_TIMEOUT_SECONDS": "0",
                "CHORUS_HTTP_MAX_HEADER_BYTES": "10",
                "CHORUS_HTTP_KEEP_ALIVE_SECONDS": "soon",
            }
        )
    assert [p.split(":")[0] for p in error.value.problems] == [
        "CHORUS_HTTP_BODY_TIMEOUT_SECONDS",
        "CHORUS_HTTP_KEEP_ALIVE_SECONDS",
        "CHORUS_HTTP_MAX_HEADER_BYTES",
    ]


def test_the_livekit_url_for_phones_defaults_to_livekit_url():
    from entrypoints.live import make_live_video

    internal = {
        "CHORUS_ENV": "development",
        "LIVEKIT_URL": "ws://livekit.internal:7880",
        "LIVEKIT_API_KEY": "k",
        "LIVEKIT_API_SECRET": "s" * 32,
    }
    plain = load_settings(internal)
    assert plain.livekit_public_url is None
    video = make_live_video(plain)
    assert video is not None
    assert video.client_url == "ws://livekit.internal:7880"

    public = load_settings(internal | {"LIVEKIT_PUBLIC_URL": "wss://live.example"})
    video = make_live_video(public)
    assert video is not None
    assert video.client_url == "wss://live.example"

    with pytest.raises(SettingsError, match="LIVEKIT_PUBLIC_URL"):
        load_settings(internal | {"LIVEKIT_PUBLIC_URL": "live.example"})
