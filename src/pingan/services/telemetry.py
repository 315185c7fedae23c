"""IoT intake: readings and camera events become stored readings, alarms and — by rule — cases.

One call handles a batch in one transaction, so an MQTT consumer can acknowledge a batch to the
broker only after it is committed. Bad messages never stop the batch: each is kept in
`ingest_rejections` with its reason. A message delivered twice (QoS 1 redelivery, a vendor retry)
is recognised by (device, timestamp) and has no second effect.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pingan.domain.access import SYSTEM_ACTOR
from pingan.domain.alarms import (
    POLICIES,
    Alarm,
    AlarmState,
    DeviceEvent,
    Telemetry,
    check_event,
    check_metrics,
    check_time,
    raised,
)
from pingan.domain.errors import DomainError, InvalidInput
from pingan.domain.events import DomainEvent
from pingan.domain.geo import CRS
from pingan.domain.registry import Device
from pingan.services.intake import CaseDraft, create_case
from pingan.services.ports import Env, UnitOfWork

log = logging.getLogger(__name__)
MAX_PAYLOAD = 16_384


@dataclass(frozen=True, slots=True)
class Incoming:
    """A raw message: from MQTT (`topic` set) or the HTTP push endpoint."""

    device_id: str
    channel: Literal["telemetry", "events"]
    payload: bytes | dict[str, Any]
    topic: str = ""


@dataclass
class IngestReport:
    stored: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    raised: int = 0
    folded: int = 0
    cleared: int = 0
    cases: list[int] = field(default_factory=list)


class FloodGate:
    """Two token buckets per device, both at `rate` per second. One runs on the readings' own
    times, holding `burst`: a device may send a few at once, then keep to its rate. The other runs
    on arrival times, holding `backlog`: a device back from an outage may replay that many of its
    stored readings at once, but one that stamps readings into the past cannot get more through
    than that, however far back it dates them."""

    def __init__(self, rate: float = 5.0, burst: float = 20.0, backlog: float = 2000.0) -> None:
        self.rate = rate
        self.burst = burst
        self.backlog = backlog
        self._stamped: dict[str, tuple[float, float]] = {}  # tokens, latest reading time
        self._arrived: dict[str, tuple[float, float]] = {}  # tokens, last arrival

    def allow(self, device_id: str, at_s: float, now_s: float) -> bool:
        """`at_s` is the reading's own time, `now_s` when it arrived. A reading older than the
        last earns no tokens and costs one, instead of draining the bucket by the time it goes
        back."""
        stamped, latest = self._refill(self._stamped, device_id, at_s, self.burst)
        arrived, last = self._refill(self._arrived, device_id, now_s, self.backlog)
        if stamped < 1.0 or arrived < 1.0:
            self._stamped[device_id], self._arrived[device_id] = (stamped, latest), (arrived, last)
            return False
        self._stamped[device_id] = (stamped - 1.0, latest)
        self._arrived[device_id] = (arrived - 1.0, last)
        return True

    def _refill(
        self, buckets: dict[str, tuple[float, float]], device_id: str, t: float, size: float
    ) -> tuple[float, float]:
        tokens, since = buckets.get(device_id, (size, t))
        return min(size, tokens + max(0.0, t - since) * self.rate), max(since, t)


def parse(msg: Incoming) -> Telemetry | DeviceEvent:
    """Decode a message into a reading or an event; raises InvalidInput with the reason."""
    raw = msg.payload
    if isinstance(raw, bytes | bytearray):
        if len(raw) > MAX_PAYLOAD:
            raise InvalidInput("iot.too_large")
        try:
            raw = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise InvalidInput("iot.not_json") from None
    if not isinstance(raw, dict):
        raise InvalidInput("iot.not_object")
    if not msg.device_id or len(msg.device_id) > 64:
        raise InvalidInput("iot.bad_device_id")
    at = _timestamp(raw.get("ts"))
    if msg.channel == "telemetry":
        return Telemetry(msg.device_id, at, check_metrics(raw.get("metrics")))  # type: ignore[arg-type]
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        raise InvalidInput("iot.bad_event")
    confidence = raw.get("confidence")
    if confidence is not None and (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not 0 <= confidence <= 1
    ):
        raise InvalidInput("iot.bad_event")
    snapshot = raw.get("snapshot_url")
    return DeviceEvent(
        msg.device_id,
        at,
        kind,
        clear=bool(raw.get("clear", False)),
        confidence=float(confidence) if confidence is not None else None,
        snapshot_url=snapshot if isinstance(snapshot, str) and len(snapshot) < 500 else None,
    )


def _timestamp(value: Any) -> datetime:
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int | float):
            return datetime.fromtimestamp(float(value), UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                raise ValueError
            return parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise InvalidInput("iot.bad_timestamp")


def ingest(
    uow: UnitOfWork, batch: list[Incoming], env: Env, gate: FloodGate | None = None
) -> IngestReport:
    """Store a batch, run the alarm rules, open cases where the rules say so; then commit."""
    now = env.now()
    report = IngestReport()
    rejections: list[dict[str, Any]] = []

    def reject(msg: Incoming, reason: str) -> None:
        report.rejected[reason] += 1
        sample = (
            msg.payload if isinstance(msg.payload, bytes) else json.dumps(msg.payload, default=str)
        )
        text = sample.decode("utf-8", "replace") if isinstance(sample, bytes) else sample
        rejections.append(
            {
                "at": now,
                "reason": reason,
                "device_id": msg.device_id[:64],
                "topic": msg.topic[:255],
                "sample": text[:500],
            }
        )

    parsed: list[tuple[Incoming, Telemetry | DeviceEvent]] = []
    for msg in batch:
        try:
            parsed.append((msg, parse(msg)))
        except DomainError as exc:
            reject(msg, exc.code)
    known: dict[str, Device] = uow.devices.get_many(m.device_id for m, _ in parsed)
    accepted: list[tuple[Device, Telemetry | DeviceEvent]] = []
    for msg, item in parsed:
        device = known.get(item.device_id)
        if device is None:
            reject(msg, "iot.unknown_device")
            continue
        try:
            check_time(item.at, now)
            if isinstance(item, DeviceEvent):
                check_event(device.kind, item.kind)
        except DomainError as exc:
            reject(msg, exc.code)
            continue
        if gate is not None and not gate.allow(device.id, item.at.timestamp(), now.timestamp()):
            reject(msg, "iot.flood")
            continue
        accepted.append((device, item))

    rows = [{"device_id": d.id, "at": i.at, "metrics": _stored(i)} for d, i in accepted]
    fresh = uow.readings.add_many(rows)
    report.stored = len(fresh)
    report.duplicates = len(rows) - len(fresh)
    new_items = sorted(
        ((d, i) for d, i in accepted if (d.id, _key(i.at)) in fresh), key=lambda p: p[1].at
    )
    _apply_alarm_rules(uow, new_items, env, report)
    last: dict[str, tuple[datetime, dict[str, float] | None]] = {}
    for device, item in new_items:
        metrics = item.metrics if isinstance(item, Telemetry) else None
        if device.id not in last or last[device.id][0] < item.at:
            last[device.id] = (item.at, metrics)
    uow.devices.seen(last)
    uow.rejections.add_many(rejections)
    uow.commit()
    return report


def _key(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _stored(item: Telemetry | DeviceEvent) -> dict[str, Any]:
    if isinstance(item, Telemetry):
        return dict(item.metrics)
    out: dict[str, Any] = {"event": item.kind, "clear": item.clear}
    if item.confidence is not None:
        out["confidence"] = item.confidence
    if item.snapshot_url:
        out["snapshot_url"] = item.snapshot_url
    return out


def _apply_alarm_rules(
    uow: UnitOfWork,
    items: list[tuple[Device, Telemetry | DeviceEvent]],
    env: Env,
    report: IngestReport,
) -> None:
    signals: list[tuple[Device, datetime, str, bool]] = []  # device, time, alarm kind, clear?
    for device, item in items:
        if isinstance(item, Telemetry):
            up, down = raised(device.kind, item.metrics)
            signals += [(device, item.at, k, False) for k in up]
            signals += [(device, item.at, k, True) for k in down]
        else:
            signals.append((device, item.at, item.kind, item.clear))
    if not signals:
        return
    active: list[Alarm] = uow.alarms.active(
        {k for _, _, k, _ in signals}, {d.grid_path for d, _, _, _ in signals}
    )
    for device, at, kind, clear in signals:
        if clear:
            for alarm in active:
                if alarm.is_active and alarm.kind == kind and alarm.device_id == device.id:
                    alarm.state = AlarmState.CLEARED
                    alarm.closed_at = at
                    uow.alarms.save(alarm)
                    report.cleared += 1
                    emit_alarm_event(uow, "alarm.cleared", alarm, at)
            continue
        open_one = next((a for a in active if a.folds(kind, device.id, device.grid_path, at)), None)
        if open_one is not None:
            open_one.fold(device.id, at)
            uow.alarms.save(open_one)
            report.folded += 1
            continue
        alarm = Alarm(0, kind, device.id, device.grid_path, device.lng, device.lat, at, at)
        uow.alarms.add(alarm)
        policy = POLICIES[kind]
        if policy.auto_case:
            case = open_case_for(uow, alarm, env)
            report.cases.append(case)
        uow.alarms.save(alarm)
        active.append(alarm)
        report.raised += 1
        emit_alarm_event(uow, "alarm.raised", alarm, at)


def open_case_for(uow: UnitOfWork, alarm: Alarm, env: Env) -> int:
    """Turn an alarm into a case in the closed loop, filed by the platform on the IoT channel."""
    policy = alarm.policy
    draft = CaseDraft(
        category_code=policy.category_code,
        title=f"{policy.name}（设备 {alarm.device_id}）",
        description=f"{policy.name_en}: device {alarm.device_id}, alarm #{alarm.id}",
        lng=alarm.lng,
        lat=alarm.lat,
        crs=CRS.WGS84,
        urgency=policy.urgency,
        channel="iot",
    )
    case = create_case(uow, SYSTEM_ACTOR, draft, env)
    alarm.case_id = case.id
    alarm.state = AlarmState.CASED
    return case.id


def emit_alarm_event(uow: UnitOfWork, event_type: str, alarm: Alarm, at: datetime) -> None:
    uow.emit(
        DomainEvent(
            event_type,
            alarm.id,
            alarm.grid_path,
            at,
            {
                "alarm_id": alarm.id,
                "kind": alarm.kind,
                "state": alarm.state.value,
                "device_id": alarm.device_id,
                "count": alarm.count,
                "lng": alarm.lng,
                "lat": alarm.lat,
                "case_id": alarm.case_id,
            },
        )
    )
