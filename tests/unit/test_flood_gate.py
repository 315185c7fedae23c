"""The per-device flood gate: a chattering sensor is held to its rate, an honest one never is."""

from __future__ import annotations

from pingan.services.telemetry import FloodGate

NOW = 1_000_000.0


def test_a_device_may_burst_then_only_at_its_rate() -> None:
    gate = FloodGate(rate=5.0, burst=20.0)
    assert all(gate.allow("gas-1", 100.0, NOW) for _ in range(20))
    assert not gate.allow("gas-1", 100.0, NOW)
    assert gate.allow("gas-1", 100.2, NOW + 0.2)  # one token back after 1/rate s
    assert not gate.allow("gas-1", 100.2, NOW + 0.2)
    assert gate.allow("gas-2", 100.2, NOW + 0.2)  # buckets are per device


def test_readings_delivered_out_of_order_are_not_taken_for_a_flood() -> None:
    gate = FloodGate(rate=5.0, burst=20.0)
    assert gate.allow("gas-1", 1_000.0, NOW)
    # A reconnecting device redelivers older readings: each costs a token, none drains the bucket.
    assert all(gate.allow("gas-1", 1_000.0 - 60.0 * k, NOW) for k in range(1, 10))
    assert gate.allow("gas-1", 1_000.5, NOW + 0.5)


def test_a_backlog_after_an_outage_is_let_through_at_once() -> None:
    """An hour offline at one reading a minute: 60 stored readings arrive together, and all of
    them count, since each is a minute after the one before."""
    gate = FloodGate(rate=5.0, burst=20.0, backlog=2000.0)
    start = NOW - 3600.0
    assert all(gate.allow("gas-1", start + 60.0 * k, NOW) for k in range(60))


def test_readings_stamped_into_the_past_get_no_more_than_the_backlog_through() -> None:
    """A device stamping readings 0.2 s apart from days ago would pass the reading-time bucket
    forever; the arrival-time bucket stops it after `backlog`, then holds it to its rate."""
    gate = FloodGate(rate=5.0, burst=20.0, backlog=500.0)
    start = NOW - 7 * 86_400.0
    let_through = sum(gate.allow("gas-1", start + 0.2 * k, NOW) for k in range(5_000))
    assert let_through == 500
    assert gate.allow("gas-1", start + 0.2 * 5_000, NOW + 0.25)  # one more after 1/rate s
