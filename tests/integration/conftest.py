"""A small seeded demo city on each database, and HTTP clients signed in as its people."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient

from pingan.adapters.crypto import keyring_from
from pingan.adapters.db.migrate import upgrade
from pingan.adapters.media import MediaStore
from pingan.adapters.passwords import hash_password
from pingan.api.app import create_app
from pingan.api.runtime import Runtime
from pingan.config import Settings
from pingan.demo.city import DemoCity, generate_small_city
from pingan.demo.photos import striped_png
from pingan.demo.seed import DEMO_PASSWORD, DEMO_TOTP_SECRET, DEMO_TOTP_USERS, seed
from pingan.domain.access import SYSTEM_ACTOR
from pingan.domain.geo import UnitLevel
from tests.conftest import FakeClock, fresh_database_url

PASSWORD_HASH = hash_password(DEMO_PASSWORD)


@dataclass
class World:
    """One seeded database, its runtime (with a fake clock) and helpers to act in it."""

    url: str
    rt: Runtime
    app: Any
    clock: FakeClock
    city: DemoCity
    _tokens: dict[str, str]
    _totp_issued: dict[str, tuple[datetime, str]] = field(default_factory=dict)

    def client(self, username: str | None = None, lang: str = "en") -> TestClient:
        client = TestClient(self.app, raise_server_exceptions=True)
        client.headers["Accept-Language"] = lang
        if username:
            client.headers["Authorization"] = f"Bearer {self.token(username)}"
        return client

    def token(self, username: str) -> str:
        """A token valid at the clock's present time (tests move the clock)."""
        key = f"{username}@{self.clock.now.isoformat()}"
        if username in DEMO_TOTP_USERS:  # a TOTP code works once: reuse a token while it lasts
            issued = self._totp_issued.get(username)
            if issued and issued[0] <= self.clock.now < issued[0] + timedelta(hours=11):
                return issued[1]
        if key not in self._tokens:
            anon = TestClient(self.app)
            form = {"username": username, "password": DEMO_PASSWORD}
            if username in DEMO_TOTP_USERS:
                form["totp"] = pyotp.TOTP(DEMO_TOTP_SECRET).at(self.clock.now)
            r = anon.post("/api/v1/auth/token", data=form)
            assert r.status_code == 200, r.text
            self._tokens[key] = r.json()["access_token"]
            if username in DEMO_TOTP_USERS:
                self._totp_issued[username] = (self.clock.now, self._tokens[key])
        return self._tokens[key]

    def grids(self, town_index: int = 0, district_index: int = 0) -> list[Any]:
        district = self.city.at_level(UnitLevel.DISTRICT)[district_index]
        town = self.city.children(district.unit.path)[town_index]
        return [
            g
            for g in self.city.at_level(UnitLevel.GRID)
            if g.unit.path.startswith(town.unit.path + ".")
        ]

    def town(self, town_index: int = 0, district_index: int = 0) -> Any:
        district = self.city.at_level(UnitLevel.DISTRICT)[district_index]
        return self.city.children(district.unit.path)[town_index]

    def district(self, district_index: int = 0) -> Any:
        return self.city.at_level(UnitLevel.DISTRICT)[district_index]

    def photo(self, client: TestClient) -> int:
        r = client.post(
            "/api/v1/attachments", files={"file": ("p.png", striped_png(), "image/png")}
        )
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def report(self, client: TestClient, grid: Any = None, **overrides: Any) -> dict[str, Any]:
        grid = grid or self.grids()[0]
        body = {
            "category_code": "E0102",
            "title": "暴露垃圾",
            "description": "路边垃圾堆积",
            "lng": grid.lng,
            "lat": grid.lat,
            **overrides,
        }
        r = client.post("/api/v1/cases", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def act(self, client: TestClient, case: dict[str, Any], action: str, **body: Any) -> Any:
        return client.post(
            f"/api/v1/cases/{case['id']}/actions/{action}",
            json=body,
            headers={"If-Match": f'"{case["version"]}"'},
        )


CITY = generate_small_city()


def build_world(kind: str, tmp_dir: str, pg_admin: str | None) -> tuple[World, Callable[[], None]]:
    url, drop = fresh_database_url(kind, tmp_dir, pg_admin)
    upgrade(url)
    clock = FakeClock()
    settings = Settings(database_url=url, media_dir=f"{tmp_dir}/media-{kind}", run_workers=False)
    rt = Runtime.build(settings, clock)
    seed(
        rt.uows,
        SYSTEM_ACTOR,
        CITY,
        rt.env,
        PASSWORD_HASH,
        MediaStore(settings.media_dir).put,
        weeks=1,
        cases_per_day=4,
        sealer=keyring_from(settings.data_keys),
    )
    rt.locator.reload()
    app = create_app(runtime=rt, start_workers=False)
    world = World(url, rt, app, clock, CITY, {})

    def close() -> None:
        rt.engine.dispose()
        drop()  # type: ignore[operator]

    return world, close


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    pg = request.getfixturevalue("pg_server") if request.param == "postgres" else None
    w, close = build_world(request.param, str(tmp_path_factory.mktemp(request.param)), pg)
    yield w
    close()
