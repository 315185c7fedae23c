"""Dashboard page load with 100,000 cases: time to first map render and to interactive.

Seeds the small demo city, adds synthetic case rows straight into SQLite (the map only needs
rows, not history), serves it and opens the dashboard as the city commander in headless Chromium.
Times are from navigation start, read from the page (`body[data-map-ready]`,
`body[data-interactive]`). Figures only; run with `python -m bench.web_load [N]`.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.conftest import seeded_env, start_server

from pingan.demo.seed import DEMO_PASSWORD

STATES = ["reported", "filed", "dispatched", "accepted", "handled", "closed", "evaluated"]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def add_cases(db: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    template = dict(con.execute("SELECT * FROM cases LIMIT 1").fetchone())
    grids = con.execute(
        "SELECT path, code, min_lng, min_lat, max_lng, max_lat FROM units WHERE level = 'grid'"
    ).fetchall()
    del template["id"]
    cols = list(template)
    rows = []
    for i in range(n):
        g = rng.choice(grids)
        row = dict(template)
        row.update(
            tracking_no=f"BENCH{i:08d}",
            state=rng.choice(STATES),
            urgency="urgent" if rng.random() < 0.05 else "routine",
            lng=rng.uniform(g["min_lng"], g["max_lng"]),
            lat=rng.uniform(g["min_lat"], g["max_lat"]),
            grid_code=g["code"],
            location_path=g["path"],
            due_at=None,
            overdue_since=template["created_at"] if rng.random() < 0.03 else None,
        )
        rows.append(tuple(row[c] for c in cols))
    con.executemany(
        f"INSERT INTO cases ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows
    )
    con.commit()
    con.close()


def measure(n: int = 100_000) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        env = seeded_env(Path(tmp))
        add_cases(Path(tmp) / "pingan.db", n)
        server, base = start_server(env)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium", headless=True, args=ARGS
                )
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                page.set_default_timeout(120_000)
                page.goto(f"{base}/dashboard/")
                page.fill("input[name=username]", "cmd.330400")
                page.fill("input[name=password]", DEMO_PASSWORD)
                page.click("#login-form button[type=submit]")
                page.wait_for_selector("body[data-interactive]")
                figures = {}
                for run in ("cold", "warm"):
                    t0 = time.perf_counter()
                    page.reload()
                    page.wait_for_selector("body[data-interactive]")
                    wall = time.perf_counter() - t0
                    ready = float(page.evaluate("document.body.dataset.mapReady"))
                    interactive = float(page.evaluate("document.body.dataset.interactive"))
                    markers = page.evaluate("window.pinganDashboard.markerCount()")
                    figures[run] = {
                        "markers": markers,
                        "map_ms": round(ready),
                        "interactive_ms": round(interactive),
                        "wall_s": round(wall, 2),
                    }
                browser.close()
        finally:
            server.terminate()
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                server.kill()
    return figures  # type: ignore[return-value]


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    for run, f in measure(count).items():
        print(
            f"dashboard, {f['markers']} cases ({run}): first map render {f['map_ms']} ms, "
            f"interactive {f['interactive_ms']} ms, wall {f['wall_s']} s"
        )
