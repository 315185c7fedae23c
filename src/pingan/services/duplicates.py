"""Offering open cases that a new report may duplicate, so an operator can merge instead of
opening a second case. Nothing is merged here: merging stays the operator's `merge` action."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pingan.domain.access import Actor
from pingan.domain.cases import ACTIVE_STATES, Case
from pingan.domain.geo import Point
from pingan.domain.similarity import Report, Window, score
from pingan.services.ports import CaseFilter, Env, UnitOfWork

CANDIDATES = 200
DEFAULT_WINDOW = Window()


@dataclass(frozen=True, slots=True)
class Similar:
    case: Case
    score: float


def similar_open_cases(
    uow: UnitOfWork,
    actor: Actor,
    report: Report,
    env: Env,
    window: Window = DEFAULT_WINDOW,
    exclude: int | None = None,
    limit: int = 5,
) -> list[Similar]:
    """Open cases the actor can see that likely describe the same problem, best first."""
    dlat = window.radius_m / 111_320.0
    dlng = dlat / max(math.cos(math.radians(report.point.lat)), 1e-6)
    flt = CaseFilter(
        states=tuple(s.value for s in ACTIVE_STATES),
        created_from=report.at - window.within,
        created_to=report.at + window.within,
        bbox=(
            report.point.lng - dlng,
            report.point.lat - dlat,
            report.point.lng + dlng,
            report.point.lat + dlat,
        ),
    )
    candidates, _ = uow.cases.list(flt, env.now(), limit=CANDIDATES)
    found = []
    for case in candidates:
        if case.id == exclude:
            continue
        old = Report(
            case.category_code,
            f"{case.title} {case.description}",
            Point(case.lng, case.lat),
            case.created_at,
        )
        s = score(report, old, window)
        if s is not None and s >= window.min_score:
            found.append(Similar(case, s))
    found.sort(key=lambda f: f.score, reverse=True)
    return found[:limit]
