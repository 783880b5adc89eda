"""What every request must satisfy before its handler runs, the same way on every endpoint
(docs/api.md): no query parameter the endpoint does not declare, and no NUL character in any
text the request carries — query values, path segments, JSON strings and keys, form fields.
PostgreSQL ``text`` cannot hold NUL, so it is refused here (422 ``nul_character``) instead of
failing at the database (500)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from litestar import Litestar, Request
from litestar.datastructures import UploadFile
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from entrypoints.http.errors import InputProblem
from entrypoints.http.schemas.problem import InvalidParam

QUERY_NAMES_STATE = "declared_query_names"
NUL = "\x00"


def declared_query_names(app: Litestar) -> dict[HTTPRouteHandler, frozenset[str]]:
    """The query parameters each handler declares (its own and its dependencies'), by the
    name clients send."""
    names: dict[HTTPRouteHandler, frozenset[str]] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler, kwargs_model in route.route_handler_map.values():
            names[handler] = frozenset(
                definition.field_alias for definition in kwargs_model.expected_query_params
            )
    return names


def refuse_unknown_query_parameters(request: Request[Any, Any, Any]) -> None:
    """422 ``unknown_parameter`` naming every query parameter the endpoint does not declare
    (a misspelt ``cursor`` would otherwise silently give the first page again)."""
    if not request.scope.get("query_string"):
        return
    declared: dict[HTTPRouteHandler, frozenset[str]] = request.app.state.get(QUERY_NAMES_STATE, {})
    known = declared.get(request.route_handler)
    if known is None or not request.route_handler.resolve_include_in_schema():
        return
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        raise InputProblem(
            "unknown_parameter",
            f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}.",
            [
                InvalidParam(name=name, reason="not a parameter of this endpoint")
                for name in unknown
            ],
            title="Unknown query parameter",
        )


def refuse_nul_in_query_and_path(request: Request[Any, Any, Any]) -> None:
    offending = [
        name for name, value in request.query_params.multi_items() if _has_nul(name, value)
    ]
    offending += [
        name
        for name, value in request.path_params.items()
        if isinstance(value, str) and NUL in value
    ]
    if offending:
        raise nul_problem(offending)


def refuse_nul_in_json(document: Any) -> None:
    """``document`` is decoded JSON; every string and object key is checked."""
    offending = list(_nul_paths(document, ""))
    if offending:
        raise nul_problem(offending)


def refuse_nul_in_form(form: Mapping[str, Any]) -> None:
    offending = []
    for name, value in form.items():
        if (
            NUL in name
            or (isinstance(value, str) and NUL in value)
            or (isinstance(value, UploadFile) and NUL in (value.filename or ""))
        ):
            offending.append(name)
    if offending:
        raise nul_problem(offending)


def nul_problem(names: list[str]) -> InputProblem:
    return InputProblem(
        "nul_character",
        "Text may not contain the NUL character (U+0000).",
        [
            InvalidParam(name=name.replace(NUL, "\\u0000") or "body", reason="contains U+0000")
            for name in names
        ],
        title="NUL character in text",
    )


def _has_nul(name: str, value: object) -> bool:
    return NUL in name or (isinstance(value, str) and NUL in value)


def _nul_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if NUL in value:
            yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if NUL in key:
                yield where
            else:
                yield from _nul_paths(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, f"{path}[{index}]")
