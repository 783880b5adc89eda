"""A moderator's ban, run in its own process by ``test_ban``:

    python -m tests.integration.moderation.ban_process MODERATOR_ID MEMBER_ID PAUSE_AT

Settings come from the environment (``DATABASE_URL`` …). The decision runs as in the app,
except that at ``PAUSE_AT`` — ``devices`` (before switching the member's devices off, the
last effect) or ``commit`` (every effect written, before COMMIT) — the transaction first
takes the PostgreSQL advisory lock ``PAUSE_LOCK``, which the test holds: the process waits
there, inside its transaction, until the test kills it.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from dependency_injector import providers

from adapters.postgres.unit_of_work import PostgresUnitOfWork
from core.domain.identity import Principal
from core.use_cases.moderation import DecisionCommand
from entrypoints.container import Container
from entrypoints.settings import Environment, load_settings

PAUSE_LOCK = 424242


class PausingUnitOfWork(PostgresUnitOfWork):
    pause_at = "commit"

    async def _pause(self) -> None:
        print("paused", flush=True)
        await self.connection.execute(sa.text(f"SELECT pg_advisory_xact_lock({PAUSE_LOCK})"))

    async def __aenter__(self) -> PausingUnitOfWork:
        await super().__aenter__()
        if self.pause_at == "devices":
            tokens, pause = self.push_tokens, self._pause

            class Pausing:
                def __getattr__(self, name: str) -> Any:
                    return getattr(tokens, name)

                async def deactivate(
                    self, chosen: Sequence[str], *, reason: str, now: datetime
                ) -> None:
                    await pause()
                    await tokens.deactivate(chosen, reason=reason, now=now)

            self.push_tokens = Pausing()  # type: ignore[assignment]
        return self

    async def commit(self) -> None:
        if self.pause_at == "commit":
            await self._pause()
        await super().commit()


async def main(moderator_id: uuid.UUID, member_id: uuid.UUID, pause_at: str) -> None:
    PausingUnitOfWork.pause_at = pause_at
    container = Container(settings=load_settings(environment=Environment.TEST))
    container.unit_of_work.override(providers.Factory(PausingUnitOfWork, engine=container.engine))
    try:
        async with container.unit_of_work() as uow:
            moderator = Principal(profile=await uow.profiles.get(moderator_id))
        command = DecisionCommand("profile", member_id, "ban_user", "fraud", "farming")
        await container.decide_moderation()(moderator, command)
        print("decided", flush=True)
    finally:
        await container.engine().dispose()


if __name__ == "__main__":
    asyncio.run(main(uuid.UUID(sys.argv[1]), uuid.UUID(sys.argv[2]), sys.argv[3]))
