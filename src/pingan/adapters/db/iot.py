"""Repositories of the IoT intake. Reads are scoped by grid path like cases are."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from pingan.adapters.db.iot_tables import alarms, devices, facilities, ingest_rejections, readings
from pingan.adapters.db.scope import within
from pingan.domain.alarms import Alarm, AlarmState
from pingan.domain.registry import Device, DeviceKind, Facility, FacilityKind


def _device(r: Any) -> Device:
    return Device(
        id=r.id,
        kind=DeviceKind(r.kind),
        name=r.name,
        lng=r.lng,
        lat=r.lat,
        grid_path=r.grid_path,
        owner=r.owner,
        facility_id=r.facility_id,
        interval_s=r.interval_s,
        last_seen_at=r.last_seen_at,
    )


def _alarm(r: Any) -> Alarm:
    return Alarm(
        id=r.id,
        kind=r.kind,
        device_id=r.device_id,
        grid_path=r.grid_path,
        lng=r.lng,
        lat=r.lat,
        opened_at=r.opened_at,
        last_at=r.last_at,
        state=AlarmState(r.state),
        count=r.count,
        devices=tuple(r.devices or ()),
        case_id=r.case_id,
        closed_at=r.closed_at,
        note=r.note or "",
    )


def _alarm_row(a: Alarm) -> dict[str, Any]:
    return {
        "kind": a.kind,
        "device_id": a.device_id,
        "devices": list(a.devices),
        "grid_path": a.grid_path,
        "lng": a.lng,
        "lat": a.lat,
        "state": a.state.value,
        "count": a.count,
        "opened_at": a.opened_at,
        "last_at": a.last_at,
        "closed_at": a.closed_at,
        "case_id": a.case_id,
        "note": a.note,
    }


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    device: Device
    last_metrics: dict[str, float] | None


class DeviceRepository:
    def __init__(self, conn: Connection, scope: str) -> None:
        self.conn = conn
        self.scope = scope

    def get_many(self, ids: Iterable[str]) -> dict[str, Device]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = self.conn.execute(select(devices).where(devices.c.id.in_(wanted)))
        return {r.id: _device(r) for r in rows}

    def get(self, device_id: str) -> DeviceRecord | None:
        row = self.conn.execute(
            select(devices).where(
                devices.c.id == device_id, within(devices.c.grid_path, self.scope)
            )
        ).first()
        return DeviceRecord(_device(row), row.last_metrics) if row else None

    def upsert_many(self, rows: list[dict[str, Any]]) -> tuple[int, int]:
        """Insert new devices and update existing ones; returns (created, updated)."""
        existing = set(self.get_many(r["id"] for r in rows))
        new = [r for r in rows if r["id"] not in existing]
        if new:
            self.conn.execute(insert(devices), new)
        for r in rows:
            if r["id"] in existing:
                values = {k: v for k, v in r.items() if k not in ("id", "registered_at")}
                self.conn.execute(update(devices).where(devices.c.id == r["id"]).values(**values))
        return len(new), len(rows) - len(new)

    def seen(self, last: dict[str, tuple[datetime, dict[str, float] | None]]) -> None:
        """Record each device's newest report (never moving `last_seen_at` backwards).

        One statement per shape, executed for all devices at once: a batch of readings touches
        hundreds of devices, and a round trip each kept the ingestor behind in a burst."""
        at = bindparam("b_at", type_=devices.c.last_seen_at.type)
        newer = (devices.c.id == bindparam("b_id")) & (
            devices.c.last_seen_at.is_(None) | (devices.c.last_seen_at < at)
        )
        ordered = sorted(last.items())  # rows locked in one order: two ingests never deadlock
        events = [{"b_id": d, "b_at": t} for d, (t, m) in ordered if m is None]
        readings_ = [
            {"b_id": d, "b_at": t, "b_metrics": m} for d, (t, m) in ordered if m is not None
        ]
        if events:
            self.conn.execute(update(devices).where(newer).values(last_seen_at=at), events)
        if readings_:
            metrics = bindparam("b_metrics", type_=devices.c.last_metrics.type)
            self.conn.execute(
                update(devices).where(newer).values(last_seen_at=at, last_metrics=metrics),
                readings_,
            )

    def page(self, kind: str | None, limit: int, offset: int) -> list[DeviceRecord]:
        stmt = select(devices).where(within(devices.c.grid_path, self.scope))
        if kind:
            stmt = stmt.where(devices.c.kind == kind)
        rows = self.conn.execute(stmt.order_by(devices.c.id).limit(limit).offset(offset))
        return [DeviceRecord(_device(r), r.last_metrics) for r in rows]

    def all_in_scope(self) -> list[Device]:
        rows = self.conn.execute(select(devices).where(within(devices.c.grid_path, self.scope)))
        return [_device(r) for r in rows]

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(devices)).scalar_one())


class FacilityRepository:
    def __init__(self, conn: Connection, scope: str) -> None:
        self.conn = conn
        self.scope = scope

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(facilities), rows)

    def all_in_scope(self, kind: FacilityKind | None = None) -> list[Facility]:
        stmt = select(facilities).where(within(facilities.c.grid_path, self.scope))
        if kind:
            stmt = stmt.where(facilities.c.kind == kind.value)
        return [
            Facility(r.id, FacilityKind(r.kind), r.name, r.grid_path, r.lng, r.lat)
            for r in self.conn.execute(stmt)
        ]


class ReadingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_many(self, rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
        """Store readings; a (device, time) already stored is a redelivery and is skipped.

        Returns the (device id, ISO time) keys that were new, so only they have effects.
        """
        if not rows:
            return set()
        if self.conn.dialect.name == "postgresql":
            stmt: Any = pg_insert(readings).on_conflict_do_nothing()
        else:
            stmt = insert(readings).prefix_with("OR IGNORE")
        result = self.conn.execute(stmt.returning(readings.c.device_id, readings.c.at), rows)
        return {(r.device_id, r.at.astimezone(UTC).isoformat()) for r in result}

    def count(self, device_id: str | None = None) -> int:
        stmt = select(func.count()).select_from(readings)
        if device_id:
            stmt = stmt.where(readings.c.device_id == device_id)
        return int(self.conn.execute(stmt).scalar_one())

    def recent(self, device_id: str, limit: int = 50) -> list[tuple[datetime, dict[str, float]]]:
        rows = self.conn.execute(
            select(readings.c.at, readings.c.metrics)
            .where(readings.c.device_id == device_id)
            .order_by(readings.c.at.desc())
            .limit(limit)
        )
        return [(r.at, r.metrics) for r in rows]


class AlarmRepository:
    def __init__(self, conn: Connection, scope: str) -> None:
        self.conn = conn
        self.scope = scope

    def active(self, kinds: Iterable[str], grid_paths: Iterable[str]) -> list[Alarm]:
        kinds, grid_paths = list(set(kinds)), list(set(grid_paths))
        if not kinds or not grid_paths:
            return []
        rows = self.conn.execute(
            select(alarms).where(
                alarms.c.state.in_([AlarmState.OPEN.value, AlarmState.CASED.value]),
                alarms.c.kind.in_(kinds),
                alarms.c.grid_path.in_(grid_paths),
            )
        )
        return [_alarm(r) for r in rows]

    def add(self, alarm: Alarm) -> int:
        alarm.id = int(
            self.conn.execute(
                insert(alarms).values(**_alarm_row(alarm)).returning(alarms.c.id)
            ).scalar_one()
        )
        return alarm.id

    def save(self, alarm: Alarm) -> None:
        self.conn.execute(update(alarms).where(alarms.c.id == alarm.id).values(**_alarm_row(alarm)))

    def get(self, alarm_id: int) -> Alarm | None:
        row = self.conn.execute(
            select(alarms).where(alarms.c.id == alarm_id, within(alarms.c.grid_path, self.scope))
        ).first()
        return _alarm(row) if row else None

    def page(self, states: tuple[str, ...], limit: int, offset: int) -> tuple[list[Alarm], int]:
        stmt = select(alarms).where(within(alarms.c.grid_path, self.scope))
        if states:
            stmt = stmt.where(alarms.c.state.in_(states))
        total = int(
            self.conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        )
        rows = self.conn.execute(stmt.order_by(alarms.c.id.desc()).limit(limit).offset(offset))
        return [_alarm(r) for r in rows], total

    def counts_since(self, since: datetime) -> dict[str, int]:
        rows = self.conn.execute(
            select(alarms.c.kind, func.count())
            .where(within(alarms.c.grid_path, self.scope), alarms.c.opened_at >= since)
            .group_by(alarms.c.kind)
        )
        return {kind: int(n) for kind, n in rows}


class RejectionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(ingest_rejections), rows)

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute(
            select(ingest_rejections.c.reason, func.count()).group_by(ingest_rejections.c.reason)
        )
        return {reason: int(n) for reason, n in rows}
