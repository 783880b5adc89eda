"""A local S3-compatible server on 127.0.0.1: moto's server mode (``ThreadedMotoServer``),
speaking the S3 REST protocol (SigV4 requests, presigned URLs, byte ranges) to real
clients. One server per test session; each test gets its own bucket."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from functools import cached_property
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

ACCESS_KEY_ID = "chorus-test-key"
SECRET_ACCESS_KEY = "chorus-test-secret-key"
REGION = "us-east-1"


class S3ContractServer:
    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url

    @cached_property
    def client(self) -> Any:
        """A boto3 client of the server (made once: a client takes ~0.3 s to build)."""
        return boto3.session.Session(
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            region_name=REGION,
        ).client("s3", endpoint_url=self.endpoint_url)

    def new_bucket(self) -> str:
        name = f"chorus-{uuid.uuid4().hex[:20]}"
        self.client.create_bucket(Bucket=name)
        return name

    def settings_env(self, bucket: str) -> dict[str, str]:
        """The environment that points Chorus at ``bucket`` on this server."""
        return {
            "CHORUS_BLOB_STORE": "s3",
            "CHORUS_S3_BUCKET": bucket,
            "CHORUS_S3_ENDPOINT_URL": self.endpoint_url,
            "CHORUS_S3_REGION": REGION,
            "CHORUS_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "CHORUS_S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        }


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3ContractServer]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3ContractServer(f"http://{host}:{port}")
    finally:
        server.stop()
