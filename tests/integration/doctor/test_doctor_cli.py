"""``chorus doctor`` as operators run it: ``DATABASE_URL``, exit status, text and JSON."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import sqlalchemy as sa
from click.testing import CliRunner, Result
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from entrypoints.cli.main import cli
from tests.integration.clips.helpers import new_clip, vote
from tests.tokens import bearer, member_headers, service_token


def doctor(database_url: str, *arguments: str) -> Result:
    env = {"DATABASE_URL": database_url, "CHORUS_ENV": "production"}
    env["SUPABASE_JWT_SECRET"] = "x" * 40
    return CliRunner().invoke(cli, ["doctor", *arguments], env=env)


async def test_exit_0_when_healthy_and_1_with_the_offending_rows(
    make_app: Callable[..., Litestar], engine: AsyncEngine, database_url: str
) -> None:
    async with AsyncTestClient(make_app(consensus_policy="majority")) as client:
        rate = {"kind": "validation_agreed", "amountMinor": 1_000, "currency": "NGN"}
        service = bearer(service_token())
        assert (await client.post("/monetization/rates", json=rate, headers=service)).is_success
        clip, _ = await new_clip(client)
        for _ in range(2):
            assert (await vote(client, member_headers(), clip)).status_code == 200

    healthy = await asyncio.to_thread(doctor, database_url)
    assert healthy.exit_code == 0, healthy.output
    assert "all hold" in healthy.stdout

    async with engine.begin() as connection:  # a balance changed behind the ledger's back
        await connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        await connection.execute(sa.text(
            "UPDATE accounts SET balance_minor = balance_minor + 7 WHERE id = "
            "(SELECT id FROM accounts WHERE kind = 'pending' ORDER BY id LIMIT 1)"
        ))  # fmt: skip
    broken = await asyncio.to_thread(doctor, database_url, "--json", "--examples", "1")
    assert broken.exit_code == 1, broken.output
    report = json.loads(broken.stdout)
    assert report["healthy"] is False
    [finding] = [item for item in report["invariants"] if not item["holds"]]
    assert finding["code"] == "balances_match_postings"
    [row] = finding["examples"]
    assert row["balance_minor"] == row["postings_minor"] + 7


async def test_exit_1_when_the_database_is_unreachable() -> None:
    result = await asyncio.to_thread(doctor, "postgresql://nobody@127.0.0.1:1/none")
    assert result.exit_code == 1
    assert "storage_unavailable" in result.stderr
