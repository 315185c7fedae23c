"""Tables of video calls and their parties: the call log kept on a case and in each user's
history. They share the schema's `metadata`."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from pingan.adapters.db.tables import TS, Id, metadata

calls = Table(
    "calls",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("host_id", Id, ForeignKey("users.id"), nullable=False),
    Column("unit_path", String(255), nullable=False),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=True),
    Column("state", String(16), nullable=False),
    Column("outcome", String(16), nullable=True),
    Column("created_at", TS, nullable=False),
    Column("connected_at", TS, nullable=True),
    Column("ended_at", TS, nullable=True),
    Column("recording_id", Id, ForeignKey("attachments.id"), nullable=True),
    Column("version", Integer, nullable=False, server_default="1"),
    Index("ix_calls_case", "case_id"),
    Index("ix_calls_state", "state"),
)

call_parties = Table(
    "call_parties",
    metadata,
    Column("call_id", Id, ForeignKey("calls.id"), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("invited_at", TS, nullable=False),
    Column("joined_at", TS, nullable=True),
    Column("left_at", TS, nullable=True),
    Index("ix_call_parties_user", "user_id"),
)
