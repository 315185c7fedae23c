"""Address → place: parse a Chinese address and resolve it against the administrative tree and
the address registry to a WGS-84 point, a grid and a unit, saying how precisely it matched.

Resolution goes from the most specific part down: a building of a compound, a door number on a
road, the compound, the road (nearest number), then the community, town, district or city named.
The administrative parts narrow where the registry is searched, so 中山路 in two towns is told
apart when the town is given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pingan.domain.addresses import ParsedAddress, normalise, parse_address
from pingan.domain.errors import InvalidInput
from pingan.domain.geo import UnitLevel
from pingan.services.ports import Env, UnitOfWork

MAX_QUERY = 300

# How much a match at each level is worth: the chance the point is within ~100 m of the place.
CONFIDENCE = {
    "building": 0.95,
    "door": 0.95,
    "compound": 0.8,
    "road": 0.6,
    "community": 0.5,
    "town": 0.35,
    "district": 0.2,
    "city": 0.1,
}


class AddressUnitOfWork(UnitOfWork, Protocol):
    addresses: Any


@dataclass(frozen=True, slots=True)
class MatchedUnit:
    code: str
    name: str
    level: str
    path: str


@dataclass
class Geocoded:
    query: str
    parsed: ParsedAddress
    level: str | None = None  # building | door | compound | road | community | town | ...
    confidence: float = 0.0
    lng: float | None = None
    lat: float | None = None
    grid_path: str | None = None
    unit: MatchedUnit | None = None
    address_id: int | None = None
    address_text: str | None = None
    notes: list[str] = field(default_factory=list)


_ADMIN_PARTS = (
    ("city", (UnitLevel.CITY, UnitLevel.DISTRICT)),
    ("district", (UnitLevel.DISTRICT, UnitLevel.CITY)),
    ("town", (UnitLevel.TOWN,)),
    ("community", (UnitLevel.COMMUNITY,)),
)


def _match_admin(
    uow: UnitOfWork, parsed: ParsedAddress, notes: list[str]
) -> tuple[Any | None, str]:
    """The deepest unit the administrative parts name, walking down from the city; each part is
    looked up among the units below the one found so far, by name."""
    scope = ""
    best = None
    for part, levels in _ADMIN_PARTS:
        wanted = getattr(parsed, part)
        if wanted is None:
            continue
        found = []
        for r in uow.units.named(levels, scope, wanted):
            name = normalise(r.unit.name)
            named = name == wanted or (part == "community" and name.endswith(wanted))
            if named and (not scope or r.unit.path.startswith(scope + ".")):
                found.append(r)
        if len(found) == 1:
            best = found[0]
            scope = best.unit.path
        elif found:
            notes.append(f"ambiguous:{part}:{wanted}:{len(found)}")
        else:
            notes.append(f"unknown:{part}:{wanted}")
    return best, scope


def _closest_name(wanted: str, names: Iterable[str]) -> str | None:
    """A registry name the written one ends with or contains ('嘉兴南湖中山路' → '中山路'),
    the longest such."""
    hits = [n for n in names if wanted.endswith(n) or n in wanted]
    return max(hits, key=len) if hits else None


def _number(value: str) -> int:
    digits = re.match(r"\d+", value)
    return int(digits.group(0)) if digits else 0


def geocode(uow: AddressUnitOfWork, query: str, env: Env) -> Geocoded:
    query = query.strip()
    if not query:
        raise InvalidInput("geocode.query_required")
    if len(query) > MAX_QUERY:
        raise InvalidInput("geocode.query_too_long", max=MAX_QUERY)
    parsed = parse_address(query)
    out = Geocoded(query, parsed)
    admin, scope = _match_admin(uow, parsed, out.notes)
    reg = uow.addresses
    hit = None
    level = None
    if parsed.compound:
        name = parsed.compound
        if name not in reg.names("compound", scope):
            name = _closest_name(name, reg.names("compound", scope)) or name
        if parsed.building:
            found = reg.in_compound(name, scope, parsed.building)
            if found:
                hit, level = found[0], "building"
        if hit is None:
            found = reg.in_compound(name, scope)
            whole = [f for f in found if f.kind == "compound"] or found
            if whole:
                hit, level = whole[0], "compound"
                if parsed.building:
                    out.notes.append(f"unknown:building:{parsed.building}")
    if hit is None and parsed.road:
        road = parsed.road
        names = reg.names("road", scope)
        if road not in names:
            road = _closest_name(road, names) or road
        doors = reg.on_road(road, scope)
        if doors and parsed.number:
            exact = [d for d in doors if d.number == parsed.number]
            if exact:
                hit, level = exact[0], "door"
            else:
                target = _number(parsed.number)
                hit = min(doors, key=lambda d: abs(_number(d.number or "0") - target))
                level = "road"
                out.notes.append(f"nearest_number:{hit.number}")
        elif doors:
            middle = sorted(doors, key=lambda d: _number(d.number or "0"))[len(doors) // 2]
            hit, level = middle, "road"
    if hit is not None and level is not None:
        out.level, out.confidence = level, CONFIDENCE[level]
        out.lng, out.lat = hit.lng, hit.lat
        out.address_id, out.address_text = hit.id, hit.full_text
        record = uow.units.get_by_path(hit.unit_path)
        if record is not None:
            out.unit = MatchedUnit(record.code, record.name, record.level.value, record.path)
    elif admin is not None and admin.center is not None:
        out.level = admin.unit.level.value
        out.confidence = CONFIDENCE.get(out.level, 0.1)
        out.lng, out.lat = admin.center
    if admin is not None and out.unit is None:
        u = admin.unit
        out.unit = MatchedUnit(u.code, u.name, u.level.value, u.path)
    if out.lng is not None and out.lat is not None:
        out.grid_path = env.locator.locate(out.lng, out.lat)
    if (
        out.level is not None
        and (parsed.road or parsed.compound)
        and out.level
        not in (
            "building",
            "door",
            "compound",
        )
    ):
        out.notes.append("registry:no_match")
    return out


@dataclass(frozen=True, slots=True)
class AddressRow:
    """One address to register: its full text and where it is (WGS-84)."""

    text: str
    lng: float
    lat: float


@dataclass
class RegisterReport:
    stored: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row, text, code)


def plan_addresses(
    rows: Iterable[AddressRow], env: Env, *, source: str, generated: bool
) -> tuple[list[dict[str, Any]], RegisterReport]:
    """Parse and place each row; rows that name no road+number or compound, or lie outside
    every grid, are reported by row number and not stored. A repeated text keeps the last row."""
    report = RegisterReport()
    planned: dict[str, dict[str, Any]] = {}
    for n, row in enumerate(rows, start=1):
        parsed = parse_address(row.text)
        text = normalise(row.text)
        if parsed.compound and parsed.building:
            kind = "building"
        elif parsed.compound:
            kind = "compound"
        elif parsed.road and parsed.number:
            kind = "door"
        else:
            report.errors.append((n, row.text, "address.unplaceable"))
            continue
        if not text or len(text) > MAX_QUERY:
            report.errors.append((n, row.text, "address.unplaceable"))
            continue
        grid = env.locator.locate(row.lng, row.lat)
        if grid is None:
            report.errors.append((n, row.text, "geo.outside_grids"))
            continue
        planned[text] = {
            "kind": kind,
            "road": parsed.road if kind == "door" else None,
            "number": parsed.number if kind == "door" else None,
            "compound": parsed.compound,
            "building": parsed.building if kind == "building" else None,
            "full_text": text,
            "lng": row.lng,
            "lat": row.lat,
            "grid_path": grid,
            "unit_path": grid.rsplit(".", 1)[0],
            "generated": generated,
            "source": source[:64],
        }
    return list(planned.values()), report


def register_addresses(
    uow: AddressUnitOfWork,
    rows: Iterable[AddressRow],
    env: Env,
    *,
    source: str,
    generated: bool = False,
    dry_run: bool = False,
) -> RegisterReport:
    """Store the rows in the registry, all or none: any bad row stores nothing."""
    planned, report = plan_addresses(rows, env, source=source, generated=generated)
    if report.errors or dry_run:
        return report
    report.stored = uow.addresses.replace_many(planned)
    uow.commit()
    return report
