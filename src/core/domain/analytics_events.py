"""Which product-analytics events exist (SPEC §12), and the rule that keeps personal data
(names, emails, phone numbers, addresses, bank details, …) out of their properties."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class AnalyticsEvent(StrEnum):
    """The only events Chorus sends; ``distinct_id`` is always the profile id."""

    CLIP_SUBMITTED = "clip_submitted"
    VALIDATION_SUBMITTED = "validation_submitted"
    CLIP_DECIDED = "clip_decided"
    REWARD_EARNED = "reward_earned"
    REWARD_RELEASED = "reward_released"
    PAYOUT_REQUESTED = "payout_requested"
    PAYOUT_PAID = "payout_paid"
    PAYOUT_FAILED = "payout_failed"
    BADGE_AWARDED = "badge_awarded"
    STREAM_STARTED = "stream_started"
    STREAM_ENDED = "stream_ended"
    FLAG_CREATED = "flag_created"


def allowed_event(name: str) -> AnalyticsEvent | None:
    """The event called ``name``, or ``None`` when it is not on the list."""
    try:
        return AnalyticsEvent(name)
    except ValueError:
        return None


# A key is personal when one of its words is here (``bank_name``, ``payerEmail``) …
_PERSONAL_WORDS = frozenset(
    {
        "name", "names", "surname", "firstname", "lastname", "fullname", "username",
        "email", "mail", "phone", "mobile", "msisdn", "tel", "telephone",
        "address", "street", "postcode", "zip",
        "bank", "iban", "bic", "swift", "card", "pan", "cvv",
        "ip", "dob", "birth", "birthday", "birthdate", "ssn", "nin", "bvn", "passport",
    }
)  # fmt: skip
# … or when its letters contain one of these, whatever the separators (``EMailAddress``).
_PERSONAL_FRAGMENTS = (
    "email", "phone", "iban", "surname", "firstname", "lastname", "fullname", "displayname",
    "username", "accountnumber", "accountname", "accountholder", "sortcode", "routingnumber",
    "bankaccount", "dateofbirth", "address", "passport",
)  # fmt: skip
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_EMAIL_LIKE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def is_personal_data_key(key: str) -> bool:
    """Whether a property named ``key`` would (likely) carry personal data. Deliberately
    conservative: ``badge_name`` is refused too, so send codes and ids instead."""
    words = {word.lower() for word in _WORD.findall(key)}
    letters = "".join(char for char in key.lower() if char.isalnum())
    return bool(words & _PERSONAL_WORDS) or any(part in letters for part in _PERSONAL_FRAGMENTS)


def scrub_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    """A copy without personal-data keys, at any depth, and without email-like strings."""
    scrubbed: dict[str, Any] = {}
    for key, value in properties.items():
        if is_personal_data_key(str(key)):
            continue
        if isinstance(value, Mapping):
            scrubbed[key] = scrub_properties(value)
        elif isinstance(value, str) and _EMAIL_LIKE.search(value):
            continue
        else:
            scrubbed[key] = value
    return scrubbed
