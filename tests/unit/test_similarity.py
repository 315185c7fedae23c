"""Likeness of two reports: same words in another order, same place, same kind of problem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pingan.domain.geo import Point
from pingan.domain.similarity import Report, Window, score, text_similarity

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
HERE = Point(120.75, 30.76)


def _report(text: str, category: str = "E0102", point: Point = HERE, hours: float = 0) -> Report:
    return Report(category, text, point, NOW + timedelta(hours=hours))


def test_the_same_complaint_in_other_words_is_similar_and_a_different_one_is_not() -> None:
    assert text_similarity("小区门口垃圾堆积，无人清运", "门口垃圾堆积两天没人清运") > 0.3
    assert text_similarity("小区门口垃圾堆积", "路灯不亮") == 0.0


def test_a_duplicate_nearby_scores_above_the_threshold() -> None:
    s = score(
        _report("小区门口垃圾堆积无人清运"), _report("门口垃圾堆积没人清运", hours=-3), Window()
    )
    assert s is not None and s >= Window().min_score


def test_reports_far_apart_in_place_or_time_are_never_duplicates() -> None:
    far = Point(120.80, 30.76)  # about 4.8 km east
    assert score(_report("垃圾堆积"), _report("垃圾堆积", point=far), Window()) is None
    assert score(_report("垃圾堆积"), _report("垃圾堆积", hours=-100), Window()) is None


def test_another_kind_of_problem_at_the_same_spot_scores_low() -> None:
    s = score(_report("路灯不亮", category="P0110"), _report("垃圾堆积"), Window())
    assert s is not None and s < Window().min_score
