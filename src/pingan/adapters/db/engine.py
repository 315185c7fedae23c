"""Engines for the two supported stores.

SQLite runs in WAL mode with `synchronous=FULL`, so a commit acknowledged to a client survives a
power cut; writers take the lock up front (`BEGIN IMMEDIATE`) so two writers never deadlock halfway
through a transaction. PostgreSQL runs through psycopg 3 with a small pool.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

READONLY = "pingan_readonly"
_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER", "TRUNCATE")


class ReadOnlyWrite(RuntimeError):
    """A statement that changes data was sent through a reader's connection."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(url, **kwargs)
    else:
        if parsed.drivername == "postgresql":
            url = str(parsed.set(drivername="postgresql+psycopg"))
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **kwargs)
    _refuse_writes_in_readers(engine)
    return engine


def _refuse_writes_in_readers(engine: Engine) -> None:
    """A reader on PostgreSQL has no transaction to roll back (it runs in autocommit), and on
    SQLite its writes would be dropped silently: either way a write there is a bug, so it is
    refused before it reaches the database, alike on both."""

    @event.listens_for(engine, "before_cursor_execute")
    def _check(conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if conn.get_execution_options().get(READONLY) and statement.lstrip()[:8].upper().startswith(
            _WRITES
        ):
            raise ReadOnlyWrite(statement.split(None, 3)[:3])


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
    kwargs.setdefault("pool_size", 8)
    kwargs.setdefault("max_overflow", 16)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = "DEFERRED" if conn.get_execution_options().get(READONLY) else "IMMEDIATE"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


_WRITE_LOCKS: dict[int, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def writer_lock(engine: Engine) -> threading.Lock | None:
    """SQLite admits one writer at a time. Queueing writers of this process on a lock hands the
    database over as soon as it is free, instead of SQLite's busy handler sleeping and retrying
    (which is what made tail latency jump under concurrent writes). Other processes still queue
    through `busy_timeout`. PostgreSQL needs no such lock."""
    if not is_sqlite(engine):
        return None
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(id(engine), threading.Lock())
