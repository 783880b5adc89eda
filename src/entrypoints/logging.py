"""Structured JSON logs (structlog), with the request id bound per request. Secrets never
reach the logs: nothing logs headers or settings values."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import msgspec
import structlog


def configure_logging(level: str = "INFO") -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = _CurrentStderrHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    # Our own middleware writes the access log (with the request id).
    logging.getLogger("uvicorn.access").disabled = True


class _CurrentStderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


class AccessLog:
    """The access log: one JSON line per request on stderr, with the fields every other log
    line carries (``event``, ``level``, ``logger``, ``timestamp``, ``request_id``).

    Written directly rather than through structlog's processor chain and a ``LogRecord``:
    that chain was a quarter of the CPU of a ``/health`` request. The logger's level (and
    ``logging.disable``) still decide whether the line is written."""

    NAME = "chorus.access"

    def __init__(self) -> None:
        self._logger = logging.getLogger(self.NAME)
        self._encode = msgspec.json.Encoder().encode

    def request(
        self, *, request_id: str, method: str, path: str, status: int, duration_ms: float
    ) -> None:
        logger = self._logger
        if logger.disabled or not logger.isEnabledFor(logging.INFO):
            return
        line = self._encode(
            {
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
                "request_id": request_id,
                "event": "request",
                "level": "info",
                "logger": self.NAME,
                "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }
        )
        try:
            sys.stderr.write(line.decode() + "\n")
        except Exception:  # a closed or broken stderr must not fail the request
            return
