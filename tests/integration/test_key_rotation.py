"""Key rotation: every sealed value moves to the new key, stays readable, and the old key can go."""

from __future__ import annotations

import base64
import os

import pytest
from typer.testing import CliRunner

from pingan.adapters.crypto import Keyring, keyring_from
from pingan.cli import app as cli
from pingan.services.keys import key_usage, rotate_keys
from pingan.services.personal_data import read_contact
from tests.integration.conftest import World


def _with_new_key(dev: str) -> tuple[str, str, str]:
    """(setting with k2 active, setting back on dev1 keeping k2, k2 alone with the index key)."""
    k2 = base64.b64encode(os.urandom(32)).decode()
    index = dict(p.split("=", 1) for p in dev.split(";"))["index"]
    forward = dev.replace("active=dev1", "active=k2") + f";k2={k2}"
    back = dev + f";k2={k2}"
    return forward, back, f"active=k2;k2={k2};index={index}"


def test_rotation_re_encrypts_everything_and_the_old_key_can_be_removed(world: World) -> None:
    dev = world.rt.settings.data_keys
    forward, back, only_new = _with_new_key(dev)
    before = key_usage(world.rt.uows, keyring_from(dev))
    assert sum(before["case_contacts.phone_enc"].values()) > 0
    assert set(before["case_contacts.phone_enc"]) == {"dev1"}

    result = CliRunner().invoke(
        cli,
        ["keys", "rotate", "--url", world.url, "--batch", "3"],
        env={"PINGAN_DATA_KEYS": forward},
    )
    try:
        assert result.exit_code == 0, result.output
        after = key_usage(world.rt.uows, keyring_from(forward))
        for column, counts in after.items():
            assert set(counts) <= {"k2"}, column
            assert sum(counts.values()) == sum(before[column].values())
        new_only = Keyring.from_setting(only_new)  # dev1 removed: everything still opens
        with world.rt.uows(readonly=True) as uow:
            for column in uow.contacts.sealed_columns():
                for _key, value in column.batch(None, 100_000):
                    assert new_only.decrypt(value, column.context)
        case_id = next(iter(_contact_case_ids(world)))
        with world.rt.uows(readonly=True) as uow:
            commander = uow.users.by_username(f"cmd.{world.city.units[0].unit.code}").actor()
        with world.rt.uows(commander) as uow:
            assert read_contact(uow, commander, new_only, case_id, world.rt.env, reveal=True).phone
        again = rotate_keys(world.rt.uows, keyring_from(forward), world.rt.env)
        assert again.rewritten == 0 and again.already_current > 0
    finally:  # back to the key the rest of the suite reads with
        rotate_keys(world.rt.uows, keyring_from(back), world.rt.env)
    assert all(set(c) <= {"dev1"} for c in key_usage(world.rt.uows, keyring_from(dev)).values())
    with world.rt.uows(readonly=True) as uow:
        assert uow.audit.entries(0, 100_000, "keys.rotated")


def test_an_interrupted_rotation_resumes_where_it_stopped(world: World) -> None:
    dev = world.rt.settings.data_keys
    forward, back, _only = _with_new_key(dev)
    calls = 0

    def crash_after_first_batch(_column: str, done: int, _total: int) -> None:
        nonlocal calls
        calls += 1
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rotate_keys(
            world.rt.uows,
            keyring_from(forward),
            world.rt.env,
            batch=2,
            progress=crash_after_first_batch,
        )
    partial = key_usage(world.rt.uows, keyring_from(forward))["case_contacts.name_enc"]
    assert partial["k2"] == 2 and partial["dev1"] > 0
    try:
        report = rotate_keys(world.rt.uows, keyring_from(forward), world.rt.env, batch=2)
        assert report.already_current >= 2
        done = key_usage(world.rt.uows, keyring_from(forward))
        assert all(set(c) <= {"k2"} for c in done.values())
    finally:
        rotate_keys(world.rt.uows, keyring_from(back), world.rt.env)


def _contact_case_ids(world: World) -> list[int]:
    from sqlalchemy import select

    from pingan.adapters.db.tables import case_contacts

    with world.rt.uows(readonly=True) as uow:
        return [int(r[0]) for r in uow.connection.execute(select(case_contacts.c.case_id))]


def test_a_new_blind_index_key_is_applied_by_reindexing(world: World) -> None:
    import re

    from pingan.services.keys import reindex
    from pingan.services.personal_data import find_by_contact

    dev = world.rt.settings.data_keys
    new_index = base64.b64encode(os.urandom(32)).decode()
    rekeyed = re.sub(r"index=[^;]+", f"index={new_index}", dev)
    operator_name = f"op.{world.town().unit.code}"
    operator = world.client(operator_name)
    case = world.report(operator, title="来电反映路灯不亮")
    phone = "13700001234"
    assert operator.put(f"/api/v1/cases/{case['id']}/contact", json={"phone": phone}).is_success
    with world.rt.uows(readonly=True) as uow:
        actor = uow.users.by_username(operator_name).actor()

    def found(setting: str) -> bool:
        with world.rt.uows(actor) as uow:
            hits = find_by_contact(uow, actor, keyring_from(setting), world.rt.env, phone=phone)
        return case["id"] in {h.case.id for h in hits}

    assert found(dev) and not found(rekeyed)
    result = CliRunner().invoke(
        cli, ["keys", "reindex", "--url", world.url], env={"PINGAN_DATA_KEYS": rekeyed}
    )
    try:
        assert result.exit_code == 0, result.output
        assert found(rekeyed) and not found(dev)
        assert reindex(world.rt.uows, keyring_from(rekeyed), world.rt.env) == 0  # idempotent
    finally:
        reindex(world.rt.uows, keyring_from(dev), world.rt.env)
    assert found(dev)


def test_the_key_commands_open_only_the_database_and_the_keyring(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Key upkeep needs no bus, relay, calendar or grid index, so it runs wherever the database
    can be reached."""
    from pingan.api.runtime import Runtime

    def no_runtime(*_args: object, **_kwargs: object) -> Runtime:
        raise AssertionError("a key command built the whole runtime")

    monkeypatch.setattr(Runtime, "build", no_runtime)
    keys = {"PINGAN_DATA_KEYS": world.rt.settings.data_keys}
    expected = {
        "status": "dev1",
        "rotate": "rotated 0 value(s) to key dev1",
        "reindex": "re-keyed 0",
    }
    for command, says in expected.items():
        result = CliRunner().invoke(cli, ["keys", command, "--url", world.url], env=keys)
        assert result.exit_code == 0, (command, result.output, result.exception)
        assert says in result.output
