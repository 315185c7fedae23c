"""Tables of the 12345 hotline desk: each call taken (the caller's number and name sealed, with a
blind index to find their earlier calls) and each follow-up call (回访). They share the schema's
`metadata`."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, SmallInteger, String, Table, Text

from pingan.adapters.db.tables import TS, Id, metadata

hotline_calls = Table(
    "hotline_calls",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False),
    Column("operator_id", Id, ForeignKey("users.id"), nullable=False),
    Column("received_at", TS, nullable=False),
    Column("account", Text, nullable=False),
    Column("repeat", Boolean, nullable=False, default=False),
    Column("phone_enc", String(512), nullable=False),
    Column("phone_index", String(64), nullable=False),
    Column("name_enc", String(512), nullable=True),
    Index("ix_hotline_calls_phone", "phone_index"),
    Index("ix_hotline_calls_case", "case_id"),
)

followups = Table(
    "followups",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False),
    Column("operator_id", Id, ForeignKey("users.id"), nullable=False),
    Column("at", TS, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("satisfaction", SmallInteger, nullable=True),
    Column("note", String(500), nullable=True),
    Index("ix_followups_case", "case_id"),
)
