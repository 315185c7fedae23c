"""Intake: a report becomes a case, placed in its grid, owned by its town centre, on the clock.

A report carries an optional idempotency key: a retry with the same key and body returns the case
that was made the first time; the same key with another body is refused.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from pingan.domain.access import CENTRE_ROLES, Actor, Role
from pingan.domain.cases import Case
from pingan.domain.categories import category
from pingan.domain.errors import Conflict, Forbidden, InvalidInput
from pingan.domain.geo import CRS, PATH_SEP, to_wgs84
from pingan.domain.sla import Urgency
from pingan.services.clocks import sync_deadline
from pingan.services.ports import Env, TrackingNoTaken, UnitOfWork, UnitOfWorkFactory

TOWN_DEPTH = 3  # city.district.town
TRACKING_DRAWS = 8  # each draw clashes with a day's n cases with probability n / 2^24

CHANNEL_OF_ROLE = {
    Role.CITIZEN: "citizen",
    Role.GRID_WORKER: "grid_worker",
    Role.OPERATOR: "hotline",
    Role.COMMANDER: "centre",
    Role.HANDLER: "department",
    Role.SYSTEM: "system",
}


@dataclass(frozen=True, slots=True)
class CaseDraft:
    category_code: str
    title: str
    description: str
    lng: float
    lat: float
    crs: CRS = CRS.WGS84
    urgency: Urgency = Urgency.ROUTINE
    address: str = ""
    channel: str | None = None
    photo_ids: tuple[int, ...] = ()

    def fingerprint(self) -> str:
        body = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Reported:
    case: Case
    replayed: bool  # True when an idempotent retry returned the case made earlier


def owner_of(grid_path: str) -> str:
    """New reports belong to the town centre above the grid (or the grid's parent if shallower)."""
    parts = grid_path.split(PATH_SEP)
    depth = TOWN_DEPTH if len(parts) > TOWN_DEPTH else max(len(parts) - 1, 1)
    return PATH_SEP.join(parts[:depth])


def report_case(
    uows: UnitOfWorkFactory,
    actor: Actor,
    draft: CaseDraft,
    env: Env,
    idempotency_key: str | None = None,
) -> Reported:
    """Create a case (or return the one this key made); spans transactions to settle key races."""
    if actor.role in (Role.AUDITOR, Role.ADMIN):
        raise Forbidden("case.report_not_permitted", role=actor.role.value)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 128:
        raise InvalidInput("idempotency.bad_key")
    fingerprint = draft.fingerprint()
    for _attempt in range(3):
        with uows(actor) as uow:
            if idempotency_key:
                earlier = replay(uow, actor, idempotency_key, fingerprint)
                if earlier is not None:
                    return Reported(earlier, replayed=True)
            case = create_case(uow, actor, draft, env)
            try:
                if idempotency_key:
                    uow.idempotency.put(
                        actor.user_id, idempotency_key, fingerprint, case.id, env.now()
                    )
                uow.commit()
            except Conflict:
                if not idempotency_key:
                    raise
                continue  # a concurrent retry with the same key won; read its case
            return Reported(case, replayed=False)
    raise Conflict("idempotency.contended")


def replay(uow: UnitOfWork, actor: Actor, key: str, fingerprint: str) -> Case | None:
    """The case an earlier request with this key made, or None; the same key with another body
    (another fingerprint) is refused."""
    stored = uow.idempotency.get(actor.user_id, key)
    if stored is None:
        return None
    request_hash, case_id = stored
    if request_hash != fingerprint:
        raise InvalidInput("idempotency.key_reused", key=key)
    case: Case | None = uow.cases.get(case_id)
    if case is None:
        raise Conflict("idempotency.case_missing", key=key)
    return case


def tracking_no(now: datetime) -> str:
    """受理编号: the day and 24 random bits, short enough to read out on the phone and not a
    sequence anyone could walk; unique only together with `add_numbered`."""
    return f"{now:%Y%m%d}{secrets.token_hex(3).upper()}"


def add_numbered(uow: UnitOfWork, make: Callable[[str], Case], draw: Callable[[], str]) -> Case:
    """Add the case `make` builds around a tracking number from `draw`, drawing again when the
    number is taken (random numbers clash: 10,000 cases a day meet about three clashes)."""
    for _ in range(TRACKING_DRAWS):
        try:
            case: Case = uow.cases.add(make(draw()))
        except TrackingNoTaken:
            continue
        return case
    raise Conflict("case.tracking_no_exhausted")


def create_case(uow: UnitOfWork, actor: Actor, draft: CaseDraft, env: Env) -> Case:
    """Make a case inside the caller's unit of work (alarms open cases in the same transaction)."""
    cat = category(draft.category_code)
    title = draft.title.strip()
    if not title:
        raise InvalidInput("case.title_required")
    point = to_wgs84(draft.lng, draft.lat, draft.crs)
    grid_path = env.locator.locate(point.lng, point.lat)
    if grid_path is None:
        raise InvalidInput("geo.outside_grids", lng=draft.lng, lat=draft.lat)
    if actor.role in CENTRE_ROLES | {Role.HANDLER} and not actor.sees(grid_path):
        raise Forbidden("case.outside_jurisdiction")
    now = env.now()

    def report(tracking_no: str) -> Case:
        return Case.report(
            actor,
            now,
            id=0,
            tracking_no=tracking_no,
            category_code=cat.code,
            urgency=draft.urgency,
            title=title,
            description=draft.description.strip(),
            lng=point.lng,
            lat=point.lat,
            grid_code=grid_path.rpartition(PATH_SEP)[2],
            location_path=grid_path,
            owner_path=owner_of(grid_path),
            channel=draft.channel or CHANNEL_OF_ROLE.get(actor.role, "web"),
            address=draft.address.strip(),
            photo_ids=draft.photo_ids,
        )

    case = add_numbered(uow, report, lambda: tracking_no(now))
    if draft.photo_ids:
        linked = uow.attachments.attach(draft.photo_ids, case.id, actor.user_id)
        if linked != len(set(draft.photo_ids)):
            raise InvalidInput("attachment.unknown", ids=list(draft.photo_ids))
    sync_deadline(uow, case, env)
    uow.cases.save(case, case.version)
    return case
