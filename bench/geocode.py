"""Geocoding figures on the demo registry: take registered addresses, write them the ways people
do (in full; without city and district; with full-width digits, Chinese numerals and spaces) and
see at which level each is found, how far from the registered point, and how fast.

Usage: python -m bench.geocode --url sqlite:///var/pingan.db [--sample 300]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter

from sqlalchemy import select

from pingan.adapters.db.address_tables import addresses
from pingan.api.runtime import Runtime
from pingan.config import Settings
from pingan.domain.addresses import parse_address
from pingan.domain.geo import Point, distance_m
from pingan.services.geocoding import geocode

_CN = "零一二三四五六七八九"


def _spoken(text: str) -> str:
    """'12幢' → '十二幢', other digits full-width, a space before the road or compound."""
    p = parse_address(text)
    if p.building and int(p.building) < 100:
        n = int(p.building)
        cn = (
            (_CN[n // 10] if n >= 20 else "")
            + ("十" if n >= 10 else "")
            + (_CN[n % 10] if n % 10 else "")
        )
        text = text.replace(f"{p.building}幢", f"{cn}幢")
    text = text.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    for part in (p.road, p.compound):
        if part:
            text = text.replace(part, f" {part}", 1)
    return text


def _short(text: str) -> str:
    p = parse_address(text)
    tail = f"{p.road}{p.number}号" if p.road and p.number else f"{p.compound}{p.building or ''}"
    if p.building and p.compound:
        tail += "幢"
    return f"{p.town}{tail}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.geocode")
    parser.add_argument("--url", required=True)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    rt = Runtime.build(Settings(database_url=args.url, run_workers=False))
    rt.locator.reload()
    with rt.uows(readonly=True) as uow:
        rows = uow.connection.execute(select(addresses)).all()
    sample = random.Random(args.seed).sample(rows, min(args.sample, len(rows)))
    for label, write in (("as registered", lambda t: t), ("town + road/compound only", _short),
                         ("full-width, 汉字 numerals, spaces", _spoken)):  # fmt: skip
        levels: Counter[str] = Counter()
        errors: list[float] = []
        times: list[float] = []
        with rt.uows(readonly=True) as uow:
            for row in sample:
                started = time.perf_counter()
                g = geocode(uow, write(row.full_text), rt.env)
                times.append(time.perf_counter() - started)
                levels[g.level or "none"] += 1
                if g.lng is not None and g.lat is not None:
                    errors.append(distance_m(Point(g.lng, g.lat), Point(row.lng, row.lat)))
        exact = sum(e < 1.0 for e in errors) / len(sample)
        print(
            f"{label}: {dict(levels)}; exact point {exact:.1%}; median error "
            f"{statistics.median(errors):.0f} m; median {statistics.median(times) * 1000:.1f} ms, "
            f"p95 {sorted(times)[int(0.95 * len(times))] * 1000:.1f} ms"
        )
    rt.engine.dispose()


if __name__ == "__main__":
    main()
