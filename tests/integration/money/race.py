"""A contender run in its own process by ``test_rewards_concurrency``:

    python -m tests.integration.money.race VALIDATOR_ID CLIP_ID...

Settings come from the environment (``DATABASE_URL`` …). The process connects, prints
``ready`` and waits for a line on stdin; then the validator votes ``valid`` on every clip at
once and the process prints the outcomes as a JSON line; it waits for another line, then
releases matured earnings in batches of two and prints ``{"released": n}``. The test starts
each phase in every process at the same moment.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from dataclasses import replace
from datetime import timedelta

from core.domain.clips import Verdict
from core.domain.identity import Principal
from entrypoints.container import Container
from entrypoints.settings import Environment, load_settings


async def _go() -> None:
    await asyncio.to_thread(sys.stdin.readline)


async def main(validator_id: uuid.UUID, clips: list[uuid.UUID]) -> None:
    container = Container(settings=load_settings(environment=Environment.TEST))
    try:
        async with container.unit_of_work() as uow:
            principal = Principal(profile=await uow.profiles.get(validator_id))
            # As if the queue had served these clips a minute ago (a vote counts only then).
            served_at = container.clock().now() - timedelta(minutes=1)
            await uow.servings.record(validator_id, clips, served_at)
            await uow.commit()
        print("ready", flush=True)
        await _go()
        submit = container.submit_vote()
        receipts = await asyncio.gather(*(submit(principal, c, Verdict.VALID) for c in clips))
        print(json.dumps([receipt.outcome.value for receipt in receipts]), flush=True)
        await _go()
        summary = await replace(container.release_earnings(), batch_size=2)()
        print(json.dumps({"released": summary.released}), flush=True)
    finally:
        await container.engine().dispose()


if __name__ == "__main__":
    asyncio.run(main(uuid.UUID(sys.argv[1]), [uuid.UUID(a) for a in sys.argv[2:]]))
