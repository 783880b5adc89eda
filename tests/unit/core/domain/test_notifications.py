import math
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.notifications import (
    MAX_MESSAGES_PER_CHUNK,
    BackoffPolicy,
    NotificationCategory,
    PushErrorCode,
    PushMessage,
    chunk_messages,
    ensure_expo_push_token,
    is_expo_push_token,
)
from core.errors import InvalidInput

token_ids = st.text(
    alphabet=string.ascii_letters + string.digits + "-_:.", min_size=1, max_size=200
)
prefixes = st.sampled_from(["ExponentPushToken", "ExpoPushToken"])
unit_floats = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)
attempts = st.integers(min_value=1, max_value=10_000)
policies = st.builds(
    lambda base, factor, max_attempts: BackoffPolicy(base, base * factor, max_attempts),
    st.floats(min_value=0.001, max_value=60.0),
    st.floats(min_value=1.0, max_value=10_000.0),
    st.integers(min_value=1, max_value=50),
)


@given(prefixes, token_ids)
def test_expo_tokens_of_both_formats_are_accepted(prefix: str, token_id: str) -> None:
    token = f"{prefix}[{token_id}]"
    assert is_expo_push_token(token)
    assert ensure_expo_push_token(token) == token


@given(prefixes, token_ids, st.text(min_size=1, max_size=5))
def test_anything_around_a_token_is_rejected(prefix: str, token_id: str, extra: str) -> None:
    token = f"{prefix}[{token_id}]"
    assert not is_expo_push_token(extra + token)
    assert not is_expo_push_token(token + extra)


@given(st.text(max_size=60).filter(lambda text: "[" not in text or "]" not in text))
def test_text_without_brackets_is_rejected(text: str) -> None:
    assert not is_expo_push_token(text)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "ExponentPushToken[]",
        "ExponentPushToken",
        "ExponentPushToken[abc",
        "ExponentPushToken[a b]",
        "ExponentPushToken[a[b]]",
        "exponentpushtoken[abc]",
        "FcmToken[abc]",
        "ExponentPushToken[äbc]",
        "ExponentPushToken[a\x00b]",
        f"ExponentPushToken[{'x' * 201}]",
    ],
)
def test_malformed_tokens_are_rejected(token: str) -> None:
    assert not is_expo_push_token(token)
    with pytest.raises(InvalidInput) as raised:
        ensure_expo_push_token(token)
    assert raised.value.code == "invalid_push_token"


def test_a_message_needs_a_valid_token() -> None:
    with pytest.raises(InvalidInput):
        PushMessage("not-a-token", "Title", "Body", NotificationCategory.BADGE)
    message = PushMessage("ExpoPushToken[abc]", "T", "B", NotificationCategory.PAYOUT)
    assert message.data == {}


def test_categories_are_the_five_of_the_spec() -> None:
    assert {category.value for category in NotificationCategory} == {
        "clip_decided",
        "reward_released",
        "payout",
        "badge",
        "moderation",
    }


@given(
    st.lists(st.integers(), max_size=450),
    st.integers(min_value=1, max_value=MAX_MESSAGES_PER_CHUNK),
)
def test_chunks_are_small_complete_and_ordered(items: list[int], size: int) -> None:
    chunks = chunk_messages(items, size)
    assert all(1 <= len(chunk) <= size for chunk in chunks)
    assert [item for chunk in chunks for item in chunk] == items
    assert len(chunks) == math.ceil(len(items) / size)


@given(st.lists(st.integers(), max_size=450))
def test_default_chunks_hold_at_most_100(items: list[int]) -> None:
    assert all(len(chunk) <= 100 for chunk in chunk_messages(items))


@pytest.mark.parametrize("size", [0, -1, 101])
def test_chunk_size_beyond_expo_limit_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="chunk size"):
        chunk_messages([1, 2, 3], size)


@given(policies, attempts, unit_floats)
def test_backoff_stays_within_zero_and_the_capped_ceiling(
    policy: BackoffPolicy, attempts_made: int, draw: float
) -> None:
    delay = policy.delay(attempts_made, lambda: draw)
    ceiling = policy.ceiling(attempts_made)
    assert 0.0 <= delay <= ceiling <= policy.cap_seconds
    doubled = policy.base_seconds * 2.0 ** min(attempts_made - 1, 100)
    assert ceiling == min(policy.cap_seconds, doubled)


@given(policies, attempts)
def test_backoff_ceiling_grows_monotonically_to_the_cap(
    policy: BackoffPolicy, attempts_made: int
) -> None:
    assert policy.ceiling(attempts_made) <= policy.ceiling(attempts_made + 1)
    assert policy.ceiling(attempts_made + 200) == policy.cap_seconds


@given(policies, attempts, unit_floats, st.floats(min_value=0.0, max_value=1e9))
def test_retry_after_is_a_floor_but_never_beyond_the_cap(
    policy: BackoffPolicy, attempts_made: int, draw: float, retry_after: float
) -> None:
    delay = policy.delay(attempts_made, lambda: draw, at_least=retry_after)
    assert min(retry_after, policy.cap_seconds) <= delay <= policy.cap_seconds


@given(policies, st.floats(allow_nan=False))
def test_a_misbehaving_random_source_cannot_break_the_bounds(
    policy: BackoffPolicy, draw: float
) -> None:
    assert 0.0 <= policy.delay(3, lambda: draw) <= policy.ceiling(3)


def test_full_jitter_spans_the_whole_window() -> None:
    policy = BackoffPolicy(base_seconds=1.0, cap_seconds=60.0)
    assert policy.delay(4, lambda: 0.0) == 0.0
    assert policy.delay(4, lambda: 0.5) == 4.0
    assert policy.delay(50, lambda: 0.5) == 30.0


def test_retries_stop_after_max_attempts() -> None:
    policy = BackoffPolicy(max_attempts=3)
    assert [policy.should_retry(n) for n in (1, 2, 3, 4)] == [True, True, False, False]


@pytest.mark.parametrize(
    ("base", "cap", "max_attempts"), [(0.0, 1.0, 1), (2.0, 1.0, 1), (1.0, 2.0, 0)]
)
def test_nonsensical_policies_are_refused(base: float, cap: float, max_attempts: int) -> None:
    with pytest.raises(ValueError, match=r"base_seconds|max_attempts"):
        BackoffPolicy(base, cap, max_attempts)


def test_only_rate_limiting_is_retryable_and_only_unregistered_devices_deactivate() -> None:
    retryable = {code for code in PushErrorCode if code.is_retryable}
    deactivating = {code for code in PushErrorCode if code.deactivates_token}
    assert retryable == {PushErrorCode.MESSAGE_RATE_EXCEEDED}
    assert deactivating == {PushErrorCode.DEVICE_NOT_REGISTERED}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("DeviceNotRegistered", PushErrorCode.DEVICE_NOT_REGISTERED),
        ("InvalidCredentials", PushErrorCode.INVALID_CREDENTIALS),
        ("SomethingNew", PushErrorCode.UNKNOWN),
        (None, PushErrorCode.UNKNOWN),
    ],
)
def test_error_codes_parse_leniently(raw: str | None, code: PushErrorCode) -> None:
    assert PushErrorCode.parse(raw) is code
