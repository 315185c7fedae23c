"""Contacts of the people behind cases, stored only as ciphertext and blind indexes.

The repository never sees plaintext: services seal values with the keyring before they get here
and open them after. Which columns hold sealed values is listed once, in `SEALED_COLUMNS`, so key
rotation re-encrypts every one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Table, delete, func, insert, select, update

from pingan.adapters.db.hotline_tables import hotline_calls
from pingan.adapters.db.scope import case_scope
from pingan.adapters.db.tables import case_contacts, cases, user_totp
from pingan.domain.access import Actor


@dataclass(frozen=True, slots=True)
class SealedColumn:
    """One encrypted column: its table, key column and the context its values are bound to."""

    table: Table
    key: Column[Any]
    column: Column[Any]
    context: str


SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SealedColumn(case_contacts, case_contacts.c.case_id, case_contacts.c.name_enc, "contact.name"),
    SealedColumn(
        case_contacts, case_contacts.c.case_id, case_contacts.c.phone_enc, "contact.phone"
    ),
    SealedColumn(
        case_contacts, case_contacts.c.case_id, case_contacts.c.id_number_enc, "contact.id_number"
    ),
    SealedColumn(user_totp, user_totp.c.user_id, user_totp.c.secret_enc, "totp.secret"),
    SealedColumn(hotline_calls, hotline_calls.c.id, hotline_calls.c.phone_enc, "contact.phone"),
    SealedColumn(hotline_calls, hotline_calls.c.id, hotline_calls.c.name_enc, "contact.name"),
)


@dataclass(frozen=True, slots=True)
class SealedContact:
    case_id: int
    name_enc: str | None
    phone_enc: str | None
    id_number_enc: str | None
    recorded_by: int
    recorded_at: datetime


def _contact(row: Any) -> SealedContact:
    return SealedContact(
        case_id=int(row.case_id),
        name_enc=row.name_enc,
        phone_enc=row.phone_enc,
        id_number_enc=row.id_number_enc,
        recorded_by=int(row.recorded_by),
        recorded_at=row.recorded_at,
    )


class ContactRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, case_id: int) -> SealedContact | None:
        row = self.conn.execute(
            select(case_contacts).where(case_contacts.c.case_id == case_id)
        ).first()
        return _contact(row) if row else None

    def put(self, case_id: int, values: dict[str, Any]) -> None:
        """Insert or replace the case's contact (sealed values and blind indexes only)."""
        self.conn.execute(delete(case_contacts).where(case_contacts.c.case_id == case_id))
        self.conn.execute(insert(case_contacts).values(case_id=case_id, **values))

    def case_ids_by_index(
        self,
        phone_index: str | None,
        id_number_index: str | None,
        reader: Actor,
        limit: int = 200,
    ) -> list[int]:
        """Newest first, only cases `reader` may read: the scope applies before the limit, so
        matches elsewhere never crowd out the reader's own."""
        stmt = (
            select(case_contacts.c.case_id)
            .join(cases, cases.c.id == case_contacts.c.case_id)
            .where(case_scope(reader, cases))
        )
        if phone_index is not None:
            stmt = stmt.where(case_contacts.c.phone_index == phone_index)
        if id_number_index is not None:
            stmt = stmt.where(case_contacts.c.id_number_index == id_number_index)
        rows = self.conn.execute(stmt.order_by(case_contacts.c.case_id.desc()).limit(limit))
        return [int(r.case_id) for r in rows]

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(case_contacts), rows)

    def cases_without_contact(self, channel: str) -> list[tuple[int, int]]:
        """(case id, reporter id) of cases from `channel` with no contact yet (demo seeding)."""
        stmt = (
            select(cases.c.id, cases.c.reporter_id)
            .where(cases.c.channel == channel)
            .where(~cases.c.id.in_(select(case_contacts.c.case_id)))
            .order_by(cases.c.id)
        )
        return [(int(r.id), int(r.reporter_id)) for r in self.conn.execute(stmt)]

    def sealed_columns(self) -> list[SealedValues]:
        """Every encrypted column of the schema, for key rotation and key-usage reports."""
        return [SealedValues(self.conn, s) for s in SEALED_COLUMNS]

    def indexed_columns(self) -> list[IndexedValues]:
        """Every blind-index column with the sealed column it indexes, for re-keying the index."""
        return [IndexedValues(self.conn, i) for i in BLIND_INDEXES]


class SealedValues:
    """Reads and rewrites the sealed values of one column in key order (for key rotation)."""

    def __init__(self, conn: Connection, sealed: SealedColumn) -> None:
        self.conn = conn
        self.sealed = sealed

    @property
    def name(self) -> str:
        return f"{self.sealed.table.name}.{self.sealed.column.name}"

    @property
    def context(self) -> str:
        return self.sealed.context

    def count(self) -> int:
        s = self.sealed
        return int(
            self.conn.execute(
                select(func.count()).select_from(s.table).where(s.column.is_not(None))
            ).scalar_one()
        )

    def batch(self, after: Any, limit: int) -> list[tuple[Any, str]]:
        s = self.sealed
        stmt = select(s.key, s.column).where(s.column.is_not(None))
        if after is not None:
            stmt = stmt.where(s.key > after)
        return [(r[0], str(r[1])) for r in self.conn.execute(stmt.order_by(s.key).limit(limit))]

    def rewrite(self, key: Any, old: str, new: str) -> bool:
        """Replace one value if it is still `old` (a concurrent writer's newer value wins)."""
        s = self.sealed
        result = self.conn.execute(
            update(s.table).where(s.key == key, s.column == old).values({s.column.name: new})
        )
        return bool(result.rowcount)


@dataclass(frozen=True, slots=True)
class IndexedColumn:
    """A blind-index column and the sealed column whose plaintext it is computed from."""

    sealed: SealedColumn
    index: Column[Any]


BLIND_INDEXES: tuple[IndexedColumn, ...] = (
    IndexedColumn(SEALED_COLUMNS[1], case_contacts.c.phone_index),
    IndexedColumn(SEALED_COLUMNS[2], case_contacts.c.id_number_index),
    IndexedColumn(
        SealedColumn(hotline_calls, hotline_calls.c.id, hotline_calls.c.phone_enc, "contact.phone"),
        hotline_calls.c.phone_index,
    ),
)


class IndexedValues:
    """Reads (key, sealed value, index) in key order and rewrites one index (re-keying)."""

    def __init__(self, conn: Connection, indexed: IndexedColumn) -> None:
        self.conn = conn
        self.indexed = indexed

    @property
    def name(self) -> str:
        return f"{self.indexed.sealed.table.name}.{self.indexed.index.name}"

    @property
    def context(self) -> str:
        return self.indexed.sealed.context

    def count(self) -> int:
        return SealedValues(self.conn, self.indexed.sealed).count()

    def batch(self, after: Any, limit: int) -> list[tuple[Any, str, str | None]]:
        s, index = self.indexed.sealed, self.indexed.index
        stmt = select(s.key, s.column, index).where(s.column.is_not(None))
        if after is not None:
            stmt = stmt.where(s.key > after)
        rows = self.conn.execute(stmt.order_by(s.key).limit(limit))
        return [(r[0], str(r[1]), r[2]) for r in rows]

    def rewrite(self, key: Any, sealed: str, index: str) -> bool:
        """Set the index of one row whose sealed value is still `sealed`."""
        s = self.indexed.sealed
        result = self.conn.execute(
            update(s.table)
            .where(s.key == key, s.column == sealed)
            .values({self.indexed.index.name: index})
        )
        return bool(result.rowcount)
