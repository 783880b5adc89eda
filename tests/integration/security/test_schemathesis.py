"""Issue 11 §8: schemathesis over the OpenAPI document a real ``chorus serve`` serves, with a
member's token and an admin's, every check, the stateful phase following the document's
links, a bounded number of examples: no server error, no schema violation, no failure.

Bounded for CI (about a minute per token). For a longer run, raise the examples and pick
another seed: ``CHORUS_SCHEMATHESIS_EXAMPLES=100 CHORUS_SCHEMATHESIS_SEED=7 .venv/bin/python
-m pytest tests/integration/security/test_schemathesis.py -s``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from core.domain.identity import Principal, Role
from entrypoints.container import Container
from entrypoints.settings import Environment, Secret, load_settings
from tests.audio import wav_bytes
from tests.contracts.livekit_server import LiveKitContractServer
from tests.contracts.paystack_server import running_paystack_server
from tests.contracts.stripe_server import running_stripe_server
from tests.integration.server.served import ServedChorus
from tests.tokens import bearer, hs256

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = os.environ.get("CHORUS_SCHEMATHESIS_EXAMPLES", "12")
SEED = os.environ.get("CHORUS_SCHEMATHESIS_SEED", "20261206")
SEEDED_CLIPS = 6


@dataclass(frozen=True)
class World:
    served: ServedChorus
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def world(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with (
        LiveKitContractServer() as livekit,
        running_paystack_server() as paystack,
        running_stripe_server() as stripe,
    ):
        served = ServedChorus(
            database_url,
            tmp_path_factory.mktemp("schemathesis") / "serve.log",
            LIVEKIT_URL=livekit.url,
            LIVEKIT_API_KEY=livekit.api_key,
            LIVEKIT_API_SECRET=livekit.api_secret,
            PAYSTACK_SECRET_KEY=paystack.secret_key,
            CHORUS_PAYSTACK_API_BASE=paystack.base_url,
            STRIPE_SECRET_KEY=stripe.secret_key,
            STRIPE_WEBHOOK_SECRET=stripe.webhook_secret,
            CHORUS_STRIPE_API_BASE=stripe.base_url,
            CHORUS_WRITE_RATE_LIMIT_PER_MINUTE="100000",
        )
        try:
            member, admin, contributor = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            asyncio.run(_make_admin(database_url, admin))
            _record_clips(served.base_url, contributor)
            yield World(served, {"member": hs256(member), "admin": hs256(admin)})
        finally:
            served.stop()


async def _make_admin(database_url: str, profile_id: uuid.UUID) -> None:
    settings = replace(
        load_settings({}, environment=Environment.TEST), database_url=Secret(database_url)
    )
    container = Container(settings=settings)
    try:
        service = Principal(profile=None, is_service=True)
        await container.set_member_role()(service, profile_id, Role.ADMIN)
    finally:
        await container.engine().dispose()


def _record_clips(base_url: str, contributor: uuid.UUID) -> None:
    """Clips in ``yo`` by someone else, so that the queue, votes and gold have data."""
    audio = wav_bytes(1.5)
    with httpx.Client(base_url=base_url, headers=bearer(hs256(contributor))) as client:
        for _ in range(SEEDED_CLIPS):
            response = client.post(
                "/clips",
                data={"language": "yo", "prompt": "Ẹ káàárọ̀", "clientId": str(uuid.uuid4())},
                files={"audio": ("clip.wav", audio, "audio/wav")},
            )
            assert response.status_code == 201, response.text


@pytest.mark.parametrize("role", ["member", "admin"])
def test_schemathesis_finds_nothing(world: World, role: str, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    command = [
        str(Path(sys.executable).with_name("st")),
        *("--config-file", str(CONFIG), "--no-color", "run"),
        f"{world.served.base_url}/docs/openapi.json",
        *("-H", f"Authorization: Bearer {world.tokens[role]}"),
        *("--checks", "all", "--max-examples", EXAMPLES, "--seed", SEED, "--workers", "1"),
        *("--phases", "examples,coverage,fuzzing,stateful"),
        *("--report", "json", "--report-json-path", str(report)),
    ]
    # In tmp_path: schemathesis keeps its caches in the working directory.
    hooks = Path(__file__).with_name("schemathesis_hooks.py")
    run = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(hooks)},
    )
    summary = json.loads(report.read_text())
    figures = {
        "role": role,
        "test_cases": summary["test_cases"]["generated"],
        "operations": summary["operations"]["tested"],
        "failures": {f["code"]: f["count"] for f in summary["failures"]},
        "errors": len(summary["errors"]),
        "seconds": round(summary["running_time"], 1),
    }
    print(f"schemathesis {json.dumps(figures)}")
    assert run.returncode == 0, run.stdout[-6000:]
    assert figures["failures"] == {}
    assert figures["errors"] == 0
    assert "unhandled_error" not in world.served.output()
