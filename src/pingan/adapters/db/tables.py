"""SQLAlchemy Core tables: the one description of the schema, shared by repositories and Alembic.

Geometry is WKB plus a bounding box (SQLite has no spatial extension here); point-in-grid runs in
process on a shapely STRtree. Every timestamp is timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = BigInteger().with_variant(
    Integer(), "sqlite"
)  # SQLite autoincrements INTEGER PRIMARY KEY only


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in and out on both databases; SQLite keeps naive UTC text, which sorts."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


TS = UTCDateTime()

units = Table(
    "units",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("path", String(255), nullable=False, unique=True),
    Column("parent_code", String(32), ForeignKey("units.code"), nullable=True, index=True),
    Column("level", String(16), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("name_en", String(128), nullable=False, default=""),
    Column("generated", Boolean, nullable=False, default=False),
    Column("geom_wkb", LargeBinary, nullable=True),
    Column("min_lng", Float),
    Column("min_lat", Float),
    Column("max_lng", Float),
    Column("max_lat", Float),
    Column("center_lng", Float),
    Column("center_lat", Float),
    Column("worker_id", Id, ForeignKey("users.id", use_alter=True), nullable=True),
)

departments = Table(
    "departments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(128), nullable=False),
    Column("name_en", String(128), nullable=False, default=""),
    Column("unit_path", String(255), nullable=False, index=True),
)

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("jurisdiction", String(255), nullable=False, index=True),
    Column("department_id", String(64), ForeignKey("departments.id"), nullable=True),
    Column("grid_code", String(32), nullable=True),
    Column("password_hash", String(255), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("synthetic", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("client", String(64), nullable=False),
    Column("at", TS, nullable=False),
    Column("ok", Boolean, nullable=False),
    Index("ix_login_attempts_username_at", "username", "at"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tracking_no", String(32), nullable=False, unique=True),
    Column("state", String(16), nullable=False),
    Column("suspended_from", String(16), nullable=True),
    Column("category_code", String(8), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("address", String(300), nullable=False, default=""),
    Column("lng", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("grid_code", String(32), nullable=False),
    Column("location_path", String(255), nullable=False),
    Column("owner_path", String(255), nullable=False),
    Column("department_id", String(64), ForeignKey("departments.id"), nullable=True),
    Column("reporter_id", Id, ForeignKey("users.id"), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("rework_count", Integer, nullable=False, default=0),
    Column("escalation_count", Integer, nullable=False, default=0),
    Column("supervision_count", Integer, nullable=False, default=0),
    Column("satisfaction", SmallInteger, nullable=True),
    Column("merged_into", Id, ForeignKey("cases.id"), nullable=True),
    Column("photo_ids", JSON, nullable=False, default=list),
    Column("due_at", TS, nullable=True),
    Column("overdue_since", TS, nullable=True),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("closed_at", TS, nullable=True),
    Index("ix_cases_location_path", "location_path"),
    Index("ix_cases_state_created", "state", "created_at"),
    Index("ix_cases_department_state", "department_id", "state"),
    Index("ix_cases_reporter", "reporter_id"),
    Index("ix_cases_created", "created_at"),
)

case_timeline = Table(
    "case_timeline",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("actor_id", Id, nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("at", TS, nullable=False),
    Column("note", Text, nullable=True),
    Column("data", JSON, nullable=False, default=dict),
    UniqueConstraint("case_id", "seq", name="uq_case_timeline_case_seq"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("filename", String(200), nullable=False),
    Column("storage_key", String(255), nullable=False),
    Column("uploaded_by", Id, ForeignKey("users.id"), nullable=False),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=True),
    Column("created_at", TS, nullable=False),
)

deadlines = Table(
    "deadlines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("clock", String(16), nullable=False),
    Column("limit_seconds", Float, nullable=False),
    Column("started_at", TS, nullable=False),
    Column("due_at", TS, nullable=False),
    Column("warn_at", TS, nullable=False),
    # live -> met | cancelled | lapsed | paused; warned_at/lapsed_at are set exactly once
    Column("status", String(16), nullable=False),
    Column("owner_path", String(255), nullable=False),
    Column("remaining_seconds", Float, nullable=True),
    Column("warned_at", TS, nullable=True),
    Column("lapsed_at", TS, nullable=True),
    Column("ended_at", TS, nullable=True),
    Index("ix_deadlines_status_due", "status", "due_at"),
    Index("ix_deadlines_status_warn", "status", "warn_at"),
    Index("ix_deadlines_case", "case_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("type", String(64), nullable=False),
    Column("aggregate_id", Id, nullable=False),
    Column("unit_path", String(255), nullable=False),
    Column("occurred_at", TS, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("published_at", TS, nullable=True),
    Index("ix_outbox_unpublished", "published_at", "id"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("processed_at", TS, nullable=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("recipient_kind", String(16), nullable=False),  # user | department | grid
    Column("recipient", String(64), nullable=False),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("read_at", TS, nullable=True),
    Index("ix_notifications_recipient", "recipient_kind", "recipient", "read_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", Id, primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False),
    Column("created_at", TS, nullable=False),
)

dispatch_rules = Table(
    "dispatch_rules",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("category_prefix", String(8), nullable=False),
    Column("unit_path", String(255), nullable=False),
    Column("department_id", String(64), ForeignKey("departments.id"), nullable=False),
    Column("priority", Integer, nullable=False, default=0),
    Column("created_by", Id, nullable=True),
    Column("created_at", TS, nullable=False),
)

calendar_days = Table(
    "calendar_days",
    metadata,
    Column("day", String(10), primary_key=True),  # ISO date
    Column("kind", String(8), nullable=False),  # holiday | workday
    Column("name", String(64), nullable=False, default=""),
)

# Open311 GeoReport v2 (services/open311.py). A key is kept only as its SHA-256; each key files
# its reports as its own citizen account. No requester name, phone or e-mail is stored anywhere.
open311_keys = Table(
    "open311_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("app_name", String(128), nullable=False),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
)

open311_media = Table(
    "open311_media",
    metadata,
    Column("case_id", Id, ForeignKey("cases.id"), primary_key=True),
    Column("media_url", String(2000), nullable=False),
    Column("created_at", TS, nullable=False),
)

# Personal data (adapters/crypto.py): values are AES-256-GCM ciphertext `v1.<key id>.<blob>`, never
# plaintext; `*_index` columns hold an HMAC blind index so equal values can be found without it.
case_contacts = Table(
    "case_contacts",
    metadata,
    Column("case_id", Id, ForeignKey("cases.id"), primary_key=True),
    Column("name_enc", String(512), nullable=True),
    Column("phone_enc", String(512), nullable=True),
    Column("phone_index", String(64), nullable=True, index=True),
    Column("id_number_enc", String(512), nullable=True),
    Column("id_number_index", String(64), nullable=True, index=True),
    Column("recorded_by", Id, ForeignKey("users.id"), nullable=False),
    Column("recorded_at", TS, nullable=False),
)

# The audit trail: append-only (triggers refuse UPDATE and DELETE), each row chained to the one
# before by `hash = sha256(prev_hash + canonical JSON)`. `audit_head` holds the chain's tip; an
# append locks it, so two writers can never fork the chain.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=False),
    Column("at", TS, nullable=False),
    Column("actor_id", Id, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(48), nullable=False),
    Column("subject", String(128), nullable=False, default=""),
    Column("detail", Text, nullable=False, default="{}"),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_action_at", "action", "at"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("seq", Id, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Signed-out tokens, by JWT id, kept until they would have expired anyway.
revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("user_id", Id, nullable=False),
    Column("expires_at", TS, nullable=False, index=True),
    Column("revoked_at", TS, nullable=False),
)

# TOTP second factor: the secret is encrypted like other personal data; confirmed once a code
# from the authenticator app has been checked.
user_totp = Table(
    "user_totp",
    metadata,
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("secret_enc", String(512), nullable=False),
    Column("confirmed_at", TS, nullable=True),
    Column("last_step", BigInteger, nullable=True),
    Column("created_at", TS, nullable=False),
)
