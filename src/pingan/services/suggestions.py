"""Suggesting a category and a department for a new report from its free text, with a model
learned from the case history. Suggestions only: the person reporting or filing decides, and case
creation never waits for or depends on the model."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pingan.domain.access import Actor, Role
from pingan.domain.categories import CATEGORIES, DEPARTMENT_KINDS, MAJORS
from pingan.domain.errors import Forbidden, InvalidInput
from pingan.domain.geo import is_within
from pingan.intelligence.classifier import TextModel, train
from pingan.intelligence.evaluation import evaluate
from pingan.services.ports import Env, UnitOfWork

MAX_TEXT = 4000
TOP = 3


class HistoryUnitOfWork(UnitOfWork, Protocol):
    case_texts: Any


@dataclass(frozen=True, slots=True)
class History:
    texts: list[str]
    categories: list[str]
    departments: list[str | None]


def read_history(uow: HistoryUnitOfWork) -> History:
    texts: list[str] = []
    cats: list[str] = []
    depts: list[str | None] = []
    for row in uow.case_texts.labelled():
        texts.append(row.text)
        cats.append(row.category_code)
        depts.append(row.department_kind)
    return History(texts, cats, depts)


@dataclass(frozen=True)
class Trained:
    model: TextModel
    meta: dict[str, Any]


def train_on_history(
    history: History,
    now: datetime,
    *,
    test_size: float = 0.2,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> Trained:
    """Measure on a held-out part, then fit the model to serve on all of the history."""
    if len(set(history.categories)) < 2 or len(history.texts) < 20:
        raise InvalidInput("intake.too_little_history", cases=len(history.texts))
    targets: dict[str, list[str | None]] = {
        "category": list(history.categories),
        "department": history.departments,
    }
    say = progress or (lambda _s: None)
    held_out = evaluate(
        history.texts,
        targets,
        test_size=test_size,
        seed=seed,
        progress=lambda s: say(f"held-out {s}"),
    )
    model = train(history.texts, targets, seed=seed, progress=lambda s: say(f"final {s}"))
    meta: dict[str, Any] = {
        "trained_at": now.isoformat(timespec="seconds"),
        "n_samples": len(history.texts),
        "n_dispatched": sum(d is not None for d in history.departments),
        "n_features": len(model.vocabulary),
        "source": "case history",
        "metrics": held_out.as_dict(),
    }
    for head in meta["metrics"]["targets"].values():
        head.pop("per_class", None)
    return Trained(model, meta)


@dataclass(frozen=True, slots=True)
class CategorySuggestion:
    code: str
    name_zh: str
    name_en: str
    major: str
    major_name_zh: str
    major_name_en: str
    confidence: float


@dataclass(frozen=True, slots=True)
class DepartmentSuggestion:
    kind: str
    name_zh: str
    name_en: str
    confidence: float
    department_id: str | None  # the local office of that kind, when a place was given


@dataclass(frozen=True, slots=True)
class MajorSuggestion:
    code: str
    name_zh: str
    name_en: str
    confidence: float


@dataclass(frozen=True)
class IntakeSuggestions:
    categories: list[CategorySuggestion]
    majors: list[MajorSuggestion]
    departments: list[DepartmentSuggestion]
    location_path: str | None


def _category(code: str, confidence: float) -> CategorySuggestion:
    cat = CATEGORIES.get(code)
    major = code[:3]
    major_zh, major_en = MAJORS.get(major, (major, major))
    return CategorySuggestion(
        code,
        cat.name if cat else code,
        cat.name_en if cat else code,
        major,
        major_zh,
        major_en,
        confidence,
    )


def suggest_for_text(
    uow: UnitOfWork,
    actor: Actor,
    model: TextModel,
    text: str,
    point: tuple[float, float] | None,
    env: Env,
) -> IntakeSuggestions:
    """Top categories (with their 大类) and departments for `text`; with a WGS-84 point
    (lng, lat), each department kind is resolved to the office that covers the place."""
    if actor.role in (Role.AUDITOR, Role.ADMIN, Role.SYSTEM):
        raise Forbidden("case.report_not_permitted", role=actor.role.value)
    text = text.strip()
    if not text:
        raise InvalidInput("intake.text_required")
    if len(text) > MAX_TEXT:
        raise InvalidInput("intake.text_too_long", max=MAX_TEXT)
    x = model.features([text])
    categories: list[CategorySuggestion] = []
    majors: list[MajorSuggestion] = []
    if "category" in model.heads:
        categories = [_category(r.label, r.confidence) for r in model.top("category", x, TOP)]
        p = model.probabilities("category", x)[0]
        by_major: dict[str, float] = defaultdict(float)
        for code, conf in zip(model.heads["category"].labels, p.tolist(), strict=True):
            by_major[code[:3]] += conf
        for code, conf in sorted(by_major.items(), key=lambda r: -r[1])[:TOP]:
            zh, en = MAJORS.get(code, (code, code))
            majors.append(MajorSuggestion(code, zh, en, round(conf, 4)))
    path = env.locator.locate(*point) if point is not None else None
    departments: list[DepartmentSuggestion] = []
    if "department" in model.heads:
        kinds = {k.code: k for k in DEPARTMENT_KINDS}
        offices = uow.departments.all() if path else []
        for ranked_dept in model.top("department", x, TOP):
            kind = kinds.get(ranked_dept.label)
            local = [
                d
                for d in offices
                if d.kind == ranked_dept.label and is_within(path or "", d.unit_path)
            ]
            best = max(local, key=lambda d: len(d.unit_path)).id if local else None
            departments.append(
                DepartmentSuggestion(
                    ranked_dept.label,
                    kind.name if kind else ranked_dept.label,
                    kind.name_en if kind else ranked_dept.label,
                    ranked_dept.confidence,
                    best,
                )
            )
    return IntakeSuggestions(categories, majors, departments, path)


def iter_training_rows(history: History) -> Iterator[tuple[str, str, str]]:
    """(text, category, department) rows for export; undispatched cases get an empty department."""
    for text, cat, dept in zip(history.texts, history.categories, history.departments, strict=True):
        yield text, cat, dept or ""
