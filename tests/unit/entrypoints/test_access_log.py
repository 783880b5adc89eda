"""The access log's direct writer keeps the shape of every other log line and the level."""

from __future__ import annotations

import json
import logging

import pytest

from entrypoints.logging import AccessLog


def test_a_request_is_one_json_line_with_the_shared_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logging.getLogger(AccessLog.NAME).setLevel(logging.NOTSET)
    logging.getLogger().setLevel(logging.INFO)

    AccessLog().request(request_id="r-1", method="GET", path="/x", status=204, duration_ms=1.5)

    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["timestamp"].endswith("Z")
    del line["timestamp"]
    assert line == {
        "method": "GET",
        "path": "/x",
        "status": 204,
        "duration_ms": 1.5,
        "request_id": "r-1",
        "event": "request",
        "level": "info",
        "logger": "chorus.access",
    }


@pytest.mark.parametrize("silence", ["level", "disabled"])
def test_nothing_is_written_when_the_logger_is_silenced(
    capsys: pytest.CaptureFixture[str], silence: str
) -> None:
    logger = logging.getLogger(AccessLog.NAME)
    try:
        if silence == "level":
            logger.setLevel(logging.WARNING)
        else:
            logger.disabled = True
        AccessLog().request(request_id="r", method="GET", path="/", status=200, duration_ms=0.1)
    finally:
        logger.setLevel(logging.NOTSET)
        logger.disabled = False
    assert capsys.readouterr().err == ""
