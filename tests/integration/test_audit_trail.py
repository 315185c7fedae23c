"""The audit trail: append-only for the application, hash-chained so tampering shows."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from pingan.adapters.db.engine import make_engine
from pingan.adapters.db.migrate import upgrade
from pingan.adapters.db.tables import audit_head, audit_log
from pingan.adapters.db.uow import UnitOfWorkFactory
from pingan.cli import app as cli
from pingan.domain.access import Actor, Role
from pingan.domain.audit import GENESIS
from tests.conftest import fresh_database_url
from tests.integration.conftest import World

AT = datetime(2026, 11, 25, 1, 2, 3, 456789, tzinfo=UTC)
CLERK = Actor(user_id=7, username="clerk", role=Role.OPERATOR, jurisdiction="330400")


@pytest.fixture(params=["sqlite", "postgres"])
def trail(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, UnitOfWorkFactory]]:
    """A freshly migrated, empty database of each kind: tampering here harms no other test."""
    pg = request.getfixturevalue("pg_server") if request.param == "postgres" else None
    url, drop = fresh_database_url(request.param, str(tmp_path_factory.mktemp("audit")), pg)
    upgrade(url)
    engine = make_engine(url)
    yield url, UnitOfWorkFactory(engine)
    engine.dispose()
    drop()  # type: ignore[operator]


def append(uows: UnitOfWorkFactory, n: int, action: str = "pii.reveal") -> None:
    for i in range(n):
        with uows(CLERK) as uow:
            uow.audit.append(CLERK, action, AT, f"case:{i}", {"fields": ["phone"], "n": i})
            uow.commit()


def test_entries_chain_from_the_genesis_hash(trail: tuple[str, UnitOfWorkFactory]) -> None:
    _url, uows = trail
    append(uows, 3)
    with uows(readonly=True) as uow:
        rows = uow.audit.entries()
        assert uow.audit.verify() == (3, None)
    assert [e.seq for e, _h in rows] == [1, 2, 3]
    assert rows[0][0].at == AT and rows[0][0].detail == {"fields": ["phone"], "n": 0}


def test_the_application_can_neither_update_nor_delete_an_entry(
    trail: tuple[str, UnitOfWorkFactory],
) -> None:
    _url, uows = trail
    append(uows, 2)
    for statement in (
        update(audit_log).where(audit_log.c.seq == 1).values(subject="case:999"),
        audit_log.delete().where(audit_log.c.seq == 2),
        update(audit_head).values(seq=0, hash=GENESIS),
        audit_head.delete(),
    ):
        with pytest.raises(DBAPIError), uows() as uow:
            uow.connection.execute(statement)
    with uows(readonly=True) as uow:
        assert uow.audit.verify() == (2, None)


def test_an_edit_made_behind_the_triggers_is_found_by_verify(
    trail: tuple[str, UnitOfWorkFactory],
) -> None:
    url, uows = trail
    append(uows, 5)
    with uows() as uow:  # a DBA who can switch triggers off rewrites entry 3
        conn = uow.connection
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(subject="case:42"))
        uow.commit()
    with uows(readonly=True) as uow:
        _checked, broken = uow.audit.verify()
    assert broken is not None and (broken.seq, broken.reason) == (3, "hash")
    result = CliRunner().invoke(cli, ["audit", "verify", "--url", url])
    assert result.exit_code == 1
    assert "broken at entry 3" in result.output


def test_deleting_the_newest_entries_is_found_as_a_truncated_chain(
    trail: tuple[str, UnitOfWorkFactory],
) -> None:
    _url, uows = trail
    append(uows, 4)
    with uows() as uow:
        conn = uow.connection
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
        conn.execute(audit_log.delete().where(audit_log.c.seq == 4))
        uow.commit()
    with uows(readonly=True) as uow:
        _checked, broken = uow.audit.verify()
    assert broken is not None and (broken.seq, broken.reason) == (4, "truncated")


def test_concurrent_writers_never_fork_the_chain(trail: tuple[str, UnitOfWorkFactory]) -> None:
    _url, uows = trail
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            append(uows, 25)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with uows(readonly=True) as uow:
        assert uow.audit.verify() == (100, None)
        assert [e.seq for e, _h in uow.audit.entries(0, 1000)] == list(range(1, 101))


def test_verify_on_a_clean_trail_exits_zero(trail: tuple[str, UnitOfWorkFactory]) -> None:
    url, uows = trail
    append(uows, 2)
    result = CliRunner().invoke(cli, ["audit", "verify", "--url", url])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_sign_ins_and_failures_are_on_the_record(world: World) -> None:
    anon = world.client()
    anon.post("/api/v1/auth/token", data={"username": "citizen12", "password": "wrong"})
    world.client("citizen12").get("/api/v1/me")
    with world.rt.uows(readonly=True) as uow:
        failed = [e for e, _h in uow.audit.entries(0, 100_000, "auth.login_failed")]
        ok = [e for e, _h in uow.audit.entries(0, 100_000, "auth.login")]
    assert any(e.subject == "user:citizen12" for e in failed)
    assert any(e.subject == "user:citizen12" and e.actor_id > 0 for e in ok)


def test_auditors_read_and_verify_the_trail_over_http_and_others_may_not(world: World) -> None:
    auditor = world.client("auditor")
    r = auditor.get("/api/v1/audit/verify")
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True and r.json()["checked"] > 0
    entries = auditor.get("/api/v1/audit", params={"limit": 5}).json()
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert entries[-1]["hash"] and len(entries) >= 3
    operator = world.client(f"op.{world.town().unit.code}")
    assert operator.get("/api/v1/audit/verify").status_code == 403
    assert operator.get("/api/v1/audit").json()["error"]["code"] == "audit.not_permitted"
