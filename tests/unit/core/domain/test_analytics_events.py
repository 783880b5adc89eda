import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.analytics_events import (
    AnalyticsEvent,
    allowed_event,
    is_personal_data_key,
    scrub_properties,
)

SPEC_EVENTS = {
    "clip_submitted",
    "validation_submitted",
    "clip_decided",
    "reward_earned",
    "reward_released",
    "payout_requested",
    "payout_paid",
    "payout_failed",
    "badge_awarded",
    "stream_started",
    "stream_ended",
    "flag_created",
}
PERSONAL_WORDS = ["name", "email", "phone", "iban", "bank", "address", "mobile", "dob", "ip"]
SAFE_KEYS = [
    "clip_id",
    "profile_id",
    "amount_minor",
    "currency",
    "language",
    "status",
    "category",
    "duration_ms",
    "badge_code",
    "stream_id",
    "recipient_count",
    "tip_count",
]
safe_values = st.one_of(st.integers(), st.booleans(), st.none(), st.sampled_from(["ok", "NGN"]))
affixes = st.sampled_from(["", "payer", "display", "user", "primary", "account", "verified"])


def test_exactly_the_spec_events_are_allowed() -> None:
    assert {event.value for event in AnalyticsEvent} == SPEC_EVENTS
    for name in SPEC_EVENTS:
        assert allowed_event(name) is AnalyticsEvent(name)


@given(st.text().filter(lambda text: text not in SPEC_EVENTS))
def test_any_other_event_is_refused(name: str) -> None:
    assert allowed_event(name) is None


@given(affixes, st.sampled_from(PERSONAL_WORDS), affixes, st.sampled_from(["_", "-", "."]))
def test_keys_built_around_personal_words_are_personal(
    before: str, word: str, after: str, separator: str
) -> None:
    key = separator.join(part for part in (before, word, after) if part)
    assert is_personal_data_key(key)
    assert is_personal_data_key(key.upper())


@pytest.mark.parametrize(
    "key",
    [
        "firstName",
        "last_name",
        "displayName",
        "payerEmail",
        "EMailAddress",
        "e_mail",
        "phoneNumber",
        "msisdn",
        "bankAccountNumber",
        "account_number",
        "sortCode",
        "routing_number",
        "iban",
        "swift_code",
        "ipAddress",
        "date_of_birth",
        "birth_date",
        "passport_no",
        "card_last4",
    ],
)
def test_known_personal_keys_are_personal(key: str) -> None:
    assert is_personal_data_key(key)


@pytest.mark.parametrize("key", SAFE_KEYS)
def test_ids_amounts_and_codes_are_not_personal(key: str) -> None:
    assert not is_personal_data_key(key)


@given(
    st.dictionaries(st.sampled_from(SAFE_KEYS), safe_values),
    st.dictionaries(st.sampled_from(["email", "display_name", "bank_account", "phone"]), st.text()),
)
def test_scrubbing_keeps_safe_properties_and_drops_personal_ones(
    safe: dict[str, object], personal: dict[str, str]
) -> None:
    assert scrub_properties({**safe, **personal}) == safe


@given(st.dictionaries(st.text(max_size=20), safe_values, max_size=8))
def test_scrubbed_properties_never_hold_a_personal_key(properties: dict[str, object]) -> None:
    assert not any(is_personal_data_key(key) for key in scrub_properties(properties))


def test_nested_properties_and_email_like_values_are_scrubbed() -> None:
    properties = {
        "payout": {"amount_minor": 500, "bank": {"iban": "DE00"}, "holder_name": "Ada"},
        "note": "write to ada@example.com",
        "currency": "NGN",
    }
    assert scrub_properties(properties) == {"payout": {"amount_minor": 500}, "currency": "NGN"}


def test_scrubbing_does_not_change_its_input() -> None:
    properties = {"email": "a@b.co", "clip_id": "c1"}
    scrub_properties(properties)
    assert properties == {"email": "a@b.co", "clip_id": "c1"}
