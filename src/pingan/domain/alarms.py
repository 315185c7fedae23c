"""Alarms from devices: which readings and camera events raise which alarm, how repeats fold into
one open alarm, and which alarms become cases by themselves.

A gas leak or a fire becomes a case at once; a crowd or a kitchen worker without a hat waits for an
operator to confirm or dismiss it. Repeats of the same kind from the same device, or from another
device in the same grid within the fold window, join the open alarm instead of opening another,
so a burst of readings never becomes a burst of cases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pingan.domain.errors import InvalidInput
from pingan.domain.registry import DeviceKind
from pingan.domain.sla import Urgency

FOLD_WINDOW = timedelta(minutes=10)
MAX_FUTURE = timedelta(minutes=5)
MAX_PAST = timedelta(days=7)


class AlarmState(StrEnum):
    OPEN = "open"  # waiting for an operator
    CASED = "cased"  # a case was opened for it
    DISMISSED = "dismissed"
    CLEARED = "cleared"  # the device reported the condition gone


@dataclass(frozen=True, slots=True)
class Policy:
    kind: str
    name: str
    name_en: str
    category_code: str
    urgency: Urgency
    auto_case: bool


POLICIES: dict[str, Policy] = {
    p.kind: p
    for p in (
        Policy("smoke.detected", "烟雾报警", "Smoke detected", "S0201", Urgency.CRITICAL, True),
        Policy("gas.leak", "燃气泄漏", "Gas leak", "S0202", Urgency.CRITICAL, True),
        Policy(
            "water.high", "水位超警戒", "Water above warning level", "S0206", Urgency.URGENT, True
        ),
        Policy(
            "manhole.displaced",
            "井盖位移",
            "Manhole cover displaced",
            "P0102",
            Urgency.URGENT,
            True,
        ),
        Policy(
            "temperature.high", "温度异常", "Abnormal temperature", "S0201", Urgency.URGENT, False
        ),
        Policy(
            "camera.fire", "视频识别：明火", "Camera: open fire", "S0201", Urgency.CRITICAL, True
        ),
        Policy("camera.smoke", "视频识别：烟雾", "Camera: smoke", "S0201", Urgency.URGENT, False),
        Policy(
            "camera.crowd", "视频识别：人群聚集", "Camera: crowd", "S0302", Urgency.URGENT, False
        ),
        Policy(
            "camera.illegal_parking",
            "视频识别：违停",
            "Camera: illegal parking",
            "E0505",
            Urgency.ROUTINE,
            False,
        ),
        Policy(
            "camera.street_vendor",
            "视频识别：占道经营",
            "Camera: street vendor",
            "E0501",
            Urgency.ROUTINE,
            False,
        ),
        Policy("kitchen.no_hat", "后厨未戴帽", "Kitchen: no hat", "S0602", Urgency.ROUTINE, False),
        Policy(
            "kitchen.no_mask", "后厨未戴口罩", "Kitchen: no mask", "S0602", Urgency.ROUTINE, False
        ),
        Policy("kitchen.rodent", "后厨鼠患", "Kitchen: rodent", "S0602", Urgency.URGENT, True),
        Policy("kitchen.smoking", "后厨吸烟", "Kitchen: smoking", "S0602", Urgency.ROUTINE, False),
    )
}


@dataclass(frozen=True, slots=True)
class Threshold:
    metric: str
    above: float
    kind: str


THRESHOLDS: dict[DeviceKind, tuple[Threshold, ...]] = {
    DeviceKind.SMOKE: (Threshold("obscuration_pct", 4.0, "smoke.detected"),),
    DeviceKind.GAS: (Threshold("lel_pct", 20.0, "gas.leak"),),
    DeviceKind.WATER_LEVEL: (Threshold("level_m", 3.5, "water.high"),),
    DeviceKind.MANHOLE: (Threshold("tilt_deg", 15.0, "manhole.displaced"),),
    DeviceKind.TEMPERATURE: (Threshold("celsius", 60.0, "temperature.high"),),
}

EVENT_KINDS: dict[DeviceKind, frozenset[str]] = {
    DeviceKind.CAMERA: frozenset(
        {
            "camera.fire",
            "camera.smoke",
            "camera.crowd",
            "camera.illegal_parking",
            "camera.street_vendor",
        }
    ),
    DeviceKind.KITCHEN_CAMERA: frozenset(
        {"kitchen.no_hat", "kitchen.no_mask", "kitchen.rodent", "kitchen.smoking", "camera.fire"}
    ),
    DeviceKind.SMOKE: frozenset({"smoke.detected"}),
    DeviceKind.GAS: frozenset({"gas.leak"}),
}


@dataclass(frozen=True, slots=True)
class Telemetry:
    device_id: str
    at: datetime
    metrics: dict[str, float]


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    device_id: str
    at: datetime
    kind: str
    clear: bool = False
    confidence: float | None = None
    snapshot_url: str | None = None


def check_time(at: datetime, now: datetime) -> None:
    """Refuse readings stamped far in the future or the past (clock faults, replays)."""
    if at - now > MAX_FUTURE:
        raise InvalidInput("iot.time_in_future", at=at.isoformat())
    if now - at > MAX_PAST:
        raise InvalidInput("iot.time_too_old", at=at.isoformat())


def check_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    if not isinstance(metrics, dict) or not metrics or len(metrics) > 32:
        raise InvalidInput("iot.bad_metrics")
    clean: dict[str, float] = {}
    for name, value in metrics.items():
        if not isinstance(name, str) or not 0 < len(name) <= 40:
            raise InvalidInput("iot.bad_metrics")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidInput("iot.bad_metric_value", metric=name)
        clean[name] = float(value)
    return clean


def raised(kind: DeviceKind, metrics: dict[str, float]) -> tuple[list[str], list[str]]:
    """Alarm kinds this reading raises, and those it shows to be over (for clearing)."""
    up: list[str] = []
    down: list[str] = []
    for t in THRESHOLDS.get(kind, ()):
        if t.metric in metrics:
            (up if metrics[t.metric] > t.above else down).append(t.kind)
    return up, down


def check_event(device_kind: DeviceKind, event_kind: str) -> Policy:
    if event_kind not in EVENT_KINDS.get(device_kind, frozenset()):
        raise InvalidInput("iot.unknown_event", kind=event_kind, device_kind=device_kind.value)
    return POLICIES[event_kind]


@dataclass(slots=True)
class Alarm:
    """One open problem at one place; repeats fold into it (`count`, `last_at`, `devices`)."""

    id: int
    kind: str
    device_id: str
    grid_path: str
    lng: float
    lat: float
    opened_at: datetime
    last_at: datetime
    state: AlarmState = AlarmState.OPEN
    count: int = 1
    devices: tuple[str, ...] = field(default_factory=tuple)
    case_id: int | None = None
    closed_at: datetime | None = None
    note: str = ""

    @property
    def policy(self) -> Policy:
        return POLICIES[self.kind]

    @property
    def is_active(self) -> bool:
        return self.state in (AlarmState.OPEN, AlarmState.CASED)

    def folds(self, kind: str, device_id: str, grid_path: str, at: datetime) -> bool:
        """Whether a new firing belongs to this alarm rather than opening another."""
        if not self.is_active or kind != self.kind or at - self.last_at > FOLD_WINDOW:
            return False
        return (
            device_id == self.device_id or device_id in self.devices or grid_path == self.grid_path
        )

    def fold(self, device_id: str, at: datetime) -> None:
        self.count += 1
        self.last_at = max(self.last_at, at)
        if device_id != self.device_id and device_id not in self.devices:
            self.devices = (*self.devices, device_id)


def cleared(alarm: Alarm, at: datetime) -> Alarm:
    return replace(alarm, state=AlarmState.CLEARED, closed_at=at)
