"""Jurisdiction filters applied by every repository read, so no endpoint can forget them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, and_, false, or_, true

from pingan.domain.access import Actor, Role
from pingan.domain.geo import PATH_SEP


def within(column: Any, path: str) -> ColumnElement[bool]:
    """`column` is `path` or below it; a range, so both databases use the index."""
    if not path:
        return true()
    return or_(
        column == path,
        and_(column > path + PATH_SEP, column < path + chr(ord(PATH_SEP) + 1)),
    )


def case_scope(actor: Actor, table: Table) -> ColumnElement[bool]:
    """Which cases an actor may read at all."""
    role = actor.role
    if role is Role.SYSTEM:
        return true()
    if role is Role.CITIZEN:
        return table.c.reporter_id == actor.user_id
    if role is Role.HANDLER:
        if actor.department_id is None:
            return false()
        return and_(
            table.c.department_id == actor.department_id,
            within(table.c.location_path, actor.jurisdiction),
        )
    if role is Role.GRID_WORKER:
        return or_(
            within(table.c.location_path, actor.jurisdiction),
            table.c.reporter_id == actor.user_id,
        )
    return within(table.c.location_path, actor.jurisdiction)
