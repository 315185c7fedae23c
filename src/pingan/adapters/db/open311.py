"""Open311 storage: API keys (as hashes), media links, and the public read side of Open311 cases.

The read side deliberately bypasses the per-actor case scope: Open311's GET requests is public by
the standard, so it is confined instead to cases filed through the Open311 channel.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pingan.adapters.db.cases import _to_case
from pingan.adapters.db.tables import (
    case_timeline,
    cases,
    departments,
    open311_keys,
    open311_media,
    units,
)
from pingan.domain.geo import PATH_SEP, UnitLevel
from pingan.services.open311 import PUBLIC_NOTE_ACTIONS, Place, RequestQuery, RequestRecord


class Open311Repository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_key(self, key_hash: str, app_name: str, user_id: int, now: datetime) -> int:
        return int(
            self.conn.execute(
                insert(open311_keys)
                .values(
                    key_hash=key_hash,
                    app_name=app_name,
                    user_id=user_id,
                    created_at=now,
                    disabled=False,
                )
                .returning(open311_keys.c.id)
            ).scalar_one()
        )

    def key_user(self, key_hash: str) -> int | None:
        """The user an enabled key files as; None for an unknown or disabled key."""
        value = self.conn.execute(
            select(open311_keys.c.user_id).where(
                open311_keys.c.key_hash == key_hash, open311_keys.c.disabled.is_(False)
            )
        ).scalar_one_or_none()
        return int(value) if value is not None else None

    def disable_key(self, key_hash: str) -> bool:
        result = self.conn.execute(
            update(open311_keys).where(open311_keys.c.key_hash == key_hash).values(disabled=True)
        )
        return bool(result.rowcount)

    def link_media(self, case_id: int, media_url: str, now: datetime) -> None:
        self.conn.execute(
            insert(open311_media).values(case_id=case_id, media_url=media_url, created_at=now)
        )

    def places(self) -> list[Place]:
        """Every town, community and grid, without geometry, for matching addresses."""
        levels = [UnitLevel.TOWN.value, UnitLevel.COMMUNITY.value, UnitLevel.GRID.value]
        rows = self.conn.execute(
            select(
                units.c.code,
                units.c.path,
                units.c.level,
                units.c.name,
                units.c.name_en,
                units.c.center_lng,
                units.c.center_lat,
            ).where(units.c.level.in_(levels))
        )
        return [
            Place(
                r.code,
                r.path,
                UnitLevel(r.level),
                r.name,
                r.name_en or "",
                None if r.center_lng is None else (r.center_lng, r.center_lat),
            )
            for r in rows
        ]

    def requests(self, q: RequestQuery, channel: str) -> list[RequestRecord]:
        """Open311 cases matching `q`, newest first, with the names they are shown by."""
        stmt = (
            select(cases, open311_media.c.media_url)
            .select_from(cases.outerjoin(open311_media, open311_media.c.case_id == cases.c.id))
            .where(cases.c.channel == channel)
        )
        if q.ids:
            stmt = stmt.where(cases.c.tracking_no.in_(q.ids))
        else:
            if q.service_codes:
                stmt = stmt.where(cases.c.category_code.in_(q.service_codes))
            if q.start is not None:
                stmt = stmt.where(cases.c.created_at >= q.start)
            if q.end is not None:
                stmt = stmt.where(cases.c.created_at <= q.end)
            if q.states:
                stmt = stmt.where(cases.c.state.in_(q.states))
        rows = list(
            self.conn.execute(
                stmt.order_by(cases.c.created_at.desc(), cases.c.id.desc())
                .limit(q.limit)
                .offset(q.offset)
            )
        )
        found = [(_to_case(r), r.media_url) for r in rows]
        if not found:
            return []
        depts = self._departments({c.department_id for c, _ in found if c.department_id})
        names = self._unit_names(
            {code for c, _ in found for code in c.location_path.split(PATH_SEP)}
        )
        notes = self._notes([c.id for c, _ in found])
        return [
            RequestRecord(
                case=c,
                department=depts.get(c.department_id) if c.department_id else None,
                places=tuple(
                    names[code]
                    for code in reversed(c.location_path.split(PATH_SEP))
                    if code in names
                ),
                media_url=media_url,
                note=notes.get(c.id),
            )
            for c, media_url in found
        ]

    def _departments(self, ids: set[str]) -> dict[str, tuple[str, str]]:
        if not ids:
            return {}
        rows = self.conn.execute(
            select(departments.c.id, departments.c.name, departments.c.name_en).where(
                departments.c.id.in_(ids)
            )
        )
        return {r.id: (r.name, r.name_en or r.name) for r in rows}

    def _unit_names(self, codes: set[str]) -> dict[str, tuple[str, str]]:
        rows = self.conn.execute(
            select(units.c.code, units.c.name, units.c.name_en).where(units.c.code.in_(codes))
        )
        return {r.code: (r.name, r.name_en or r.name) for r in rows}

    def _notes(self, case_ids: list[int]) -> dict[int, str]:
        """The latest reporter-facing note of each case."""
        rows: Any = self.conn.execute(
            select(case_timeline.c.case_id, case_timeline.c.note)
            .where(
                case_timeline.c.case_id.in_(case_ids),
                case_timeline.c.note.is_not(None),
                case_timeline.c.note != "",
                case_timeline.c.action.in_(PUBLIC_NOTE_ACTIONS),
            )
            .order_by(case_timeline.c.case_id, case_timeline.c.seq)
        )
        return {int(r.case_id): str(r.note) for r in rows}
