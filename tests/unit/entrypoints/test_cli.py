from __future__ import annotations

from click.testing import CliRunner

from entrypoints.cli.main import cli


def test_help_lists_every_command():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("dev", "serve", "migrate", "token"):
        assert command in result.output


def test_serve_without_database_url_is_a_usage_error():
    result = CliRunner().invoke(cli, ["serve"], env={"SUPABASE_JWT_SECRET": "s" * 40})
    assert result.exit_code == 2
    assert "DATABASE_URL" in result.output


def test_bad_configuration_exits_2_with_one_line_per_problem():
    result = CliRunner().invoke(
        cli, ["serve"], env={"CHORUS_PORT": "x", "CHORUS_ENV": "production"}
    )
    assert result.exit_code == 2
    assert "CHORUS_PORT" in result.output


def test_token_is_refused_in_production():
    result = CliRunner().invoke(cli, ["token", "--service"], env={"CHORUS_ENV": "production"})
    assert result.exit_code == 2


def test_token_is_refused_with_a_real_secret():
    env = {"CHORUS_ENV": "development", "SUPABASE_JWT_SECRET": "r" * 40}
    result = CliRunner().invoke(cli, ["token", "--service"], env=env)
    assert result.exit_code == 2
    assert "Dev auth" in result.output


def test_service_token_is_minted_in_development():
    import jwt

    env = {"CHORUS_ENV": "development", "SUPABASE_JWT_SECRET": ""}
    result = CliRunner().invoke(cli, ["token", "--service"], env=env)
    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.output.strip(), options={"verify_signature": False})
    assert claims["role"] == "service_role"


def test_a_role_change_without_a_running_database_is_refused_and_starts_none(tmp_path):
    env = {"CHORUS_ENV": "development", "CHORUS_DATA_DIR": str(tmp_path), "DATABASE_URL": ""}
    result = CliRunner().invoke(cli, ["token", "--role", "admin"], env=env)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"No embedded PostgreSQL is running in {tmp_path.resolve()}" in result.stderr
    assert not (tmp_path / "postgres").exists()


def test_a_role_change_on_an_unreachable_database_url_fails_without_a_token():
    env = {
        "CHORUS_ENV": "development",
        "SUPABASE_JWT_SECRET": "",
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
    }
    result = CliRunner().invoke(cli, ["token", "--role", "admin"], env=env)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Database: nobody@127.0.0.1:1/none (DATABASE_URL)" in result.stderr
    assert "storage_unavailable" in result.stderr
