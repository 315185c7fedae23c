"""The closed loop over HTTP, on SQLite and PostgreSQL: every step, its rules and its history."""

from __future__ import annotations

from tests.integration.conftest import World


def test_citizen_report_goes_round_the_whole_loop_and_every_step_is_in_the_timeline(
    world: World,
) -> None:
    town = world.town()
    citizen = world.client("citizen01")
    operator = world.client(f"op.{town.unit.code}")
    grid = world.grids()[0]
    worker = world.client(f"gw.{grid.unit.code}")

    case = world.report(citizen, grid, photo_ids=[world.photo(citizen)])
    assert case["state"] == "reported"
    assert case["grid_code"] == grid.unit.code
    assert case["owner_path"] == town.unit.path
    assert case["reported_by_me"] is True

    r = world.act(operator, case, "file")
    assert r.status_code == 200, r.text
    case = r.json()
    suggestion = operator.get(f"/api/v1/cases/{case['id']}/dispatch-suggestion").json()
    assert suggestion["department_id"].endswith("-cgj")  # 暴露垃圾 goes to urban management
    case = world.act(operator, case, "dispatch").json()
    assert case["state"] == "dispatched" and case["department_id"] == suggestion["department_id"]

    handler = world.client(f"h.{case['department_id']}")
    case = world.act(handler, case, "accept").json()
    r = world.act(handler, case, "handle", note="已清理", photo_ids=[world.photo(handler)])
    assert r.status_code == 200, r.text
    case = r.json()
    r = world.act(
        worker, case, "verify", passed=True, note="现场已干净", photo_ids=[world.photo(worker)]
    )
    assert r.status_code == 200, r.text
    case = world.act(operator, r.json(), "close").json()
    assert case["state"] == "closed"
    case = world.act(citizen, case, "evaluate", satisfaction=5).json()
    assert case["state"] == "evaluated" and case["satisfaction"] == 5
    assert case["due_at"] is None  # no clock runs on a finished case

    timeline = citizen.get(f"/api/v1/cases/{case['id']}/timeline").json()
    assert [t["action"] for t in timeline] == [
        "report",
        "file",
        "dispatch",
        "accept",
        "handle",
        "verify",
        "close",
        "evaluate",
    ]
    assert [t["to_state"] for t in timeline][-1] == "evaluated"
    assert [t["seq"] for t in timeline] == list(range(1, 9))
    assert case["version"] == 8


def test_failed_verification_sends_the_case_back_for_rework(world: World) -> None:
    case, handler, worker, _operator = _dispatched_and_accepted(world)
    case = world.act(handler, case, "handle", note="done", photo_ids=[world.photo(handler)]).json()
    r = world.act(worker, case, "verify", passed=False, note="垃圾仍在")
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["state"] == "rework" and case["rework_count"] == 1
    case = world.act(
        handler, case, "handle", note="再次清理", photo_ids=[world.photo(handler)]
    ).json()
    case = world.act(
        worker, case, "verify", passed=True, note="ok", photo_ids=[world.photo(worker)]
    ).json()
    assert case["state"] == "verified"


def test_a_department_can_return_a_case_it_cannot_handle(world: World) -> None:
    case, handler, _worker, operator = _dispatched_and_accepted(world)
    r = world.act(handler, case, "return", reason="不属于本部门职责")
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["state"] == "filed" and case["department_id"] is None
    assert handler.get(f"/api/v1/cases/{case['id']}").status_code == 404  # no longer theirs
    r = world.act(operator, case, "dispatch", department_id=f"{world.district().unit.code}-scj")
    assert r.status_code == 200 and r.json()["department_id"].endswith("-scj")


def test_handling_without_photo_evidence_is_refused_and_changes_nothing(world: World) -> None:
    case, handler, _w, _o = _dispatched_and_accepted(world)
    r = world.act(handler, case, "handle", note="done")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "case.missing_fields"
    again = handler.get(f"/api/v1/cases/{case['id']}").json()
    assert again["state"] == "accepted" and again["version"] == case["version"]


def test_illegal_transition_is_409_and_changes_nothing(world: World) -> None:
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.report(operator)
    r = world.act(operator, case, "close")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "case.illegal_transition"
    after = operator.get(f"/api/v1/cases/{case['id']}").json()
    assert after["version"] == case["version"] and after["state"] == "reported"
    assert len(operator.get(f"/api/v1/cases/{case['id']}/timeline").json()) == 1


def test_stale_etag_is_412_and_missing_if_match_is_428(world: World) -> None:
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.report(operator)
    assert world.act(operator, case, "file").status_code == 200
    stale = world.act(operator, case, "reject", reason="dup")  # still carries version 1
    assert stale.status_code == 412
    missing = operator.post(f"/api/v1/cases/{case['id']}/actions/dispatch", json={})
    assert missing.status_code == 428


def test_get_returns_the_etag_that_a_transition_accepts(world: World) -> None:
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.report(operator)
    r = operator.get(f"/api/v1/cases/{case['id']}")
    etag = r.headers["ETag"]
    ok = operator.post(
        f"/api/v1/cases/{case['id']}/actions/file", json={}, headers={"If-Match": etag}
    )
    assert ok.status_code == 200
    assert ok.headers["ETag"] == f'"{case["version"] + 1}"'


def test_escalation_moves_the_case_to_the_parent_centre(world: World) -> None:
    town = world.town()
    operator = world.client(f"op.{town.unit.code}")
    case = world.report(operator)
    case = world.act(operator, case, "file").json()
    r = world.act(operator, case, "escalate", reason="需区级协调")
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["owner_path"] == world.district().unit.path and case["escalation_count"] == 1
    # the town still sees it but can no longer act on it; the district can
    assert operator.get(f"/api/v1/cases/{case['id']}").status_code == 200
    assert world.act(operator, case, "dispatch").status_code == 403
    district_op = world.client(f"op.{world.district().unit.code}")
    assert world.act(district_op, case, "dispatch").status_code == 200


def test_commander_supervision_is_counted_and_recorded(world: World) -> None:
    town = world.town()
    case = world.report(world.client(f"op.{town.unit.code}"))
    commander = world.client(f"cmd.{world.district().unit.code}")
    r = world.act(commander, case, "supervise", note="请今日办结")
    assert r.status_code == 200 and r.json()["supervision_count"] == 1
    operator = world.client(f"op.{town.unit.code}")
    assert (
        world.act(operator, r.json(), "supervise", note="x").status_code == 403
    )  # commanders only


def test_suspend_and_resume_restore_the_state(world: World) -> None:
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.act(operator, world.report(operator), "file").json()
    assert world.act(operator, case, "suspend").status_code == 422  # a reason is required
    case = world.act(operator, case, "suspend", reason="等待产权认定").json()
    assert case["state"] == "suspended" and case["due_at"] is None
    case = world.act(operator, case, "resume").json()
    assert case["state"] == "filed" and case["due_at"] is not None


def test_duplicates_are_merged_into_the_open_case(world: World) -> None:
    operator = world.client(f"op.{world.town().unit.code}")
    first = world.report(operator)
    dup = world.report(operator)
    r = world.act(operator, dup, "merge", target_case_id=first["id"])
    assert (
        r.status_code == 200
        and r.json()["state"] == "merged"
        and r.json()["merged_into"] == first["id"]
    )
    self_merge = world.act(operator, first, "merge", target_case_id=first["id"])
    assert self_merge.status_code == 422


def test_rejected_report_needs_a_reason_and_ends_the_case(world: World) -> None:
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.report(operator)
    assert world.act(operator, case, "reject").status_code == 422
    case = world.act(operator, case, "reject", reason="重复上报").json()
    assert case["state"] == "rejected" and case["allowed_actions"] == []


def test_transition_rules_are_published(world: World) -> None:
    rules = {r["action"]: r for r in world.client("op.330400").get("/api/v1/transitions").json()}
    assert rules["handle"]["requires"] == ["note", "photo_ids"]
    assert {"role": "grid_worker", "relation": "grid"} in rules["verify"]["who"]


def _dispatched_and_accepted(world: World) -> tuple[dict, object, object, object]:  # type: ignore[type-arg]
    town = world.town()
    grid = world.grids()[1]
    operator = world.client(f"op.{town.unit.code}")
    worker = world.client(f"gw.{grid.unit.code}")
    case = world.report(operator, grid)
    case = world.act(operator, case, "file").json()
    case = world.act(operator, case, "dispatch").json()
    handler = world.client(f"h.{case['department_id']}")
    case = world.act(handler, case, "accept").json()
    return case, handler, worker, operator


def test_a_likely_duplicate_is_offered_for_merging_and_never_merged_by_itself(world: World) -> None:
    operator = world.client(f"op.{world.town().unit.code}")
    grid = world.grids()[2]
    first = world.report(operator, grid, title="小区门口垃圾堆积", description="已两天无人清运")
    draft = {
        "category_code": "E0102",
        "title": "门口垃圾堆积没人清运",
        "lng": grid.lng + 0.0003,
        "lat": grid.lat,
    }
    offered = operator.post("/api/v1/cases/similar", json=draft).json()
    assert offered and offered[0]["case"]["id"] == first["id"] and offered[0]["score"] >= 0.45
    second = world.report(
        operator, grid, **{k: v for k, v in draft.items() if k != "category_code"}
    )
    similar = operator.get(f"/api/v1/cases/{second['id']}/similar").json()
    assert first["id"] in [s["case"]["id"] for s in similar]
    assert operator.get(f"/api/v1/cases/{second['id']}").json()["state"] == "reported"
    unrelated = {**draft, "category_code": "P0110", "title": "路灯不亮"}
    assert first["id"] not in [
        s["case"]["id"] for s in operator.post("/api/v1/cases/similar", json=unrelated).json()
    ]
