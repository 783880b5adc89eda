"""Wire types shared by several bodies and queries, exact enough that the OpenAPI document
says what the server enforces (a generated client must match the server).

Patterns are checked by msgspec with Python's ``re.search`` and by clients with ECMAScript
regexes; ``exactly`` anchors them so that both agree (Python's ``$`` alone would also match
before a final newline).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import Parameter

from core.domain.money import CURRENCY_EXPONENTS
from core.domain.pagination import MAX_CURSOR_LENGTH


def exactly(pattern: str) -> str:
    """``pattern`` matching the whole string, the same way in Python and ECMAScript."""
    return f"^(?:{pattern})$(?![\\s\\S])"


NO_NUL = exactly("[^\\x00]*")
"""PostgreSQL text cannot hold NUL characters. Every text is checked at the boundary
(``entrypoints.http.boundary``: 422 ``nul_character``); fields using this pattern also say
so in the OpenAPI document."""

LANGUAGE_TAG = exactly("[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
LanguageTag = Annotated[
    str,
    msgspec.Meta(
        min_length=2,
        max_length=35,
        pattern=LANGUAGE_TAG,
        extra_json_schema={
            "description": "A BCP 47 language tag: a 2–3 letter language, then optional "
            "2–8 character subtags (`yo`, `pcm`, `en-NG`).",
            "examples": ["yo", "en-NG"],
        },
    ),
]


def _any_case(code: str) -> str:
    return "".join(f"[{letter.upper()}{letter.lower()}]" for letter in code)


SUPPORTED_CURRENCIES = tuple(sorted(CURRENCY_EXPONENTS))
CURRENCY = exactly("|".join(_any_case(code) for code in SUPPORTED_CURRENCIES))
CURRENCY_DESCRIPTION = (
    f"ISO 4217 code, one of {', '.join(SUPPORTED_CURRENCIES)} (any letter case; answers use "
    "upper case)."
)
CurrencyCode = Annotated[
    str,
    msgspec.Meta(
        pattern=CURRENCY,
        extra_json_schema={"description": CURRENCY_DESCRIPTION, "examples": ["NGN"]},
    ),
]
CurrencyQuery = Annotated[str | None, Parameter(pattern=CURRENCY, description=CURRENCY_DESCRIPTION)]

CURSOR = exactly(f"[A-Za-z0-9_-]{{1,{MAX_CURSOR_LENGTH}}}")
CursorQuery = Annotated[
    str | None,
    Parameter(
        pattern=CURSOR,
        max_length=MAX_CURSOR_LENGTH,
        description="`nextCursor` of the previous page (opaque, URL-safe base64); absent for "
        "the first page. A cursor this server did not make is 422 `invalid_cursor`.",
    ),
]
