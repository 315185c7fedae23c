"""The address registry (地址库): door numbers on roads, residential compounds (小区) and their
buildings, each with a WGS-84 point and the grid and unit it lies in. Shares the schema's
`metadata`."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, String, Table, UniqueConstraint

from pingan.adapters.db.tables import Id, metadata

addresses = Table(
    "addresses",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # door | compound | building
    Column("road", String(100), nullable=True),
    Column("number", String(16), nullable=True),
    Column("compound", String(100), nullable=True),
    Column("building", String(16), nullable=True),
    Column("full_text", String(300), nullable=False),
    Column("lng", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("grid_path", String(255), nullable=True),
    Column("unit_path", String(255), nullable=False),
    Column("generated", Boolean, nullable=False, default=False),
    Column("source", String(64), nullable=False, default=""),
    UniqueConstraint("full_text"),
    Index("ix_addresses_road_number", "road", "number"),
    Index("ix_addresses_compound_building", "compound", "building"),
    Index("ix_addresses_unit_path", "unit_path"),
)
