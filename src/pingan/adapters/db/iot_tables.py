"""Tables of the IoT intake: facilities, devices, readings (one compact row per reading), alarms,
and the rejected messages kept with their reason. They share the schema's `metadata`."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, ForeignKey, Index, Integer, String, Table, Text

from pingan.adapters.db.tables import TS, Id, metadata

facilities = Table(
    "facilities",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("grid_path", String(255), nullable=False),
    Column("lng", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Index("ix_facilities_kind_grid", "kind", "grid_path"),
)

devices = Table(
    "devices",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("lng", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("grid_path", String(255), nullable=False),
    Column("owner", String(64), nullable=False, default=""),
    Column("facility_id", String(64), ForeignKey("facilities.id"), nullable=True),
    Column("interval_s", Integer, nullable=False),
    Column("registered_at", TS, nullable=False),
    Column("last_seen_at", TS, nullable=True),
    Column("last_metrics", JSON, nullable=True),
    Index("ix_devices_grid_path", "grid_path"),
    Index("ix_devices_facility", "facility_id"),
)

readings = Table(
    "readings",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("at", TS, primary_key=True),
    Column("metrics", JSON, nullable=False),
)

alarms = Table(
    "alarms",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("device_id", String(64), ForeignKey("devices.id"), nullable=False),
    Column("devices", JSON, nullable=False, default=list),
    Column("grid_path", String(255), nullable=False),
    Column("lng", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("state", String(16), nullable=False),
    Column("count", Integer, nullable=False),
    Column("opened_at", TS, nullable=False),
    Column("last_at", TS, nullable=False),
    Column("closed_at", TS, nullable=True),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=True),
    Column("note", Text, nullable=False, default=""),
    Index("ix_alarms_state_kind_grid", "state", "kind", "grid_path"),
    Index("ix_alarms_grid_path", "grid_path"),
)

ingest_rejections = Table(
    "ingest_rejections",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", TS, nullable=False),
    Column("reason", String(40), nullable=False),
    Column("device_id", String(64), nullable=True),
    Column("topic", String(255), nullable=False, default=""),
    Column("sample", Text, nullable=False, default=""),
    Index("ix_ingest_rejections_reason", "reason", "at"),
)
