"""Migration 0007 goes up and down on both databases and leaves the audit chain ready to use."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, select

from pingan.adapters.db.engine import make_engine
from pingan.adapters.db.migrate import alembic_config, upgrade
from pingan.adapters.db.tables import audit_head
from pingan.domain.audit import GENESIS
from tests.conftest import fresh_database_url

NEW_TABLES = {"case_contacts", "audit_log", "audit_head", "revoked_tokens", "user_totp"}


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_migration_0007_downgrades_and_upgrades_again(
    kind: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    pg = request.getfixturevalue("pg_server") if kind == "postgres" else None
    url, drop = fresh_database_url(kind, str(tmp_path_factory.mktemp("m0007")), pg)
    try:
        upgrade(url)
        command.downgrade(alembic_config(url), "0006")
        engine = make_engine(url)
        with engine.connect() as conn:
            assert not NEW_TABLES & set(inspect(conn).get_table_names())
        engine.dispose()
        upgrade(url)
        engine = make_engine(url)
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) >= NEW_TABLES
            assert conn.execute(select(audit_head)).all() == [(1, 0, GENESIS)]
        engine.dispose()
    finally:
        drop()  # type: ignore[operator]
