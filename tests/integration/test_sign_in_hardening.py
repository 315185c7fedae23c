"""Sign-in hardening: sign-out revokes, expired tokens and enrolment tokens are refused, and
administrators and auditors cannot get a full token without a TOTP code."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, update

from pingan.adapters.db.tables import users
from pingan.adapters.passwords import HASHER, hash_password
from pingan.adapters.tokens import issue
from pingan.demo.seed import DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.integration.conftest import World


def sign_in(world: World, username: str, password: str = DEMO_PASSWORD, **extra: str) -> object:
    return world.client().post(
        "/api/v1/auth/token", data={"username": username, "password": password, **extra}
    )


def code(secret: str, world: World, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(world.clock.now + timedelta(seconds=30 * steps_ahead))


def test_argon2id_parameters_meet_owasp_minimums() -> None:
    assert HASHER.type.name == "ID"
    assert HASHER.memory_cost >= 19 * 1024  # KiB
    assert HASHER.time_cost >= 2
    assert HASHER.parallelism >= 1
    assert hash_password("x" * 12).startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_signed_out_token_is_refused_over_http_and_websocket(world: World) -> None:
    r = sign_in(world, "citizen40")
    token = r.json()["access_token"]  # type: ignore[attr-defined]
    client = world.client()
    client.headers["Authorization"] = f"Bearer {token}"
    assert client.get("/api/v1/me").status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert client.get("/api/v1/me").status_code == 401
    assert client.post("/api/v1/auth/logout").status_code == 401
    with TestClient(world.app).websocket_connect(f"/api/v1/ws?token={token}") as ws:
        closed = ws.receive()
    assert closed["type"] == "websocket.close" and closed["code"] == 4401
    another = world.client("citizen40")  # other sessions of the same user are unaffected
    assert another.get("/api/v1/me").status_code == 200


def test_an_expired_token_is_refused(world: World) -> None:
    with world.rt.uows(readonly=True) as uow:
        user = uow.users.by_username("citizen41")
    old = issue(
        world.rt.settings.secret_key,
        user.id,
        world.clock.now - timedelta(hours=13),
        timedelta(hours=12),
    )
    r = world.client().get("/api/v1/me", headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.invalid_token"


def test_a_token_signed_with_another_key_is_refused(world: World) -> None:
    forged = issue("another-secret-0123456789abcdef0123", 1, world.clock.now, timedelta(hours=1))
    r = world.client().get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401


def test_the_demo_administrator_needs_a_totp_code(world: World) -> None:
    r = sign_in(world, "auditor")
    assert r.status_code == 401  # type: ignore[attr-defined]
    assert r.json()["error"]["code"] == "auth.totp_required"  # type: ignore[attr-defined]
    r = sign_in(
        world, "auditor", totp="000000" if code(DEMO_TOTP_SECRET, world) != "000000" else "111111"
    )
    assert r.json()["error"]["code"] == "auth.totp_invalid"  # type: ignore[attr-defined]
    good = code(DEMO_TOTP_SECRET, world, steps_ahead=1)
    r = sign_in(world, "auditor", totp=good)
    assert r.status_code == 200 and r.json()["stage"] == "full"  # type: ignore[attr-defined]
    r = sign_in(world, "auditor", totp=good)  # the same code a second time
    assert r.json()["error"]["code"] == "auth.totp_invalid"  # type: ignore[attr-defined]
    world.clock.advance(seconds=61)  # past the step just used, for the auditor's next sign-in


def test_an_unenrolled_administrator_can_only_enrol_until_a_code_is_confirmed(world: World) -> None:
    with world.rt.uows() as uow:
        uow.users.add(
            username="admin.new",
            display_name="新管理员（模拟）",
            role="admin",
            jurisdiction=world.city.units[0].unit.path,
            password_hash=hash_password(DEMO_PASSWORD),
            disabled=False,
            synthetic=True,
            created_at=world.clock.now,
        )
        uow.commit()
    r = sign_in(world, "admin.new")
    assert r.status_code == 200  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["stage"] == "totp_enrol" and body["expires_in"] <= 600
    limited = world.client()
    limited.headers["Authorization"] = f"Bearer {body['access_token']}"
    assert limited.get("/api/v1/me").status_code == 401
    assert limited.get("/api/v1/dispatch-rules").status_code == 401

    enrolment = limited.post("/api/v1/auth/totp")
    assert enrolment.status_code == 201, enrolment.text
    uri = enrolment.json()["otpauth_uri"]
    assert uri.startswith("otpauth://totp/") and "admin.new" in uri
    secret = enrolment.json()["secret"]
    assert limited.post("/api/v1/auth/totp/confirm", json={"code": "12345"}).status_code == 422
    confirmed = limited.post("/api/v1/auth/totp/confirm", json={"code": code(secret, world)})
    assert confirmed.status_code == 200, confirmed.text
    full = world.client()
    full.headers["Authorization"] = f"Bearer {confirmed.json()['access_token']}"
    assert full.get("/api/v1/me").json()["username"] == "admin.new"
    assert full.post("/api/v1/auth/totp").json()["error"]["code"] == "auth.totp_already_enrolled"

    assert sign_in(world, "admin.new").json()["error"]["code"] == "auth.totp_required"  # type: ignore[attr-defined]
    r = sign_in(world, "admin.new", totp=code(secret, world, steps_ahead=1))
    assert r.status_code == 200 and r.json()["stage"] == "full"  # type: ignore[attr-defined]
    with world.rt.uows(readonly=True) as uow:
        record = uow.users.totp(uow.users.by_username("admin.new").id)
    assert record is not None and secret not in record.secret_enc


def test_commanders_may_enrol_a_second_factor_too(world: World) -> None:
    client = world.client(f"op.{world.city.units[0].unit.code}")
    r = client.post("/api/v1/auth/totp")
    assert r.status_code == 201
    assert sign_in(world, f"op.{world.city.units[0].unit.code}").status_code == 200  # type: ignore[attr-defined]


def test_a_disabled_user_is_refused_at_sign_in_and_with_a_live_token(world: World) -> None:
    client = world.client("citizen42")
    with world.rt.uows() as uow:
        uow.connection.execute(
            update(users).where(users.c.username == "citizen42").values(disabled=True)
        )
        uow.commit()
    assert client.get("/api/v1/me").status_code == 401
    assert sign_in(world, "citizen42").status_code == 401  # type: ignore[attr-defined]


def test_the_console_enrols_an_authenticator_before_the_first_sign_in(world: World) -> None:
    from urllib.parse import parse_qs, urlparse

    from typer.testing import CliRunner

    from pingan.cli import app as cli

    with world.rt.uows() as uow:
        uow.users.add(
            username="auditor.two",
            display_name="审计员二（模拟）",
            role="auditor",
            jurisdiction=world.city.units[0].unit.path,
            password_hash=hash_password(DEMO_PASSWORD),
            disabled=False,
            synthetic=True,
            created_at=world.clock.now,
        )
        uow.commit()
    result = CliRunner().invoke(cli, ["users", "totp", "auditor.two", "--url", world.url])
    assert result.exit_code == 0, result.output
    uri = result.output.split("discard: ", 1)[1].split()[0]
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    assert sign_in(world, "auditor.two").json()["error"]["code"] == "auth.totp_required"  # type: ignore[attr-defined]
    r = sign_in(world, "auditor.two", totp=code(secret, world))
    assert r.status_code == 200 and r.json()["stage"] == "full"  # type: ignore[attr-defined]


def test_an_open_websocket_is_closed_once_its_token_is_signed_out(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(world.rt.hub, "recheck_s", 0.1)
    token = sign_in(world, "citizen43").json()["access_token"]  # type: ignore[attr-defined]
    with TestClient(world.app).websocket_connect(f"/api/v1/ws?token={token}") as ws:
        assert ws.receive_json()["type"] == "hello"
        r = world.client().post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 204
        closed = ws.receive()
    assert closed["type"] == "websocket.close" and closed["code"] == 4401


def test_one_pass_rechecks_every_open_websocket_in_the_same_two_queries(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Open sockets are re-checked together, not one by one: a pass costs two queries however
    many are open, and closes exactly those signed out, disabled or expired since they opened."""
    monkeypatch.setattr(world.rt.hub, "recheck_s", 3600.0)  # only the pass run below
    names = ("citizen44", "citizen45", "citizen46", "citizen47")
    with world.rt.uows(readonly=True) as uow:
        ids = {n: uow.users.by_username(n).id for n in names}  # type: ignore[union-attr]
    secret, now = world.rt.settings.secret_key, world.clock.now
    signed_out = issue(secret, ids["citizen44"], now, timedelta(hours=12))
    disabled = issue(secret, ids["citizen45"], now, timedelta(hours=12))
    expiring = issue(secret, ids["citizen46"], now - timedelta(hours=11), timedelta(hours=12))
    kept = [issue(secret, ids["citizen47"], now, timedelta(hours=12)) for _ in range(4)]
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with ExitStack() as stack:
        sockets = {}
        for token in [signed_out, disabled, expiring, *kept]:
            client = TestClient(world.app)
            ws = stack.enter_context(client.websocket_connect(f"/api/v1/ws?token={token}"))
            assert ws.receive_json()["type"] == "hello"
            sockets[token] = ws
        r = world.client().post(
            "/api/v1/auth/logout", headers={"Authorization": f"Bearer {signed_out}"}
        )
        assert r.status_code == 204
        with world.rt.uows() as uow:
            uow.users.set_disabled(ids["citizen45"], True)
            uow.commit()
        saved = world.clock.now
        world.clock.advance(hours=2)
        event.listen(world.rt.engine, "before_cursor_execute", count)
        try:
            told = world.rt.hub.recheck()
        finally:
            event.remove(world.rt.engine, "before_cursor_execute", count)
            world.clock.now = saved
            with world.rt.uows() as uow:
                uow.users.set_disabled(ids["citizen45"], False)
                uow.commit()
        assert told == 3
        assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2
        for token in (signed_out, disabled, expiring):
            closed = sockets[token].receive()
            assert closed["type"] == "websocket.close" and closed["code"] == 4401
        world.rt.hub.send_to_user(ids["citizen47"], {"type": "still.open"})
        assert len(kept) == 4
        for token in kept:
            assert sockets[token].receive_json()["type"] == "still.open"
