"""Worlds for the reliability battery: seeded databases that tests may clone, restart and abuse.

`world` is the integration suite's seeded city on SQLite and PostgreSQL (one per session, so the
battery never disturbs the other suites). `template` builds one seeded database per kind and hands
out cheap clones, so a Hypothesis example can start from a clean city in milliseconds.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from pingan.adapters.db.migrate import upgrade
from pingan.api.runtime import Runtime
from pingan.config import Settings
from pingan.demo.seed import seed
from pingan.domain.access import SYSTEM_ACTOR
from pingan.services.clocks import run_clocks
from tests.conftest import FakeClock, fresh_database_url
from tests.integration.conftest import CITY, PASSWORD_HASH, World, build_world


def budget(name: str, default: int) -> int:
    """Small example counts for `make test`; `PINGAN_SOAK=1` or a named override raises them."""
    override = os.environ.get(f"PINGAN_RELIABILITY_{name}")
    if override:
        return int(override)
    return default * 20 if os.environ.get("PINGAN_SOAK") == "1" else default


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    pg = request.getfixturevalue("pg_server") if request.param == "postgres" else None
    w, close = build_world(request.param, str(tmp_path_factory.mktemp(request.param)), pg)
    yield w
    close()


@dataclass
class Template:
    """A migrated, seeded database with no case history; `clone()` copies it for one example."""

    kind: str
    url: str
    root: Path
    pg_admin: str | None
    _clones: list[Callable[[], None]] = field(default_factory=list)

    def clone(self) -> tuple[str, Callable[[], None]]:
        if self.kind == "sqlite":
            target = self.root / f"clone-{uuid.uuid4().hex[:8]}.db"
            source = self.url.removeprefix("sqlite:///")
            shutil.copyfile(source, target)
            if Path(f"{source}-wal").exists():
                shutil.copyfile(f"{source}-wal", f"{target}-wal")

            def remove() -> None:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{target}{suffix}").unlink(missing_ok=True)

            return f"sqlite:///{target}", remove
        assert self.pg_admin is not None
        name = f"pingan_rel_{uuid.uuid4().hex[:10]}"
        template = self.url.rsplit("/", 1)[1]
        raw = self.pg_admin.replace("+psycopg", "")
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

        def drop() -> None:
            with psycopg.connect(raw, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return f"{self.pg_admin.rsplit('/', 1)[0]}/{name}", drop

    def settings(self, url: str) -> Settings:
        return Settings(database_url=url, media_dir=self.root / "media", run_workers=False)


def build_template(
    kind: str, root: Path, pg_admin: str | None
) -> tuple[Template, Callable[[], None]]:
    url, drop = fresh_database_url(kind, str(root), pg_admin)
    upgrade(url)
    clock = FakeClock()
    settings = Settings(database_url=url, media_dir=root / "media", run_workers=False)
    rt = Runtime.build(settings, clock)
    seed(
        rt.uows,
        SYSTEM_ACTOR,
        CITY,
        rt.env,
        PASSWORD_HASH,
        lambda data: ("0" * 64, "none"),
        weeks=0,
        cases_per_day=0,
    )
    run_clocks(rt.uows, rt.env)
    rt.engine.dispose()
    return Template(kind, url, root, pg_admin), drop  # type: ignore[return-value]


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Template]:
    pg = request.getfixturevalue("pg_server") if request.param == "postgres" else None
    tpl, drop = build_template(request.param, tmp_path_factory.mktemp(f"tpl-{request.param}"), pg)
    yield tpl
    drop()
