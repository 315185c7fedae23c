"""The demo city of Jiaxing: real districts and towns, generated polygons that tile exactly."""

from __future__ import annotations

import csv
import json
from collections import Counter

import numpy as np
import pytest
import shapely

from pingan.adapters.spatial import UnitFeature, validate_siblings
from pingan.demo.city import (
    DATA_DIR,
    DEFAULT_BOUNDARIES,
    DEFAULT_STREETS,
    DemoCity,
    DemoUnit,
    english_name,
    generate_city,
    generate_small_city,
)
from pingan.domain.geo import UnitLevel, child_path, gcj02_to_wgs84

JIAXING_COUNTIES = {
    "330402": "南湖区",
    "330411": "秀洲区",
    "330421": "嘉善县",
    "330424": "海盐县",
    "330481": "海宁市",
    "330482": "平湖市",
    "330483": "桐乡市",
}


@pytest.fixture(scope="module")
def city() -> DemoCity:
    return generate_city()


@pytest.fixture(scope="module")
def small() -> DemoCity:
    return generate_small_city()


def as_feature(u: DemoUnit) -> UnitFeature:
    return UnitFeature(u.unit.code, u.unit.name, u.unit.name_en, u.unit.level, None, u.geometry)


def tiling_issues(city: DemoCity, parent_level: UnitLevel) -> dict[str, list[str]]:
    """Issues per parent of `parent_level` whose children don't tile it (empty when all do)."""
    found = {}
    for parent in city.at_level(parent_level):
        children = [as_feature(c) for c in city.children(parent.unit.path)]
        issues = validate_siblings(parent.geometry, children)
        if issues:
            found[parent.unit.path] = [f"{i.code}: {i.detail}" for i in issues]
    return found


# --- the real part --------------------------------------------------------------------------------


def test_demo_city_is_jiaxing_with_its_seven_real_districts(city: DemoCity) -> None:
    [root] = city.at_level(UnitLevel.CITY)
    assert (root.unit.code, root.unit.name, root.unit.path) == ("330400", "嘉兴市", "330400")
    districts = city.at_level(UnitLevel.DISTRICT)
    assert {d.unit.code: d.unit.name for d in districts} == JIAXING_COUNTIES
    assert {d.unit.path for d in districts} == {f"330400.{code}" for code in JIAXING_COUNTIES}
    assert city.get("330400.330402").unit.name_en == "Nanhu District"


def test_demo_city_has_the_72_real_towns_with_their_real_names(city: DemoCity) -> None:
    with DEFAULT_STREETS.open(encoding="utf-8") as f:
        real = {(row["areaCode"], row["code"], row["name"]) for row in csv.DictReader(f)}
    towns = {(t.unit.parent_code, t.unit.code, t.unit.name) for t in city.at_level(UnitLevel.TOWN)}
    assert len(towns) == 72
    assert towns == real
    jianshe = city.get("330400.330402.330402007").unit
    assert (jianshe.name, jianshe.name_en) == ("建设街道", "Jianshe Subdistrict")


def test_gcj02_boundaries_are_converted_to_wgs84(city: DemoCity) -> None:
    raw = json.loads(DEFAULT_BOUNDARIES.read_text(encoding="utf-8"))
    nanhu = next(f for f in raw["features"] if f["properties"]["adcode"] == 330402)
    gcj = np.array(nanhu["geometry"]["coordinates"][0][0])
    stored = shapely.get_coordinates(city.get("330400.330402").geometry)
    expected = np.array([gcj02_to_wgs84(lng, lat) for lng, lat in gcj])
    assert np.abs(stored - expected).max() < 1e-9


@pytest.mark.parametrize(
    ("name", "english"),
    [
        ("建设街道", "Jianshe Subdistrict"),
        ("乌镇镇", "Wuzhen Town"),
        ("长安镇", "Chang'an Town"),
        ("南湖区", "Nanhu District"),
        ("嘉善县", "Jiashan County"),
        ("嘉兴市", "Jiaxing City"),
        ("杭州市", None),
        ("街道", None),
        ("嘉兴", None),
    ],
)
def test_english_names_are_pinyin_with_the_kind_of_unit(name: str, english: str | None) -> None:
    assert english_name(name) == english


def test_every_real_town_gets_an_english_name(city: DemoCity) -> None:
    towns = city.at_level(UnitLevel.TOWN)
    assert all(t.unit.name_en.endswith((" Subdistrict", " Town")) for t in towns)


# --- the generated part ---------------------------------------------------------------------------


def test_demo_grid_count_is_between_2000_and_5000(city: DemoCity) -> None:
    assert 2000 <= len(city.at_level(UnitLevel.GRID)) <= 5000


def test_child_counts_stay_in_the_requested_ranges(city: DemoCity) -> None:
    per_town = [len(city.children(t.unit.path)) for t in city.at_level(UnitLevel.TOWN)]
    per_community = [len(city.children(c.unit.path)) for c in city.at_level(UnitLevel.COMMUNITY)]
    assert set(per_town) <= set(range(5, 10))
    assert set(per_community) <= set(range(4, 9))
    assert len(set(per_community)) > 1


def test_units_are_listed_top_down(city: DemoCity) -> None:
    depths = [u.unit.level.depth for u in city.units]
    assert depths == sorted(depths)
    seen: set[str] = set()
    for u in city.units:
        assert u.unit.parent_path is None or u.unit.parent_path in seen
        seen.add(u.unit.path)


def test_paths_join_the_codes_from_the_city_down(city: DemoCity) -> None:
    for u in city.units[1:]:
        parent = city.get(u.unit.parent_path or "")
        assert parent.unit.level.child() is u.unit.level
        assert u.unit.path == child_path(parent.unit.path, u.unit.code)


@pytest.mark.parametrize("level", [UnitLevel.COMMUNITY, UnitLevel.GRID])
def test_every_demo_grid_has_a_unique_code_under_its_community(
    city: DemoCity, level: UnitLevel
) -> None:
    units = city.at_level(level)
    assert len({u.unit.path for u in units}) == len({u.unit.code for u in units}) == len(units)
    numbers: dict[str, list[int]] = {}
    for u in units:
        parent_code = u.unit.parent_code or ""
        assert u.unit.code[: len(parent_code)] == parent_code
        assert len(u.unit.code) == len(parent_code) + 3
        numbers.setdefault(parent_code, []).append(int(u.unit.code[-3:]))
    assert all(sorted(n) == list(range(1, len(n) + 1)) for n in numbers.values())


def test_towns_communities_and_grids_are_marked_generated(city: DemoCity) -> None:
    generated = Counter((u.unit.level, u.unit.generated) for u in city.units)
    assert {level for level, flag in generated if flag} == {
        UnitLevel.TOWN,
        UnitLevel.COMMUNITY,
        UnitLevel.GRID,
    }
    assert {level for level, flag in generated if not flag} == {UnitLevel.CITY, UnitLevel.DISTRICT}


def test_generated_names_say_they_are_synthetic(city: DemoCity) -> None:
    for u in city.at_level(UnitLevel.COMMUNITY) + city.at_level(UnitLevel.GRID):
        assert u.unit.name.endswith("（模拟）")
        assert u.unit.name_en.endswith("(synthetic)")
    first = city.get("330400.330402.330402007.330402007001").unit
    assert (first.name, first.name_en) == ("建设街道第1社区（模拟）", "Community 1 (synthetic)")


def test_every_demo_polygon_is_a_valid_polygon_or_multipolygon(city: DemoCity) -> None:
    shapes = np.array([u.geometry for u in city.units], dtype=object)
    assert set(shapely.get_type_id(shapes)) <= {3, 6}
    assert shapely.is_valid(shapes).all()
    assert not shapely.is_empty(shapes).any()


def test_label_point_lies_inside_its_unit(city: DemoCity) -> None:
    shapes = np.array([u.geometry for u in city.units], dtype=object)
    lngs = np.array([u.lng for u in city.units])
    lats = np.array([u.lat for u in city.units])
    assert shapely.contains_xy(shapes, lngs, lats).all()


def test_the_grid_index_finds_each_grid_at_its_label_point(city: DemoCity) -> None:
    grids = city.at_level(UnitLevel.GRID)
    index = city.grid_index()
    found = index.locate_many([g.lng for g in grids], [g.lat for g in grids])
    assert found == [g.unit.path for g in grids]


# --- tiling: every level covers its parent exactly, no overlaps -----------------------------------


def test_demo_counties_tile_the_city(city: DemoCity) -> None:
    assert tiling_issues(city, UnitLevel.CITY) == {}


def test_demo_towns_tile_their_county(city: DemoCity) -> None:
    assert tiling_issues(city, UnitLevel.DISTRICT) == {}


def test_demo_communities_tile_their_town(city: DemoCity) -> None:
    assert tiling_issues(city, UnitLevel.TOWN) == {}


def test_demo_grids_tile_their_community(city: DemoCity) -> None:
    assert tiling_issues(city, UnitLevel.COMMUNITY) == {}


def test_all_grids_together_tile_the_city(city: DemoCity) -> None:
    grids = [as_feature(g) for g in city.at_level(UnitLevel.GRID)]
    assert validate_siblings(city.units[0].geometry, grids) == []


# --- parameters -----------------------------------------------------------------------------------


def test_small_city_has_two_districts_of_two_towns_down_to_sixteen_grids(small: DemoCity) -> None:
    counts = Counter(u.unit.level for u in small.units)
    assert [counts[level] for level in UnitLevel] == [1, 2, 4, 8, 16]
    assert {d.unit.code for d in small.at_level(UnitLevel.DISTRICT)} == {"330402", "330411"}
    for level in (UnitLevel.CITY, UnitLevel.DISTRICT, UnitLevel.TOWN, UnitLevel.COMMUNITY):
        assert tiling_issues(small, level) == {}


def test_generation_is_deterministic_for_a_seed(small: DemoCity) -> None:
    again = generate_small_city()
    other = generate_small_city(seed=7)
    assert [u.geometry.wkb for u in again.units] == [u.geometry.wkb for u in small.units]
    assert again == small
    assert [u.geometry.wkb for u in other.units] != [u.geometry.wkb for u in small.units]


def test_a_unit_keeps_its_children_when_other_districts_are_left_out(small: DemoCity) -> None:
    nanhu_only = generate_city(
        districts=("330402",),
        towns_per_district=2,
        communities_per_town=(2, 2),
        grids_per_community=(2, 2),
    )
    for u in nanhu_only.units[2:]:
        assert small.get(u.unit.path).geometry.equals_exact(u.geometry, 0.0)


def test_unknown_districts_and_bad_ranges_are_refused() -> None:
    with pytest.raises(ValueError, match="330101"):
        generate_city(districts=("330101",))
    with pytest.raises(ValueError, match="communities_per_town"):
        generate_city(communities_per_town=(5, 2))


def test_demo_data_ships_inside_the_package() -> None:
    assert DEFAULT_BOUNDARIES.parent == DEFAULT_STREETS.parent == DATA_DIR
    assert DEFAULT_BOUNDARIES.is_file() and DEFAULT_STREETS.is_file()
    assert "WTFPL" in (DATA_DIR / "SOURCES.md").read_text(encoding="utf-8")
