"""Polygons at the edge: GeoJSON import, sibling checks and point-in-grid lookup, on shapely 2.

The domain speaks codes and paths; this adapter is where the shapes of units and grids live. Every
geometry it hands out is WGS-84 longitude/latitude, like everything stored. Coordinates arrive in
bulk (a county boundary has thousands of vertices, a day of alarms millions of points), so the
datum conversions of `pingan.domain.geo` are repeated here vectorised with numpy; the tests pin
the two together to 1e-9 degrees. Areas and distances use a local equirectangular projection,
which is well under a percent off at the size of a town.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, cast

import numpy as np
import numpy.typing as npt
import shapely
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from pingan.domain.errors import InvalidInput
from pingan.domain.geo import CRS, Point, UnitLevel, distance_m

Areal: TypeAlias = Polygon | MultiPolygon
FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]

EARTH_RADIUS_M = 6371008.8  # the mean radius `pingan.domain.geo.distance_m` uses
_M_PER_DEG = EARTH_RADIUS_M * math.pi / 180.0
_POLYGONAL = ("Polygon", "MultiPolygon")
_LEVEL_ALIASES = {"street": UnitLevel.TOWN}  # DataV.GeoAtlas calls towns/subdistricts "street"
_GEOMETRY_ERRORS = (ValueError, TypeError, IndexError, KeyError, AttributeError, GEOSException)


# --- datum conversion, vectorised -----------------------------------------------------------------
# Same constants and formula as pingan.domain.geo (private there); test_spatial pins them together.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


def _in_china(lng: FloatArray, lat: FloatArray) -> BoolArray:
    return (lng >= 72.004) & (lng <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _gcj02_delta(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    pi = math.pi
    x, y = lng - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlng += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlng += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlng += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad = lat / 180.0 * pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * pi)
    dlng = (dlng * 180.0) / (_A / sqrt_magic * np.cos(rad) * pi)
    return dlng, dlat


def _gcj02_to_wgs84(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The domain's fixed-point inverse, run on every point at once; each point stops on its own."""
    wlng, wlat = lng.copy(), lat.copy()
    active = np.flatnonzero(_in_china(lng, lat))
    for _ in range(30):
        if active.size == 0:
            break
        alng, alat = wlng[active], wlat[active]
        dlng, dlat = _gcj02_delta(alng, alat)
        inside = _in_china(alng, alat)
        elng = np.where(inside, alng + dlng, alng) - lng[active]
        elat = np.where(inside, alat + dlat, alat) - lat[active]
        wlng[active], wlat[active] = alng - elng, alat - elat
        active = active[(np.abs(elng) >= 1e-10) | (np.abs(elat) >= 1e-10)]
    return wlng, wlat


def _bd09_to_gcj02(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x, y = lng - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def coordinates_to_wgs84(coords: npt.ArrayLike, crs: CRS) -> FloatArray:
    """Convert an (N, 2) array of lng/lat from `crs` to WGS-84, as `geo.to_wgs84` does one by one.

    No range checks here: callers that take input from outside check first.
    """
    xy = np.array(coords, dtype=np.float64).reshape(-1, 2)
    if crs is CRS.WGS84:
        return xy
    lng, lat = xy[:, 0], xy[:, 1]
    if crs is CRS.BD09:
        lng, lat = _bd09_to_gcj02(lng, lat)
    lng, lat = _gcj02_to_wgs84(lng, lat)
    return np.column_stack((lng, lat))


def _gcj02_to_bd09(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.sqrt(lng * lng + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lng) + 0.000003 * np.cos(lng * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def coordinates_from_wgs84(coords: npt.ArrayLike, crs: CRS) -> FloatArray:
    """Convert an (N, 2) WGS-84 array into `crs`, for maps whose base tiles use GCJ-02 or BD-09."""
    xy = np.array(coords, dtype=np.float64).reshape(-1, 2)
    if crs is CRS.WGS84:
        return xy
    lng, lat = xy[:, 0], xy[:, 1]
    dlng, dlat = _gcj02_delta(lng, lat)
    inside = _in_china(lng, lat)
    lng, lat = np.where(inside, lng + dlng, lng), np.where(inside, lat + dlat, lat)
    if crs is CRS.BD09:
        lng, lat = _gcj02_to_bd09(lng, lat)
    return np.column_stack((lng, lat))


def transform_from_wgs84(geometry: BaseGeometry, crs: CRS) -> BaseGeometry:
    if crs is CRS.WGS84:
        return geometry
    return cast(
        BaseGeometry, shapely.transform(geometry, lambda xy: coordinates_from_wgs84(xy, crs))
    )


# --- measuring ------------------------------------------------------------------------------------


def _areas_m2(geometries: npt.NDArray[np.object_]) -> FloatArray:
    """Area in m², projecting each geometry around its own centroid latitude."""
    deg2 = shapely.area(geometries)
    lat = np.zeros(deg2.shape)
    solid = deg2 > 0
    lat[solid] = shapely.get_y(shapely.centroid(geometries[solid]))
    return np.asarray(deg2 * _M_PER_DEG**2 * np.cos(np.radians(lat)), dtype=np.float64)


def area_m2(geometry: BaseGeometry) -> float:
    """Approximate area in square metres of a WGS-84 geometry (equirectangular at its centroid)."""
    return float(_areas_m2(np.array([geometry], dtype=object))[0])


def _label(geometry: BaseGeometry) -> str:
    point = shapely.point_on_surface(geometry)
    return f"near ({point.x:.6f}, {point.y:.6f})"


# --- GeoJSON import -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitFeature:
    """One administrative unit or grid read from GeoJSON, its geometry already in WGS-84."""

    code: str
    name: str
    name_en: str
    level: UnitLevel | None
    parent_code: str | None
    geometry: Areal


def _code(value: object) -> str | None:
    """Codes arrive as strings (`code`) or DataV integers (`adcode`); both become strings."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Mapping):
        return _code(value.get("code", value.get("adcode")))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _feature_code(props: Mapping[str, Any], index: int) -> str:
    raw = props.get("code", props.get("adcode"))
    code = _code(raw)
    if code is None:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise InvalidInput("geojson.missing_code", feature=index)
        raise InvalidInput("geojson.bad_code", feature=index, value=repr(raw))
    if "." in code or any(ch.isspace() for ch in code):
        raise InvalidInput("geojson.bad_code", feature=index, value=code)
    return code


def _feature_level(value: object, index: int, code: str) -> UnitLevel | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value in _LEVEL_ALIASES:
            return _LEVEL_ALIASES[value]
        try:
            return UnitLevel(value)
        except ValueError:
            pass
    raise InvalidInput("geojson.bad_level", feature=index, code=code, value=repr(value))


def _polygonal(geometry: object, index: int, code: str) -> Areal:
    if not isinstance(geometry, Mapping) or geometry.get("type") not in _POLYGONAL:
        kind = geometry.get("type") if isinstance(geometry, Mapping) else type(geometry).__name__
        raise InvalidInput("geojson.bad_geometry", feature=index, code=code, reason=f"{kind}")
    try:
        with np.errstate(invalid="ignore"):  # NaN is reported below as geojson.bad_coordinates
            parsed = shapely.force_2d(shape(geometry))
    except _GEOMETRY_ERRORS as exc:
        raise InvalidInput(
            "geojson.bad_geometry", feature=index, code=code, reason=str(exc)
        ) from None
    if parsed.is_empty:
        raise InvalidInput("geojson.bad_geometry", feature=index, code=code, reason="empty")
    return cast(Areal, parsed)


def _check_coordinates(geometries: npt.NDArray[np.object_], codes: Sequence[str]) -> None:
    """Refuse NaN, infinities and positions off the globe, naming the first offending feature."""
    coords, owner = shapely.get_coordinates(geometries, return_index=True)
    lng, lat = coords[:, 0], coords[:, 1]
    ok = np.isfinite(coords).all(axis=1) & (np.abs(lng) <= 180.0) & (np.abs(lat) <= 90.0)
    if not ok.all():
        at = int(np.argmin(ok))
        index = int(owner[at])
        raise InvalidInput(
            "geojson.bad_coordinates",
            feature=index,
            code=codes[index],
            lng=float(lng[at]),
            lat=float(lat[at]),
        )


def parse_geojson_units(data: Mapping[str, Any], crs: CRS = CRS.WGS84) -> list[UnitFeature]:
    """Read a FeatureCollection of units or grids (ours or DataV.GeoAtlas style) into WGS-84.

    Structure is checked here and refused with `InvalidInput` (`geojson.*` codes); geometric
    validity is not, because `validate_siblings` reports it with more context.
    """
    if (
        not isinstance(data, Mapping)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        raise InvalidInput("geojson.invalid", reason="not a FeatureCollection")
    parsed: list[tuple[str, str, str, UnitLevel | None, str | None, Areal]] = []
    seen: set[str] = set()
    for index, feature in enumerate(data["features"]):
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            raise InvalidInput("geojson.invalid", feature=index, reason="not a Feature")
        props = feature.get("properties") or {}
        if not isinstance(props, Mapping):
            raise InvalidInput("geojson.invalid", feature=index, reason="properties")
        code = _feature_code(props, index)
        if code in seen:
            raise InvalidInput("geojson.duplicate_code", feature=index, code=code)
        seen.add(code)
        name = props.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("geojson.missing_name", feature=index, code=code)
        name_en = props.get("name_en") or ""
        if not isinstance(name_en, str):
            raise InvalidInput("geojson.invalid", feature=index, code=code, reason="name_en")
        level = _feature_level(props.get("level"), index, code)
        parent = _code(props.get("parent"))
        geometry = _polygonal(feature.get("geometry"), index, code)
        parsed.append((code, name.strip(), name_en.strip(), level, parent, geometry))
    if not parsed:
        return []
    geometries = np.empty(len(parsed), dtype=object)
    geometries[:] = [row[5] for row in parsed]
    _check_coordinates(geometries, [row[0] for row in parsed])
    if crs is not CRS.WGS84:
        geometries = shapely.transform(geometries, lambda xy: coordinates_to_wgs84(xy, crs))
    return [
        UnitFeature(code, name, name_en, level, parent, geometry)
        for (code, name, name_en, level, parent, _), geometry in zip(
            parsed, geometries, strict=True
        )
    ]


# --- sibling validation ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GeometryIssue:
    """Something an operator must fix in imported boundaries; `area_m2` when it has an area."""

    code: str
    unit_codes: tuple[str, ...]
    detail: str
    area_m2: float | None = None


def _validity(geometry: BaseGeometry, codes: tuple[str, ...], who: str) -> GeometryIssue | None:
    reason = str(shapely.is_valid_reason(geometry))
    if reason == "Valid Geometry":
        return None
    kind = "self_intersection" if "self-intersection" in reason.lower() else "invalid"
    return GeometryIssue(f"geometry.{kind}", codes, f"{who}: {reason}")


def _polygon_parts(geometry: BaseGeometry) -> npt.NDArray[np.object_]:
    parts = shapely.get_parts(shapely.get_parts(geometry))
    return cast(npt.NDArray[np.object_], parts[shapely.get_type_id(parts) == 3])


def validate_siblings(
    parent: Areal | None,
    children: Sequence[UnitFeature],
    *,
    min_area_m2: float = 1.0,
) -> list[GeometryIssue]:
    """Report (never repair) what keeps `children` from tiling `parent` exactly.

    Finds invalid geometry, overlaps between siblings, gaps the children leave in the parent and
    children reaching outside it. Overlaps, gaps and overhangs smaller than `min_area_m2` are
    float noise from clipping, not mistakes, and are ignored. Invalid shapes are repaired in a
    private copy only so the other checks can still run. Without a parent only the siblings are
    compared with each other.
    """
    issues: list[GeometryIssue] = []
    codes = [child.code for child in children]
    shapes = np.empty(len(children), dtype=object)
    shapes[:] = [child.geometry for child in children]
    for code, geometry in zip(codes, shapes, strict=True):
        issue = _validity(geometry, (code,), code)
        if issue is not None:
            issues.append(issue)
    broken = ~shapely.is_valid(shapes)
    if broken.any():
        shapes[broken] = shapely.make_valid(shapes[broken])

    tree = STRtree(shapes)
    left, right = tree.query(shapes, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    overlaps = shapely.intersection(shapes[left], shapes[right])
    for i, j, overlap, area in zip(left, right, overlaps, _areas_m2(overlaps), strict=True):
        if area >= min_area_m2:
            detail = f"{codes[i]} and {codes[j]} overlap by {area:.1f} m² {_label(overlap)}"
            issues.append(GeometryIssue("grid.overlap", (codes[i], codes[j]), detail, area))

    if parent is None:
        return issues
    parent_issue = _validity(parent, (), "parent")
    if parent_issue is not None:
        issues.append(parent_issue)
        parent = shapely.make_valid(parent)
    shapely.prepare(parent)

    gaps = _polygon_parts(shapely.difference(parent, shapely.union_all(shapes)))
    for gap, area in zip(gaps, _areas_m2(gaps), strict=True):
        if area >= min_area_m2:
            near = tuple(sorted(codes[k] for k in tree.query(gap, predicate="intersects")))
            detail = f"{area:.1f} m² not covered by any child {_label(gap)}"
            issues.append(GeometryIssue("grid.gap", near, detail, area))

    overhanging = np.flatnonzero(~shapely.covers(parent, shapes))
    outside = shapely.difference(shapes[overhanging], parent)
    for k, part, area in zip(overhanging, outside, _areas_m2(outside), strict=True):
        if area >= min_area_m2:
            detail = f"{codes[k]} reaches {area:.1f} m² outside its parent {_label(part)}"
            issues.append(GeometryIssue("grid.outside_parent", (codes[k],), detail, area))
    return issues


# --- point in grid --------------------------------------------------------------------------------


class GridIndex:
    """Which grid holds a point: an STRtree over the grid polygons, for one point or millions.

    A point on a shared edge or corner belongs to the grid whose path sorts first, so the answer
    never depends on the order grids were loaded in. Points on the outer boundary count as inside.
    """

    def __init__(self, grids: Sequence[tuple[str, BaseGeometry]]) -> None:
        paths = [path for path, _ in grids]
        if len(set(paths)) != len(paths):
            raise InvalidInput("grid.duplicate_path")
        shapes = np.empty(len(grids), dtype=object)
        shapes[:] = [geometry for _, geometry in grids]
        self._paths = tuple(paths)
        self._tree = STRtree(shapes)
        order = np.argsort(np.array(paths, dtype=object), kind="stable")
        self._rank = np.empty(len(paths), dtype=np.int64)
        self._rank[order] = np.arange(len(paths))
        by_rank: list[str | None] = [paths[k] for k in order]
        self._by_rank = np.array([*by_rank, None], dtype=object)

    def __len__(self) -> int:
        return len(self._paths)

    @property
    def paths(self) -> tuple[str, ...]:
        return self._paths

    def _first(self, hits: npt.NDArray[np.int64]) -> str | None:
        if hits.size == 0:
            return None
        return cast(str, self._by_rank[int(self._rank[hits].min())])

    def locate(self, lng: float, lat: float) -> str | None:
        """The path of the grid containing (lng, lat) in WGS-84, or None outside every grid."""
        if not (math.isfinite(lng) and math.isfinite(lat)):
            return None
        return self._first(self._tree.query(shapely.Point(lng, lat), predicate="intersects"))

    def locate_many(self, lngs: npt.ArrayLike, lats: npt.ArrayLike) -> list[str | None]:
        """`locate` for arrays of points at once; non-finite positions give None."""
        x = np.asarray(lngs, dtype=np.float64).ravel()
        y = np.asarray(lats, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise InvalidInput("geo.shape_mismatch", lngs=x.size, lats=y.size)
        finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        best = np.full(x.size, len(self._paths), dtype=np.int64)
        if finite.size and len(self._paths):
            points = shapely.points(x[finite], y[finite])
            which, grid = self._tree.query(points, predicate="intersects")
            np.minimum.at(best, finite[which], self._rank[grid])
        return cast(list[str | None], self._by_rank[best].tolist())

    def nearest(self, lng: float, lat: float, max_distance_m: float) -> str | None:
        """The containing grid, else the closest one within `max_distance_m` (to snap GPS noise)."""
        inside = self.locate(lng, lat)
        if inside is not None or not (math.isfinite(lng) and math.isfinite(lat)):
            return inside
        point = shapely.Point(lng, lat)
        # A degree of longitude is the shorter one, so this radius in degrees is never too small.
        reach = max_distance_m / (_M_PER_DEG * max(math.cos(math.radians(lat)), 1e-6))
        candidates = self._tree.query(point, predicate="dwithin", distance=reach)
        if candidates.size == 0:
            return None
        geometries = self._tree.geometries.take(candidates)
        ends = shapely.get_coordinates(shapely.shortest_line(geometries, point))[0::2]
        here = Point(lng, lat)
        ranked = sorted(
            (distance_m(Point(float(ex), float(ey)), here), int(self._rank[k]))
            for k, (ex, ey) in zip(candidates, ends, strict=True)
        )
        metres, rank = ranked[0]
        return cast(str, self._by_rank[rank]) if metres <= max_distance_m else None


# --- interchange ----------------------------------------------------------------------------------


def to_geojson(geometry: BaseGeometry) -> dict[str, Any]:
    """A GeoJSON geometry object with plain lists, ready for `json.dumps` or an API response."""
    return cast(dict[str, Any], json.loads(json.dumps(mapping(geometry))))


def from_geojson(data: Mapping[str, Any]) -> BaseGeometry:
    """Parse a GeoJSON geometry object in WGS-84; refuses what is not one with `geojson.*` codes."""
    if not isinstance(data, Mapping) or "type" not in data:
        raise InvalidInput("geojson.invalid", reason="not a geometry object")
    try:
        with np.errstate(invalid="ignore"):
            geometry = shapely.force_2d(shape(data))
    except _GEOMETRY_ERRORS as exc:
        raise InvalidInput("geojson.bad_geometry", reason=str(exc)) from None
    coords = shapely.get_coordinates(geometry)
    if not (np.isfinite(coords).all() and (np.abs(coords) <= (180.0, 90.0)).all()):
        raise InvalidInput("geojson.bad_coordinates")
    return cast(BaseGeometry, geometry)


def bbox(geometry: BaseGeometry) -> tuple[float, float, float, float]:
    """(min_lng, min_lat, max_lng, max_lat), the order the `units` table stores."""
    if geometry.is_empty:
        raise InvalidInput("geometry.empty")
    min_x, min_y, max_x, max_y = (float(v) for v in geometry.bounds)
    return min_x, min_y, max_x, max_y


def to_wkb(geometry: BaseGeometry) -> bytes:
    """Little-endian 2-D WKB, the form geometry takes in the database."""
    return cast(bytes, shapely.to_wkb(geometry, output_dimension=2, byte_order=1))


def from_wkb(data: bytes) -> BaseGeometry:
    try:
        return cast(BaseGeometry, shapely.from_wkb(data))
    except _GEOMETRY_ERRORS as exc:
        raise InvalidInput("wkb.invalid", reason=str(exc)) from None
