"""Places as a specification: the administrative tree's paths, and the coordinate systems Chinese
devices speak (GCJ-02, BD-09) brought back to the stored WGS-84.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pingan.domain.errors import InvalidInput
from pingan.domain.geo import (
    CRS,
    AdminUnit,
    Point,
    UnitLevel,
    ancestors,
    bd09_to_gcj02,
    check_coordinates,
    child_path,
    distance_m,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    is_within,
    parent_of,
    to_wgs84,
    wgs84_to_gcj02,
)

CITY = "330400"
DISTRICT = "330400.330402"
TOWN = "330400.330402.330402007"
JIAXING = Point(120.75, 30.76)

# Mainland China and Hainan with a margin inside the GCJ-02 box. Within a few hundred metres of the
# box's edge a point's GCJ-02 image can leave the box, where GCJ-02 is defined as the identity, so
# no inverse can recover it; those strips lie over the sea or outside China.
CHINA_LNG = st.floats(min_value=73.5, max_value=135.1)
CHINA_LAT = st.floats(min_value=3.9, max_value=53.6)

# --- published reference pairs -------------------------------------------------------------------

# googollee/eviltransform, python/test.py (TESTS): WGS-84 -> GCJ-02 as (lng, lat) pairs.
EVILTRANSFORM_WGS_TO_GCJ = [
    pytest.param((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597), id="shanghai"),
    pytest.param((113.912316, 22.543847), (113.9171764808363, 22.540796131694766), id="shenzhen"),
    pytest.param((116.377817, 39.911954), (116.38404722455657, 39.91334545536069), id="beijing"),
]
# wandergis/coordtransform, test/app.js (also hutool's CoordinateUtilTest), input (116.404, 39.915).
COORDTRANSFORM_INPUT = (116.404, 39.915)
COORDTRANSFORM_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
COORDTRANSFORM_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
COORDTRANSFORM_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)
# coordtransform's gcj02towgs84 is the one-step approximation (about a metre off); ours iterates,
# so the two agree to within the 1e-5 degree tolerance but not exactly.
COORDTRANSFORM_GCJ02_TO_WGS84 = (116.39775550083061, 39.91359571849836)

REFERENCE_TOLERANCE = 1e-5


def close(a: tuple[float, float], b: tuple[float, float], tol: float) -> bool:
    return abs(a[0] - b[0]) < tol and abs(a[1] - b[1]) < tol


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_WGS_TO_GCJ)
def test_wgs84_to_gcj02_matches_eviltransform_reference_pairs(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    assert close(wgs84_to_gcj02(*wgs), gcj, REFERENCE_TOLERANCE)


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_WGS_TO_GCJ)
def test_gcj02_to_wgs84_inverts_eviltransform_reference_pairs(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    assert close(gcj02_to_wgs84(*gcj), wgs, 1e-7)


def test_coordtransform_reference_pairs() -> None:
    assert close(wgs84_to_gcj02(*COORDTRANSFORM_INPUT), COORDTRANSFORM_WGS84_TO_GCJ02, 1e-9)
    assert close(gcj02_to_bd09(*COORDTRANSFORM_INPUT), COORDTRANSFORM_GCJ02_TO_BD09, 1e-9)
    assert close(bd09_to_gcj02(*COORDTRANSFORM_INPUT), COORDTRANSFORM_BD09_TO_GCJ02, 1e-9)
    assert close(
        gcj02_to_wgs84(*COORDTRANSFORM_INPUT), COORDTRANSFORM_GCJ02_TO_WGS84, REFERENCE_TOLERANCE
    )


# --- GCJ-02 and BD-09 ----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(lng=CHINA_LNG, lat=CHINA_LAT)
def test_gcj02_round_trip_is_exact_to_1e7_degrees_across_china(lng: float, lat: float) -> None:
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lng, lat))
    assert close(back, (lng, lat), 1e-7)


@settings(max_examples=100, deadline=None)
@given(lng=CHINA_LNG, lat=CHINA_LAT)
def test_gcj02_inverse_then_forward_returns_the_gcj02_point(lng: float, lat: float) -> None:
    assert close(wgs84_to_gcj02(*gcj02_to_wgs84(lng, lat)), (lng, lat), 1e-7)


@settings(max_examples=100, deadline=None)
@given(lng=CHINA_LNG, lat=CHINA_LAT)
def test_bd09_round_trip_through_the_stored_datum(lng: float, lat: float) -> None:
    # The BD-09 pair in common use is not an exact inverse; it is good to about 2e-6 degrees.
    stored = Point(lng, lat)
    back = to_wgs84(*from_wgs84(stored, CRS.BD09), CRS.BD09)
    assert close((back.lng, back.lat), (lng, lat), 1e-5)
    assert distance_m(stored, back) < 1.0


@settings(max_examples=100, deadline=None)
@given(lng=CHINA_LNG, lat=CHINA_LAT)
def test_gcj02_round_trip_through_the_stored_datum(lng: float, lat: float) -> None:
    back = to_wgs84(*from_wgs84(Point(lng, lat), CRS.GCJ02), CRS.GCJ02)
    assert close((back.lng, back.lat), (lng, lat), 1e-7)


def test_gcj02_offset_near_jiaxing_is_a_few_hundred_metres() -> None:
    shifted = Point(*wgs84_to_gcj02(JIAXING.lng, JIAXING.lat))
    assert 300 < distance_m(JIAXING, shifted) < 700


def test_bd09_adds_a_further_offset_on_top_of_gcj02() -> None:
    gcj = wgs84_to_gcj02(JIAXING.lng, JIAXING.lat)
    bd = gcj02_to_bd09(*gcj)
    assert 500 < distance_m(Point(*gcj), Point(*bd)) < 1500


@pytest.mark.parametrize(
    "place",
    [
        Point(-0.1276, 51.5072),  # London
        Point(-74.006, 40.7128),  # New York
        Point(139.6917, 35.6895),  # Tokyo, east of the box
        Point(151.2093, -33.8688),  # Sydney
        Point(0.0, 0.0),
    ],
    ids=["london", "new-york", "tokyo", "sydney", "null-island"],
)
def test_outside_china_gcj02_is_wgs84(place: Point) -> None:
    assert not in_china(place.lng, place.lat)
    assert wgs84_to_gcj02(place.lng, place.lat) == (place.lng, place.lat)
    assert gcj02_to_wgs84(place.lng, place.lat) == (place.lng, place.lat)
    assert to_wgs84(place.lng, place.lat, CRS.GCJ02) == place


def test_wgs84_input_is_stored_unchanged() -> None:
    assert to_wgs84(JIAXING.lng, JIAXING.lat) == JIAXING
    assert to_wgs84(JIAXING.lng, JIAXING.lat, CRS.WGS84) == JIAXING
    assert from_wgs84(JIAXING, CRS.WGS84) == (JIAXING.lng, JIAXING.lat)


def test_to_wgs84_converts_what_a_phone_map_app_reports() -> None:
    gcj = wgs84_to_gcj02(JIAXING.lng, JIAXING.lat)
    stored = to_wgs84(*gcj, CRS.GCJ02)
    assert close((stored.lng, stored.lat), (JIAXING.lng, JIAXING.lat), 1e-7)


# --- validating coordinates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lng", "lat"),
    [
        (math.nan, 30.7),
        (120.7, math.nan),
        (math.inf, 30.7),
        (120.7, -math.inf),
        (math.nan, math.nan),
    ],
    ids=["nan-lng", "nan-lat", "inf-lng", "minus-inf-lat", "both-nan"],
)
def test_non_finite_coordinates_are_refused(lng: float, lat: float) -> None:
    with pytest.raises(InvalidInput) as info:
        check_coordinates(lng, lat)
    assert info.value.code == "geo.not_finite"


@pytest.mark.parametrize(
    ("lng", "lat"),
    [(181.0, 30.0), (-180.5, 30.0), (200.0, 100.0), (120.0, 190.0), (-270.0, -95.0)],
)
def test_coordinates_off_the_globe_are_refused(lng: float, lat: float) -> None:
    with pytest.raises(InvalidInput) as info:
        check_coordinates(lng, lat)
    assert info.value.code == "geo.out_of_range"


@pytest.mark.parametrize(("lng", "lat"), [(30.7, 120.7), (30.76, 120.75), (-33.9, 151.2)])
def test_swapped_axes_are_named_as_such(lng: float, lat: float) -> None:
    with pytest.raises(InvalidInput) as info:
        check_coordinates(lng, lat)
    assert info.value.code == "geo.swapped"
    assert info.value.params == {"lng": lng, "lat": lat}


@pytest.mark.parametrize(
    ("lng", "lat"), [(180.0, 90.0), (-180.0, -90.0), (0.0, 0.0), (120.75, 30.76)]
)
def test_coordinates_on_the_globe_are_accepted(lng: float, lat: float) -> None:
    check_coordinates(lng, lat)


@pytest.mark.parametrize("crs", list(CRS), ids=str)
def test_conversion_validates_before_it_converts(crs: CRS) -> None:
    with pytest.raises(InvalidInput) as info:
        to_wgs84(math.nan, 30.0, crs)
    assert info.value.code == "geo.not_finite"
    with pytest.raises(InvalidInput) as info:
        to_wgs84(30.76, 120.75, crs)
    assert info.value.code == "geo.swapped"


# --- distance ------------------------------------------------------------------------------------


def test_one_degree_of_latitude_is_about_111_km() -> None:
    assert distance_m(Point(120.0, 30.0), Point(120.0, 31.0)) == pytest.approx(111_195, abs=1)


def test_distance_is_symmetric_and_zero_to_itself() -> None:
    a, b = Point(120.75, 30.76), Point(121.47, 31.23)
    assert distance_m(a, b) == distance_m(b, a)
    assert distance_m(a, a) == 0
    assert 80_000 < distance_m(a, b) < 90_000  # Jiaxing to Shanghai


# --- the administrative tree ---------------------------------------------------------------------


def test_a_path_is_within_itself_and_its_ancestors() -> None:
    assert is_within(TOWN, TOWN)
    assert is_within(TOWN, DISTRICT)
    assert is_within(TOWN, CITY)


def test_a_path_is_not_within_its_descendants_or_siblings() -> None:
    assert not is_within(DISTRICT, TOWN)
    assert not is_within(CITY, DISTRICT)
    assert not is_within("330400.330402.330402001", TOWN)
    assert not is_within("330400.330411", DISTRICT)


def test_a_code_prefix_without_the_separator_is_not_an_ancestor() -> None:
    assert not is_within("330400.330402", "330400.33040")
    assert not is_within("330400.330402007", "330400.330402")
    assert not is_within("3304001", CITY)


def test_an_empty_scope_contains_nothing_but_the_empty_path() -> None:
    assert not is_within(CITY, "")
    assert is_within("", "")


def test_ancestors_run_from_the_root_down_to_the_parent() -> None:
    assert ancestors(TOWN) == [CITY, DISTRICT]
    assert ancestors(CITY) == []


def test_parent_of() -> None:
    assert parent_of(TOWN) == DISTRICT
    assert parent_of(DISTRICT) == CITY
    assert parent_of(CITY) is None


def test_child_path_joins_codes_and_starts_a_root() -> None:
    assert child_path(DISTRICT, "330402007") == TOWN
    assert child_path(None, CITY) == CITY
    assert child_path("", CITY) == CITY


def test_admin_unit_knows_its_parent() -> None:
    town = AdminUnit("330402007", "新兴街道", UnitLevel.TOWN, TOWN)
    assert town.parent_path == DISTRICT
    assert town.parent_code == "330402"
    city = AdminUnit(CITY, "嘉兴市", UnitLevel.CITY, CITY)
    assert city.parent_path is None
    assert city.parent_code is None


def test_unit_levels_go_top_down() -> None:
    assert [level.depth for level in UnitLevel] == [0, 1, 2, 3, 4]
    assert UnitLevel.CITY.child() is UnitLevel.DISTRICT
    assert UnitLevel.COMMUNITY.child() is UnitLevel.GRID
    assert UnitLevel.GRID.child() is None


DIGITS = "0123456789"
CODES = st.lists(st.text(DIGITS, min_size=1, max_size=9), min_size=1, max_size=6)


@settings(max_examples=100, deadline=None)
@given(codes=CODES)
def test_every_ancestor_contains_the_path_and_none_of_its_children_do(codes: list[str]) -> None:
    path = ".".join(codes)
    chain = ancestors(path)
    assert len(chain) == len(codes) - 1
    for scope in chain:
        assert is_within(path, scope)
        assert not is_within(scope, path)
    if chain:
        assert parent_of(path) == chain[-1]
        assert child_path(parent_of(path), codes[-1]) == path
    else:
        assert parent_of(path) is None


@settings(max_examples=100, deadline=None)
@given(codes=CODES, extra=st.text(DIGITS, min_size=1, max_size=3))
def test_a_longer_code_is_never_within_a_shorter_sibling_code(codes: list[str], extra: str) -> None:
    scope = ".".join(codes)
    assert not is_within(scope + extra, scope)
