"""Which external ids have been imported as cases, so that importing a file again adds nothing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, insert, select

from pingan.adapters.db.webhook_tables import case_imports


class CaseImportRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def known(self, external_ids: Iterable[str]) -> set[str]:
        ids = list(dict.fromkeys(external_ids))
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found.update(
                self.conn.execute(
                    select(case_imports.c.external_id).where(case_imports.c.external_id.in_(chunk))
                ).scalars()
            )
        return found

    def add(self, external_id: str, case_id: int, source: str, now: datetime) -> None:
        self.conn.execute(
            insert(case_imports).values(
                external_id=external_id, case_id=case_id, source=source[:200], imported_at=now
            )
        )
