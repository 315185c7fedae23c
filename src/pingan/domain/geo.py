"""Places: the administrative tree, grids, and the coordinate systems Chinese devices speak.

Everything is stored in WGS-84. Phones and Chinese map apps emit GCJ-02 (the national "Mars" datum)
or BD-09 (Baidu's); `to_wgs84` converts them back. The GCJ-02 forward transform is the published
Krasovsky-ellipsoid formula; its inverse has no closed form, so it is solved by fixed-point
iteration to well under a centimetre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from pingan.domain.errors import InvalidInput

PATH_SEP = "."


class CRS(StrEnum):
    """Coordinate reference systems a client may send."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"  # 国测局坐标
    BD09 = "bd09"  # 百度坐标


class UnitLevel(StrEnum):
    """Levels of the administrative tree, top down."""

    CITY = "city"  # 市
    DISTRICT = "district"  # 区/县/县级市
    TOWN = "town"  # 镇/街道
    COMMUNITY = "community"  # 社区/村
    GRID = "grid"  # 网格

    @property
    def depth(self) -> int:
        return list(UnitLevel).index(self)

    def child(self) -> UnitLevel | None:
        levels = list(UnitLevel)
        return levels[self.depth + 1] if self.depth + 1 < len(levels) else None


@dataclass(frozen=True, slots=True)
class AdminUnit:
    """A node of the tree; `path` joins the codes from the root, e.g. `330400.330402.330402007`."""

    code: str
    name: str
    level: UnitLevel
    path: str
    name_en: str = ""
    generated: bool = False

    @property
    def parent_path(self) -> str | None:
        head, sep, _ = self.path.rpartition(PATH_SEP)
        return head if sep else None

    @property
    def parent_code(self) -> str | None:
        parent = self.parent_path
        return parent.rpartition(PATH_SEP)[2] if parent else None


def child_path(parent_path: str | None, code: str) -> str:
    return f"{parent_path}{PATH_SEP}{code}" if parent_path else code


def is_within(path: str, scope: str) -> bool:
    """True when `path` is `scope` itself or lies below it in the tree."""
    return path == scope or path.startswith(scope + PATH_SEP)


def ancestors(path: str) -> list[str]:
    """All paths from the root down to `path`'s parent."""
    parts = path.split(PATH_SEP)
    return [PATH_SEP.join(parts[:i]) for i in range(1, len(parts))]


def parent_of(path: str) -> str | None:
    head, sep, _ = path.rpartition(PATH_SEP)
    return head if sep else None


@dataclass(frozen=True, slots=True)
class Point:
    """A WGS-84 position in degrees."""

    lng: float
    lat: float


def check_coordinates(lng: float, lat: float) -> None:
    """Refuse what no device on Earth reports, and say when the axes look swapped."""
    if not (math.isfinite(lng) and math.isfinite(lat)):
        raise InvalidInput("geo.not_finite", lng=lng, lat=lat)
    if not -90.0 <= lat <= 90.0 or not -180.0 <= lng <= 180.0:
        if -90.0 <= lng <= 90.0 and -180.0 <= lat <= 180.0:
            raise InvalidInput("geo.swapped", lng=lng, lat=lat)
        raise InvalidInput("geo.out_of_range", lng=lng, lat=lat)


# --- GCJ-02 / BD-09 -------------------------------------------------------------------------------

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses it
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


def in_china(lng: float, lat: float) -> bool:
    """The rough box in which GCJ-02 applies; outside it the datum equals WGS-84."""
    return 72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271


def _delta(lng: float, lat: float) -> tuple[float, float]:
    x, y = lng - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlng += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlng += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlng += (
        (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlng, dlat


def wgs84_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    if not in_china(lng, lat):
        return lng, lat
    dlng, dlat = _delta(lng, lat)
    return lng + dlng, lat + dlat


def gcj02_to_wgs84(lng: float, lat: float) -> tuple[float, float]:
    """Invert GCJ-02 by iteration; converges to < 1e-9 degrees in a handful of steps."""
    if not in_china(lng, lat):
        return lng, lat
    wlng, wlat = lng, lat
    for _ in range(30):
        glng, glat = wgs84_to_gcj02(wlng, wlat)
        elng, elat = glng - lng, glat - lat
        wlng, wlat = wlng - elng, wlat - elat
        if abs(elng) < 1e-10 and abs(elat) < 1e-10:
            break
    return wlng, wlat


def gcj02_to_bd09(lng: float, lat: float) -> tuple[float, float]:
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def bd09_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    x, y = lng - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def to_wgs84(lng: float, lat: float, crs: CRS = CRS.WGS84) -> Point:
    """Validate a client's coordinates and bring them into the stored datum."""
    check_coordinates(lng, lat)
    if crs is CRS.GCJ02:
        lng, lat = gcj02_to_wgs84(lng, lat)
    elif crs is CRS.BD09:
        lng, lat = gcj02_to_wgs84(*bd09_to_gcj02(lng, lat))
    return Point(lng, lat)


def from_wgs84(point: Point, crs: CRS) -> tuple[float, float]:
    if crs is CRS.GCJ02:
        return wgs84_to_gcj02(point.lng, point.lat)
    if crs is CRS.BD09:
        return gcj02_to_bd09(*wgs84_to_gcj02(point.lng, point.lat))
    return point.lng, point.lat


def distance_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6371008.8
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lng - a.lng)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))
