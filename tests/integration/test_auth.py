"""Signing in: Argon2id, throttling per account and client, tokens that cannot be forged."""

from __future__ import annotations

import jwt
import pytest
from sqlalchemy import update

from pingan.adapters.db.tables import users
from pingan.adapters.passwords import HASHER, verify_password
from pingan.domain.errors import DomainError
from pingan.services.accounts import AuthFailed, Throttled, login
from tests.integration.conftest import World


def test_passwords_are_hashed_with_argon2id_at_owasp_strength(world: World) -> None:
    with world.rt.uows(readonly=True) as uow:
        user = uow.users.by_username("admin")
    assert user.password_hash.startswith("$argon2id$")
    assert HASHER.memory_cost >= 19 * 1024 and HASHER.time_cost >= 2


def test_wrong_password_is_401_without_saying_which_part_was_wrong(world: World) -> None:
    client = world.client(lang="en")
    bad_pw = client.post("/api/v1/auth/token", data={"username": "admin", "password": "nope"})
    no_user = client.post("/api/v1/auth/token", data={"username": "nobody", "password": "nope"})
    assert bad_pw.status_code == no_user.status_code == 401
    assert bad_pw.json()["error"]["message"] == no_user.json()["error"]["message"]


def test_repeated_failures_throttle_that_client_but_not_the_account_elsewhere(world: World) -> None:
    env = world.rt.env
    for _ in range(5):
        with pytest.raises(AuthFailed), world.rt.uows() as uow:
            login(uow, "cmd.330400", "guess", "10.0.0.66", env, verify_password, 5, 900)
    with pytest.raises(Throttled), world.rt.uows() as uow:
        login(uow, "cmd.330400", "Pingan@2019", "10.0.0.66", env, verify_password, 5, 900)
    with world.rt.uows() as uow:  # the commander at their own desk still gets in
        assert login(
            uow, "cmd.330400", "Pingan@2019", "10.0.0.1", env, verify_password, 5, 900
        ).user_id


def test_tampered_none_algorithm_and_unknown_tokens_are_refused(world: World) -> None:
    token = world.token("citizen30")
    header, payload, signature = token.split(".")
    forged = jwt.encode({"sub": "1", "exp": 4_102_444_800, "iat": 0}, key="", algorithm="none")
    for bad in (f"{header}.{payload}.{signature[:-2]}xx", forged, "garbage"):
        r = world.client().get("/api/v1/me", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401


def test_a_disabled_user_is_locked_out_at_once(world: World) -> None:
    client = world.client("citizen31")
    assert client.get("/api/v1/me").status_code == 200
    with world.rt.uows() as uow:
        uow.connection.execute(
            update(users).where(users.c.username == "citizen31").values(disabled=True)
        )
        uow.commit()
    assert client.get("/api/v1/me").status_code == 401


def test_tokens_expire_on_the_injected_clock(world: World) -> None:
    client = world.client("citizen32")
    saved = world.clock.now
    try:
        world.clock.advance(hours=13)
        assert client.get("/api/v1/me").status_code == 401
    finally:
        world.clock.now = saved


def test_errors_are_domain_errors_with_stable_codes() -> None:
    assert issubclass(AuthFailed, DomainError) and AuthFailed().code == "auth.failed"
