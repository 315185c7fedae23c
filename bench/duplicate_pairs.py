"""Build the labelled pairs file for `pingan evaluate duplicates` (examples/duplicate-pairs.csv).

Places come from the generated demo city (random points in its grids). Each incident gets a
category, a landmark and a time; reports of it are written from hand-made phrasings, so two
reports of the same incident use different words, as two reporters would. Pair kinds:

- `same_incident` (duplicate): the same incident reported again, 5-80 m away (GPS error), 10
  minutes to 30 hours later, usually the same landmark; one in ten filed under a sibling 小类.
- `nearby_same_category` (not duplicate): another incident of the same kind 60-300 m away within
  72 hours — the hard case: same words, different problem.
- `nearby_other_category` (not duplicate): a different problem close by at about the same time.
- `same_place_later` (not duplicate): the same kind of problem at the same spot 4-10 days later,
  a new occurrence rather than a repeat report.

Usage: python -m bench.duplicate_pairs --out examples/duplicate-pairs.csv
"""

from __future__ import annotations

import argparse
import csv
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pingan.demo.city import generate_small_city
from pingan.domain.geo import UnitLevel

# category: phrasings with a {p} landmark slot (different reporters, different words)
PHRASES: dict[str, tuple[str, ...]] = {
    "E0102": (
        "{p}旁边堆了一大堆垃圾，好几天没人清理了",
        "{p}附近垃圾乱堆，气味很大，请环卫处理",
        "发现{p}有暴露垃圾",
        "{p}门口垃圾成堆，苍蝇很多",
    ),
    "E0103": ("{p}渣土堆积没人运走", "{p}有一堆建筑垃圾和渣土"),
    "E0505": (
        "{p}有辆车违停，堵住了通道",
        "{p}汽车乱停放，行人没法走",
        "一辆白色轿车停在{p}人行道上",
        "{p}机动车乱停，影响通行",
    ),
    "P0110": (
        "{p}的路灯坏了，晚上一片漆黑",
        "{p}路灯不亮好几天了",
        "反映{p}路灯故障",
        "{p}那盏路灯一直闪",
    ),
    "P0102": (
        "{p}污水井盖破损，很危险",
        "{p}井盖缺了一块，容易绊倒人",
        "{p}的下水井盖松动，车一过就响",
    ),
    "E0602": (
        "{p}晚上噪音太大，吵得睡不着",
        "{p}半夜有人放音乐扰民",
        "反映{p}噪声扰民问题",
    ),
    "E0501": (
        "{p}有流动摊贩占道经营",
        "{p}小商贩摆摊卖水果，堵路",
        "{p}有无证游商",
    ),
    "E0405": (
        "{p}路面积水很深，车辆难以通行",
        "下雨后{p}积水严重",
        "{p}一下雨就淹，行人过不去",
    ),
    "E0603": (
        "{p}饭店油烟直排，熏得人受不了",
        "{p}餐馆油烟很大",
        "投诉{p}餐饮油烟扰民",
    ),
    "S0201": (
        "{p}楼道堆满杂物，堵了消防通道",
        "{p}消防通道被占用，有安全隐患",
        "{p}的灭火器过期了没人管",
    ),
    "P0402": (
        "{p}行道树倒了，压在路上",
        "{p}有棵树歪了，随时会倒",
        "{p}的树枝断了挂在半空",
    ),
    "E0101": (
        "{p}有人私自搭建棚子",
        "{p}违章搭建，占用公共空间",
        "举报{p}私搭乱建",
    ),
    "E0404": (
        "{p}下水道堵了，污水冒出来",
        "{p}下水道堵塞，臭味很重",
        "{p}排水不畅，污水外溢",
    ),
}
SIBLINGS = {"E0102": "E0103", "E0103": "E0102", "P0102": "E0404", "E0404": "P0102"}
LANDMARKS = (
    "小区东门", "小区南门", "菜市场门口", "公交站", "学校后门", "河边步道", "超市门口",
    "十字路口", "停车场", "社区服务中心", "幼儿园对面", "银行门口", "老街口", "桥头",
    "健身广场", "医院西侧", "加油站旁", "地铁口", "快递点", "物业办公室楼下",
)  # fmt: skip
M_PER_DEG = 111_320.0


def _move(lng: float, lat: float, metres: float, rng: random.Random) -> tuple[float, float]:
    angle = rng.uniform(0, 2 * math.pi)
    return (
        lng + metres * math.cos(angle) / (M_PER_DEG * math.cos(math.radians(lat))),
        lat + metres * math.sin(angle) / M_PER_DEG,
    )


def build(n_incidents: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    city = generate_small_city()
    grids = city.at_level(UnitLevel.GRID)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    rows: list[dict[str, object]] = []

    def report(cat: str, landmark: str, lng: float, lat: float, at: datetime, avoid: str = ""):
        choices = [p for p in PHRASES[cat] if p != avoid] or list(PHRASES[cat])
        phrase = rng.choice(choices)
        return phrase, {
            "text": phrase.format(p=landmark),
            "lat": round(lat, 6),
            "lon": round(lng, 6),
            "time": at.isoformat(timespec="minutes"),
            "category": cat,
        }

    for i in range(n_incidents):
        grid = rng.choice(grids)
        lng, lat = grid.lng, grid.lat
        lng, lat = _move(lng, lat, rng.uniform(0, 200), rng)
        cat = rng.choice(list(PHRASES))
        landmark = rng.choice(LANDMARKS)
        at = start + timedelta(minutes=rng.randint(0, 60 * 24 * 50))
        phrase_a, a = report(cat, landmark, lng, lat, at)
        kind = rng.choices(
            ["same_incident", "nearby_same_category", "nearby_other_category", "same_place_later"],
            [45, 30, 15, 10],
        )[0]
        if kind == "same_incident":
            cat_b = SIBLINGS.get(cat, cat) if rng.random() < 0.1 else cat
            where = landmark if rng.random() < 0.7 else rng.choice(LANDMARKS)
            lng_b, lat_b = _move(lng, lat, rng.uniform(5, 80), rng)
            at_b = at + timedelta(minutes=rng.randint(10, 30 * 60))
            _, b = report(cat_b, where, lng_b, lat_b, at_b, avoid=phrase_a)
        elif kind == "nearby_same_category":
            where = landmark if rng.random() < 0.2 else rng.choice(LANDMARKS)
            lng_b, lat_b = _move(lng, lat, rng.uniform(60, 300), rng)
            at_b = at + timedelta(minutes=rng.randint(0, 72 * 60))
            _, b = report(cat, where, lng_b, lat_b, at_b)
        elif kind == "nearby_other_category":
            other = rng.choice([c for c in PHRASES if c != cat])
            lng_b, lat_b = _move(lng, lat, rng.uniform(0, 250), rng)
            at_b = at + timedelta(minutes=rng.randint(0, 48 * 60))
            _, b = report(other, rng.choice(LANDMARKS), lng_b, lat_b, at_b)
        else:
            lng_b, lat_b = _move(lng, lat, rng.uniform(0, 30), rng)
            at_b = at + timedelta(days=rng.uniform(4, 10))
            _, b = report(cat, landmark, lng_b, lat_b, at_b)
        row: dict[str, object] = {"id": i + 1}
        row.update({f"{k}_a": v for k, v in a.items()})
        row.update({f"{k}_b": v for k, v in b.items()})
        row["duplicate"] = 1 if kind == "same_incident" else 0
        row["kind"] = kind
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.duplicate_pairs")
    parser.add_argument("--incidents", type=int, default=600)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows = build(args.incidents, args.seed)
    with args.out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} pairs written to {args.out}")


if __name__ == "__main__":
    main()
