"""Point-in-grid: how fast a million positions are placed in the demo city's grids."""

from __future__ import annotations

import time

import numpy as np

from pingan.demo.city import generate_city
from pingan.domain.geo import UnitLevel


def bench_locate(points: int = 1_000_000) -> dict[str, float]:
    t0 = time.perf_counter()
    city = generate_city()
    built = time.perf_counter()
    index = city.grid_index()
    indexed = time.perf_counter()
    grids = city.at_level(UnitLevel.GRID)
    rng = np.random.default_rng(7)
    minx = min(g.geometry.bounds[0] for g in grids)
    miny = min(g.geometry.bounds[1] for g in grids)
    maxx = max(g.geometry.bounds[2] for g in grids)
    maxy = max(g.geometry.bounds[3] for g in grids)
    lngs = rng.uniform(minx, maxx, points)
    lats = rng.uniform(miny, maxy, points)
    start = time.perf_counter()
    found = index.locate_many(lngs, lats)
    batch = time.perf_counter() - start
    single_n = 20_000
    start = time.perf_counter()
    for x, y in zip(lngs[:single_n], lats[:single_n], strict=True):
        index.locate(float(x), float(y))
    single = time.perf_counter() - start
    inside = sum(1 for f in found if f is not None)
    return {
        "grids": float(len(grids)),
        "city_generation_s": built - t0,
        "index_build_s": indexed - built,
        "points": float(points),
        "inside_share": inside / points,
        "batch_s": batch,
        "batch_points_per_s": points / batch,
        "single_points_per_s": single_n / single,
    }
