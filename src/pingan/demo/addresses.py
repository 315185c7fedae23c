"""Generated addresses for the demo city: roads with door numbers across each town and
residential compounds (小区) with numbered buildings inside each community.

Like the demo's communities and grids, these are generated, not real: road and compound names
are common Chinese name stems drawn at random, and every row is stored with `generated` set and
source "demo (模拟)". Each town's roads are straight lines through it, numbered every ~40 m,
odd numbers on one side and even on the other, so nearby numbers are nearby on the map.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import cast

import shapely
from shapely.geometry import LineString, Point

from pingan.demo.city import CITY_NAME, DemoCity, DemoUnit
from pingan.domain.geo import UnitLevel
from pingan.services.geocoding import AddressRow, AddressUnitOfWork, register_addresses
from pingan.services.ports import Env, UnitOfWork

SOURCE = "demo (模拟)"
# fmt: off
_ROAD_STEMS = (
    "中山", "解放", "建设", "人民", "文昌", "禾兴", "友谊", "新华", "胜利", "和平", "东升",
    "昌盛", "越秀", "富强", "创业", "环城", "城南", "梅湾", "秀水", "南溪", "广益", "纺工",
    "槜李", "嘉禾", "烟雨", "月河", "长水", "吉杨", "由拳", "洪兴", "清河", "晴湾", "凌公塘",
    "少年", "勤俭", "学院", "亚太", "常秀", "双溪", "三环", "云东", "庆丰", "华庭", "百花",
)
_COMPOUND_STEMS = (
    "阳光", "幸福", "金桂", "明珠", "湖畔", "绿城", "东方", "锦绣", "紫金", "翠苑", "梅园",
    "望湖", "嘉和", "秀城", "南湖", "江南", "新城", "怡景", "龙湖", "春晖", "桂花", "荷花",
    "香樟", "银杏", "水岸", "书香", "安居", "康乐", "平安", "和谐", "朝阳", "晨光",
)
# fmt: on
_ROAD_SUFFIXES = ("路", "路", "路", "街", "大道")
_DIRECTIONS = ("", "", "", "东", "西", "南", "北")
_COMPOUND_SUFFIXES = ("小区", "花园", "苑", "家园", "新村", "公寓")
_M_PER_DEG = 111_320.0


@dataclass(frozen=True, slots=True)
class DemoAddress:
    text: str
    lng: float
    lat: float


def _offset(lng: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    return (
        lng + east_m / (_M_PER_DEG * math.cos(math.radians(lat))),
        lat + north_m / _M_PER_DEG,
    )


def _inside(unit: DemoUnit, rng: random.Random) -> tuple[float, float]:
    minx, miny, maxx, maxy = shapely.bounds(unit.geometry).tolist()
    for _ in range(100):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if unit.geometry.contains(Point(x, y)):
            return x, y
    return unit.lng, unit.lat


def _roads(
    town: DemoUnit, prefix: str, rng: random.Random, count: int, numbers: int
) -> list[DemoAddress]:
    out: list[DemoAddress] = []
    used: set[str] = set()
    shapely.prepare(town.geometry)
    for _ in range(count):
        name = ""
        while not name or name in used:
            name = rng.choice(_ROAD_STEMS) + rng.choice(_DIRECTIONS) + rng.choice(_ROAD_SUFFIXES)
        used.add(name)
        lng, lat = _inside(town, rng)
        angle = rng.uniform(0, math.pi)
        span = 20_000.0
        a = _offset(lng, lat, -span * math.cos(angle), -span * math.sin(angle))
        b = _offset(lng, lat, span * math.cos(angle), span * math.sin(angle))
        inside = shapely.intersection(LineString([a, b]), town.geometry)
        parts = [p for p in shapely.get_parts(inside) if p.geom_type == "LineString"]
        if not parts:
            continue
        line = max(parts, key=lambda p: p.length)
        step = 40.0 / _M_PER_DEG
        n_max = min(numbers, int(line.length / step))
        for number in range(1, n_max + 1):
            along = line.interpolate((number - 0.5) * step)
            side = 8.0 if number % 2 else -8.0
            x, y = _offset(along.x, along.y, side * math.sin(angle), -side * math.cos(angle))
            if not town.geometry.contains(Point(x, y)):
                x, y = along.x, along.y
            out.append(DemoAddress(f"{prefix}{name}{number}号", x, y))
    return out


def _compounds(
    community: DemoUnit, prefix: str, rng: random.Random, count: int, used: set[str]
) -> list[DemoAddress]:
    out: list[DemoAddress] = []
    for _ in range(count):
        name = ""
        for _attempt in range(50):
            name = rng.choice(_COMPOUND_STEMS) + rng.choice(_COMPOUND_SUFFIXES)
            if name not in used:
                break
        if name in used:
            continue
        used.add(name)
        lng, lat = _inside(community, rng)
        out.append(DemoAddress(f"{prefix}{name}", lng, lat))
        buildings = rng.randint(4, 16)
        cols = math.ceil(math.sqrt(buildings))
        for b in range(1, buildings + 1):
            row, col = divmod(b - 1, cols)
            x, y = _offset(lng, lat, (col - cols / 2) * 30.0, -(row - cols / 2) * 25.0)
            if not community.geometry.contains(Point(x, y)):
                x, y = lng, lat
            out.append(DemoAddress(f"{prefix}{name}{b}幢", x, y))
    return out


def generate_addresses(
    city: DemoCity,
    seed: int = 2019,
    roads_per_town: int = 5,
    numbers_per_road: int = 40,
    compounds_per_community: tuple[int, int] = (1, 3),
) -> list[DemoAddress]:
    """Door numbers and compound buildings across the city; the same arguments give the same
    addresses. Texts read like people write them: 嘉兴市南湖区解放街道中山路12号."""
    rng = random.Random(seed)
    out: list[DemoAddress] = []
    for district in city.at_level(UnitLevel.DISTRICT):
        for town in city.children(district.unit.path):
            prefix = f"{CITY_NAME}{district.unit.name}{town.unit.name}"
            out.extend(_roads(town, prefix, rng, roads_per_town, numbers_per_road))
            used: set[str] = set()
            for community in city.children(town.unit.path):
                if community.unit.level is not UnitLevel.COMMUNITY:
                    continue
                k = rng.randint(*compounds_per_community)
                out.extend(_compounds(community, prefix, rng, k, used))
    return out


def seed_addresses(uow: UnitOfWork, city: DemoCity, env: Env) -> int:
    """Register the generated addresses; returns how many were stored."""
    rows = [AddressRow(a.text, a.lng, a.lat) for a in generate_addresses(city)]
    registry = cast(AddressUnitOfWork, uow)  # the SQL unit of work has the address registry
    report = register_addresses(registry, rows, env, source=SOURCE, generated=True)
    if report.errors:
        raise RuntimeError(f"generated addresses refused: {report.errors[:3]}")
    return report.stored
