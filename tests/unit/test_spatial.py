"""The spatial adapter: GeoJSON import, sibling checks, point-in-grid lookup, interchange."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from pingan.adapters.spatial import (
    GridIndex,
    UnitFeature,
    area_m2,
    bbox,
    coordinates_to_wgs84,
    from_geojson,
    from_wkb,
    parse_geojson_units,
    to_geojson,
    to_wkb,
    validate_siblings,
)
from pingan.domain.errors import InvalidInput
from pingan.domain.geo import CRS, UnitLevel, bd09_to_gcj02, gcj02_to_wgs84

ORIGIN = (120.75, 30.75)  # central Jiaxing
M_PER_DEG = 6371008.8 * math.pi / 180.0


def square(x_m: float, y_m: float, width_m: float, height_m: float | None = None) -> Polygon:
    """A rectangle given in metres east and north of ORIGIN, as WGS-84 degrees."""
    kx = 1.0 / (M_PER_DEG * math.cos(math.radians(ORIGIN[1])))
    ky = 1.0 / M_PER_DEG
    h = width_m if height_m is None else height_m
    return box(
        ORIGIN[0] + x_m * kx,
        ORIGIN[1] + y_m * ky,
        ORIGIN[0] + (x_m + width_m) * kx,
        ORIGIN[1] + (y_m + h) * ky,
    )


def unit(code: str, geometry: Any) -> UnitFeature:
    return UnitFeature(code, f"unit {code}", "", UnitLevel.GRID, None, geometry)


def collection(*features: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def feature(geometry: Any = None, **props: Any) -> dict[str, Any]:
    if geometry is None:
        geometry = shapely.geometry.mapping(square(0, 0, 100))
    return {"type": "Feature", "properties": {"name": "网格", **props}, "geometry": geometry}


# --- GeoJSON import -------------------------------------------------------------------------------


def test_gcj02_boundaries_are_converted_to_wgs84() -> None:
    ring = [[120.75, 30.75], [120.76, 30.75], [120.76, 30.76], [120.75, 30.76], [120.75, 30.75]]
    [parsed] = parse_geojson_units(
        collection(feature({"type": "Polygon", "coordinates": [ring]}, code="g1")), CRS.GCJ02
    )
    got = shapely.get_coordinates(parsed.geometry)
    expected = np.array([gcj02_to_wgs84(lng, lat) for lng, lat in ring])
    assert np.abs(got - expected).max() < 1e-9
    assert np.abs(got - np.array(ring)).max() > 1e-3  # GCJ-02 is hundreds of metres off here


def test_bd09_boundaries_are_converted_through_gcj02_to_wgs84() -> None:
    ring = [[120.75, 30.75], [120.76, 30.75], [120.76, 30.76], [120.75, 30.75]]
    [parsed] = parse_geojson_units(
        collection(feature({"type": "Polygon", "coordinates": [ring]}, code="g1")), CRS.BD09
    )
    expected = np.array([gcj02_to_wgs84(*bd09_to_gcj02(lng, lat)) for lng, lat in ring])
    assert np.abs(shapely.get_coordinates(parsed.geometry) - expected).max() < 1e-9


@pytest.mark.parametrize("crs", [CRS.GCJ02, CRS.BD09])
def test_vectorised_conversion_matches_the_domain_formula_to_a_nanodegree(crs: CRS) -> None:
    rng = np.random.default_rng(7)
    points = np.column_stack((rng.uniform(60, 150, 5000), rng.uniform(-5, 60, 5000)))
    got = coordinates_to_wgs84(points, crs)
    one_by_one = [
        gcj02_to_wgs84(*(bd09_to_gcj02(lng, lat) if crs is CRS.BD09 else (lng, lat)))
        for lng, lat in points
    ]
    assert np.abs(got - np.array(one_by_one)).max() < 1e-9


def test_wgs84_boundaries_are_kept_exactly() -> None:
    geometry = square(0, 0, 100)
    [parsed] = parse_geojson_units(collection(feature(to_geojson(geometry), code="g1")))
    assert parsed.geometry.equals_exact(geometry, 0.0)


def test_datav_adcode_parent_and_level_are_understood() -> None:
    data = collection(
        feature(adcode=330402, name="南湖区", level="district", parent={"adcode": 330400}),
        feature(
            code="330402007", name="建设街道", name_en="Jianshe", level="street", parent="330402"
        ),
    )
    district, town = parse_geojson_units(data)
    assert (district.code, district.name, district.level, district.parent_code) == (
        "330402",
        "南湖区",
        UnitLevel.DISTRICT,
        "330400",
    )
    assert (town.level, town.parent_code, town.name_en) == (UnitLevel.TOWN, "330402", "Jianshe")


def test_multipolygons_stay_multipolygons() -> None:
    two = MultiPolygon([square(0, 0, 10), square(50, 0, 10)])
    [parsed] = parse_geojson_units(collection(feature(to_geojson(two), code="g1")))
    assert isinstance(parsed.geometry, MultiPolygon)
    assert len(parsed.geometry.geoms) == 2


def test_an_empty_collection_gives_no_units() -> None:
    assert parse_geojson_units(collection()) == []


POLYGON = {"type": "Polygon", "coordinates": [[[120, 30], [120.1, 30], [120.1, 30.1], [120, 30]]]}


def one(geometry: Any = POLYGON, **props: Any) -> dict[str, Any]:
    return collection(feature(geometry, **props))


def ring_through(point: list[Any]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[120, 30], point, [120.1, 30.1], [120, 30]]]}


def polygon(*ring: list[Any]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [list(ring)] if ring else []}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"type": "Feature", "geometry": POLYGON}, "geojson.invalid"),
        ([], "geojson.invalid"),
        (collection({"type": "Point"}), "geojson.invalid"),
        (one(), "geojson.missing_code"),
        (one(code=""), "geojson.missing_code"),
        (one(code="33.04"), "geojson.bad_code"),
        (one(code=True), "geojson.bad_code"),
        (
            collection(feature(POLYGON, code="a"), feature(POLYGON, code="a")),
            "geojson.duplicate_code",
        ),
        (one(code="a", name=""), "geojson.missing_name"),
        (one(code="a", level="planet"), "geojson.bad_level"),
        (one({"type": "Point", "coordinates": [120, 30]}, code="a"), "geojson.bad_geometry"),
        (
            collection({"type": "Feature", "properties": {"code": "a", "name": "n"}}),
            "geojson.bad_geometry",
        ),
        (one(polygon([120, 30], [121, 30]), code="a"), "geojson.bad_geometry"),
        (one(polygon(["x", "y"], [1, 2], [3, 4], [5, 6]), code="a"), "geojson.bad_geometry"),
        (one(polygon(), code="a"), "geojson.bad_geometry"),
        (one({"type": "MultiPolygon", "coordinates": 7}, code="a"), "geojson.bad_geometry"),
        (one(ring_through([float("nan"), 30]), code="a"), "geojson.bad_coordinates"),
        (one(ring_through([120, float("inf")]), code="a"), "geojson.bad_coordinates"),
        (one(ring_through([120, 95]), code="a"), "geojson.bad_coordinates"),
    ],
)
def test_malformed_geojson_is_refused_with_a_stable_code(data: Any, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_geojson_units(data, CRS.GCJ02)
    assert refused.value.code == code


# --- validating siblings --------------------------------------------------------------------------


def test_children_that_tile_their_parent_have_no_issues() -> None:
    children = [unit(f"g{i}{j}", square(100 * i, 100 * j, 100)) for i in range(2) for j in range(2)]
    assert validate_siblings(square(0, 0, 200), children) == []


def test_self_intersecting_bowtie_is_reported() -> None:
    bowtie = Polygon([(120.0, 30.0), (120.01, 30.01), (120.01, 30.0), (120.0, 30.01)])
    [issue] = validate_siblings(None, [unit("bowtie", bowtie)])
    assert issue.code == "geometry.self_intersection"
    assert issue.unit_codes == ("bowtie",)


def test_other_invalid_geometry_is_reported_as_invalid() -> None:
    outer = square(0, 0, 100)
    hole_outside = Polygon(outer.exterior.coords, [square(200, 0, 10).exterior.coords])
    [issue] = validate_siblings(None, [unit("g1", hole_outside)])
    assert issue.code == "geometry.invalid"
    assert "hole" in issue.detail.lower()


def test_an_invalid_parent_is_reported_without_unit_codes() -> None:
    bowtie = Polygon([(120.0, 30.0), (120.01, 30.01), (120.01, 30.0), (120.0, 30.01)])
    issues = validate_siblings(bowtie, [unit("g1", bowtie)])
    assert [(i.code, i.unit_codes) for i in issues] == [
        ("geometry.self_intersection", ("g1",)),
        ("geometry.self_intersection", ()),
    ]


def test_overlapping_grids_are_reported_with_their_area() -> None:
    children = [unit("a", square(0, 0, 100)), unit("b", square(80, 0, 100))]
    [issue] = validate_siblings(None, children)
    assert issue.code == "grid.overlap"
    assert issue.unit_codes == ("a", "b")
    assert issue.area_m2 == pytest.approx(20 * 100, rel=0.01)


def test_a_grid_inside_another_counts_as_overlap() -> None:
    children = [unit("big", square(0, 0, 100)), unit("small", square(10, 10, 10))]
    [issue] = validate_siblings(None, children)
    assert issue.code == "grid.overlap"
    assert issue.area_m2 == pytest.approx(100, rel=0.01)


def test_slivers_below_the_tolerance_are_ignored() -> None:
    children = [unit("a", square(0, 0, 100)), unit("b", square(99.995, 0, 100))]
    assert validate_siblings(None, children) == []
    assert validate_siblings(None, children, min_area_m2=0.1)[0].code == "grid.overlap"


def test_gaps_between_children_are_reported_with_their_area() -> None:
    parent = square(0, 0, 200, 100)
    children = [unit("west", square(0, 0, 90, 100)), unit("east", square(100, 0, 100))]
    [gap] = validate_siblings(parent, children)
    assert gap.code == "grid.gap"
    assert gap.unit_codes == ("east", "west")
    assert gap.area_m2 == pytest.approx(10 * 100, rel=0.01)


def test_children_reaching_outside_their_parent_are_reported() -> None:
    parent = square(0, 0, 200, 100)
    children = [unit("west", square(0, 0, 100)), unit("east", square(100, 0, 120, 100))]
    [outside] = validate_siblings(parent, children)
    assert outside.code == "grid.outside_parent"
    assert outside.unit_codes == ("east",)
    assert outside.area_m2 == pytest.approx(20 * 100, rel=0.01)


def test_five_thousand_siblings_are_checked_and_the_one_misplaced_grid_found() -> None:
    children = [
        unit(f"g{i:02d}{j:02d}", square(50 * i, 50 * j, 50)) for i in range(70) for j in range(72)
    ]
    children[1000] = unit(children[1000].code, square(50 * 13 + 10, 50 * 64, 50))
    issues = validate_siblings(square(0, 0, 50 * 70, 50 * 72), children)
    assert sorted(i.code for i in issues) == ["grid.gap", "grid.overlap"]
    assert [i.area_m2 for i in issues] == [pytest.approx(500, rel=0.01)] * 2


# --- point in grid --------------------------------------------------------------------------------


def test_point_is_located_in_the_grid_that_contains_it() -> None:
    index = GridIndex([("c.g1", square(0, 0, 100)), ("c.g2", square(100, 0, 100))])
    inside = square(120, 10, 1).centroid
    assert index.locate(inside.x, inside.y) == "c.g2"


def test_point_on_shared_edge_is_placed_in_exactly_one_grid() -> None:
    grids = [("c.g2", square(100, 0, 100)), ("c.g1", square(0, 0, 100))]
    lng, lat = square(0, 0, 100).bounds[2], square(0, 0, 100).centroid.y
    assert GridIndex(grids).locate(lng, lat) == "c.g1"
    assert GridIndex(grids[::-1]).locate(lng, lat) == "c.g1"
    assert GridIndex(grids).locate_many([lng], [lat]) == ["c.g1"]


def test_point_outside_all_grids_is_none() -> None:
    index = GridIndex([("c.g1", square(0, 0, 100))])
    assert index.locate(121.5, 31.0) is None
    assert index.locate_many([121.5], [31.0]) == [None]


def test_non_finite_points_are_not_located() -> None:
    index = GridIndex([("c.g1", square(0, 0, 100))])
    assert index.locate(math.nan, 30.75) is None
    assert index.locate_many([math.nan, math.inf], [30.75, 30.75]) == [None, None]


def test_locate_many_agrees_with_locate_on_random_points() -> None:
    rng = np.random.default_rng(3)
    frame = square(0, 0, 2000)
    seeds = shapely.multipoints(np.column_stack((
        rng.uniform(frame.bounds[0], frame.bounds[2], 200),
        rng.uniform(frame.bounds[1], frame.bounds[3], 200),
    )))  # fmt: skip
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(seeds)), frame)
    index = GridIndex([(f"c.g{k:03d}", cell) for k, cell in enumerate(cells)])
    vertices = shapely.get_coordinates(cells)[:500]  # on edges and corners: the hard cases
    x0, y0, x1, y1 = frame.buffer(0.002).bounds
    random = np.column_stack((rng.uniform(x0, x1, 3000), rng.uniform(y0, y1, 3000)))
    points = np.concatenate((vertices, random))
    many = index.locate_many(points[:, 0], points[:, 1])
    assert many == [index.locate(float(x), float(y)) for x, y in points]
    assert None in many
    assert len({p for p in many if p}) > 150


def test_locate_many_refuses_arrays_of_different_lengths() -> None:
    with pytest.raises(InvalidInput):
        GridIndex([("c.g1", square(0, 0, 100))]).locate_many([120.0, 120.1], [30.0])


def test_nearest_snaps_a_point_just_outside_to_the_closest_grid() -> None:
    index = GridIndex([("c.g1", square(0, 0, 100)), ("c.g2", square(100, 0, 100))])
    just_east = square(205, 50, 1).centroid
    assert index.locate(just_east.x, just_east.y) is None
    assert index.nearest(just_east.x, just_east.y, max_distance_m=10) == "c.g2"
    assert index.nearest(just_east.x, just_east.y, max_distance_m=3) is None
    inside = square(10, 10, 1).centroid
    assert index.nearest(inside.x, inside.y, max_distance_m=0) == "c.g1"


def test_grid_paths_must_be_unique() -> None:
    with pytest.raises(InvalidInput):
        GridIndex([("c.g1", square(0, 0, 100)), ("c.g1", square(100, 0, 100))])


# --- interchange ----------------------------------------------------------------------------------


def test_geojson_round_trip_is_exact() -> None:
    geometry = MultiPolygon([square(0, 0, 10), square(50, 0, 10)])
    data = to_geojson(geometry)
    assert data["type"] == "MultiPolygon"
    assert isinstance(data["coordinates"], list)
    assert from_geojson(data).equals_exact(geometry, 0.0)


@pytest.mark.parametrize(
    "data",
    [
        {"coordinates": [1, 2]},
        {"type": "Polygon", "coordinates": "nonsense"},
        {"type": "Point", "coordinates": [200, 30]},
        {"type": "Point", "coordinates": [float("nan"), 30]},
    ],
)
def test_from_geojson_refuses_what_is_not_a_wgs84_geometry(data: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        from_geojson(data)


def test_bbox_is_min_lng_min_lat_max_lng_max_lat() -> None:
    assert bbox(box(120.1, 30.2, 120.3, 30.4)) == (120.1, 30.2, 120.3, 30.4)
    with pytest.raises(InvalidInput):
        bbox(Polygon())


def test_wkb_round_trip_is_exact_and_garbage_is_refused() -> None:
    geometry = square(0, 0, 100)
    assert from_wkb(to_wkb(geometry)).equals_exact(geometry, 0.0)
    with pytest.raises(InvalidInput) as refused:
        from_wkb(b"not wkb")
    assert refused.value.code == "wkb.invalid"


def test_area_is_measured_in_square_metres() -> None:
    side_ns = 0.01 * M_PER_DEG
    side_ew = side_ns * math.cos(math.radians(30.005))
    assert area_m2(box(120.0, 30.0, 120.01, 30.01)) == pytest.approx(side_ns * side_ew, rel=1e-4)
    assert area_m2(square(0, 0, 1000)) == pytest.approx(1e6, rel=1e-3)
