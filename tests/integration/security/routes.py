"""The documented operations as data, so that probes cover every endpoint (new ones too)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from litestar import Litestar

_PARAMETER = re.compile(r"\{(\w+)\}")
METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # an OpenAPI path template: /clips/{clip_id}
    takes_json: bool
    public: bool

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(_PARAMETER.findall(self.path))

    def url(self, **values: str) -> str:
        """The path with ``values`` filled in (a fresh UUID for any parameter not given)."""
        return _PARAMETER.sub(lambda m: values.get(m.group(1)) or str(uuid.uuid4()), self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def endpoints(app: Litestar) -> Iterator[Endpoint]:
    schema: dict[str, Any] = app.openapi_schema.to_schema()
    for path, item in schema["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            content = operation.get("requestBody", {}).get("content", {})
            yield Endpoint(
                method=method.upper(),
                path=path,
                takes_json="application/json" in content,
                public=operation.get("security", schema.get("security")) in (None, []),
            )
