"""The access matrix: every role at every level of the tree × every endpoint × objects in and out
of scope, checked against `access_oracle` (written from the documentation, not from the code).

The world is the seeded small city (city → 2 counties → 2 towns each → 2 communities → 2 grids):
commanders and operators of the city, both counties and every town; the grid workers of the
grids that hold cases and of a sibling grid; department handlers of both county urban-management
offices and of an unrelated office; the city administrator and auditor; three citizens. In three
towns (two siblings in one county, one in the other) a case waits in each state of the loop, and
one each suspended, in rework, rejected, evaluated and merged; one case is escalated to the
county and one, twice, to the city, which has no centre above it. Every mismatch is collected
and reported at once, with the count of checks made. The last test takes one permitted action
per case, so everything before it sees the cases as built.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from pingan.adapters.db.iot_tables import alarms, devices
from pingan.adapters.db.patrol_tables import patrols
from pingan.adapters.db.tables import attachments, case_timeline, cases, users
from pingan.services.open311 import create_api_key
from tests.integration.conftest import World
from tests.reliability import access_oracle as oracle
from tests.reliability.conftest import budget

MARKER = "矩阵核查"  # in every matrix case's title, for the search checks
# the loop's states; then a case suspended while dispatched (so resume has something to act on),
# one sent back to rework by a failed verification, one rejected, one evaluated after closing and
# one merged into the town's reported case: every state a case can stand in
LOOP = ("reported", "filed", "dispatched", "accepted", "handled", "verified", "closed")
STATES = (*LOOP, "suspended", "rework", "rejected", "evaluated", "merged")
# the loop state each off-loop case is walked to before the action that leaves it there
VIA = {
    "suspended": "dispatched",
    "rework": "handled",
    "rejected": "reported",
    "evaluated": "closed",
    "merged": "reported",
}
# (district index, town index): two sibling towns in one county and a town of the other
TOWNS = ((0, 0), (0, 1), (1, 0))
PROBES = {  # one action per state that needs fields, so a permitted probe is 422 and harmless
    "reported": ("reject", "merge"),
    "filed": ("supervise",),
    "dispatched": ("return",),
    "accepted": ("handle",),
    "handled": ("verify",),
    "verified": ("suspend",),
    "closed": ("evaluate",),
    "suspended": ("escalate",),
    "rework": ("handle", "verify"),
    "rejected": ("reject",),
    "evaluated": ("evaluate",),
    "merged": ("merge",),
}
# The actions needing no fields, probed only where refused (a permitted one would change the
# case): per state the one that leaves it, and on the states none leaves, wrong-state probes, so
# that each kind meets 404, 409 and 403 in `make test`. All of them on every case under soak.
NO_FIELD_PROBES = {
    "reported": ("file",),
    "filed": ("dispatch",),
    "dispatched": ("accept",),
    "accepted": ("dispatch", "close"),
    "handled": ("accept", "resume"),
    "verified": ("close",),
    "closed": ("file",),
    "suspended": ("resume",),
    "rework": ("accept",),
    "rejected": ("file",),
    "evaluated": ("close",),
    "merged": ("file",),
}

# Every operation of the OpenAPI document, and how the matrix covers it. A new endpoint fails
# `test_every_endpoint_is_classified_in_the_matrix` until it is added here.
ENDPOINTS: dict[str, str] = {
    "POST /api/v1/auth/token": "public: signs in; no data of others",
    "GET /api/v1/me": "self: the caller's own account",
    "GET /api/v1/me/tasks": "list: only cases the caller reads",
    "POST /api/v1/cases": "write: reporting places the case by its point",
    "GET /api/v1/cases": "list+search: ids against the oracle",
    "GET /api/v1/cases/by-tracking-no/{tracking_no}": "read: 200/404 per case",
    "GET /api/v1/cases/{case_id}": "read: 200/404 per case",
    "GET /api/v1/cases/{case_id}/timeline": "read: 200/404 per case",
    "GET /api/v1/cases/{case_id}/deadlines": "read: 200/404 per case",
    "GET /api/v1/cases/{case_id}/dispatch-suggestion": "read: 200/404 per case",
    "POST /api/v1/cases/{case_id}/actions/{action}": "action: 404/409/403/422/200 per case",
    "GET /api/v1/transitions": "public: the rule table",
    "GET /api/v1/cases/{case_id}/similar": "read: 200/404 per case, results within scope",
    "POST /api/v1/cases/similar": "search: results within scope",
    "GET /api/v1/units": "public: the administrative tree is the map's base layer",
    "GET /api/v1/units/{code}": "public: boundaries",
    "GET /api/v1/units/{code}/geojson": "public: boundaries (map layer)",
    "GET /api/v1/locate": "public: which grid a point is in",
    "GET /api/v1/categories": "public: the classification",
    "GET /api/v1/departments": "public: the offices",
    "POST /api/v1/attachments": "write: owned by the uploader",
    "GET /api/v1/attachments/{attachment_id}": "read: uploader or readers of its case",
    "GET /api/v1/dispatch-rules": "public: routing rules",
    "POST /api/v1/dispatch-rules": "role: rules:write",
    "DELETE /api/v1/dispatch-rules/{rule_id}": "role: rules:write",
    "GET /api/v1/stats/summary": "count: total against the oracle",
    "GET /readyz": "public: health",
    "GET /api/v1/stats/kpis": "count: open cases against the oracle",
    "GET /api/v1/stats/points": "list: map points against the oracle",
    "GET /api/v1/stats/cases.xlsx": "export: rows against the oracle",
    "POST /api/v1/devices": "role: registrars",
    "GET /api/v1/devices": "list: devices by grid path",
    "GET /api/v1/devices/status": "count: devices by grid path",
    "GET /api/v1/alarms": "role+list: centres, admin, auditor",
    "GET /api/v1/alarms/{alarm_id}": "role: centres, admin, auditor",
    "POST /api/v1/alarms/{alarm_id}/confirm": "role: centres",
    "POST /api/v1/alarms/{alarm_id}/dismiss": "role: centres",
    "GET /api/v1/alarm-kinds": "public: the alarm table",
    "POST /api/v1/iot/messages": "role: pushers",
    "POST /api/v1/patrols": "role: grid workers",
    "GET /api/v1/patrols": "list: own, or the centre's workers",
    "POST /api/v1/patrols/{patrol_id}/end": "self: one's own patrol",
    "POST /api/v1/me/positions": "self: one's own position",
    "GET /api/v1/workers/positions": "role+list: centres",
    "POST /api/v1/open311-keys": "role: admin",
    "GET /open311/v2/services.{fmt}": "public: Open311",
    "GET /open311/v2/services/{service_code}.{fmt}": "public: Open311",
    "POST /open311/v2/requests.{fmt}": "key: an app key files as its app account",
    "GET /open311/v2/requests.{fmt}": "public: only Open311 requests, no personal data",
    "GET /open311/v2/requests/{service_request_id}.{fmt}": "public: only Open311 requests",
    "GET /open311/v2/tokens/{token}.{fmt}": "public: Open311",
    # Covered by their own suites rather than probed per role × level here (yet):
    "POST /api/v1/auth/logout": "self: revokes the caller's token (test_sign_in_hardening)",
    "POST /api/v1/auth/totp": "self: enrols the caller (test_sign_in_hardening)",
    "POST /api/v1/auth/totp/confirm": "self: confirms the caller's enrolment",
    "GET /api/v1/cases/{case_id}/contact": "read+pii:read: masked to readers (test_personal_data)",
    "PUT /api/v1/cases/{case_id}/contact": "write: centre or reporter (test_personal_data)",
    "GET /api/v1/contacts/cases": "role: centres and auditors, within scope (test_personal_data)",
    "GET /api/v1/audit": "role: auditors (test_audit_trail)",
    "GET /api/v1/audit/verify": "role: auditors (test_audit_trail)",
    "GET /api/v1/calls/config": "public to signed-in users: ICE servers",
    "POST /api/v1/calls": "role+scope: every caller × callee against the oracle",
    "GET /api/v1/calls": "list: a case's log if readable, one's own or the centre's (test_calls)",
    "GET /api/v1/calls/{call_id}": "read: 200/404 for everyone, one call per host",
    "POST /api/v1/calls/{call_id}/accept": "self: an invited party (test_calls)",
    "POST /api/v1/calls/{call_id}/refuse": "self: an invited party (test_calls)",
    "POST /api/v1/calls/{call_id}/hangup": "self: a joined party (test_calls)",
    "POST /api/v1/calls/{call_id}/invite": "role: the host, within jurisdiction (test_calls)",
    "POST /api/v1/calls/{call_id}/recording": "self: the host, onto the call's case (test_calls)",
    "GET /api/v1/cases/{case_id}/contacts": "read: 404 per case; people the caller may call",
    "GET /api/v1/grids/{grid_code}/contacts": "role+scope: a grid's workers the caller may call",
    "GET /api/v1/map/config": "public: tile settings",
    "POST /api/v1/hotline/calls": "role: centre staff; case placed by its point (test_hotline)",
    "GET /api/v1/hotline/callers": "role+scope: calls about cases in scope (test_hotline)",
    "GET /api/v1/hotline/followups": "role+scope: closed cases in scope (test_hotline)",
    "POST /api/v1/hotline/followups": "role+read: centre staff on readable cases (test_hotline)",
    "POST /api/v1/intake/suggest": "role: reporters; no case data returned",
    "GET /api/v1/places/geocode": "public to signed-in users: the address registry",
    "GET /api/v1/webhooks": "role+scope: admins and commanders (test_webhooks)",
    "POST /api/v1/webhooks": "role+scope: admins and commanders over the department",
    "DELETE /api/v1/webhooks/{subscription_id}": "role+scope: admins and commanders",
    "GET /api/v1/webhooks/deliveries": "role+scope: admins and commanders (test_webhooks)",
    "POST /api/v1/webhooks/deliveries/{delivery_id}/replay": "role+scope: admins, commanders",
    "POST /api/v1/hooks/{subscription_id}/results": "signature: the department's own cases",
    "POST /api/v1/imports/cases": "role: admins (test_case_import)",
}


@dataclass
class Matrix:
    world: World
    people: list[oracle.Person]
    by_name: dict[str, oracle.Person]
    made: list[int]  # the matrix cases
    clients: ExitStack
    checks: int = 0
    mismatches: list[str] = field(default_factory=list)
    _open: dict[str, TestClient] = field(default_factory=dict)

    def expect(self, what: str, expected: Any, got: Any, detail: str = "") -> None:
        self.checks += 1
        if expected != got:
            self.mismatches.append(f"{what}: expected {expected!r}, got {got!r} {detail[:120]}")

    def client(self, p: oracle.Person) -> TestClient:
        """A signed-in client kept open for the module: one event loop for all its requests."""
        if p.username not in self._open:
            self._open[p.username] = self.clients.enter_context(self.world.client(p.username))
        return self._open[p.username]

    def facts(self) -> dict[int, oracle.CaseFacts]:
        """Every case in the database, straight from its row."""
        with self.world.rt.engine.connect() as conn:
            rows = conn.execute(
                select(
                    cases.c.id,
                    cases.c.tracking_no,
                    cases.c.state,
                    cases.c.location_path,
                    cases.c.owner_path,
                    cases.c.grid_code,
                    cases.c.department_id,
                    cases.c.reporter_id,
                    cases.c.suspended_from,
                )
            ).all()
        return {r[0]: oracle.CaseFacts(*r) for r in rows}

    def footprint(self, case_id: int) -> tuple[int, str, int]:
        """Version, state and timeline length, read from the rows: what a refused action must
        leave as it was and an accepted one must move by one step."""
        with self.world.rt.engine.connect() as conn:
            version, state = conn.execute(
                select(cases.c.version, cases.c.state).where(cases.c.id == case_id)
            ).one()
            entries = conn.execute(
                select(func.count()).where(case_timeline.c.case_id == case_id)
            ).scalar_one()
        return version, state, entries


def _people(world: World) -> list[oracle.Person]:
    with world.rt.engine.connect() as conn:
        rows = conn.execute(
            select(
                users.c.username,
                users.c.id,
                users.c.role,
                users.c.jurisdiction,
                users.c.department_id,
                users.c.grid_code,
            )
        ).all()
    return [oracle.Person(*r) for r in rows]


def _cast(world: World, everyone: list[oracle.Person]) -> list[str]:
    """Who plays in the matrix: every centre, the grid workers of each case grid and of a sibling
    grid, both county urban-management offices and an unrelated office, admin, auditor, three
    citizens."""
    names = ["admin", "auditor", "citizen30", "citizen31", "citizen32"]
    names += [p.username for p in everyone if p.role in oracle.CENTRE]
    for d, t in TOWNS:
        grids = world.grids(t, d)
        names += [f"gw.{grids[0].unit.code}", f"gw.{grids[1].unit.code}"]
    for d in (0, 1):
        names.append(f"h.{world.district(d).unit.code}-cgj")
    names.append(f"h.{world.district(0).unit.code}-gaj")
    known = {p.username for p in everyone}
    missing = [n for n in names if n not in known]
    assert not missing, f"the seeded city lacks {missing}"
    return names


def _build_cases(world: World) -> list[int]:
    """In each matrix town, one case per state, walked there through the real API."""
    made: list[int] = []
    for i, (d, t) in enumerate(TOWNS):
        reporter = world.client("citizen30" if d == 0 else "citizen31")
        built: dict[str, dict[str, Any]] = {}
        for state in STATES:
            case = world.report(reporter, world.grids(t, d)[0], title=f"{MARKER}{i}{state}")
            built[state] = _walk(world, case, d, t, state, merge_into=built.get("reported"))
            made.append(built[state]["id"])
    # escalated: the owner moves up to the county, the town still reads but no longer acts
    town, grid = world.town(0, 0), world.grids(0, 0)[0]
    op = world.client(f"op.{town.unit.code}")
    case = world.report(world.client("citizen30"), grid, title=f"{MARKER}escalated")
    case = _act(world, op, case, "file")
    made.append(_act(world, op, case, "escalate", reason="跨镇协调")["id"])
    # escalated twice, town → county → city, once dispatched: the city owns it and has no parent
    # centre to escalate to; the county and the town read it but no longer act
    town, grid = world.town(1, 0), world.grids(1, 0)[0]
    op = world.client(f"op.{town.unit.code}")
    case = world.report(world.client("citizen30"), grid, title=f"{MARKER}city")
    case = _act(world, op, case, "file")
    case = _act(world, op, case, "dispatch")
    case = _act(world, op, case, "escalate", reason="跨镇协调")
    county = world.client(f"op.{world.district(0).unit.code}")
    made.append(_act(world, county, case, "escalate", reason="跨县协调")["id"])
    # filed through Open311 as the key's own citizen account
    with world.rt.uows() as uow:
        key = create_api_key(uow, "矩阵 app", world.clock.now)
    g = world.grids(1, 0)[1]
    r = world.client().post(
        "/open311/v2/requests.json",
        data={"api_key": key, "service_code": "E0102", "lat": g.lat, "long": g.lng},
    )
    assert r.status_code == 200, r.text
    world.rt.relay.drain()
    return made


def _walk(
    world: World,
    case: dict[str, Any],
    d: int,
    t: int,
    state: str,
    merge_into: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Take a reported case round the loop as its town's operator, the office it is dispatched
    to and its grid's worker, until it stands in `state`; an off-loop state is reached from its
    loop state (`VIA`) by the action that leads there (a merge goes into `merge_into`)."""
    op = world.client(f"op.{world.town(t, d).unit.code}")
    worker = world.client(f"gw.{world.grids(t, d)[0].unit.code}")
    stop = VIA.get(state, state)
    for reached in LOOP[1 : LOOP.index(stop) + 1]:
        case = _step(world, op, worker, case, reached)
    if state == "suspended":
        case = _act(world, op, case, "suspend", reason="等待配合")
    elif state == "rework":
        case = _act(world, worker, case, "verify", passed=False, note="未处置到位")
    elif state == "rejected":
        case = _act(world, op, case, "reject", reason="不属受理范围")
    elif state == "evaluated":
        case = _act(world, op, case, "evaluate", satisfaction=4, note="回访满意")
    elif state == "merged":
        assert merge_into is not None
        case = _act(world, op, case, "merge", target_case_id=merge_into["id"])
    assert case["state"] == state, (state, case["state"])
    return case


def _step(
    world: World, op: TestClient, worker: TestClient, case: dict[str, Any], reached: str
) -> dict[str, Any]:
    """The step of the loop that brings `case` to `reached`, taken by whoever takes it."""
    by_centre = {"filed": "file", "dispatched": "dispatch", "closed": "close"}
    if reached in by_centre:
        return _act(world, op, case, by_centre[reached])
    if reached == "verified":
        photo = world.photo(worker)
        return _act(world, worker, case, "verify", passed=True, note="合格", photo_ids=[photo])
    handler = world.client(f"h.{case['department_id']}")
    if reached == "accepted":
        return _act(world, handler, case, "accept")
    return _act(world, handler, case, "handle", note="已处置", photo_ids=[world.photo(handler)])


def _plant_alarms_and_patrols(world: World) -> None:
    """A camera alarm in each of two towns of different counties; a patrol with a position by a
    grid worker of each."""
    with world.rt.engine.connect() as conn:
        cameras = conn.execute(
            select(devices.c.id, devices.c.grid_path).where(devices.c.kind == "camera")
        ).all()
    admin = world.client("admin")
    for d, t in ((0, 0), (1, 0)):
        town = world.town(t, d).unit.path
        camera = next(i for i, path in cameras if oracle.within(path, town))
        event = {"ts": world.clock.now.isoformat(), "type": "camera.crowd", "confidence": 0.9}
        pushed = admin.post(
            "/api/v1/iot/messages",
            json={"messages": [{"device_id": camera, "channel": "events", "payload": event}]},
        )
        assert pushed.status_code == 200, pushed.text
        grid = world.grids(t, d)[0]
        worker = world.client(f"gw.{grid.unit.code}")
        assert worker.post("/api/v1/patrols").status_code in (201, 409)
        at = world.clock.now.isoformat()
        point = {"lng": grid.lng, "lat": grid.lat, "at": at}
        r = worker.post("/api/v1/me/positions", json={"points": [point]})
        assert r.status_code == 200, r.text
    world.rt.relay.drain()


def _act(
    world: World, who: TestClient, case: dict[str, Any], action: str, **body: Any
) -> dict[str, Any]:
    r = world.act(who, case, action, **body)
    assert r.status_code == 200, (action, r.text)
    return dict(r.json())


@pytest.fixture(scope="module")
def matrix(world: World) -> Iterator[Matrix]:
    everyone = _people(world)
    made = _build_cases(world)
    _plant_alarms_and_patrols(world)
    cast = set(_cast(world, everyone))
    people = [p for p in everyone if p.username in cast]
    with ExitStack() as clients:
        yield Matrix(world, people, {p.username: p for p in everyone}, made, clients)


def _report(m: Matrix, what: str, before: int) -> None:
    print(f"\naccess matrix ({what}): {m.checks - before} checks, {len(m.mismatches)} mismatches")
    found, m.mismatches = m.mismatches, []
    assert not found, "\n".join(found[:60])


def test_every_endpoint_is_classified_in_the_matrix(world: World) -> None:
    ops = {
        f"{method.upper()} {path}"
        for path, item in world.app.openapi()["paths"].items()
        for method in item
    }
    assert ops - ENDPOINTS.keys() == set(), "classify new endpoints in ENDPOINTS"
    assert ENDPOINTS.keys() - ops == set(), "remove endpoints that no longer exist"


def test_the_oracle_knows_every_action_and_those_sent_with_an_empty_body(world: World) -> None:
    """A new action fails here until the oracle states it; one that requires no field must be
    among the no-field actions, which are probed (and taken) rather than sent without fields."""
    served = world.client().get("/api/v1/transitions").json()
    assert sorted(r["action"] for r in served) == sorted(oracle.ACTIONS)
    bare = {r["action"] for r in served if not r["requires"]}
    assert bare <= set(oracle.NO_FIELDS), bare - set(oracle.NO_FIELDS)


def test_lists_search_points_exports_and_counts_match_the_oracle(matrix: Matrix) -> None:
    m = matrix
    before = m.checks
    facts = m.facts()
    matrix_ids = set(m.made)
    for p in m.people:
        c = m.client(p)
        expected = {i for i, f in facts.items() if oracle.reads_case(p, f)}
        listed: set[int] = set()
        offset = 0
        while True:
            page = c.get("/api/v1/cases", params={"limit": 500, "offset": offset}).json()
            listed |= {item["id"] for item in page["items"]}
            offset += 500
            if offset >= page["total"]:
                break
        m.expect(f"{p.username} GET /cases ids", sorted(expected), sorted(listed))
        found = c.get("/api/v1/cases", params={"q": MARKER, "limit": 500}).json()["items"]
        m.expect(
            f"{p.username} search q={MARKER}",
            sorted(expected & matrix_ids),
            sorted(i["id"] for i in found if i["id"] in matrix_ids),
        )
        points = c.get("/api/v1/stats/points").json()
        m.expect(
            f"{p.username} /stats/points ids",
            sorted(expected),
            sorted(r[0] for r in points["rows"]),
        )
        summary = c.get("/api/v1/stats/summary").json()
        m.expect(f"{p.username} /stats/summary total", len(expected), summary["total"])
        # the KPI tiles cover the caller's jurisdiction; "open" is any open state, suspended too
        open_here = [
            i
            for i in expected
            if facts[i].state in (*oracle.ACTIVE, "suspended")
            and oracle.within(facts[i].location_path, p.jurisdiction)
        ]
        kpis = c.get("/api/v1/stats/kpis").json()
        m.expect(f"{p.username} /stats/kpis open", len(open_here), kpis["tiles"]["open"])
        export = c.get("/api/v1/stats/cases.xlsx")
        sheet = load_workbook(io.BytesIO(export.content), read_only=True).active
        assert sheet is not None
        exported = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
        m.expect(
            f"{p.username} cases.xlsx rows",
            sorted(facts[i].tracking_no for i in expected),
            sorted(str(t) for t in exported),
        )
    _report(m, "lists", before)


def test_task_notifications_name_only_cases_the_caller_reads(matrix: Matrix) -> None:
    m = matrix
    before = m.checks
    facts = m.facts()
    for p in m.people:
        c = m.client(p)
        expected = {i for i, f in facts.items() if oracle.reads_case(p, f)}
        tasks = c.get("/api/v1/me/tasks")
        if tasks.status_code == 200:
            body = tasks.json()
            items = body["items"] if isinstance(body, dict) else body
            leaked = sorted(i["case_id"] for i in items if i["case_id"] not in expected)
            m.expect(f"{p.username} /me/tasks within scope", [], leaked)
    _report(m, "tasks", before)


READS = (
    "/api/v1/cases/{id}",
    "/api/v1/cases/{id}/timeline",
    "/api/v1/cases/{id}/deadlines",
    "/api/v1/cases/{id}/dispatch-suggestion",
    "/api/v1/cases/{id}/similar",
    "/api/v1/cases/by-tracking-no/{tracking_no}",
)


def test_single_reads_are_200_in_scope_and_404_outside(matrix: Matrix) -> None:
    m = matrix
    before = m.checks
    facts = m.facts()
    # every read endpoint on one case of each town (all of them under PINGAN_SOAK=1); the case
    # itself on every case
    deep = set(m.made[STATES.index("dispatched") :: len(STATES)][: budget("MATRIX_DEEP", 1)])
    if os.environ.get("PINGAN_SOAK") == "1":
        deep = set(m.made)
    for p in m.people:
        c = m.client(p)
        for case_id in m.made:
            f = facts[case_id]
            want = 200 if oracle.reads_case(p, f) else 404
            for path in READS if case_id in deep else READS[:1]:
                url = path.format(id=case_id, tracking_no=f.tracking_no)
                m.expect(f"{p.username} GET {url}", want, c.get(url).status_code)
    _report(m, "reads", before)


def test_actions_answer_as_the_documented_table_says(matrix: Matrix) -> None:
    """Each action goes without its required fields, so a permitted one is 422 and nothing
    changes; the versions are checked unchanged at the end."""
    m = matrix
    before = m.checks
    facts = m.facts()
    soak = os.environ.get("PINGAN_SOAK") == "1"  # every action needing fields on every case
    every_action = oracle.NEEDS_FIELDS
    for p in m.people:
        c = m.client(p)
        for case_id in m.made:
            f = facts[case_id]
            for action in every_action if soak else PROBES[f.state]:
                r = c.post(
                    f"/api/v1/cases/{case_id}/actions/{action}", json={}, headers={"If-Match": "*"}
                )
                want = oracle.action_status(p, f, action)
                m.expect(f"{p.username} {action} case {case_id} ({f.state})", want, r.status_code)
    after = m.facts()
    m.expect("no probe changed a case", [facts[i] for i in m.made], [after[i] for i in m.made])
    _report(m, "actions", before)


def test_allowed_actions_list_exactly_what_the_oracle_permits(matrix: Matrix) -> None:
    """`allowed_actions` drives the buttons people see, so it must name every action the table
    lets this reader take now, and no other."""
    m = matrix
    before = m.checks
    facts = m.facts()
    for p in m.people:
        c = m.client(p)
        for case_id in m.made:
            f = facts[case_id]
            if not oracle.reads_case(p, f):
                continue
            got = c.get(f"/api/v1/cases/{case_id}").json()["allowed_actions"]
            want = sorted(oracle.allowed_actions(p, f))
            m.expect(
                f"{p.username} allowed_actions of case {case_id} ({f.state})", want, sorted(got)
            )
    _report(m, "allowed actions", before)


def test_actions_needing_no_fields_are_refused_as_the_table_says(matrix: Matrix) -> None:
    """Each no-field action the oracle refuses goes with the case's current ETag (a stale one
    would be 412 before any permission is looked at) and must get the predicted 404/409/403;
    afterwards the case's version, ETag, state and timeline must be as before (they only grow,
    so a refusal that wrote anything shows, and every later probe of the case would be 412).
    Permitted ones are taken in the last test of the module."""
    m = matrix
    before = m.checks
    facts = m.facts()
    soak = os.environ.get("PINGAN_SOAK") == "1"
    for case_id in m.made:
        f = facts[case_id]
        with _untouched(m, case_id, "its refusals") as tag:
            for action in oracle.NO_FIELDS if soak else NO_FIELD_PROBES[f.state]:
                for p in m.people:
                    want = oracle.action_status(p, f, action)
                    if want != 200:
                        _expect_refusal(m, p, case_id, action, {}, tag, want, f.state)
    _report(m, "no-field actions refused", before)


@contextmanager
def _untouched(m: Matrix, case_id: int, what: str) -> Iterator[str]:
    """Yields the case's ETag; afterwards its version, state, timeline and ETag must be as
    before (they only grow, so any refusal that wrote something shows)."""
    unchanged = m.footprint(case_id)
    tag = f'"{unchanged[0]}"'
    yield tag
    after = f"case {case_id} after {what}"
    m.expect(f"{after}: version, state, timeline", unchanged, m.footprint(case_id))
    got = m.client(m.by_name["admin"]).get(f"/api/v1/cases/{case_id}").headers.get("ETag")
    m.expect(f"{after}: ETag", tag, got)


def _expect_refusal(
    m: Matrix,
    p: Any,
    case_id: int,
    action: str,
    body: dict[str, Any],
    tag: str,
    want: int,
    where: str,
) -> None:
    r = m.client(p).post(
        f"/api/v1/cases/{case_id}/actions/{action}", json=body, headers={"If-Match": tag}
    )
    m.expect(f"{p.username} {action} case {case_id} ({where})", want, r.status_code, r.text)


def test_escalation_with_its_reason_is_refused_where_the_owner_has_no_parent_centre(
    matrix: Matrix,
) -> None:
    """`escalate` carrying its `reason`, with the current ETag, by everyone on each case the city
    owns (every matrix case under `PINGAN_SOAK=1`), wherever the oracle refuses it: 404/409/403,
    and 409 for the city's own centre, since there is no centre above it. Nothing changes."""
    m = matrix
    before = m.checks
    facts = m.facts()
    soak = os.environ.get("PINGAN_SOAK") == "1"
    topmost = [i for i in m.made if not oracle.has_parent_centre(facts[i])]
    assert topmost, "no matrix case is owned by the city"
    for case_id in m.made if soak else topmost:
        f = facts[case_id]
        where = f"{f.state}, owner {f.owner_path}"
        with _untouched(m, case_id, "its escalations") as tag:
            for p in m.people:
                want = oracle.action_status(p, f, "escalate", carrying=True)
                if want != 200:
                    body = {"reason": "再上报"}
                    _expect_refusal(m, p, case_id, "escalate", body, tag, want, where)
    _report(m, "escalation refused", before)


def test_similar_search_stays_within_scope(matrix: Matrix) -> None:
    m = matrix
    before = m.checks
    facts = m.facts()
    grid = m.world.grids(0, 0)[0]
    body = {
        "category_code": "E0102",
        "title": f"{MARKER}0reported",
        "lng": grid.lng,
        "lat": grid.lat,
    }
    for p in m.people:
        r = m.client(p).post("/api/v1/cases/similar", json=body)
        assert r.status_code == 200, r.text
        leaked = sorted(
            s["case"]["id"] for s in r.json() if not oracle.reads_case(p, facts[s["case"]["id"]])
        )
        m.expect(f"{p.username} POST /cases/similar within scope", [], leaked)
    _report(m, "similar", before)


def test_attachments_are_seen_by_their_uploader_and_the_readers_of_their_case(
    matrix: Matrix,
) -> None:
    m = matrix
    before = m.checks
    facts = m.facts()
    with m.world.rt.engine.connect() as conn:
        rows = conn.execute(
            select(attachments.c.id, attachments.c.uploaded_by, attachments.c.case_id).where(
                attachments.c.case_id.in_(m.made)
            )
        ).all()
    loose = m.world.photo(m.world.client("citizen32"))  # uploaded, never attached
    rows = [*rows, (loose, m.by_name["citizen32"].user_id, None)]
    assert len(rows) >= 10
    for p in m.people:
        c = m.client(p)
        for att_id, uploader, case_id in rows:
            case = facts[case_id] if case_id is not None else None
            want = 200 if oracle.reads_attachment(p, uploader, case) else 404
            m.expect(
                f"{p.username} GET attachment {att_id}",
                want,
                c.get(f"/api/v1/attachments/{att_id}").status_code,
            )
    _report(m, "attachments", before)


def test_devices_alarms_patrols_and_positions_follow_the_documented_roles(matrix: Matrix) -> None:
    m = matrix
    before = m.checks
    with m.world.rt.engine.connect() as conn:
        device_paths = dict(conn.execute(select(devices.c.id, devices.c.grid_path)).all())
        alarm_paths = dict(conn.execute(select(alarms.c.id, alarms.c.grid_path)).all())
        patrol_owner = dict(conn.execute(select(patrols.c.id, patrols.c.user_id)).all())
    assert device_paths and len(alarm_paths) >= 2 and len(patrol_owner) >= 2
    by_id = {p.user_id: p for p in m.by_name.values()}
    workers = [p for p in m.people if p.role == "grid_worker"]
    for p in m.people:
        c = m.client(p)
        listed = c.get("/api/v1/devices", params={"limit": 1000})
        got = sorted(d["id"] for d in listed.json()) if listed.status_code == 200 else []
        want = sorted(i for i, path in device_paths.items() if oracle.sees_devices_at(p, path))
        m.expect(f"{p.username} GET /devices ids", want, got)
        status = c.get("/api/v1/devices/status").status_code
        m.expect(f"{p.username} GET /devices/status allowed", p.role != "citizen", status == 200)
        listed_alarms = c.get("/api/v1/alarms", params={"limit": 500})
        m.expect(
            f"{p.username} GET /alarms allowed",
            oracle.reads_alarms(p),
            listed_alarms.status_code == 200,
        )
        if listed_alarms.status_code == 200:
            m.expect(
                f"{p.username} GET /alarms ids",
                sorted(i for i, path in alarm_paths.items() if oracle.sees_devices_at(p, path)),
                sorted(a["id"] for a in listed_alarms.json()),
            )
        for alarm_id, path in alarm_paths.items():
            want = (
                (200 if oracle.sees_devices_at(p, path) else 404) if oracle.reads_alarms(p) else 403
            )
            got = c.get(f"/api/v1/alarms/{alarm_id}").status_code
            m.expect(f"{p.username} GET /alarms/{alarm_id}", want, got)
        positions = c.get("/api/v1/workers/positions")
        m.expect(
            f"{p.username} GET /workers/positions allowed",
            oracle.reads_worker_positions(p),
            positions.status_code == 200,
        )
        if positions.status_code == 200:
            leaked = [
                w["username"]
                for w in positions.json()
                if not oracle.within(m.by_name[w["username"]].jurisdiction, p.jurisdiction)
            ]
            m.expect(f"{p.username} worker positions within scope", [], leaked)
        listed_patrols = c.get("/api/v1/patrols", params={"limit": 200})
        visible = {oracle.patrols_visible(p, w) for w in workers}
        m.expect(
            f"{p.username} GET /patrols allowed",
            None not in visible,
            listed_patrols.status_code == 200,
        )
        if listed_patrols.status_code == 200:
            m.expect(
                f"{p.username} GET /patrols ids",
                sorted(i for i, u in patrol_owner.items() if oracle.patrols_visible(p, by_id[u])),
                sorted(x["id"] for x in listed_patrols.json()),
            )
        rules = c.post(
            "/api/v1/dispatch-rules",
            json={
                "category_prefix": "Z9",
                "unit_path": p.jurisdiction or "330400",
                "department_id": "no-such-office",
            },
        )
        m.expect(
            f"{p.username} POST /dispatch-rules permitted",
            oracle.writes_dispatch_rules(p),
            rules.status_code != 403,
        )
    _report(m, "devices, alarms, patrols, rules", before)


def _drain(ws: Any) -> list[dict[str, Any]]:
    """Whatever the server has pushed to this socket so far, without waiting for more."""
    out = []
    while True:
        try:
            message = ws.portal.call(ws._send_rx.receive_nowait)
        except anyio.WouldBlock:
            return out
        out.append(json.loads(message["text"]))


def test_websocket_pushes_reach_exactly_the_readers_of_each_case(matrix: Matrix) -> None:
    """One socket per person; a case reported, filed and dispatched in one town and one reported
    in another county: each event reaches exactly those the oracle says may read the case at
    that moment (handlers from the dispatch on; the reporter throughout)."""
    m = matrix
    before = m.checks
    w = m.world
    w.rt.relay.drain()
    anon = w.client()
    sockets: dict[str, Any] = {}
    with ExitStack() as stack:
        for p in m.people:
            ws = stack.enter_context(
                anon.websocket_connect(f"/api/v1/ws?token={w.token(p.username)}")
            )
            assert ws.receive_json()["type"] == "hello"
            sockets[p.username] = ws
        here_town, here_grid = w.town(1, 0), w.grids(1, 0)[1]
        op = w.client(f"op.{here_town.unit.code}")
        here = w.report(w.client("citizen32"), here_grid, title=f"{MARKER}ws")
        here = _act(w, op, here, "file")
        here = _act(w, op, here, "dispatch")
        there = w.report(w.client("citizen31"), w.grids(1, 1)[1], title=f"{MARKER}ws2")
        w.rt.relay.drain()
        deadline = time.monotonic() + 5
        while (
            any(not s.queue.empty() for s in list(w.rt.hub._subs)) and time.monotonic() < deadline
        ):
            time.sleep(0.02)
        time.sleep(0.2)
        got = {name: _drain(ws) for name, ws in sockets.items()}
    facts = m.facts()
    dispatched = facts[here["id"]]
    # the case as it stood at each event: reported/filed before it had a department
    undepartmented = oracle.CaseFacts(**{**dispatched.__dict__, "department": None})
    expected_events = {
        here["id"]: [
            ("case.reported", undepartmented),
            ("case.filed", undepartmented),
            ("case.dispatched", dispatched),
        ],
        there["id"]: [("case.reported", facts[there["id"]])],
    }
    for p in m.people:
        received = [
            (e["case_id"], e["type"])
            for e in got[p.username]
            if e.get("case_id") in expected_events
        ]
        want = [
            (case_id, kind)
            for case_id, events in expected_events.items()
            for kind, as_then in events
            if oracle.reads_case(p, as_then)
        ]
        m.expect(f"{p.username} WebSocket events", sorted(want), sorted(received))
        leaked = [e for e in got[p.username] if "reporter_id" in e.get("payload", {})]
        m.expect(f"{p.username} WebSocket events carry no reporter id", [], leaked)
    _report(m, "websocket", before)


def test_video_calls_reach_only_whom_the_caller_may_call_and_are_seen_as_documented(
    matrix: Matrix,
) -> None:
    m = matrix
    before = m.checks
    for caller in m.people:
        c = m.client(caller)
        read_once = False
        for callee in m.people:
            r = c.post("/api/v1/calls", json={"callee_id": callee.user_id})
            allowed = oracle.may_call(caller, callee)
            m.expect(f"{caller.username} calls {callee.username}", allowed, r.status_code == 201)
            if r.status_code != 201:
                m.expect(f"{caller.username} calls {callee.username} refused", 403, r.status_code)
                continue
            call = r.json()
            if not read_once:  # who may read a call: once per host, for everyone
                read_once = True
                for reader in m.people:
                    got = m.client(reader).get(f"/api/v1/calls/{call['id']}").status_code
                    m.expect(
                        f"{reader.username} reads {caller.username}'s call",
                        200 if oracle.reads_call(reader, caller, (caller, callee)) else 404,
                        got,
                    )
            hung = c.post(f"/api/v1/calls/{call['id']}/hangup")
            m.expect(f"{caller.username} hangs up", "cancelled", hung.json().get("outcome"))
    _report(m, "video calls", before)


# Last in the module, since it changes the cases: every other check above sees them untouched.
def test_each_case_takes_one_permitted_no_field_action(matrix: Matrix) -> None:
    """On every matrix case where the oracle permits a no-field action, one is taken for real:
    200, the state the lifecycle leads to, one step more in version, ETag and timeline. Actors
    are chosen so roles and people vary as much as the cases allow; every no-field kind is taken."""
    m = matrix
    before = m.checks
    facts = m.facts()
    used: Counter[tuple[str, str]] = Counter()
    for case_id in m.made:
        f = facts[case_id]
        permitted = [
            (a, p)
            for a in oracle.NO_FIELDS
            for p in m.people
            if oracle.action_status(p, f, a) == 200
        ]
        if not permitted:  # accepted, handled, closed: only actions carrying fields lead on
            continue
        action, p = _least_used(permitted, used)
        _take(m, f, action, p)
        used.update([("action", action), ("role", p.role), ("person", p.username)])
    m.expect(
        "every no-field action taken",
        sorted(oracle.NO_FIELDS),
        sorted(a for kind, a in used if kind == "action"),
    )
    _report(m, "no-field actions taken", before)


def _least_used(
    permitted: list[tuple[str, oracle.Person]], used: Counter[tuple[str, str]]
) -> tuple[str, oracle.Person]:
    """The permitted (action, person) whose action, role and person have been taken least, so a
    handful of cases spread over as many kinds and actors as they can."""
    return min(
        permitted,
        key=lambda c: (
            used["action", c[0]],
            used["role", c[1].role],
            used["person", c[1].username],
            c[1].username,
        ),
    )


def _take(m: Matrix, f: oracle.CaseFacts, action: str, p: oracle.Person) -> None:
    """Send `action` as `p` with the current ETag; check the answer and the rows."""
    version, _, entries = m.footprint(f.id)
    r = m.client(p).post(
        f"/api/v1/cases/{f.id}/actions/{action}", json={}, headers={"If-Match": f'"{version}"'}
    )
    what = f"{p.username} {action} case {f.id} ({f.state})"
    m.expect(what, 200, r.status_code, r.text)
    m.expect(f"{what}: ETag", f'"{version + 1}"', r.headers.get("ETag"))
    after = (version + 1, oracle.state_after(f, action), entries + 1)
    m.expect(f"{what}: version, state, timeline", after, m.footprint(f.id))
    print(f"  {what} -> {after[1]}")
