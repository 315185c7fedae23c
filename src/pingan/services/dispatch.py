"""Routing: which department a case goes to, by category and place.

Operators edit rules (category prefix + area → department, with priority); where no rule applies,
the category's default line of government is used, at the most local office that covers the place.
"""

from __future__ import annotations

from dataclasses import dataclass

from pingan.domain.access import Actor, Scope
from pingan.domain.cases import Case
from pingan.domain.categories import CATEGORIES, category
from pingan.domain.errors import Forbidden, InvalidInput, NotFound
from pingan.domain.geo import is_within
from pingan.services.ports import Env, UnitOfWork


@dataclass(frozen=True, slots=True)
class Suggestion:
    department_id: str
    reason: str  # "rule:<id>" or "category_default"


def suggest(uow: UnitOfWork, category_code: str, location_path: str) -> Suggestion | None:
    rules = [
        r
        for r in uow.dispatch_rules.all()
        if category_code.startswith(r.category_prefix) and is_within(location_path, r.unit_path)
    ]
    if rules:
        best = max(rules, key=lambda r: (r.priority, len(r.category_prefix), len(r.unit_path)))
        return Suggestion(best.department_id, f"rule:{best.id}")
    kind = category(category_code).department
    offices = [
        d for d in uow.departments.all() if d.kind == kind and is_within(location_path, d.unit_path)
    ]
    if not offices:
        return None
    local = max(offices, key=lambda d: len(d.unit_path))
    return Suggestion(local.id, "category_default")


def check_department(uow: UnitOfWork, case: Case, department_id: str) -> None:
    """A case may go only to an office whose area covers the place."""
    dept = uow.departments.get(department_id)
    if dept is None:
        raise InvalidInput("dispatch.unknown_department", department_id=department_id)
    if not is_within(case.location_path, dept.unit_path):
        raise InvalidInput("dispatch.department_out_of_area", department_id=department_id)


def add_rule(
    uow: UnitOfWork,
    actor: Actor,
    category_prefix: str,
    unit_path: str,
    department_id: str,
    priority: int,
    env: Env,
) -> int:
    if not actor.has(Scope.RULES_WRITE):
        raise Forbidden("rules.not_permitted")
    if not is_within(unit_path, actor.jurisdiction):
        raise Forbidden("rules.outside_jurisdiction", unit_path=unit_path)
    if not any(code.startswith(category_prefix) for code in CATEGORIES):
        raise InvalidInput("category.unknown", code=category_prefix)
    if uow.units.get_by_path(unit_path) is None:
        raise InvalidInput("unit.unknown", path=unit_path)
    if uow.departments.get(department_id) is None:
        raise InvalidInput("dispatch.unknown_department", department_id=department_id)
    rule_id = int(
        uow.dispatch_rules.add(
            category_prefix, unit_path, department_id, priority, actor.user_id, env.now()
        )
    )
    uow.commit()
    return rule_id


def remove_rule(uow: UnitOfWork, actor: Actor, rule_id: int) -> None:
    if not actor.has(Scope.RULES_WRITE):
        raise Forbidden("rules.not_permitted")
    rule = next((r for r in uow.dispatch_rules.all() if r.id == rule_id), None)
    if rule is None or not is_within(rule.unit_path, actor.jurisdiction):
        raise NotFound("rules.not_found", rule_id=rule_id)
    uow.dispatch_rules.remove(rule_id)
    uow.commit()
