"""Tables of departmental webhooks: subscriptions, the deliveries made for them (the retry queue
and, with status `dead`, the dead-letter list), and the delivery ids already accepted from a
department (nonces that refuse replays). Also the external ids of historic cases imported from
departments' and earlier systems' files, which make an import idempotent. They share the schema's
`metadata`."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from pingan.adapters.db.tables import TS, Id, metadata

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("department_id", String(64), ForeignKey("departments.id"), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("secret", String(128), nullable=False),
    Column("events", JSON, nullable=False),
    # the account the department's system acts as when it posts results back
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_by", Id, nullable=False),
    Column("created_at", TS, nullable=False),
    Index("ix_webhook_subscriptions_department", "department_id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),  # X-Pingan-Delivery
    Column("subscription_id", Id, ForeignKey("webhook_subscriptions.id"), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event", String(32), nullable=False),
    Column("case_id", Id, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", TS, nullable=False),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=False, default=""),
    Column("created_at", TS, nullable=False),
    Column("delivered_at", TS, nullable=True),
    Column("dead_at", TS, nullable=True),
    UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_sub_event"),
    Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
)

webhook_nonces = Table(
    "webhook_nonces",
    metadata,
    Column("subscription_id", Id, ForeignKey("webhook_subscriptions.id"), primary_key=True),
    Column("delivery_id", String(64), primary_key=True),
    Column("received_at", TS, nullable=False),
    Index("ix_webhook_nonces_received", "received_at"),
)

case_imports = Table(
    "case_imports",
    metadata,
    Column("external_id", String(128), primary_key=True),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False),
    Column("source", String(200), nullable=False, default=""),
    Column("imported_at", TS, nullable=False),
)
