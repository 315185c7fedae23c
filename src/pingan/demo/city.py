"""The demo city: Jiaxing (嘉兴, 330400) with its real districts and towns, and generated grids.

County boundaries and the names and codes of the 72 towns/subdistricts are real public data (see
`data/SOURCES.md`). Town, community (社区) and grid (网格) polygons are not public, so they are
generated: each parent is split into as many cells as it has children by Lloyd's relaxation of
seed points sampled inside it, then the Voronoi diagram of those seeds clipped to the parent. One
diagram clipped by one parent tiles it exactly, level by level. Communities and grids also get
generated codes and names, marked "（模拟）" / "(synthetic)" so nobody mistakes them for real
ones. Every unit's randomness is seeded from (seed, its code), so a unit's children do not change
when other parts of the city are generated with different settings.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPolygon

from pingan.adapters.spatial import Areal, GridIndex, area_m2, parse_geojson_units
from pingan.domain.geo import CRS, AdminUnit, UnitLevel, child_path, gcj02_to_wgs84

DATA_DIR = Path(__file__).with_name("data")
DEFAULT_BOUNDARIES = DATA_DIR / "330400_full.json"
DEFAULT_STREETS = DATA_DIR / "jiaxing_streets.csv"

CITY_CODE = "330400"
CITY_NAME = "嘉兴市"

_SAMPLES_PER_CELL = 120  # points per cell for the relaxation; more buys evenness, costs time
_LLOYD_ROUNDS = 12
_SLIVER_M2 = 0.5  # polygon parts this small are clipping noise, not territory

# Just the syllables Jiaxing's place names need, to give towns an English name (长安镇 -> Chang'an
# Town). A name with a character missing here keeps its code as English name.
# fmt: off
_PINYIN = {
    "丁": "ding", "七": "qi", "东": "dong", "丰": "feng", "乌": "wu", "乍": "zha", "于": "yu",
    "云": "yun", "仓": "cang", "余": "yu", "元": "yuan", "兴": "xing", "凝": "ning", "凤": "feng",
    "北": "bei", "南": "nan", "原": "yuan", "合": "he", "周": "zhou", "嘉": "jia", "城": "cheng",
    "埭": "dai", "塍": "cheng", "塘": "tang", "大": "da", "天": "tian", "姚": "yao", "安": "an",
    "官": "guan", "屠": "tu", "山": "shan", "崇": "chong", "干": "gan", "广": "guang",
    "庄": "zhuang", "店": "dian", "庙": "miao", "建": "jian", "当": "dang", "惠": "hui",
    "放": "fang", "斜": "xie", "新": "xin", "昌": "chang", "星": "xing", "曹": "cao", "望": "wang",
    "村": "cun", "林": "lin", "栅": "zha", "桐": "tong", "桥": "qiao", "梧": "wu", "步": "bu",
    "武": "wu", "民": "min", "水": "shui", "汇": "hui", "江": "jiang", "沈": "shen", "河": "he",
    "油": "you", "泉": "quan", "泾": "jing", "洪": "hong", "洲": "zhou", "浦": "pu", "海": "hai",
    "港": "gang", "湖": "hu", "湾": "wan", "澉": "gan", "濮": "pu", "照": "zhao", "独": "du",
    "王": "wang", "甸": "dian", "百": "bai", "盐": "yan", "石": "shi", "硖": "xia", "福": "fu",
    "秦": "qin", "窑": "yao", "罗": "luo", "花": "hua", "荡": "dang", "袁": "yuan", "西": "xi",
    "解": "jie", "许": "xu", "设": "she", "车": "che", "通": "tong", "钟": "zhong", "镇": "zhen",
    "长": "chang", "门": "men", "陈": "chen", "院": "yuan", "陶": "tao", "马": "ma", "高": "gao",
    "魏": "wei", "鸣": "ming", "麻": "ma", "黄": "huang", "秀": "xiu", "善": "shan", "宁": "ning",
    "平": "ping", "乡": "xiang",
}
# fmt: on
_SUFFIXES = (
    ("街道", "Subdistrict"),
    ("镇", "Town"),
    ("乡", "Township"),
    ("区", "District"),
    ("县", "County"),
    ("市", "City"),
)


def english_name(name: str) -> str | None:
    """Pinyin plus the English kind of unit (乌镇镇 -> Wuzhen Town), or None if we can't."""
    kinds = [(name[: -len(suffix)], kind) for suffix, kind in _SUFFIXES if name.endswith(suffix)]
    if not kinds or not kinds[0][0] or any(ch not in _PINYIN for ch in kinds[0][0]):
        return None
    stem, kind = kinds[0]
    syllables = [_PINYIN[ch] for ch in stem]
    joined = syllables[0] + "".join(("'" + s) if s[0] in "aoe" else s for s in syllables[1:])
    return f"{joined.capitalize()} {kind}"


@dataclass(frozen=True, slots=True)
class DemoUnit:
    """A unit of the demo tree with its WGS-84 polygon and a label point that lies inside it."""

    unit: AdminUnit
    geometry: Areal
    lng: float
    lat: float


@dataclass(frozen=True)
class DemoCity:
    """The generated tree, top down: city, districts, towns, communities, grids."""

    units: tuple[DemoUnit, ...]
    _by_path: dict[str, DemoUnit] = field(init=False, repr=False, compare=False)
    _children: dict[str, list[DemoUnit]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        children: dict[str, list[DemoUnit]] = {}
        for u in self.units:
            children.setdefault(u.unit.parent_path or "", []).append(u)
        object.__setattr__(self, "_by_path", {u.unit.path: u for u in self.units})
        object.__setattr__(self, "_children", children)

    def get(self, path: str) -> DemoUnit:
        return self._by_path[path]

    def at_level(self, level: UnitLevel) -> list[DemoUnit]:
        return [u for u in self.units if u.unit.level is level]

    def children(self, path: str) -> list[DemoUnit]:
        return list(self._children.get(path, []))

    def grid_index(self) -> GridIndex:
        return GridIndex([(u.unit.path, u.geometry) for u in self.at_level(UnitLevel.GRID)])


# --- partitioning ---------------------------------------------------------------------------------


def _rng(seed: int, code: str) -> np.random.Generator:
    return np.random.default_rng([seed, int(code)])


def _areal(geometry: shapely.Geometry) -> Areal:
    """Keep only the polygonal, non-sliver parts of a clipped cell, as a valid (Multi)Polygon."""
    if not shapely.is_valid(geometry):
        geometry = shapely.make_valid(geometry)
    parts = shapely.get_parts(shapely.get_parts(geometry))
    parts = parts[shapely.get_type_id(parts) == 3]
    parts = [p for p in parts if area_m2(p) >= _SLIVER_M2]
    if not parts:
        raise RuntimeError("a generated cell came out empty")
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _label_point(geometry: Areal) -> tuple[float, float]:
    point = shapely.centroid(geometry)
    if not shapely.contains(geometry, point):
        point = shapely.point_on_surface(geometry)
    return float(point.x), float(point.y)


def _sample_inside(parent: Areal, n: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    shapely.prepare(parent)
    min_x, min_y, max_x, max_y = parent.bounds
    found: list[npt.NDArray[np.float64]] = []
    have = 0
    for _ in range(100):
        x = rng.uniform(min_x, max_x, 2 * n)
        y = rng.uniform(min_y, max_y, 2 * n)
        inside = shapely.contains_xy(parent, x, y)
        found.append(np.column_stack((x[inside], y[inside])))
        have += int(inside.sum())
        if have >= n:
            return np.concatenate(found)[:n]
    raise RuntimeError("could not sample points inside a parent polygon")


def _relaxed_seeds(plane: npt.NDArray[np.float64], k: int, rng: np.random.Generator) -> list[int]:
    """Lloyd's algorithm on the samples (k-means, k-means++ start), snapped to distinct samples.

    Snapping keeps every seed inside the parent, so every clipped Voronoi cell is non-empty.
    """
    n = len(plane)
    c = np.empty((k, 2))
    c[0] = plane[rng.integers(n)]
    d2 = ((plane - c[0]) ** 2).sum(1)
    for j in range(1, k):
        c[j] = plane[rng.choice(n, p=d2 / d2.sum())]
        d2 = np.minimum(d2, ((plane - c[j]) ** 2).sum(1))
    norms = (plane**2).sum(1)[:, None]
    for _ in range(_LLOYD_ROUNDS):
        nearest = (norms - 2.0 * plane @ c.T + (c**2).sum(1)).argmin(1)
        counts = np.bincount(nearest, minlength=k)
        filled = counts > 0
        for axis in (0, 1):
            sums = np.bincount(nearest, weights=plane[:, axis], minlength=k)
            c[filled, axis] = sums[filled] / counts[filled]
    chosen: list[int] = []
    for centre in c:
        d2 = ((plane - centre) ** 2).sum(1)
        d2[chosen] = np.inf
        chosen.append(int(d2.argmin()))
    return chosen


def _partition(
    parent: Areal, k: int, rng: np.random.Generator
) -> list[tuple[Areal, tuple[float, float]]]:
    """Split `parent` into `k` cells of similar area; each comes with the seed it grew from."""
    if k == 1:
        return [(parent, _label_point(parent))]
    samples = _sample_inside(parent, _SAMPLES_PER_CELL * k, rng)
    # Relax and cut in a plane where a degree of longitude is as long as one of latitude.
    squash = np.array([math.cos(math.radians(float(samples[:, 1].mean()))), 1.0])
    plane = samples * squash
    seeds = _relaxed_seeds(plane, k, rng)
    min_x, min_y, max_x, max_y = parent.bounds
    margin = max(max_x - min_x, max_y - min_y)
    frame = shapely.box(
        (min_x - margin) * squash[0], min_y - margin, (max_x + margin) * squash[0], max_y + margin
    )
    diagram = shapely.voronoi_polygons(
        shapely.multipoints(plane[seeds]), extend_to=frame, ordered=True
    )
    cells = shapely.transform(shapely.get_parts(diagram), lambda xy: xy / squash)
    clipped = [_areal(cell) for cell in shapely.intersection(cells, parent)]
    points = [(float(samples[s, 0]), float(samples[s, 1])) for s in seeds]
    return list(zip(_absorb_fragments(clipped, points), points, strict=True))


def _absorb_fragments(cells: list[Areal], seeds: list[tuple[float, float]]) -> list[Areal]:
    """Hand detached pieces of a cell to the neighbour they share most border with.

    Clipping a convex Voronoi cell by a concave parent can leave a scrap across an inlet; on a map
    that reads as an error. Pieces touching no other cell (islands) stay where they are. The
    pieces only change hands, so the cells still tile the parent.
    """
    cells = list(cells)
    for i, cell in enumerate(cells):
        if not isinstance(cell, MultiPolygon):
            continue
        seed = shapely.Point(seeds[i])
        parts = list(cell.geoms)
        home = max(range(len(parts)), key=lambda p: (parts[p].intersects(seed), parts[p].area))
        kept = [parts[home]]
        for k, part in enumerate(parts):
            if k == home:
                continue
            shared, j = max(
                (float(shapely.length(part.boundary.intersection(other.boundary))), j)
                for j, other in enumerate(cells)
                if j != i
            )
            if shared > 0.0:
                cells[j] = _areal(shapely.union(cells[j], part))
            else:
                kept.append(part)
        cells[i] = kept[0] if len(kept) == 1 else MultiPolygon(kept)
    return cells


def _reading_order(cells: list[tuple[Areal, tuple[float, float]]]) -> list[Areal]:
    """North to south, then west to east, so neighbouring numbers are roughly neighbours."""
    return [cell for cell, _ in sorted(cells, key=lambda c: (-c[1][1], c[1][0]))]


# --- the city -------------------------------------------------------------------------------------


def _demo_unit(unit: AdminUnit, geometry: Areal) -> DemoUnit:
    lng, lat = _label_point(geometry)
    return DemoUnit(unit, geometry, lng, lat)


def _load_towns(streets_csv: Path) -> dict[str, list[tuple[str, str]]]:
    towns: dict[str, list[tuple[str, str]]] = {}
    with streets_csv.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            if row["areaCode"].startswith(CITY_CODE[:4]):
                towns.setdefault(row["areaCode"], []).append((row["code"], row["name"]))
    return {county: sorted(rows) for county, rows in towns.items()}


def _seats(raw: dict[str, object]) -> dict[str, tuple[float, float]]:
    """The county seats (DataV `center`, GCJ-02), where subdistricts (街道) cluster."""
    seats: dict[str, tuple[float, float]] = {}
    features = raw.get("features")
    for feature in features if isinstance(features, list) else []:
        props = feature.get("properties") or {}
        center = props.get("center")
        if isinstance(center, list) and len(center) == 2 and "adcode" in props:
            seats[str(props["adcode"])] = gcj02_to_wgs84(float(center[0]), float(center[1]))
    return seats


def _check_range(name: str, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not 1 <= low <= high <= 999:
        raise ValueError(f"{name} must be (low, high) with 1 <= low <= high <= 999, not {bounds}")


def generate_city(
    boundaries_path: Path = DEFAULT_BOUNDARIES,
    streets_csv: Path = DEFAULT_STREETS,
    seed: int = 2019,
    communities_per_town: tuple[int, int] = (5, 9),
    grids_per_community: tuple[int, int] = (4, 8),
    *,
    districts: Sequence[str] | None = None,
    towns_per_district: int | None = None,
) -> DemoCity:
    """Generate Jiaxing top down; the same arguments always give the same city.

    Counts per parent are drawn uniformly from the inclusive ranges. `districts` (county codes)
    and `towns_per_district` (the first towns by code) shrink the city for fast tests; the city
    polygon is then the union of the chosen districts, so every level still tiles the one above.
    """
    _check_range("communities_per_town", communities_per_town)
    _check_range("grids_per_community", grids_per_community)
    raw = json.loads(boundaries_path.read_text(encoding="utf-8"))
    counties = sorted(parse_geojson_units(raw, CRS.GCJ02), key=lambda c: c.code)
    if districts is not None:
        unknown = set(districts) - {c.code for c in counties}
        if unknown:
            raise ValueError(f"not counties of {CITY_NAME}: {sorted(unknown)}")
        counties = [c for c in counties if c.code in set(districts)]
    seats = _seats(raw)
    towns_of = _load_towns(streets_csv)

    city = AdminUnit(CITY_CODE, CITY_NAME, UnitLevel.CITY, CITY_CODE, english_name(CITY_NAME) or "")
    city_shape = _areal(shapely.union_all([c.geometry for c in counties]))
    tree: dict[UnitLevel, list[DemoUnit]] = {level: [] for level in UnitLevel}
    tree[UnitLevel.CITY].append(_demo_unit(city, city_shape))

    for county in counties:
        path = child_path(city.path, county.code)
        name_en = county.name_en or english_name(county.name) or county.code
        unit = AdminUnit(county.code, county.name, UnitLevel.DISTRICT, path, name_en)
        tree[UnitLevel.DISTRICT].append(_demo_unit(unit, county.geometry))

    for district in tree[UnitLevel.DISTRICT]:
        rows = towns_of.get(district.unit.code, [])[:towns_per_district]
        if not rows:
            raise ValueError(f"no towns listed for county {district.unit.code}")
        cells = _partition(district.geometry, len(rows), _rng(seed, district.unit.code))
        # Subdistricts (街道) are the urban core: give them the cells nearest the county seat.
        seat = np.array(seats.get(district.unit.code, (district.lng, district.lat)))
        cells.sort(key=lambda c: float(np.hypot(*(np.array(c[1]) - seat))))
        rows.sort(key=lambda r: (not r[1].endswith("街道"), r[0]))
        placed = sorted(zip(rows, (cell for cell, _ in cells), strict=True))
        for (code, name), geometry in placed:
            path = child_path(district.unit.path, code)
            unit = AdminUnit(code, name, UnitLevel.TOWN, path, english_name(name) or code, True)
            tree[UnitLevel.TOWN].append(_demo_unit(unit, geometry))

    for level, counts, names in (
        (UnitLevel.COMMUNITY, communities_per_town, ("社区", "Community")),
        (UnitLevel.GRID, grids_per_community, ("网格", "Grid")),
    ):
        parent_level = list(UnitLevel)[level.depth - 1]
        for parent in tree[parent_level]:
            rng = _rng(seed, parent.unit.code)
            k = int(rng.integers(counts[0], counts[1] + 1))
            for number, geometry in enumerate(
                _reading_order(_partition(parent.geometry, k, rng)), 1
            ):
                code = f"{parent.unit.code}{number:03d}"
                prefix = parent.unit.name if level is UnitLevel.COMMUNITY else ""
                unit = AdminUnit(
                    code,
                    f"{prefix}第{number}{names[0]}（模拟）",
                    level,
                    child_path(parent.unit.path, code),
                    f"{names[1]} {number} (synthetic)",
                    True,
                )
                tree[level].append(_demo_unit(unit, geometry))

    return DemoCity(tuple(u for level in UnitLevel for u in tree[level]))


def generate_small_city(seed: int = 2019) -> DemoCity:
    """Two districts, two towns each, two communities per town, two grids each: 16 grids, fast."""
    return generate_city(
        seed=seed,
        districts=("330402", "330411"),
        towns_per_district=2,
        communities_per_town=(2, 2),
        grids_per_community=(2, 2),
    )
