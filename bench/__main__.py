"""`make bench`: print intake throughput/latency (SQLite, PostgreSQL, bare baseline) and
point-in-grid speed. Figures only; nothing here passes or fails on time."""

from __future__ import annotations

import argparse
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.intake import bench_backend
from bench.iot import bench_iot
from bench.locate import bench_locate

console = Console()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--only", choices=["intake", "locate", "iot", "kpis", "web", "calls"], default=None
    )
    args = parser.parse_args()
    report: dict[str, object] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": (
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU, "
            f"Python {platform.python_version()}"
        ),
    }
    if args.only in (None, "intake"):
        table = Table(
            title=f"Intake over HTTP: {args.concurrency} concurrent clients, {args.seconds:.0f} s"
        )
        for col in ("database", "endpoint", "req/s", "p50 ms", "p99 ms", "errors", "vs bare"):
            table.add_column(col)
        intake: dict[str, object] = {}
        for kind in ("sqlite", "postgres"):
            with console.status(f"intake on {kind}…"):
                results = bench_backend(kind, args.concurrency, args.seconds)
            bare = results["bare FastAPI one-row insert"].rate
            for name, r in results.items():
                table.add_row(
                    kind,
                    name,
                    f"{r.rate:,.0f}",
                    f"{r.p50_ms:.1f}",
                    f"{r.p99_ms:.1f}",
                    str(r.errors),
                    f"{bare / r.rate:.2f}× slower" if "pingan" in name else "",
                )
                intake[f"{kind}: {name}"] = {
                    "rate": r.rate,
                    "p50_ms": r.p50_ms,
                    "p99_ms": r.p99_ms,
                    "errors": r.errors,
                    "requests": r.requests,
                }
        console.print(table)
        report["intake"] = intake
    if args.only in (None, "locate"):
        with console.status("point-in-grid…"):
            loc = bench_locate()
        console.print(
            f"Point-in-grid: {loc['points']:,.0f} random points over "
            f"{loc['grids']:,.0f} demo grids "
            f"({loc['inside_share']:.0%} inside a grid) in {loc['batch_s']:.2f} s = "
            f"[bold]{loc['batch_points_per_s']:,.0f} points/s[/] batched; "
            f"{loc['single_points_per_s']:,.0f} points/s one at a time"
        )
        report["locate"] = loc
    if args.only in (None, "iot"):
        with console.status("MQTT intake…"):
            iot = bench_iot()
        table = Table(title="MQTT intake: 20,000 readings, publish → stored → alarm rules run")
        for col in ("QoS", "bare subscriber msg/s", "Pingan readings/s", "Pingan vs bare"):
            table.add_column(col)
        for qos in (0, 1):
            bare, ours = iot[f"broker_qos{qos}"], iot[f"pingan_qos{qos}"]["rate"]
            table.add_row(str(qos), f"{bare:,.0f}", f"{ours:,.0f}", f"{ours / bare:.0%}")
        console.print(table)
        lat = iot["alarm_latency"]
        console.print(
            f"Alarm → case visible via API: p50 {lat['p50_ms']:.0f} ms, p99 {lat['p99_ms']:.0f} ms "
            f"over {lat['alarms']:.0f} alarms"
        )
        report["iot"] = iot
    if args.only in (None, "kpis"):
        from bench.kpis import measure as measure_kpis

        table = Table(title="Dashboard KPIs, 100,000 cases in the 30-day window (median ms)")
        for col in ("database", "GET /stats/kpis", "counted in SQL", "facts in Python"):
            table.add_column(col)
        kpi_figures = {}
        for kind in ("sqlite", "postgres"):
            with console.status(f"KPIs over 100,000 cases on {kind}…"):
                f = kpi_figures[kind] = measure_kpis(kind)
            table.add_row(
                kind, f"{f['http_ms']:,.0f}", f"{f['sql_ms']:,.0f}", f"{f['python_ms']:,.0f}"
            )
        console.print(table)
        report["kpis"] = kpi_figures
    if args.only in (None, "web"):
        from bench.web_load import measure

        with console.status("dashboard with 100,000 cases in headless Chromium…"):
            web = measure()
        for run, f in web.items():
            console.print(
                f"Dashboard with {f['markers']:,} cases ({run}): "
                f"first map render {f['map_ms']:,} ms, "
                f"interactive {f['interactive_ms']:,} ms"
            )
        report["web"] = web
    if args.only in (None, "calls"):
        from bench.calls import measure as measure_calls

        with console.status("video calls between two headless Chromium pages…"):
            calls = measure_calls()
        console.print(
            f"Video call click → first remote frame over {calls['calls']} calls: "
            f"[bold]p50 {calls['click_to_frame_p50_ms']:,.0f} ms[/], "
            f"max {calls['click_to_frame_max_ms']:,.0f} ms "
            f"(answer → first frame p50 {calls['answer_to_frame_p50_ms']:,.0f} ms; "
            f"{calls['failed']} failed)"
        )
        report["calls"] = calls
    out = Path("bench/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(report, indent=2))
    console.print(f"[dim]{report['machine']} · {report['date']} · bench/results/latest.json[/]")


if __name__ == "__main__":
    main()
