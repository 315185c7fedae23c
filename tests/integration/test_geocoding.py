"""Address → place against the administrative tree and the address registry, which the demo seed
fills with generated roads, door numbers and compounds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pingan.adapters.spreadsheet import workbook
from pingan.cli import app
from pingan.demo.addresses import generate_addresses
from pingan.domain.addresses import normalise, parse_address
from pingan.domain.geo import UnitLevel
from pingan.services.geocoding import geocode as geocode_in
from tests.integration.conftest import CITY, World

runner = CliRunner()
GENERATED = generate_addresses(CITY)


def geocode(world: World, q: str) -> dict[str, Any]:
    r = world.client("op.330402007").get("/api/v1/places/geocode", params={"q": q})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_door_number_resolves_to_its_point_grid_and_community(world: World) -> None:
    door = next(a for a in GENERATED if a.text.endswith("号"))
    body = geocode(world, door.text)
    assert body["level"] == "door" and body["confidence"] >= 0.9
    assert (body["lng"], body["lat"]) == (door.lng, door.lat)
    assert body["grid_path"] == world.rt.locator.locate(door.lng, door.lat)
    assert body["unit"]["level"] == "community"
    assert body["grid_path"].startswith(body["unit"]["path"] + ".")
    assert body["components"]["road"] and body["components"]["number"]


def test_a_building_written_with_chinese_numerals_and_spaces_is_found(world: World) -> None:
    building = next(a for a in GENERATED if a.text.endswith("3幢"))
    spoken = building.text.replace("3幢", " 三幢 2单元 501室")
    body = geocode(world, spoken)
    assert body["level"] == "building"
    assert (body["lng"], body["lat"]) == (building.lng, building.lat)
    assert body["components"]["unit"] == "2" and body["components"]["room"] == "501"


def test_an_unknown_number_falls_back_to_the_nearest_number_on_that_road(world: World) -> None:
    door = next(a for a in GENERATED if a.text.endswith("号"))
    parsed = parse_address(door.text)
    body = geocode(world, door.text.replace(f"{parsed.number}号", "9999号"))
    assert body["level"] == "road"
    assert any(n.startswith("nearest_number:") for n in body["notes"])


def test_a_road_without_the_city_and_district_in_front_is_still_found(world: World) -> None:
    door = next(a for a in GENERATED if a.text.endswith("号"))
    parsed = parse_address(door.text)
    body = geocode(world, f"{parsed.town}{parsed.road}{parsed.number}号")
    assert body["level"] == "door" and body["lng"] == door.lng


def test_only_a_town_gives_the_town_centre_with_low_confidence(world: World) -> None:
    town = world.town()
    body = geocode(world, f"嘉兴市{world.district().unit.name}{town.unit.name}")
    assert body["level"] == "town" and body["confidence"] < 0.5
    assert body["unit"]["path"] == town.unit.path
    assert body["grid_path"] is None or body["grid_path"].startswith(town.unit.path + ".")


def test_an_address_matching_nothing_says_so_without_guessing(world: World) -> None:
    body = geocode(world, "火星市奥林帕斯路1号")
    assert body["level"] is None and body["lng"] is None and body["confidence"] == 0
    assert "unknown:city:火星市" in body["notes"]


def test_geocoding_needs_a_signed_in_user(world: World) -> None:
    r = world.client().get("/api/v1/places/geocode", params={"q": "中山路1号"})
    assert r.status_code == 401


def test_imported_addresses_in_gbk_become_findable(world: World, tmp_path: Path) -> None:
    grid = world.grids()[0]
    town = world.town()
    path = tmp_path / "addresses.csv"
    text = f"{town.unit.name}测试专用路7号"
    path.write_bytes(f"地址,经度,纬度\n{text},{grid.lng},{grid.lat}\n".encode("gbk"))
    result = runner.invoke(app, ["import", "addresses", str(path), "--url", world.url])
    assert result.exit_code == 0, result.output
    body = geocode(world, text)
    assert body["level"] == "door" and body["grid_path"] == grid.unit.path


def test_an_address_workbook_is_imported_like_a_csv(world: World, tmp_path: Path) -> None:
    grid = world.grids()[0]
    town = world.town()
    text = f"{town.unit.name}表格专用路9号"
    path = tmp_path / "addresses.xlsx"
    path.write_bytes(workbook("地址", ["地址", "经度", "纬度"], [[text, grid.lng, grid.lat]]))
    result = runner.invoke(app, ["import", "addresses", str(path), "--url", world.url])
    assert result.exit_code == 0, result.output
    body = geocode(world, text)
    assert body["level"] == "door" and body["grid_path"] == grid.unit.path


def test_an_import_with_a_bad_row_stores_nothing(world: World, tmp_path: Path) -> None:
    grid = world.grids()[0]
    path = tmp_path / "addresses.csv"
    path.write_text(
        f"address,lng,lat\n坏例子路1号,{grid.lng},{grid.lat}\n远方路2号,0.5,0.5\n", "utf-8"
    )
    result = runner.invoke(app, ["import", "addresses", str(path), "--url", world.url])
    assert result.exit_code == 1
    assert "geo.outside_grids" in result.output
    assert geocode(world, "坏例子路1号")["level"] is None


def _add_community(uow: Any, town: Any, code: str, name: str, at: tuple[float, float]) -> None:
    """A community under `town`, inside the caller's uncommitted unit of work."""
    row = {
        "code": code,
        "path": f"{town.path}.{code}",
        "parent_code": town.code,
        "level": UnitLevel.COMMUNITY.value,
        "name": name,
        "name_en": "",
        "generated": False,
        "center_lng": at[0],
        "center_lat": at[1],
    }
    uow.units.insert_many([row])


@pytest.mark.parametrize(
    ("stored", "written"),
    [
        ("城南（老城）社区", "城南社区"),  # a bracketed note inside the name
        ("新 丰 社区", "新丰社区"),  # spacing
        ("第３社区（模拟）", "第3社区"),  # a full-width digit
        ("Ａ－1社区", "A-1社区"),  # a full-width letter and dash
    ],
)
def test_a_community_stored_with_notes_spaces_or_full_width_digits_is_still_named(
    world: World, stored: str, written: str
) -> None:
    """Units are narrowed by name in the database before their normalised names are compared;
    the narrowing must not lose a name that only matches once normalised."""
    town = world.town(town_index=1).unit
    code = f"{town.code}9{sum(map(ord, stored)) % 100:02d}"
    lng, lat = world.grids(town_index=1)[0].lng, world.grids(town_index=1)[0].lat
    with world.rt.uows() as uow:  # never committed: the world keeps its tree
        _add_community(uow, town, code, stored, (lng, lat))
        found = geocode_in(uow, f"{town.name}{written}", world.rt.env)
    assert found.level == "community" and found.unit is not None
    assert found.unit.code == code and found.unit.name == stored


@pytest.mark.parametrize(
    "stored",
    ["十号桥社区", "一百号社区", "⑫号社区", "Ａ－1社区", "第３社区（模拟）", "新 丰 社区"],
)
def test_the_name_filter_keeps_every_name_that_normalises_to_the_key(
    world: World, stored: str
) -> None:
    """Normalising may turn one stored character into two (十 → 10) or an ASCII one (⑫ → 12,
    － → -): the database's coarse filter must still return the unit for the normalised key."""
    town = world.town(town_index=1).unit
    code = f"{town.code}8{sum(map(ord, stored)) % 100:02d}"
    with world.rt.uows() as uow:  # never committed: the world keeps its tree
        _add_community(uow, town, code, stored, (120.7, 30.7))
        found = uow.units.named([UnitLevel.COMMUNITY], town.path, normalise(stored))
    assert code in {r.unit.code for r in found}
