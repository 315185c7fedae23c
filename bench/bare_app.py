"""The baseline: a bare FastAPI endpoint that inserts one row through the same engine and driver
Pingan uses, so intake overhead is measured against the floor on the same machine and run."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table, insert

from pingan.adapters.db.engine import make_engine

metadata = MetaData()
rows = Table(
    "bench_rows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False),
    Column("title", String(200), nullable=False),
    Column("lng", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
engine = make_engine(os.environ["PINGAN_DATABASE_URL"])
metadata.create_all(engine)
app = FastAPI()


class Row(BaseModel):
    title: str
    lng: float
    lat: float


@app.post("/rows", status_code=201)
def add(row: Row) -> dict[str, int]:
    with engine.begin() as conn:
        new_id = conn.execute(
            insert(rows)
            .values(
                key=uuid.uuid4().hex,
                title=row.title,
                lng=row.lng,
                lat=row.lat,
                created_at=datetime.now(UTC),
            )
            .returning(rows.c.id)
        ).scalar_one()
    return {"id": int(new_id)}


@app.get("/readyz")
def ready() -> dict[str, str]:
    return {"status": "ready"}
