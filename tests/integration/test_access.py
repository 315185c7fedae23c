"""Who sees and acts on what: every role at every level of the tree, against a case in one town.

The expectations are written out by hand here, not derived from the code under test.
"""

from __future__ import annotations

import pytest

from tests.integration.conftest import World


# (who, can read a fresh report in town 0 of district 0, can file it)
def _people(world: World) -> list[tuple[str, bool, bool]]:
    d0, d1 = world.district(0), world.district(1)
    t0, t1 = world.town(0), world.town(1)
    g0, g_other = world.grids()[0], world.grids()[1]
    return [
        ("cmd.330400", True, True),
        ("op.330400", True, True),
        (f"cmd.{d0.unit.code}", True, True),
        (f"op.{d0.unit.code}", True, True),
        (f"op.{t0.unit.code}", True, True),
        (f"cmd.{t0.unit.code}", True, True),
        (f"op.{t1.unit.code}", False, False),  # the neighbouring town
        (f"cmd.{t1.unit.code}", False, False),
        (f"op.{d1.unit.code}", False, False),  # another district
        (f"cmd.{d1.unit.code}", False, False),
        (f"h.{d0.unit.code}-cgj", False, False),  # not dispatched to anyone yet
        (f"h.{d1.unit.code}-cgj", False, False),
        (f"gw.{g0.unit.code}", True, False),  # the case's own grid worker sees but does not file
        (f"gw.{g_other.unit.code}", False, False),
        ("citizen11", True, False),  # the reporter
        ("citizen12", False, False),
        ("auditor", True, False),
        ("admin", True, False),
    ]


def test_every_role_at_every_level_reads_and_files_only_what_is_theirs(world: World) -> None:
    grid = world.grids()[0]
    case = world.report(world.client("citizen11"), grid)
    for username, can_read, can_file in _people(world):
        client = world.client(username)
        got = client.get(f"/api/v1/cases/{case['id']}")
        assert (got.status_code == 200) is can_read, (username, got.status_code)
        listed = client.get("/api/v1/cases", params={"state": "reported", "limit": 500}).json()
        assert (case["id"] in [c["id"] for c in listed["items"]]) is can_read, username
        timeline = client.get(f"/api/v1/cases/{case['id']}/timeline")
        assert (timeline.status_code == 200) is can_read, username
        if not can_file:
            r = world.act(client, case, "file")
            assert r.status_code in (403, 404), (username, r.status_code)
            if not can_read:
                assert r.status_code == 404  # existence is not revealed
    filed = world.act(world.client(f"op.{world.town().unit.code}"), case, "file")
    assert filed.status_code == 200


def test_a_department_sees_a_case_only_while_it_is_dispatched_to_it(world: World) -> None:
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.act(operator, world.report(operator), "file").json()
    mine = world.client(f"h.{world.district().unit.code}-cgj")
    other_line = world.client(f"h.{world.district().unit.code}-gaj")
    other_area = world.client(f"h.{world.district(1).unit.code}-cgj")
    assert mine.get(f"/api/v1/cases/{case['id']}").status_code == 404
    case = world.act(
        operator, case, "dispatch", department_id=f"{world.district().unit.code}-cgj"
    ).json()
    assert mine.get(f"/api/v1/cases/{case['id']}").status_code == 200
    assert other_line.get(f"/api/v1/cases/{case['id']}").status_code == 404
    assert other_area.get(f"/api/v1/cases/{case['id']}").status_code == 404
    assert world.act(other_line, case, "accept").status_code == 404


def test_a_case_cannot_be_dispatched_to_another_districts_office(world: World) -> None:
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.act(operator, world.report(operator), "file").json()
    r = world.act(operator, case, "dispatch", department_id=f"{world.district(1).unit.code}-cgj")
    assert r.status_code == 422 and r.json()["error"]["code"] == "dispatch.department_out_of_area"


def test_only_the_grids_own_worker_verifies(world: World) -> None:
    grid, other = world.grids()[0], world.grids()[1]
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.act(operator, world.report(operator, grid), "file").json()
    case = world.act(operator, case, "dispatch").json()
    handler = world.client(f"h.{case['department_id']}")
    case = world.act(handler, case, "accept").json()
    case = world.act(handler, case, "handle", note="ok", photo_ids=[world.photo(handler)]).json()
    stranger = world.client(f"gw.{other.unit.code}")
    assert (
        world.act(
            stranger, case, "verify", passed=True, note="x", photo_ids=[world.photo(stranger)]
        ).status_code
        == 404
    )
    assert world.act(operator, case, "verify", passed=True, note="x").status_code == 403


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_auditors_and_administrators_cannot_report(world: World, role: str) -> None:
    grid = world.grids()[0]
    r = world.client(role).post(
        "/api/v1/cases",
        json={"category_code": "E0102", "title": "x", "lng": grid.lng, "lat": grid.lat},
    )
    assert r.status_code == 403


def test_a_town_operator_cannot_report_into_another_town(world: World) -> None:
    other_grid = world.grids(town_index=1)[0]
    r = world.client(f"op.{world.town().unit.code}").post(
        "/api/v1/cases",
        json={"category_code": "E0102", "title": "x", "lng": other_grid.lng, "lat": other_grid.lat},
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "case.outside_jurisdiction"


def test_summary_counts_only_the_callers_jurisdiction(world: World) -> None:
    town0 = world.client(f"op.{world.town().unit.code}").get("/api/v1/stats/summary").json()
    town1 = world.client(f"op.{world.town(1).unit.code}").get("/api/v1/stats/summary").json()
    city = world.client("op.330400").get("/api/v1/stats/summary").json()
    assert town0["total"] + town1["total"] <= city["total"]
    assert town0["unit_path"] == world.town().unit.path


def test_role_and_state_are_refused_before_the_named_office_or_merge_target_is_looked_at(
    world: World,
) -> None:
    """docs/api.md: 403 when the role or relation does not allow the action, 409 when the state
    does not, whatever office or merge target the body names; only then is the body judged."""
    grid = world.grids()[0]
    operator = world.client(f"op.{world.town().unit.code}")
    reporter = world.client("citizen11")  # reads their own reports, may act on none of them
    reported = world.report(reporter, grid)
    filed = world.act(operator, world.report(reporter, grid), "file").json()
    for office in ("no-such-office", f"{world.district(1).unit.code}-cgj"):
        r = world.act(reporter, filed, "dispatch", department_id=office)
        assert r.status_code == 403, r.text
        r = world.act(operator, reported, "dispatch", department_id=office)
        assert r.status_code == 409, r.text
    for target in (999_999_999, filed["id"]):
        r = world.act(reporter, reported, "merge", target_case_id=target)
        assert r.status_code == 403, r.text
    dispatched = world.act(operator, filed, "dispatch").json()
    r = world.act(operator, dispatched, "merge", target_case_id=999_999_999)
    assert r.status_code == 409, r.text
