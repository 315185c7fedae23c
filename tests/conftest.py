"""Shared fixtures: a controllable clock and the databases the suite runs against."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from pingan.domain.sla import CST

PG_ADMIN_URL = os.environ.get(
    "PINGAN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


class FakeClock:
    """A clock tests move by hand; starts on a Wednesday morning, China time."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 25, 9, 0, tzinfo=CST).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_server() -> str:
    if not _pg_available():
        if os.environ.get("PINGAN_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    return PG_ADMIN_URL


def fresh_database_url(kind: str, tmp_dir: str, pg_admin: str | None) -> tuple[str, object]:
    """A new empty database of the given kind, and a function that drops it."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_dir}/pingan-{uuid.uuid4().hex[:8]}.db", lambda: None
    import psycopg

    assert pg_admin is not None
    name = f"pingan_test_{uuid.uuid4().hex[:10]}"
    raw = pg_admin.replace("+psycopg", "")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    base = pg_admin.rsplit("/", 1)[0]
    return f"{base}/{name}", drop


def service_up(port: int) -> bool:
    """Whether something listens on 127.0.0.1:`port`."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def require_service(name: str, port: int, flag: str) -> None:
    """Skip a test whose server is not running, unless CI set `flag`=1: then fail it."""
    if not service_up(port):
        message = f"{name} not running at 127.0.0.1:{port}"
        if os.environ.get(flag) == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    yield FakeClock()
