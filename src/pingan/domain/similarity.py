"""When two reports describe the same thing: close in place and time, same kind of problem, and
similar words. Chinese has no spaces, so text is compared as sets of character bigrams — robust to
word order and to the different ways people phrase the same complaint."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from pingan.domain.geo import Point, distance_m

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def bigrams(text: str) -> frozenset[str]:
    cleaned = _NOISE.sub("", text.lower())
    if len(cleaned) < 2:
        return frozenset({cleaned}) if cleaned else frozenset()
    return frozenset(cleaned[i : i + 2] for i in range(len(cleaned) - 1))


def text_similarity(a: str, b: str) -> float:
    """Jaccard similarity of character bigrams, 0..1."""
    x, y = bigrams(a), bigrams(b)
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


@dataclass(frozen=True, slots=True)
class Report:
    category_code: str
    text: str
    point: Point
    at: datetime


@dataclass(frozen=True, slots=True)
class Window:
    """How near in space and time, and how similar, a report must be to count as a duplicate."""

    radius_m: float = 300.0
    within: timedelta = timedelta(hours=72)
    min_score: float = 0.45


def score(new: Report, old: Report, window: Window) -> float | None:
    """A 0..1 likeness, or None when the two cannot be the same problem (too far, too old)."""
    if abs(new.at - old.at) > window.within:
        return None
    metres = distance_m(new.point, old.point)
    if metres > window.radius_m:
        return None
    same_kind = (
        1.0
        if new.category_code == old.category_code
        else (0.5 if new.category_code[:3] == old.category_code[:3] else 0.0)
    )
    nearness = 1.0 - metres / window.radius_m
    return round(0.5 * text_similarity(new.text, old.text) + 0.3 * same_kind + 0.2 * nearness, 4)
