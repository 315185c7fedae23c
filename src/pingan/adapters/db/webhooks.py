"""Repository of departmental webhooks: subscriptions, deliveries (queue and dead letters) and
the nonces of accepted incoming requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from pingan.adapters.db.scope import within
from pingan.adapters.db.tables import departments
from pingan.adapters.db.webhook_tables import (
    webhook_deliveries,
    webhook_nonces,
    webhook_subscriptions,
)

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    department_id: str
    url: str
    secret: str
    events: tuple[str, ...]
    user_id: int
    active: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    subscription_id: int
    event_id: str
    event: str
    case_id: int
    body: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    dead_at: datetime | None


def _subscription(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        department_id=row.department_id,
        url=row.url,
        secret=row.secret,
        events=tuple(row.events or ()),
        user_id=row.user_id,
        active=bool(row.active),
        created_at=row.created_at,
    )


def _delivery(row: Any) -> Delivery:
    return Delivery(**{c.name: row._mapping[c.name] for c in webhook_deliveries.c})


class WebhookRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_subscription(self, **values: Any) -> int:
        stmt = insert(webhook_subscriptions).values(**values).returning(webhook_subscriptions.c.id)
        return int(self.conn.execute(stmt).scalar_one())

    def subscription(self, subscription_id: int) -> Subscription | None:
        row = self.conn.execute(
            select(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id)
        ).first()
        return _subscription(row) if row else None

    def subscriptions(
        self, scope: str = "", department_id: str | None = None
    ) -> list[Subscription]:
        """Subscriptions of departments whose office lies within `scope` ("" = all)."""
        stmt = (
            select(webhook_subscriptions)
            .join(departments, departments.c.id == webhook_subscriptions.c.department_id)
            .where(within(departments.c.unit_path, scope))
            .order_by(webhook_subscriptions.c.id)
        )
        if department_id is not None:
            stmt = stmt.where(webhook_subscriptions.c.department_id == department_id)
        return [_subscription(r) for r in self.conn.execute(stmt)]

    def deactivate(self, subscription_id: int) -> None:
        self.conn.execute(
            update(webhook_subscriptions)
            .where(webhook_subscriptions.c.id == subscription_id)
            .values(active=False)
        )

    def add_delivery(self, **values: Any) -> bool:
        """Queue a delivery; False when this subscription already has one for the event (the bus
        redelivered it), so recording is idempotent."""
        nested = self.conn.begin_nested()
        try:
            self.conn.execute(insert(webhook_deliveries).values(**values))
        except IntegrityError:
            nested.rollback()
            return False
        nested.commit()
        return True

    def delivery(self, delivery_id: str) -> Delivery | None:
        row = self.conn.execute(
            select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
        ).first()
        return _delivery(row) if row else None

    def due(self, now: datetime, limit: int) -> list[Delivery]:
        rows = self.conn.execute(
            select(webhook_deliveries)
            .where(
                webhook_deliveries.c.status == PENDING,
                webhook_deliveries.c.next_attempt_at <= now,
            )
            .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.created_at)
            .limit(limit)
        )
        return [_delivery(r) for r in rows]

    def lease(self, delivery_id: str, seen_next: datetime, until: datetime) -> bool:
        """Push a due delivery's next try past the send; False if another sender took it."""
        result = self.conn.execute(
            update(webhook_deliveries)
            .where(
                webhook_deliveries.c.id == delivery_id,
                webhook_deliveries.c.status == PENDING,
                webhook_deliveries.c.next_attempt_at == seen_next,
            )
            .values(next_attempt_at=until)
        )
        return result.rowcount == 1

    def record_attempt(
        self,
        delivery_id: str,
        *,
        status: str,
        attempts: int,
        next_attempt_at: datetime,
        last_status: int | None,
        last_error: str,
        now: datetime,
    ) -> None:
        values: dict[str, Any] = {
            "status": status,
            "attempts": attempts,
            "next_attempt_at": next_attempt_at,
            "last_status": last_status,
            "last_error": last_error[:2000],
        }
        if status == DELIVERED:
            values["delivered_at"] = now
        if status == DEAD:
            values["dead_at"] = now
        self.conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(**values)
        )

    def requeue(self, delivery_id: str, now: datetime) -> None:
        """Give a dead letter a fresh set of attempts, starting now."""
        self.conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(status=PENDING, attempts=0, next_attempt_at=now, dead_at=None)
        )

    def deliveries(self, scope: str, status: str | None = None, limit: int = 200) -> list[Delivery]:
        """Newest first, for departments whose office lies within `scope`."""
        stmt = (
            select(webhook_deliveries)
            .join(
                webhook_subscriptions,
                webhook_subscriptions.c.id == webhook_deliveries.c.subscription_id,
            )
            .join(departments, departments.c.id == webhook_subscriptions.c.department_id)
            .where(within(departments.c.unit_path, scope))
            .order_by(webhook_deliveries.c.created_at.desc(), webhook_deliveries.c.id)
            .limit(limit)
        )
        if status is not None:
            stmt = stmt.where(webhook_deliveries.c.status == status)
        return [_delivery(r) for r in self.conn.execute(stmt)]

    def seen_nonce(self, subscription_id: int, delivery_id: str) -> bool:
        return (
            self.conn.execute(
                select(webhook_nonces.c.delivery_id).where(
                    webhook_nonces.c.subscription_id == subscription_id,
                    webhook_nonces.c.delivery_id == delivery_id,
                )
            ).first()
            is not None
        )

    def claim_nonce(self, subscription_id: int, delivery_id: str, now: datetime) -> bool:
        """True the first time a delivery id is used; False for a replay."""
        nested = self.conn.begin_nested()
        try:
            self.conn.execute(
                insert(webhook_nonces).values(
                    subscription_id=subscription_id, delivery_id=delivery_id, received_at=now
                )
            )
        except IntegrityError:
            nested.rollback()
            return False
        nested.commit()
        return True

    def forget_nonces(self, before: datetime) -> int:
        """Nonces older than the replay window protect nothing: the timestamp check refuses
        those requests already."""
        result = self.conn.execute(
            delete(webhook_nonces).where(webhook_nonces.c.received_at < before)
        )
        return int(result.rowcount)
