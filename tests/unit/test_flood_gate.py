"""The per-device flood gate: a chattering sensor is held to its rate, an honest one never is."""

from __future__ import annotations

from pingan.services.telemetry import FloodGate


def test_a_device_may_burst_then_only_at_its_rate() -> None:
    gate = FloodGate(rate=5.0, burst=20.0)
    assert all(gate.allow("gas-1", 100.0) for _ in range(20))
    assert not gate.allow("gas-1", 100.0)
    assert gate.allow("gas-1", 100.2)  # one token back after 1/rate s
    assert not gate.allow("gas-1", 100.2)
    assert gate.allow("gas-2", 100.2)  # buckets are per device


def test_readings_delivered_out_of_order_are_not_taken_for_a_flood() -> None:
    gate = FloodGate(rate=5.0, burst=20.0)
    assert gate.allow("gas-1", 1_000.0)
    # A reconnecting device redelivers older readings: each costs a token, none drains the bucket.
    assert all(gate.allow("gas-1", 1_000.0 - 60.0 * k) for k in range(1, 10))
    assert gate.allow("gas-1", 1_000.5)
