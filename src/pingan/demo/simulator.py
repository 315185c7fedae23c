"""Keeps the demo city alive: realistic telemetry and camera events for its registered devices,
published over MQTT like real devices would, with occasional anomalies that raise alarms."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pingan.domain.alarms import EVENT_KINDS
from pingan.domain.registry import Device, DeviceKind

NORMAL: dict[DeviceKind, tuple[str, float, float]] = {
    DeviceKind.SMOKE: ("obscuration_pct", 0.0, 1.2),
    DeviceKind.GAS: ("lel_pct", 0.0, 4.0),
    DeviceKind.WATER_LEVEL: ("level_m", 1.2, 3.0),
    DeviceKind.MANHOLE: ("tilt_deg", 0.0, 3.0),
    DeviceKind.TEMPERATURE: ("celsius", 12.0, 34.0),
}
ANOMALY: dict[DeviceKind, tuple[float, float]] = {
    DeviceKind.SMOKE: (6.0, 20.0),
    DeviceKind.GAS: (22.0, 60.0),
    DeviceKind.WATER_LEVEL: (3.6, 4.5),
    DeviceKind.MANHOLE: (20.0, 80.0),
    DeviceKind.TEMPERATURE: (62.0, 90.0),
}


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes


def message(
    device: Device, rng: random.Random, anomaly_rate: float, at: datetime, unit: str
) -> Message:
    """One reading (sensors) or one detection (cameras) for a device."""
    ts = at.isoformat()
    if device.kind in NORMAL:
        metric, low, high = NORMAL[device.kind]
        if rng.random() < anomaly_rate:
            low, high = ANOMALY[device.kind]
        value = round(rng.uniform(low, high), 2)
        body: dict[str, Any] = {"ts": ts, "metrics": {metric: value}}
        channel = "telemetry"
    else:
        kinds = sorted(EVENT_KINDS.get(device.kind, frozenset({"camera.crowd"})))
        kind = rng.choice(kinds) if rng.random() < anomaly_rate else None
        if kind is None:  # a heartbeat: cameras report their health as telemetry too
            body = {"ts": ts, "metrics": {"fps": round(rng.uniform(12, 25), 1)}}
            channel = "telemetry"
        else:
            body = {"ts": ts, "type": kind, "confidence": round(rng.uniform(0.6, 0.99), 2)}
            channel = "events"
    return Message(f"pingan/{unit}/devices/{device.id}/{channel}", json.dumps(body).encode())


def run(
    devices: list[Device],
    publish: Callable[[Message], None],
    *,
    rate: float,
    anomaly_rate: float,
    duration_s: float,
    seed: int = 7,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_tick: Callable[[int], None] | None = None,
) -> int:
    """Publish `rate` messages per second across the devices until `duration_s` (0 = for ever)."""
    rng = random.Random(seed)
    sent = 0
    start = time.monotonic()
    while duration_s <= 0 or time.monotonic() - start < duration_s:
        device = rng.choice(devices)
        unit = device.grid_path.split(".")[1] if "." in device.grid_path else device.grid_path
        publish(message(device, rng, anomaly_rate, clock(), unit))
        sent += 1
        if on_tick and sent % 100 == 0:
            on_tick(sent)
        ahead = sent / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    return sent
