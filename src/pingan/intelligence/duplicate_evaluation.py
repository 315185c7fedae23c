"""Measuring the duplicate scorer (`domain.similarity`) on labelled pairs of reports.

A pairs file has, for reports a and b, `text_a, lat_a, lon_a, time_a, category_a` (and the same
with `_b`) and `duplicate` (1/0, yes/no, true/false, 是/否). A pair outside the scorer's space or
time window scores 0: the service never offers it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pingan.adapters.table_files import SNIFFED, read_table_file
from pingan.domain.errors import InvalidInput
from pingan.domain.geo import Point
from pingan.domain.similarity import Report, Window, score

YES = {"1", "yes", "y", "true", "t", "是", "重复", "dup", "duplicate"}
NO = {"0", "no", "n", "false", "f", "否", "不重复", "distinct", "different"}
LABEL_COLUMNS = ("duplicate", "label", "is_duplicate", "是否重复")


@dataclass(frozen=True, slots=True)
class Pair:
    a: Report
    b: Report
    duplicate: bool
    kind: str = ""  # how the pair was made, when the file says (same_incident, ...)


def _time(value: str) -> datetime:
    at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def read_pairs(path: Path) -> list[Pair]:
    table = read_table_file(path, delimiters=SNIFFED)
    lowered = [h.lower() for h in table.header]
    label_col = next((c for c in LABEL_COLUMNS if c in lowered), None)
    needed = [f"{f}_{s}" for s in "ab" for f in ("text", "lat", "lon", "time", "category")]
    missing = [c for c in needed if c not in lowered]
    if missing or label_col is None:
        raise InvalidInput("dataset.columns_unknown", columns=", ".join(table.header))
    col = {name: lowered.index(name) for name in [*needed, label_col]}
    kind_col = lowered.index("kind") if "kind" in lowered else None
    pairs = []
    for n, row in table.texts():
        try:
            cells = {name: row[i].strip() for name, i in col.items()}
            label = cells[label_col].lower()
            if label not in YES | NO:
                raise ValueError(f"label {label!r}")
            reports = [
                Report(
                    cells[f"category_{s}"],
                    cells[f"text_{s}"],
                    Point(float(cells[f"lon_{s}"]), float(cells[f"lat_{s}"])),
                    _time(cells[f"time_{s}"]),
                )
                for s in "ab"
            ]
        except (IndexError, ValueError) as exc:
            raise InvalidInput("dataset.bad_row", row=n, problem=str(exc)) from None
        kind = row[kind_col].strip() if kind_col is not None and kind_col < len(row) else ""
        pairs.append(Pair(reports[0], reports[1], label in YES, kind))
    if not pairs:
        raise InvalidInput("dataset.empty")
    return pairs


@dataclass(frozen=True)
class Scored:
    scores: list[float]
    labels: list[bool]
    kinds: list[str]

    def at(self, threshold: float) -> tuple[float, float, float]:
        """Precision, recall and F1 when pairs scoring at least `threshold` are offered."""
        tp = sum(s >= threshold and y for s, y in zip(self.scores, self.labels, strict=True))
        offered = sum(s >= threshold for s in self.scores)
        positives = sum(self.labels)
        precision = tp / offered if offered else 1.0
        recall = tp / positives if positives else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    def curve(self, steps: int = 100) -> list[tuple[float, float, float]]:
        return [(t / steps, *self.at(t / steps)[:2]) for t in range(1, steps + 1)]


def score_pairs(pairs: Sequence[Pair], window: Window) -> Scored:
    """Scores in the order the service would see them: b is the new report, a the open case."""
    values = [score(p.b, p.a, window) for p in pairs]
    return Scored(
        [v if v is not None else 0.0 for v in values],
        [p.duplicate for p in pairs],
        [p.kind for p in pairs],
    )


def report(scored: Scored, window: Window) -> dict[str, Any]:
    precision, recall, f1 = scored.at(window.min_score)
    best = max(scored.curve(), key=lambda point: _f1(point[1], point[2]))
    return {
        "pairs": len(scored.labels),
        "duplicates": sum(scored.labels),
        "window": {
            "radius_m": window.radius_m,
            "within_hours": window.within.total_seconds() / 3600,
            "min_score": window.min_score,
        },
        "at_threshold": {
            "threshold": window.min_score,
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
        },
        "best_f1_threshold": {
            "threshold": best[0],
            "precision": round(best[1], 4),
            "recall": round(best[2], 4),
            "f1": round(_f1(best[1], best[2]), 4),
        },
        "offered_by_kind": {
            kind: round(
                sum(
                    s >= window.min_score
                    for s, k in zip(scored.scores, scored.kinds, strict=True)
                    if k == kind
                )
                / scored.kinds.count(kind),
                4,
            )
            for kind in sorted(set(scored.kinds) - {""})
        },
        "curve": [
            {"threshold": t, "precision": round(p, 4), "recall": round(r, 4)}
            for t, p, r in scored.curve()
        ],
    }


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0
