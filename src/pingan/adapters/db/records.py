"""Smaller stores that hang off cases: idempotency keys, attachments, dispatch rules, notifications,
and the holiday calendar's updatable days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from pingan.adapters.db.tables import (
    attachments,
    calendar_days,
    dispatch_rules,
    idempotency_keys,
    notifications,
)
from pingan.domain.errors import Conflict


@dataclass(frozen=True, slots=True)
class Attachment:
    id: int
    sha256: str
    content_type: str
    size: int
    filename: str
    storage_key: str
    uploaded_by: int
    case_id: int | None


@dataclass(frozen=True, slots=True)
class DispatchRule:
    id: int
    category_prefix: str
    unit_path: str
    department_id: str
    priority: int


class IdempotencyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, user_id: int, key: str) -> tuple[str, int] | None:
        row = self.conn.execute(
            select(idempotency_keys.c.request_hash, idempotency_keys.c.case_id).where(
                idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key
            )
        ).first()
        return (row.request_hash, row.case_id) if row else None

    def put(self, user_id: int, key: str, request_hash: str, case_id: int, now: datetime) -> None:
        """Raises Conflict when a concurrent request stored the same key first."""
        try:
            self.conn.execute(
                insert(idempotency_keys).values(
                    user_id=user_id,
                    key=key,
                    request_hash=request_hash,
                    case_id=case_id,
                    created_at=now,
                )
            )
        except IntegrityError:
            raise Conflict("idempotency.race", key=key) from None


class AttachmentRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, **values: Any) -> int:
        return int(
            self.conn.execute(
                insert(attachments).values(**values).returning(attachments.c.id)
            ).scalar_one()
        )

    def get(self, attachment_id: int) -> Attachment | None:
        row = self.conn.execute(
            select(attachments).where(attachments.c.id == attachment_id)
        ).first()
        return Attachment(**{k: row._mapping[k] for k in Attachment.__slots__}) if row else None

    def attach(self, ids: tuple[int, ...], case_id: int, uploaded_by: int) -> int:
        """Link the caller's unattached uploads to a case; returns how many were linked."""
        if not ids:
            return 0
        result = self.conn.execute(
            update(attachments)
            .where(
                attachments.c.id.in_(ids),
                attachments.c.uploaded_by == uploaded_by,
                attachments.c.case_id.is_(None),
            )
            .values(case_id=case_id)
        )
        return int(result.rowcount)


class DispatchRuleRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def all(self) -> list[DispatchRule]:
        rows = self.conn.execute(select(dispatch_rules).order_by(dispatch_rules.c.id))
        return [
            DispatchRule(r.id, r.category_prefix, r.unit_path, r.department_id, r.priority)
            for r in rows
        ]

    def add(
        self,
        category_prefix: str,
        unit_path: str,
        department_id: str,
        priority: int,
        created_by: int | None,
        now: datetime,
    ) -> int:
        return int(
            self.conn.execute(
                insert(dispatch_rules)
                .values(
                    category_prefix=category_prefix,
                    unit_path=unit_path,
                    department_id=department_id,
                    priority=priority,
                    created_by=created_by,
                    created_at=now,
                )
                .returning(dispatch_rules.c.id)
            ).scalar_one()
        )

    def remove(self, rule_id: int) -> bool:
        return bool(
            self.conn.execute(delete(dispatch_rules).where(dispatch_rules.c.id == rule_id)).rowcount
        )


class NotificationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        recipient_kind: str,
        recipient: str,
        case_id: int,
        event_id: str,
        kind: str,
        now: datetime,
    ) -> None:
        self.conn.execute(
            insert(notifications).values(
                recipient_kind=recipient_kind,
                recipient=recipient,
                case_id=case_id,
                event_id=event_id,
                kind=kind,
                created_at=now,
            )
        )

    def for_recipients(
        self, recipients: list[tuple[str, str]], limit: int = 50
    ) -> list[dict[str, Any]]:
        if not recipients:
            return []
        cond = or_(
            *[
                and_(notifications.c.recipient_kind == k, notifications.c.recipient == r)
                for k, r in recipients
            ]
        )
        rows = self.conn.execute(
            select(notifications).where(cond).order_by(notifications.c.id.desc()).limit(limit)
        )
        return [dict(r._mapping) for r in rows]


class CalendarRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def days(self) -> list[tuple[date, str, str]]:
        rows = self.conn.execute(select(calendar_days).order_by(calendar_days.c.day))
        return [(date.fromisoformat(r.day), r.kind, r.name) for r in rows]

    def put(self, day: date, kind: str, name: str) -> None:
        self.conn.execute(delete(calendar_days).where(calendar_days.c.day == day.isoformat()))
        self.conn.execute(insert(calendar_days).values(day=day.isoformat(), kind=kind, name=name))
