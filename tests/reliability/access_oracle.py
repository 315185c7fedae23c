"""Who may see and do what, written from the documentation alone — README ("Jurisdiction"),
docs/architecture.md ("Case ownership"), docs/api.md (the action table), docs/web.md (patrols and
positions), docs/iot.md and docs/open311.md — and deliberately *not* from `pingan.domain.access`,
`pingan.domain.cases.RULES` or `adapters/db/scope.py`, so the access matrix compares the code with
an independent statement of the rules rather than with itself.

The tree is written as dotted paths (`330400.330402.330402001`); a place lies within a
jurisdiction when its path is the jurisdiction or starts with it and a dot.
"""

from __future__ import annotations

from dataclasses import dataclass

CENTRE = ("commander", "operator")  # 指挥长, 坐席员: the command centres of city, county and town
TREE_WIDE = ("admin", "auditor")  # appointed over the whole city
ACTIVE = ("reported", "filed", "dispatched", "accepted", "handled", "verified", "rework")


def within(path: str, jurisdiction: str) -> bool:
    return path == jurisdiction or path.startswith(jurisdiction + ".")


@dataclass(frozen=True)
class Person:
    username: str
    user_id: int
    role: str
    jurisdiction: str
    department: str | None = None
    grid: str | None = None


@dataclass(frozen=True)
class CaseFacts:
    """What the oracle needs to know about a case, read straight from its row."""

    id: int
    tracking_no: str
    state: str
    location_path: str  # the grid it lies in
    owner_path: str  # the centre that owns it (the town, unless escalated)
    grid_code: str
    department: str | None
    reporter_id: int | None
    suspended_from: str | None = None  # the state a suspended case resumes to


def reads_case(p: Person, c: CaseFacts) -> bool:
    """README: "a town operator never reads … another town's cases; departments see what is
    dispatched to them; grid workers their grid; citizens their own reports". architecture.md:
    "Reading is by location: a centre sees every case located in its jurisdiction"."""
    if p.role == "citizen":
        return c.reporter_id == p.user_id
    if p.role == "handler":
        return p.department is not None and c.department == p.department
    if p.role == "grid_worker":
        return within(c.location_path, p.jurisdiction) or c.reporter_id == p.user_id
    if p.role in CENTRE or p.role in TREE_WIDE:
        return within(c.location_path, p.jurisdiction)
    return False


# docs/api.md, the action table: from which states, and who (role: relation to the case).
OWNER, DEPARTMENT, GRID, REPORTER = "owner", "department", "grid", "reporter"
_CENTRE_OWNS = (("operator", OWNER), ("commander", OWNER))
ACTIONS: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = {
    "file": (("reported",), _CENTRE_OWNS),
    "reject": (("reported",), _CENTRE_OWNS),
    "dispatch": (("filed",), _CENTRE_OWNS),
    "accept": (("dispatched",), (("handler", DEPARTMENT),)),
    "return": (("dispatched", "accepted"), (("handler", DEPARTMENT),)),
    "handle": (("accepted", "rework"), (("handler", DEPARTMENT),)),
    "verify": (("handled",), (("grid_worker", GRID),)),
    "close": (("verified",), _CENTRE_OWNS),
    "evaluate": (("closed",), (("citizen", REPORTER), *_CENTRE_OWNS)),
    "escalate": (ACTIVE, _CENTRE_OWNS),
    "supervise": (ACTIVE, (("commander", OWNER),)),
    "suspend": (tuple(s for s in ACTIVE if s != "reported"), _CENTRE_OWNS),
    "resume": (("suspended",), _CENTRE_OWNS),
    "merge": (("reported", "filed"), _CENTRE_OWNS),
}
# The "must carry" column is empty for these (dispatch's department defaults to the routing
# suggestion), so they can be sent with an empty body — and a permitted one changes the case.
NO_FIELDS = ("file", "dispatch", "accept", "close", "resume")
NEEDS_FIELDS = tuple(a for a in ACTIONS if a not in NO_FIELDS)
# Where a no-field action takes the case (the lifecycle in docs/api.md); resume goes back to the
# state the case was suspended in ("suspend ⇄ resume").
LEADS_TO = {"file": "filed", "dispatch": "dispatched", "accept": "accepted", "close": "closed"}


def _related(p: Person, c: CaseFacts, relation: str) -> bool:
    if relation == OWNER:  # "their jurisdiction contains the owning centre"
        return within(c.owner_path, p.jurisdiction)
    if relation == DEPARTMENT:
        return p.department is not None and p.department == c.department
    if relation == GRID:
        return p.grid == c.grid_code
    return p.user_id == c.reporter_id


def has_parent_centre(c: CaseFacts) -> bool:
    """architecture.md: "Escalation moves ownership to the parent unit" — which a case the city
    owns (the root of the tree) lacks; docs/api.md: escalating such a case is 409."""
    return "." in c.owner_path


def action_status(p: Person, c: CaseFacts, action: str, carrying: bool = False) -> int:
    """The answer to an action sent with an empty body: 404 when the case is not yours to read
    (docs/api.md: out-of-scope cases are not revealed), 409 when the state does not allow it, 403
    when your role or relation does not; else 422 for an action that must carry fields (you may,
    but must carry them — nothing changes) and 200 for one that needs none (it is taken).
    `carrying`: sent with the fields it must carry, so a permitted one is 200 — except escalation
    of a case whose owner has no parent centre, which the case cannot take (409, like a state
    that does not allow it)."""
    if not reads_case(p, c):
        return 404
    if c.state not in ACTIONS[action][0]:
        return 409
    if not any(p.role == role and _related(p, c, rel) for role, rel in ACTIONS[action][1]):
        return 403
    if action == "escalate" and carrying and not has_parent_centre(c):
        return 409
    return 422 if action in NEEDS_FIELDS and not carrying else 200


def allowed_actions(p: Person, c: CaseFacts) -> set[str]:
    """docs/api.md: "each case lists the actions its reader may take now in `allowed_actions`":
    those it would take with their fields carried — so no escalation where the owner has no
    parent centre."""
    return {a for a in ACTIONS if action_status(p, c, a, carrying=True) == 200}


def state_after(c: CaseFacts, action: str) -> str:
    """The state a permitted no-field action leaves the case in."""
    if action == "resume":
        assert c.suspended_from is not None, c
        return c.suspended_from
    return LEADS_TO[action]


def reads_attachment(p: Person, uploaded_by: int, case: CaseFacts | None) -> bool:
    """services/evidence: a photo belongs to its uploader until an action attaches it to a case;
    then whoever reads the case sees it."""
    return p.user_id == uploaded_by or (case is not None and reads_case(p, case))


def sees_devices_at(p: Person, grid_path: str) -> bool:
    """docs/iot.md: devices and alarms are the command centres' tools, scoped by grid path like
    cases; a citizen's sign-in reaches no device registry."""
    if p.role == "citizen":
        return False
    return within(grid_path, p.jurisdiction)


def reads_alarms(p: Person) -> bool:
    """Alarms wait for "an operator to confirm or dismiss" (docs/iot.md): the centres, and the
    city-wide administrator and auditor."""
    return p.role in CENTRE or p.role in TREE_WIDE


def reads_worker_positions(p: Person) -> bool:
    """docs/web.md: `GET /workers/positions` is for commanders and operators."""
    return p.role in CENTRE


def patrols_visible(p: Person, worker: Person) -> bool | None:
    """docs/web.md: `GET /patrols` lists one's own patrols, or for the centre those of workers in
    its jurisdiction; None when the role may not list patrols at all."""
    if p.role == "grid_worker":
        return worker.username == p.username
    if p.role in CENTRE:
        return within(worker.jurisdiction, p.jurisdiction)
    return None


def writes_dispatch_rules(p: Person) -> bool:
    """README: dispatch rules are editable; `rules:write` is held by administrators and
    commanders."""
    return p.role in ("admin", "commander")


def issues_open311_keys(p: Person) -> bool:
    """docs/open311.md: "An administrator issues one per app"."""
    return p.role == "admin"


CALLABLE = ("grid_worker", "handler", "commander", "operator")


def may_call(caller: Person, callee: Person) -> bool:
    """docs/video-calls.md ("Who may call whom"): "Centre staff (commanders and operators) call
    people whose home unit lies within their own jurisdiction: grid workers, department handlers
    and other centre staff … grid workers and handlers do not place calls." Nobody calls
    themselves."""
    return (
        caller.role in CENTRE
        and callee.username != caller.username
        and callee.role in CALLABLE
        and within(callee.jurisdiction, caller.jurisdiction)
    )


def reads_call(p: Person, host: Person, parties: tuple[Person, ...]) -> bool:
    """docs/video-calls.md ("The call's life"): a call is seen by the people in it, and by centre
    staff, auditors and administrators whose jurisdiction covers the host's."""
    return p in parties or (
        (p.role in CENTRE or p.role in TREE_WIDE) and within(host.jurisdiction, p.jurisdiction)
    )
