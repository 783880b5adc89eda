"""A check schemathesis loads (``SCHEMATHESIS_HOOKS``) for Chorus's error convention: every
value error is 422 (docs/api.md), so the status alone no longer tells a refusal *by the
schema's own rules* from one by a rule the schema cannot state. Schema-valid requests
(schemathesis's positive mode) may meet the latter (a cursor this server did not make, a NUL
character, bytes that are not audio), never the former."""

from __future__ import annotations

from typing import Any

import schemathesis

SCHEMA_LEVEL_CODES = frozenset(
    {
        "validation_failed",
        "malformed_body",
        "json_too_deep",
        "unknown_parameter",
        "invalid_path_parameter",
    }
)


@schemathesis.check
def schema_valid_input_is_not_refused_by_the_schema(ctx: Any, response: Any, case: Any) -> None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return
    if (case.media_type or "").startswith("multipart/"):
        # schemathesis writes form values it did not make as strings of the schema's type
        # as their JSON text (`clientId=null`): such a case is not schema-valid.
        return
    try:
        code = response.json().get("code")
    except ValueError:
        return
    if code in SCHEMA_LEVEL_CODES:
        raise AssertionError(
            f"Schema-valid input refused as `{code}`: the schema and the server disagree"
        )
