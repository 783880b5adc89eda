"""Fault fixtures: a PostgreSQL cluster of our own (started once per session, restarted by the
tests that stop it) with one migrated database, emptied before each test.

The cluster never is ``TEST_DATABASE_URL``'s server, so with that variable set (CI's second
pass over the integration suite) the tests that use it would only repeat the first pass:
they are skipped there, to keep CI's cost down."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from adapters.postgres import migrate
from tests.integration.faults.cluster import Cluster

DATABASE = "chorus_faults"


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("fault runs use a cluster of their own; the embedded pass runs them")
    made = Cluster()
    try:
        made.start()
        yield made
    finally:
        made.close()


@pytest.fixture(scope="session")
async def faults_database_url(cluster: Cluster) -> AsyncIterator[str]:
    await cluster.wait_accepting()
    url = await cluster.create_database(DATABASE)
    await migrate.upgrade(url)
    return url


@pytest.fixture
async def fault_url(cluster: Cluster, faults_database_url: str) -> str:
    """The migrated database, running and empty."""
    if not cluster.running():
        cluster.start()
    await cluster.wait_accepting()
    await cluster.empty(DATABASE)
    return faults_database_url
