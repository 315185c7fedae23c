"""The case history as labelled text: what was reported, how it was classified, and which line of
government it was dispatched to. The classifier learns from this."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, select

from pingan.adapters.db.tables import cases, departments


@dataclass(frozen=True, slots=True)
class CaseText:
    title: str
    description: str
    category_code: str
    department_kind: str | None  # None when never dispatched

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.description}"


class CaseTextRepository:
    """Read-only and unscoped: training looks at the whole history, never serves it to a user."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def labelled(self, states_excluded: tuple[str, ...] = ("rejected",)) -> Iterator[CaseText]:
        """Every case not rejected as out of scope, oldest first, streamed in batches through a
        server-side cursor, which PostgreSQL opens only inside a transaction: read it in a
        `snapshot` unit of work (a plain reader runs in autocommit there)."""
        if self.conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            raise RuntimeError("the case history streams: read it with uows(snapshot=True)")
        query = (
            select(cases.c.title, cases.c.description, cases.c.category_code, departments.c.kind)
            .select_from(cases.outerjoin(departments, cases.c.department_id == departments.c.id))
            .where(cases.c.state.not_in(states_excluded), cases.c.merged_into.is_(None))
            .order_by(cases.c.id)
            .execution_options(yield_per=2000)
        )
        for row in self.conn.execute(query):
            yield CaseText(row.title, row.description, row.category_code, row.kind)
