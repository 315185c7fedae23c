"""Personal data: stored encrypted with a blind index, masked by default, revealed on the record."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from pingan.adapters.crypto import keyring_from
from pingan.adapters.db.hotline_tables import hotline_calls
from pingan.adapters.db.tables import audit_log, case_contacts
from pingan.domain.identity import check_character
from pingan.services.personal_data import read_contact
from tests.integration.conftest import World

PHONE = "13912345678"
ID_FIRST17 = "33040219850612301"
ID_NUMBER = ID_FIRST17 + check_character(ID_FIRST17)
NAME = "测试居民"


def hotline_case(world: World) -> dict[str, Any]:
    operator = world.client(f"op.{world.town().unit.code}")
    return world.report(operator, title="来电反映噪音扰民")


def record(world: World, case: dict[str, Any], **contact: str) -> Any:
    operator = world.client(f"op.{world.town().unit.code}")
    body = contact or {"name": NAME, "phone": PHONE, "id_number": ID_NUMBER}
    return operator.put(f"/api/v1/cases/{case['id']}/contact", json=body)


def commander(world: World) -> Any:
    return world.client(f"cmd.{world.district().unit.code}")


def seeded_plaintexts(world: World) -> set[str]:
    """Every phone and identity number the seed stored, decrypted here to search the dump."""
    keys = keyring_from(world.rt.settings.data_keys)
    found: set[str] = set()
    with world.rt.uows(readonly=True) as uow:
        for row in uow.connection.execute(select(case_contacts)):
            if row.phone_enc:
                found.add(keys.decrypt(row.phone_enc, "contact.phone"))
            if row.id_number_enc:
                found.add(keys.decrypt(row.id_number_enc, "contact.id_number"))
        for row in uow.connection.execute(select(hotline_calls)):
            found.add(keys.decrypt(row.phone_enc, "contact.phone"))
    return found


def test_recorded_contact_is_answered_masked(world: World) -> None:
    case = hotline_case(world)
    r = record(world, case)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "name": "测***",
        "phone": "139****5678",
        "id_number": ID_NUMBER[:6] + "********" + ID_NUMBER[-4:],
        "masked": True,
    }


def test_a_database_dump_holds_no_plaintext_phone_or_identity_number(world: World) -> None:
    record(world, hotline_case(world))
    secrets = seeded_plaintexts(world) | {PHONE, ID_NUMBER}
    assert len(secrets) > 4  # the seed made hotline callers too
    url = make_url(world.url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        files = [Path(url.database), Path(url.database + "-wal")]  # every byte, WAL included
        dump = b"".join(f.read_bytes() for f in files if f.exists())
        assert dump
        assert not [s for s in secrets if s.encode() in dump]
        return
    with world.rt.uows(readonly=True) as uow:
        conn = uow.connection
        texts: list[str] = []
        for table in inspect(conn).get_table_names():
            for column in inspect(conn).get_columns(table):
                texts.extend(
                    str(v)
                    for (v,) in conn.execute(
                        text(f'SELECT CAST("{column["name"]}" AS TEXT) FROM "{table}"')
                    )
                    if v is not None
                )
    blob = "\n".join(texts)
    assert len(blob) > 10_000
    assert not [s for s in secrets if s in blob]
    pg_dump = shutil.which("pg_dump")
    if pg_dump:
        dumped = subprocess.run(
            [pg_dump, "--data-only", url.set(drivername="postgresql").render_as_string(False)],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
        assert "case_contacts" in dumped
        assert not [s for s in secrets if s in dumped]


def test_identity_numbers_with_a_wrong_check_character_are_refused(world: World) -> None:
    wrong = ID_FIRST17 + ("0" if ID_NUMBER[-1] != "0" else "1")
    r = record(world, hotline_case(world), id_number=wrong)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "identity.checksum"
    r = record(world, hotline_case(world), phone="12345")
    assert r.json()["error"]["code"] == "phone.format"


def test_operators_see_masked_values_and_cannot_reveal(world: World) -> None:
    case = hotline_case(world)
    record(world, case)
    operator = world.client(f"op.{world.town().unit.code}")
    r = operator.get(f"/api/v1/cases/{case['id']}/contact")
    assert r.status_code == 200 and r.json()["phone"] == "139****5678"
    r = operator.get(f"/api/v1/cases/{case['id']}/contact", params={"reveal": "true"})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "pii.read_not_permitted"
    assert PHONE not in r.text


def test_a_reveal_by_a_pii_reader_is_audited_before_the_data_is_returned(world: World) -> None:
    case = hotline_case(world)
    record(world, case)
    with world.rt.uows(readonly=True) as uow:
        before = len(uow.audit.entries(0, 100_000, "pii.reveal"))
    r = commander(world).get(
        f"/api/v1/cases/{case['id']}/contact", params={"reveal": "true", "reason": "回访"}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"name": NAME, "phone": PHONE, "id_number": ID_NUMBER, "masked": False}
    with world.rt.uows(readonly=True) as uow:
        reveals = uow.audit.entries(0, 100_000, "pii.reveal")
    assert len(reveals) == before + 1
    entry, _hash = reveals[-1]
    assert entry.actor == f"cmd.{world.district().unit.code}"
    assert entry.subject == f"case:{case['id']}"
    assert entry.detail == {"fields": ["name", "phone", "id_number"], "reason": "回访"}
    assert PHONE not in str(entry.detail)


def test_no_data_is_revealed_when_the_audit_trail_cannot_be_written(world: World) -> None:
    case = hotline_case(world)
    record(world, case)
    sqlite = world.rt.engine.dialect.name == "sqlite"
    with world.rt.uows() as uow:  # the audit store goes down: every insert into it fails
        if sqlite:
            uow.connection.exec_driver_sql(
                "CREATE TRIGGER audit_down BEFORE INSERT ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit store down'); END"
            )
        else:
            uow.connection.exec_driver_sql(
                "CREATE FUNCTION audit_down() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'audit store down'; END $$"
            )
            uow.connection.exec_driver_sql(
                "CREATE TRIGGER audit_down BEFORE INSERT ON audit_log "
                "FOR EACH ROW EXECUTE FUNCTION audit_down()"
            )
        uow.commit()
    try:
        r = commander(world).get(f"/api/v1/cases/{case['id']}/contact", params={"reveal": "true"})
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "audit.unavailable"
        assert PHONE not in r.text and ID_NUMBER not in r.text and NAME not in r.text
    finally:
        with world.rt.uows() as uow:
            uow.connection.exec_driver_sql(
                "DROP TRIGGER audit_down" if sqlite else "DROP TRIGGER audit_down ON audit_log"
            )
            if not sqlite:
                uow.connection.exec_driver_sql("DROP FUNCTION audit_down()")
            uow.commit()
    r = commander(world).get(f"/api/v1/cases/{case['id']}/contact", params={"reveal": "true"})
    assert r.status_code == 200 and r.json()["phone"] == PHONE


def test_the_service_refuses_a_reveal_without_pii_read(world: World) -> None:
    from pingan.domain.errors import Forbidden

    case = hotline_case(world)
    record(world, case)
    with world.rt.uows(readonly=True) as uow:
        handler = uow.users.by_username(f"h.{world.district().unit.code}-cgj").actor()
    keys = keyring_from(world.rt.settings.data_keys)
    with pytest.raises(Forbidden), world.rt.uows(handler) as uow:
        read_contact(uow, handler, keys, case["id"], world.rt.env, reveal=True)


def test_cases_are_found_by_phone_through_the_blind_index(world: World) -> None:
    case = hotline_case(world)
    record(world, case, phone="139 8765 4321")
    operator = world.client(f"op.{world.town().unit.code}")
    r = operator.get("/api/v1/contacts/cases", params={"phone": "+86 13987654321"})
    assert r.status_code == 200, r.text
    found = {c["case_id"]: c for c in r.json()}
    assert case["id"] in found
    assert found[case["id"]]["contact"]["phone"] == "139****4321"
    with world.rt.uows(readonly=True) as uow:
        row = uow.connection.execute(
            select(case_contacts).where(case_contacts.c.case_id == case["id"])
        ).one()
    assert row.phone_index == keyring_from(world.rt.settings.data_keys).blind_index(
        "13987654321", "contact.phone"
    )
    assert "13987654321" not in (row.phone_enc or "")
    citizen = world.client("citizen05")
    assert citizen.get("/api/v1/contacts/cases", params={"phone": PHONE}).status_code == 403


def test_a_citizen_records_a_contact_on_their_own_case_only(world: World) -> None:
    citizen = world.client("citizen07")
    own = world.report(citizen)
    r = citizen.put(f"/api/v1/cases/{own['id']}/contact", json={"phone": PHONE})
    assert r.status_code == 200 and r.json()["phone"] == "139****5678"
    other = hotline_case(world)
    r = citizen.put(f"/api/v1/cases/{other['id']}/contact", json={"phone": PHONE})
    assert r.status_code == 404  # not even visible to them
    with world.rt.uows(readonly=True) as uow:
        recorded = uow.connection.execute(
            select(audit_log.c.actor).where(audit_log.c.action == "contact.recorded")
        ).all()
    assert ("citizen07",) in recorded
