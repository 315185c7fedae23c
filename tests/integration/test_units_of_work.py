"""Readers and writers: a reader (`uows(readonly=True)`) neither commits nor writes, on SQLite and
PostgreSQL alike, and leaves its pooled connection as a writer expects to find it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from pingan.adapters.db.engine import ReadOnlyWrite
from pingan.adapters.db.tables import revoked_tokens
from tests.integration.conftest import World


def _stamps(world: World) -> dict[str, object]:
    now = world.clock.now
    return {"user_id": 1, "expires_at": now, "revoked_at": now}


def _revoked(world: World, jti: str) -> int:
    with world.rt.engine.connect() as conn:
        stmt = select(func.count()).select_from(revoked_tokens).where(revoked_tokens.c.jti == jti)
        return int(conn.execute(stmt).scalar_one())


def test_a_reader_cannot_write_or_commit_and_nothing_is_stored(world: World) -> None:
    row = {"jti": "reader-write-probe", **_stamps(world)}
    with world.rt.uows(readonly=True) as uow:
        with pytest.raises(ReadOnlyWrite):
            uow.connection.execute(insert(revoked_tokens).values(**row))
        with pytest.raises(RuntimeError, match="cannot commit"):
            uow.commit()
    assert _revoked(world, "reader-write-probe") == 0


def test_a_writer_after_many_readers_still_has_its_transaction(world: World) -> None:
    """Readers run in autocommit on PostgreSQL; the pool must hand the next writer a connection
    whose uncommitted work is rolled back when it leaves without committing."""
    for _ in range(12):  # more than the pool holds, so writers reuse readers' connections
        with world.rt.uows(readonly=True) as uow:
            uow.users.get(1)
    row = {"jti": "writer-rollback-probe", **_stamps(world)}
    with world.rt.uows() as uow:
        uow.connection.execute(insert(revoked_tokens).values(**row))  # no commit
    assert _revoked(world, "writer-rollback-probe") == 0
    with world.rt.uows() as uow:
        uow.connection.execute(insert(revoked_tokens).values(**row))
        uow.commit()
    assert _revoked(world, "writer-rollback-probe") == 1


def test_the_case_history_streams_only_in_a_snapshot(world: World) -> None:
    with world.rt.uows(snapshot=True) as uow:
        assert sum(1 for _ in uow.case_texts.labelled()) >= 0
    if world.rt.engine.dialect.name == "postgresql":
        with world.rt.uows(readonly=True) as uow, pytest.raises(RuntimeError, match="snapshot"):
            next(iter(uow.case_texts.labelled()))
