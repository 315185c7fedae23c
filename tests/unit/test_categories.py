"""The case classification as a specification: 数字城管 events and parts plus the social-governance
types, each routed to a known line of government with a time limit for every urgency.
"""

from __future__ import annotations

import re

import pytest

from pingan.domain import categories
from pingan.domain.categories import (
    CATEGORIES,
    DEPARTMENT_KIND_CODES,
    DEPARTMENT_KINDS,
    MAJORS,
    CategoryKind,
    category,
)
from pingan.domain.errors import InvalidInput
from pingan.domain.sla import ClockKind, Urgency

ALL = sorted(CATEGORIES.values(), key=lambda c: c.code)
KIND_OF_PREFIX = {"E": CategoryKind.EVENT, "P": CategoryKind.PART, "S": CategoryKind.SOCIAL}


def test_codes_are_unique() -> None:
    # CATEGORIES is a dict built from the source rows, so a repeated code would silently vanish.
    codes = [row[0] for row in categories._ROWS]
    assert len(codes) == len(set(codes)) == len(CATEGORIES)


def test_names_are_unique_in_both_languages() -> None:
    assert len({c.name for c in ALL}) == len(ALL)
    assert len({c.name_en for c in ALL}) == len(ALL)


def test_every_category_is_well_formed() -> None:
    for cat in ALL:
        assert re.fullmatch(r"[EPS]\d{4}", cat.code), cat.code
        assert CATEGORIES[cat.code] is cat
        assert cat.kind is KIND_OF_PREFIX[cat.code[0]], cat.code
        assert cat.major_code == cat.code[:3]
        assert cat.major_code in MAJORS, cat.code
        assert cat.name.strip(), cat.code
        assert cat.name_en.strip(), cat.code


def test_every_category_routes_to_a_known_department_kind() -> None:
    unknown = {
        cat.code: cat.department for cat in ALL if cat.department not in DEPARTMENT_KIND_CODES
    }
    assert unknown == {}


def test_every_category_has_a_positive_limit_for_every_urgency() -> None:
    for cat in ALL:
        assert [urgency for urgency, _ in cat.limits] == list(Urgency), cat.code
        for urgency in Urgency:
            limit = cat.handling_limit(urgency)
            assert limit.hours > 0, (cat.code, urgency)
            assert isinstance(limit.clock, ClockKind), (cat.code, urgency)


def test_more_urgent_never_means_more_time() -> None:
    for cat in ALL:
        hours = [
            cat.handling_limit(u).hours for u in (Urgency.ROUTINE, Urgency.URGENT, Urgency.CRITICAL)
        ]
        assert hours == sorted(hours, reverse=True), cat.code


def test_urgent_and_critical_cases_run_on_the_natural_clock() -> None:
    for cat in ALL:
        assert cat.handling_limit(Urgency.URGENT).clock is ClockKind.NATURAL, cat.code
        assert cat.handling_limit(Urgency.CRITICAL).clock is ClockKind.NATURAL, cat.code


def test_every_major_class_has_at_least_one_category() -> None:
    assert {c.major_code for c in ALL} == set(MAJORS)


def test_all_three_kinds_are_present() -> None:
    assert {c.kind for c in ALL} == set(CategoryKind)


def test_department_kind_codes_are_unique() -> None:
    assert len(DEPARTMENT_KIND_CODES) == len(DEPARTMENT_KINDS)
    assert all(kind.name and kind.name_en for kind in DEPARTMENT_KINDS)


@pytest.mark.parametrize(
    "name",
    [
        "矛盾纠纷",
        "安全隐患",
        "交通事故",
        "涉毒",
        "电信网络诈骗",
        "养老诈骗",
        "网络赌博",
        "食品安全",
    ],
)
def test_the_mission_social_governance_types_are_classified(name: str) -> None:
    social = [c for c in ALL if c.kind is CategoryKind.SOCIAL]
    majors = {MAJORS[c.major_code][0] for c in social}
    assert name in majors or any(name in c.name for c in social)


@pytest.mark.parametrize(
    ("code", "name", "department"),
    [
        ("E0101", "私搭乱建", "cgj"),
        ("P0101", "上水井盖", "zjj"),
        ("S0301", "交通事故", "gaj"),
        ("S0501", "电信网络诈骗", "gaj"),
        ("S0502", "养老诈骗", "gaj"),
        ("S0503", "网络赌博", "gaj"),
        ("S0601", "食品安全", "scj"),
    ],
)
def test_known_categories_route_to_their_departments(code: str, name: str, department: str) -> None:
    found = category(code)
    assert (found.name, found.department) == (name, department)


def test_event_and_part_with_the_same_number_do_not_collide() -> None:
    assert category("E0101").kind is CategoryKind.EVENT
    assert category("P0101").kind is CategoryKind.PART


@pytest.mark.parametrize("code", ["X0101", "E9999", "", "e0101", "0101"])
def test_unknown_code_is_invalid_input(code: str) -> None:
    with pytest.raises(InvalidInput) as info:
        category(code)
    assert info.value.code == "category.unknown"
    assert info.value.params == {"code": code}
