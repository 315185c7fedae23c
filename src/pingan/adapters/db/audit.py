"""The audit trail in the database: append and read only; there is no code path that edits it.

An append locks the chain's head row (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite already admits
one writer at a time), links the new entry to the head's hash and moves the head, all inside the
caller's transaction: the entry commits with the change it records, or neither does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from pingan.adapters.db.tables import audit_head, audit_log
from pingan.domain.access import Actor
from pingan.domain.audit import (
    GENESIS,
    AuditEntry,
    AuditUnavailable,
    ChainBreak,
    chain_hash,
    first_break,
)

HEAD_ID = 1
BATCH = 1000


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        seq=int(row.seq),
        at=row.at,
        actor_id=int(row.actor_id),
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        detail=json.loads(row.detail),
    )


class AuditRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _head(self) -> tuple[int, str]:
        stmt = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == HEAD_ID)
        if self.conn.dialect.name != "sqlite":
            stmt = stmt.with_for_update()
        row = self.conn.execute(stmt).first()
        if row is None:  # first entry ever; a concurrent first writer fails on the primary key
            self.conn.execute(insert(audit_head).values(id=HEAD_ID, seq=0, hash=GENESIS))
            return 0, GENESIS
        return int(row.seq), str(row.hash)

    def append(
        self,
        actor: Actor,
        action: str,
        at: datetime,
        subject: str = "",
        detail: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Chain one entry into the caller's transaction, or raise AuditUnavailable."""
        try:
            return self._append(actor, action, at, subject, detail)
        except SQLAlchemyError:
            raise AuditUnavailable() from None

    def _append(
        self, actor: Actor, action: str, at: datetime, subject: str, detail: dict[str, Any] | None
    ) -> AuditEntry:
        seq, prev = self._head()
        entry = AuditEntry(
            seq=seq + 1,
            at=at,
            actor_id=actor.user_id,
            actor=actor.username,
            action=action,
            subject=subject,
            detail=detail or {},
        )
        digest = chain_hash(prev, entry)
        self.conn.execute(
            insert(audit_log).values(
                seq=entry.seq,
                at=entry.at,
                actor_id=entry.actor_id,
                actor=entry.actor,
                action=entry.action,
                subject=entry.subject,
                detail=json.dumps(entry.detail, sort_keys=True, ensure_ascii=False),
                prev_hash=prev,
                hash=digest,
            )
        )
        self.conn.execute(
            update(audit_head).where(audit_head.c.id == HEAD_ID).values(seq=entry.seq, hash=digest)
        )
        return entry

    def entries(
        self, after: int = 0, limit: int = 100, action: str | None = None
    ) -> list[tuple[AuditEntry, str]]:
        stmt = select(audit_log).where(audit_log.c.seq > after)
        if action:
            stmt = stmt.where(audit_log.c.action == action)
        rows = self.conn.execute(stmt.order_by(audit_log.c.seq).limit(limit))
        return [(_entry(r), str(r.hash)) for r in rows]

    def _chain(self) -> Iterator[tuple[AuditEntry, str, str]]:
        after = 0
        while True:
            rows = list(
                self.conn.execute(
                    select(audit_log)
                    .where(audit_log.c.seq > after)
                    .order_by(audit_log.c.seq)
                    .limit(BATCH)
                )
            )
            for r in rows:
                yield _entry(r), str(r.prev_hash), str(r.hash)
            if len(rows) < BATCH:
                return
            after = int(rows[-1].seq)

    def verify(self) -> tuple[int, ChainBreak | None]:
        """(entries checked, first break or None); a chain cut short of its head is a break."""
        count, last_seq, last_hash = 0, 0, GENESIS

        def counted() -> Iterator[tuple[AuditEntry, str, str]]:
            nonlocal count, last_seq, last_hash
            for item in self._chain():
                count += 1
                last_seq, last_hash = item[0].seq, item[2]
                yield item

        broken = first_break(counted())
        if broken is not None:
            return count, broken
        head = self.conn.execute(
            select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == HEAD_ID)
        ).first()
        if head is not None and (int(head.seq) != last_seq or head.hash != last_hash):
            return count, ChainBreak(last_seq + 1, "truncated")
        return count, None
