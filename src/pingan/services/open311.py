"""Open311 GeoReport v2: how Pingan's categories, cases and states look to Open311 apps.

Plain functions over domain objects. The HTTP edge (`api/routers/open311.py`) parses parameters and
renders JSON or XML; everything that decides *what* an Open311 client sees or may do lives here.

Decisions (see docs/open311.md):
- `service_request_id` is the case's tracking number (受理编号): the number hotline operators and
  SMS receipts already quote, and not a sequence, so the public list cannot be walked by counting.
- The public read side shows only cases that came in through Open311 (channel `open311`). Reports
  from the hotline, grid workers and the citizen app were made under Pingan's access rules (a
  citizen sees only their own reports), so they never appear in a public Open311 feed.
- Categories about people rather than places (disputes, drug leads, fraud victims, welfare,
  petitions) are not offered: everything filed through Open311 is publicly readable.
- The requester's name, phone, e-mail and device id are not stored at all; an Open311 report is
  anonymous to Pingan and followed up through the app that filed it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pingan.domain.access import Actor, Role
from pingan.domain.cases import Case, CaseState
from pingan.domain.categories import CATEGORIES, DEPARTMENT_KINDS, MAJORS, Category
from pingan.domain.errors import Forbidden, InvalidInput, NotFound
from pingan.domain.geo import CRS, PATH_SEP, UnitLevel, is_within
from pingan.domain.sla import CST, ClockKind, Urgency
from pingan.services.intake import CaseDraft, Reported, report_case
from pingan.services.ports import Env, UnitOfWork, UnitOfWorkFactory

CHANNEL = "open311"
WINDOW = timedelta(days=90)  # the spec's default and largest date range for GET requests
MAX_RESULTS = 1000  # the spec's default page: "first 1000 requests"
MAX_PAGE = 1_000_000  # deeper than any city's history; keeps the offset a number databases hold
MAX_DESCRIPTION = 4000  # the spec's limit on `description`
MAX_MEDIA_URL = 2000
TITLE_CHARS = 60

CLOSED_STATES = frozenset(
    {CaseState.CLOSED, CaseState.EVALUATED, CaseState.REJECTED, CaseState.MERGED}
)
PRIVATE_MAJORS = frozenset({"S01", "S04", "S05", "S08", "S09"})  # about people, not places

# Timeline actions whose note or reason is meant for the reporter; escalations, supervision and
# returns between offices are internal to the command centre.
PUBLIC_NOTE_ACTIONS = frozenset({"reject", "handle", "verify", "close", "merge", "suspend"})

STATE_NOTES: dict[CaseState, tuple[str, str]] = {
    CaseState.REPORTED: ("已受理，等待立案", "Received; awaiting filing"),
    CaseState.FILED: ("已立案，等待派遣", "Filed; awaiting dispatch"),
    CaseState.REJECTED: ("不予立案", "Not accepted"),
    CaseState.DISPATCHED: ("已派遣至责任部门", "Dispatched to the responsible department"),
    CaseState.ACCEPTED: ("责任部门已签收，正在处置", "Accepted by the department; in progress"),
    CaseState.HANDLED: ("已处置，等待网格员核查", "Handled; awaiting on-site check"),
    CaseState.REWORK: ("核查未通过，返工处置中", "Failed the check; being reworked"),
    CaseState.VERIFIED: ("核查通过，等待结案", "Checked on site; awaiting closure"),
    CaseState.CLOSED: ("已结案", "Closed"),
    CaseState.EVALUATED: ("已结案并评价", "Closed and rated"),
    CaseState.SUSPENDED: ("暂缓处理", "On hold"),
    CaseState.MERGED: ("与其他报告合并处理", "Merged with another report"),
}

URGENCY_NAMES: dict[Urgency, tuple[str, str]] = {
    Urgency.ROUTINE: ("一般", "Routine"),
    Urgency.URGENT: ("紧急", "Urgent"),
    Urgency.CRITICAL: ("特急", "Critical"),
}

_DEPARTMENTS = {k.code: (k.name, k.name_en) for k in DEPARTMENT_KINDS}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


# --- services -------------------------------------------------------------------------------


def offered(cat: Category) -> bool:
    """Whether a category is a public Open311 service (see the module docstring)."""
    return cat.major_code not in PRIVATE_MAJORS


def service(code: str) -> Category:
    """The category behind a service_code; NotFound (404 in Open311) when not offered."""
    cat = CATEGORIES.get(code)
    if cat is None or not offered(cat):
        raise NotFound("open311.unknown_service", code=code)
    return cat


def _hours(hours: float, clock: ClockKind, lang: str) -> str:
    n = f"{hours:g}"
    if lang == "en":
        return f"{n} {'working ' if clock is ClockKind.WORKING else ''}hours"
    return f"{n} 个{'工作' if clock is ClockKind.WORKING else '自然'}小时"


def service_entry(cat: Category, lang: str) -> dict[str, Any]:
    """One `<service>` of GET services, fields in the spec's order."""
    major = MAJORS[cat.major_code]
    dept = _DEPARTMENTS[cat.department]
    limit = cat.handling_limit(Urgency.ROUTINE)
    if lang == "en":
        description = (
            f"{cat.name_en} ({major[1]}). Usually handled by the {dept[1]} within "
            f"{_hours(limit.hours, limit.clock, lang)} of dispatch."
        )
    else:
        description = (
            f"{major[0]}：{cat.name}。一般由{dept[0]}办理，派遣后 "
            f"{_hours(limit.hours, limit.clock, lang)}内处置。"
        )
    return {
        "service_code": cat.code,
        "service_name": _pick((cat.name, cat.name_en), lang),
        "description": description,
        "metadata": True,  # every service has the `urgency` attribute
        "type": "realtime",
        "keywords": ", ".join((cat.name, cat.name_en, major[0], major[1])),
        "group": _pick(major, lang),
    }


def services(lang: str) -> list[dict[str, Any]]:
    return [service_entry(c, lang) for c in CATEGORIES.values() if offered(c)]


def service_definition(code: str, lang: str) -> dict[str, Any]:
    """GET services/{code}: the attributes a request for this service may carry."""
    cat = service(code)
    en = lang == "en"
    return {
        "service_code": cat.code,
        "attributes": [
            {
                "variable": True,
                "code": "urgency",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": (
                    "One of routine, urgent, critical; routine when omitted"
                    if en
                    else "routine（一般）、urgent（紧急）、critical（特急）之一，缺省为一般"
                ),
                "order": 1,
                "description": (
                    "How urgent is it? Urgent and critical reports run on the clock round the "
                    "clock instead of working hours."
                    if en
                    else "紧急程度：紧急、特急按自然小时计时，一般按工作时间计时。"
                ),
                "values": [
                    {"key": u.value, "name": _pick(URGENCY_NAMES[u], lang)} for u in Urgency
                ],
            }
        ],
    }


def service_notice(cat: Category, urgency: Urgency, lang: str) -> str:
    """What the reporter can expect: the handling time limit for this category and urgency."""
    limit = cat.handling_limit(urgency)
    hours = _hours(limit.hours, limit.clock, lang)
    dept = _pick(_DEPARTMENTS[cat.department], lang)
    if lang == "en":
        return f"Filed by the town command centre, then handled by the {dept} within {hours}."
    return f"由所在街道（镇）指挥中心立案后派遣{dept}，{hours}内处置。"


# --- requests -------------------------------------------------------------------------------


def status_of(state: CaseState) -> str:
    """open/closed: closed once the city is done with it (closed, rated, rejected, merged)."""
    return "closed" if state in CLOSED_STATES else "open"


def states_for(statuses: Iterable[str]) -> tuple[str, ...]:
    """The case states behind a list of Open311 statuses; InvalidInput for anything else."""
    states: set[CaseState] = set()
    for status in statuses:
        if status == "closed":
            states |= CLOSED_STATES
        elif status == "open":
            states |= set(CaseState) - CLOSED_STATES
        else:
            raise InvalidInput("open311.bad_status", status=status)
    return tuple(sorted(s.value for s in states))


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """A case as the Open311 read side needs it, with the names it is shown by."""

    case: Case
    department: tuple[str, str] | None  # (name, name_en) of the assigned department
    places: tuple[tuple[str, str], ...]  # unit names, most specific first
    media_url: str | None
    note: str | None  # the latest reporter-facing note or reason on the timeline


@dataclass(frozen=True, slots=True)
class RequestQuery:
    """What GET requests asks for, after the spec's defaults and limits were applied."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    states: tuple[str, ...] = ()
    limit: int = MAX_RESULTS
    offset: int = 0


def request_query(
    now: datetime,
    *,
    ids: Sequence[str] = (),
    service_codes: Sequence[str] = (),
    start: datetime | None = None,
    end: datetime | None = None,
    statuses: Sequence[str] = (),
    page: int = 1,
    page_size: int = MAX_RESULTS,
) -> RequestQuery:
    """Apply the spec: ids override everything; otherwise a window of at most 90 days (the most
    recent 90 by default, or 90 from whichever end was given) and at most 1000 results a page."""
    if not 1 <= page <= MAX_PAGE or not 1 <= page_size <= MAX_RESULTS:
        raise InvalidInput("open311.bad_page", pages=MAX_PAGE, max=MAX_RESULTS)
    offset = (page - 1) * page_size
    if ids:
        return RequestQuery(ids=tuple(ids), limit=page_size, offset=offset)
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - WINDOW
    if end is None:
        end = start + WINDOW
    if end < start:
        raise InvalidInput("open311.dates_reversed")
    if end - start > WINDOW:
        raise InvalidInput("open311.window_too_long", days=WINDOW.days)
    return RequestQuery(
        service_codes=tuple(service_codes),
        start=start,
        end=end,
        states=states_for(statuses),
        limit=page_size,
        offset=offset,
    )


def w3c(moment: datetime | None) -> str | None:
    """W3C datetime with the offset, in the city's own time (UTC+8)."""
    if moment is None:
        return None
    return moment.astimezone(CST).replace(microsecond=0).isoformat()


def service_request(record: RequestRecord, lang: str) -> dict[str, Any]:
    """One `<request>` of GET requests, fields in the spec's order; never the reporter."""
    case = record.case
    cat = CATEGORIES.get(case.category_code)
    place_names = [_pick(p, lang) for p in record.places]
    address = ", ".join([case.address, *place_names] if case.address else place_names)
    closed = case.state in CLOSED_STATES
    return {
        "service_request_id": case.tracking_no,
        "status": status_of(case.state),
        "status_notes": record.note or _pick(STATE_NOTES[case.state], lang),
        "service_name": _pick((cat.name, cat.name_en), lang) if cat else case.category_code,
        "service_code": case.category_code,
        "description": case.description or case.title,
        "agency_responsible": _pick(record.department, lang) if record.department else None,
        "service_notice": service_notice(cat, case.urgency, lang) if cat else None,
        "requested_datetime": w3c(case.created_at),
        "updated_datetime": w3c(case.closed_at if closed and case.closed_at else case.updated_at),
        "expected_datetime": None if closed else w3c(case.due_at),
        "address": address or None,
        "address_id": case.grid_code,
        "zipcode": None,
        "lat": case.lat,
        "long": case.lng,
        "media_url": record.media_url,
    }


def find_requests(uow: UnitOfWork, query: RequestQuery) -> list[RequestRecord]:
    records: list[RequestRecord] = uow.open311.requests(query, CHANNEL)
    return records


def find_request(uow: UnitOfWork, request_id: str) -> RequestRecord:
    """One Open311 request by its id; NotFound when it is not a public Open311 request."""
    found = find_requests(uow, RequestQuery(ids=(request_id,), limit=1))
    if not found:
        raise NotFound("open311.unknown_request", id=request_id)
    return found[0]


# --- placing a report -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Place:
    """A unit as the address matcher sees it."""

    code: str
    path: str
    level: UnitLevel
    name: str
    name_en: str
    center: tuple[float, float] | None


_PLACEABLE = (UnitLevel.TOWN, UnitLevel.COMMUNITY, UnitLevel.GRID)


def _named_in(place: Place, text: str, folded: str) -> bool:
    return place.name in text or (len(place.name_en) > 3 and place.name_en.lower() in folded)


def match_address(address: str, places: Sequence[Place]) -> Place:
    """The most specific town, community or grid an address names, whose named ancestors agree.

    A community or grid counts only when its parent is named too (grid names such as 第1网格 repeat
    in every community). Ties at the deepest level are broken by how many ancestors (district,
    city) are named; a tie that remains is ambiguous and refused rather than guessed.
    """
    folded = address.lower()
    by_path = {p.path: p for p in places}
    named = {p.path for p in places if _named_in(p, address, folded)}

    def chain_ok(p: Place) -> bool:
        node = p
        while node.level is not UnitLevel.TOWN:
            parent = by_path.get(node.path.rpartition(PATH_SEP)[0])
            if parent is None or parent.path not in named:
                return False
            node = parent
        return True

    candidates = [
        by_path[path]
        for path in named
        if by_path[path].level in _PLACEABLE and chain_ok(by_path[path])
    ]
    if not candidates:
        raise InvalidInput("open311.address_unresolved", address=address)
    deepest = max(p.level.depth for p in candidates)
    best = [p for p in candidates if p.level.depth == deepest]

    def support(p: Place) -> int:
        parts = p.path.split(PATH_SEP)
        return sum(PATH_SEP.join(parts[:i]) in named for i in range(1, len(parts)))

    top = max(support(p) for p in best)
    best = [p for p in best if support(p) == top]
    if len(best) > 1:
        raise InvalidInput("open311.address_ambiguous", address=address)
    return best[0]


@dataclass(frozen=True, slots=True)
class Submission:
    """A parsed POST requests: only what Pingan keeps (no name, phone, e-mail or device id)."""

    service_code: str
    description: str = ""
    lat: float | None = None
    long: float | None = None
    address_string: str = ""
    address_id: str = ""
    urgency: Urgency = Urgency.ROUTINE
    media_url: str | None = None
    photo_ids: tuple[int, ...] = ()


_MEDIA_URL = re.compile(r"^https?://[^\s<>\"]+$", re.IGNORECASE)


def _locate(uow: UnitOfWork, sub: Submission, env: Env) -> tuple[float, float]:
    """WGS-84 (lng, lat) for a submission: its own coordinates, else the centre of the unit its
    address_id or address_string names, checked to fall in a grid of that unit."""
    if sub.lat is not None and sub.long is not None:
        return sub.long, sub.lat
    place: Place | None
    if sub.address_id:
        place = next((p for p in uow.open311.places() if p.code == sub.address_id), None)
        if place is None or place.level not in _PLACEABLE:
            raise InvalidInput("open311.unknown_address_id", address_id=sub.address_id)
    else:
        place = match_address(sub.address_string, uow.open311.places())
    grid = env.locator.locate(*place.center) if place.center else None
    if place.center is None or grid is None or not is_within(grid, place.path):
        raise InvalidInput(
            "open311.address_unresolved", address=sub.address_string or sub.address_id
        )
    return place.center


def submit_request(
    uows: UnitOfWorkFactory, actor: Actor, sub: Submission, env: Env
) -> tuple[Reported, Category]:
    """POST requests: validate against the spec, place the report, and file it through intake
    (grid placement, owning centre, SLA clock, outbox) as channel `open311`.

    The media_url is stored in a second transaction after the case: if that one fails the case
    stands without its link, which is the lesser loss.
    """
    cat = service(sub.service_code)
    if len(sub.description) > MAX_DESCRIPTION:
        raise InvalidInput("open311.description_too_long", max=MAX_DESCRIPTION)
    if (sub.lat is None) != (sub.long is None):
        raise InvalidInput("open311.lat_long_pair")
    if sub.lat is None and not sub.address_string.strip() and not sub.address_id.strip():
        raise InvalidInput("open311.location_required")
    if sub.media_url is not None and (
        len(sub.media_url) > MAX_MEDIA_URL or not _MEDIA_URL.match(sub.media_url)
    ):
        raise InvalidInput("open311.bad_media_url")
    with uows(actor, readonly=True) as uow:
        lng, lat = _locate(uow, sub, env)
    first_line = sub.description.strip().splitlines()[0].strip() if sub.description.strip() else ""
    draft = CaseDraft(
        category_code=cat.code,
        title=first_line[:TITLE_CHARS] or cat.name,
        description=sub.description,
        lng=lng,
        lat=lat,
        crs=CRS.WGS84,
        urgency=sub.urgency,
        address=sub.address_string.strip()[:300],
        channel=CHANNEL,
        photo_ids=sub.photo_ids,
    )
    reported = report_case(uows, actor, draft, env)
    if sub.media_url:
        with uows(actor) as uow:
            uow.open311.link_media(reported.case.id, sub.media_url, env.now())
            uow.commit()
    return reported, cat


# --- API keys -------------------------------------------------------------------------------


def key_hash(key: str) -> str:
    """Keys are stored only as their SHA-256: a leaked table does not leak working keys. Keys are
    256 random bits, so a fast hash is enough (no password stretching needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(uow: UnitOfWork, app_name: str, now: datetime) -> str:
    """Issue a key for an Open311 app and return it; it is shown once and never stored.

    Each key files its reports as its own citizen account (which cannot sign in), so the app's
    reports are told apart, read back, rated and disabled like any citizen's.
    """
    name = app_name.strip()
    if not 1 <= len(name) <= 128:
        raise InvalidInput("open311.bad_app_name")
    key = secrets.token_urlsafe(32)
    roots = [u for u in uow.units.roots()]
    user_id = uow.users.add(
        username=f"open311-{secrets.token_hex(6)}",
        display_name=f"Open311: {name}"[:128],
        role=Role.CITIZEN.value,
        jurisdiction=roots[0].path if len(roots) == 1 else "",
        department_id=None,
        grid_code=None,
        password_hash="!open311",  # not an Argon2 hash: this account can never sign in
        disabled=False,
        synthetic=False,
        created_at=now,
    )
    uow.open311.add_key(key_hash(key), name, user_id, now)
    uow.commit()
    return key


def actor_for_key(uow: UnitOfWork, key: str | None) -> Actor:
    """The citizen account a key files as; Forbidden (403 in Open311) when missing or invalid."""
    if not key:
        raise Forbidden("open311.api_key_required")
    user_id: int | None = uow.open311.key_user(key_hash(key))
    user = uow.users.get(user_id) if user_id is not None else None
    if user is None or user.disabled:
        raise Forbidden("open311.api_key_invalid")
    actor: Actor = user.actor()
    return actor


def jurisdictions(uow: UnitOfWork) -> frozenset[str]:
    """The jurisdiction_id values this endpoint answers for: the codes of the tree's roots."""
    return frozenset(u.code for u in uow.units.roots())


def check_jurisdiction(uow: UnitOfWork, jurisdiction_id: str | None) -> None:
    """jurisdiction_id is optional (one jurisdiction per endpoint); a wrong one is NotFound."""
    if jurisdiction_id and jurisdiction_id not in jurisdictions(uow):
        raise NotFound("open311.unknown_jurisdiction", jurisdiction_id=jurisdiction_id)
