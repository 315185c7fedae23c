"""Tables of grid workers' patrols (巡查) and the positions their phones report. They share the
schema's `metadata`."""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Table

from pingan.adapters.db.tables import TS, Id, metadata

patrols = Table(
    "patrols",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("grid_code", String(32), nullable=False),
    Column("started_at", TS, nullable=False),
    Column("ended_at", TS, nullable=True),
    Column("points", Integer, nullable=False, default=0),
    Column("distance_m", Float, nullable=False, default=0.0),
    Index("ix_patrols_user_started", "user_id", "started_at"),
)

worker_positions = Table(
    "worker_positions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("at", TS, nullable=False),
    Column("lng", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("accuracy_m", Float, nullable=True),
    Column("patrol_id", Id, ForeignKey("patrols.id"), nullable=True),
    Index("ix_worker_positions_user_at", "user_id", "at"),
    Index("ix_worker_positions_patrol", "patrol_id"),
)
