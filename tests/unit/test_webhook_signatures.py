"""Signing and verifying webhook requests, and the retry schedule: pure rules, no I/O."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pingan.domain.webhooks import (
    RetryPolicy,
    SignatureRejected,
    backoff_s,
    hook_event,
    sign,
    verify,
)

SECRET = "whsec_test-secret"
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
TS = int(NOW.timestamp())


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"case_id":1}'
    expected = hmac.new(SECRET.encode(), f"{TS}.".encode() + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, TS, body) == f"sha256={expected}"


def test_a_correctly_signed_fresh_request_is_accepted() -> None:
    body = '{"note":"已处置"}'.encode()
    assert verify(SECRET, str(TS), sign(SECRET, TS, body), body, NOW, 300) == TS


def test_missing_headers_are_refused_with_their_own_code() -> None:
    with pytest.raises(SignatureRejected) as err:
        verify(SECRET, None, None, b"{}", NOW, 300)
    assert err.value.code == "webhook.signature_missing"


def test_a_signature_made_with_another_secret_is_refused() -> None:
    body = b"{}"
    with pytest.raises(SignatureRejected) as err:
        verify(SECRET, str(TS), sign("other", TS, body), body, NOW, 300)
    assert err.value.code == "webhook.bad_signature"


@pytest.mark.parametrize("skew", [-301, 301, 3600])
def test_a_timestamp_outside_the_window_is_refused_even_when_signed(skew: int) -> None:
    body = b"{}"
    ts = TS + skew
    with pytest.raises(SignatureRejected) as err:
        verify(SECRET, str(ts), sign(SECRET, ts, body), body, NOW, 300)
    assert err.value.code == "webhook.stale_timestamp"


def test_a_request_at_the_edge_of_the_window_is_accepted() -> None:
    ts = TS - 300
    assert verify(SECRET, str(ts), sign(SECRET, ts, b"x"), b"x", NOW, 300) == ts


@given(signature=st.text(max_size=80))
def test_any_signature_header_text_is_refused_cleanly(signature: str) -> None:
    with pytest.raises(SignatureRejected):
        verify(SECRET, str(TS), signature or "x", b"{}", NOW, 300)


def test_a_non_numeric_timestamp_is_refused() -> None:
    with pytest.raises(SignatureRejected):
        verify(SECRET, "yesterday", "sha256=00", b"", NOW, 300)


@given(body=st.binary(max_size=512), data=st.data())
def test_any_change_to_the_body_breaks_the_signature(body: bytes, data: st.DataObject) -> None:
    signature = sign(SECRET, TS, body)
    tampered = data.draw(st.binary(max_size=512).filter(lambda b: b != body))
    with pytest.raises(SignatureRejected):
        verify(SECRET, str(TS), signature, tampered, NOW, 300)


@given(body=st.binary(max_size=256), shift=st.integers(min_value=1, max_value=299))
def test_moving_the_timestamp_breaks_the_signature(body: bytes, shift: int) -> None:
    signature = sign(SECRET, TS, body)
    with pytest.raises(SignatureRejected):
        verify(SECRET, str(TS - shift), signature, body, NOW, 300)


@given(body=st.binary(max_size=256), position=st.integers(min_value=7, max_value=70))
def test_flipping_any_hex_digit_of_the_signature_is_detected(body: bytes, position: int) -> None:
    signature = sign(SECRET, TS, body)
    digit = signature[position]
    flipped = signature[:position] + ("0" if digit != "0" else "1") + signature[position + 1 :]
    with pytest.raises(SignatureRejected):
        verify(SECRET, str(TS), flipped, body, NOW, 300)


def test_backoff_doubles_up_to_the_cap_with_jitter_within_half_to_full() -> None:
    assert [backoff_s(n, 10, 60, 1.0) for n in range(1, 6)] == [10, 20, 40, 60, 60]
    assert backoff_s(3, 10, 60, 0.0) == 20
    assert 20 <= backoff_s(3, 10, 60, 0.37) <= 40


@given(attempt=st.integers(1, 40), jitter=st.floats(0, 1))
def test_backoff_never_exceeds_the_cap_nor_falls_below_half_of_it(
    attempt: int, jitter: float
) -> None:
    delay = backoff_s(attempt, 30, 3600, jitter)
    ceiling = min(3600, 30 * 2 ** (attempt - 1))
    assert ceiling / 2 <= delay <= ceiling


def test_a_delivery_is_given_up_after_the_last_attempt() -> None:
    policy = RetryPolicy(max_attempts=3, base_s=10, cap_s=60)
    assert policy.next_delay(1, 0.0) == 5
    assert policy.next_delay(2, 1.0) == 20
    assert policy.next_delay(3, 0.5) is None
    assert timedelta(seconds=policy.next_delay(1, 1.0) or 0) == timedelta(seconds=10)


def test_only_department_work_becomes_a_webhook_event() -> None:
    assert hook_event("case.dispatched", {}) == "case.dispatched"
    assert hook_event("case.verified", {"passed": False}) == "case.rework"
    assert hook_event("case.verified", {"passed": True}) is None
    assert hook_event("case.supervised", {}) == "case.supervised"
    assert hook_event("case.closed", {}) == "case.closed"
    assert hook_event("case.reported", {}) is None
