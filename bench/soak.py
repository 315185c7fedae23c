"""Load soak on PostgreSQL at a constant arrival rate (an open model, not a closed loop).

A city of 5 million at ten times its normal rate: 10 case creates/s, 50 transitions/s, 200 reads/s
and 250 IoT readings/s over MQTT, with a 60 s burst of 2,500 readings/s, for `SOAK_MINUTES`
(default 30), every rate multiplied by `SOAK_SCALE` (default 1). Each request is sent at its
scheduled instant whatever the latency of the others; its latency counts from that instant, so a
slow server cannot hide behind a slow client. A send that could not start within `LATE_S` of its
instant is counted as *not attempted in time* instead of being sent late.

Reports per class: attempted vs achieved rate, p50/p95/p99 latency, errors by status; the server's
RSS every 10 s and its slope over the last two thirds; outbox lag (age of the oldest undelivered
event) and IoT ingestion lag (now − newest stored reading). Writes `var/soak/soak.json` and
`var/soak/soak.png`. `SOAK_LAYOUT=split` (default) runs the MQTT ingestor as a process of its own
beside the API; `one` runs it inside the API process. `SOAK_API_PROCESSES=N` runs N API processes
on the NATS bus, with the relay and the SLA clock as workers of their own.

    SOAK_MINUTES=3 SOAK_SCALE=0.5 .venv/bin/python -m bench.soak
"""

from __future__ import annotations

import asyncio
import itertools
import json
import multiprocessing
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OUT = ROOT / "var" / "soak"
LATE_S = 1.0  # a send this late is not attempted: it is counted, never sent
MAX_IN_FLIGHT = 2000  # the client's own ceiling; sends beyond it are counted as not attempted
SAMPLE_S = 10.0
RATES = {"create": 10.0, "transition": 50.0, "read": 200.0, "iot": 250.0}
BURST_RATE = 2500.0
BURST_S = 60.0
DEVICES = 1000  # the server lets each device 5 readings/s: 2,500/s needs 500 at least
PASSWORD = "Pingan@2019"
NATS_URL = "nats://127.0.0.1:4222"
OPERATOR = "op.330400"
CITIZEN = "citizen01"
console = Console(width=150)


@dataclass
class ClassStats:
    scheduled: int = 0
    late: int = 0  # not attempted in time
    done: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    timeline: list[tuple[float, float]] = field(default_factory=list)  # (t since start, latency)

    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if s.startswith("2") or s == "published")

    def summary(self, seconds: float) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else None

        errors = {
            s: n for s, n in self.statuses.items() if not (s.startswith("2") or s == "published")
        }
        return {
            "scheduled": self.scheduled,
            "scheduled_per_s": round(self.scheduled / seconds, 2),
            "not_attempted_in_time": self.late,
            "attempted": self.scheduled - self.late,
            "completed": self.done,
            "unfinished_at_end": self.scheduled - self.late - self.done,
            "ok": self.ok(),
            "achieved_ok_per_s": round(self.ok() / seconds, 2),
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "errors_by_status": errors,
            "error_rate": round(sum(errors.values()) / max(1, self.done), 5),
        }


@dataclass
class Plan:
    minutes: float
    scale: float
    layout: str = "split"
    api_processes: int = 1

    @property
    def seconds(self) -> float:
        return self.minutes * 60

    def burst_window(self) -> tuple[float, float]:
        """60 s at a third of the run (shorter runs: a quarter of the run)."""
        length = min(BURST_S, self.seconds / 4)
        start = self.seconds / 3
        return start, start + length


# --- the world ---------------------------------------------------------------------------------


def start_broker() -> tuple[subprocess.Popen[bytes], int]:
    from bench.intake import _port
    from bench.iot import BROKER_CONF

    port = _port()
    conf = Path(tempfile.mkdtemp(prefix="pingan-soak-mqtt-")) / "mosquitto.conf"
    conf.write_text(BROKER_CONF.format(port=port))
    proc = subprocess.Popen(
        ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(0.5)
    return proc, port


def start_server(
    url: str, media: Path, mqtt_port: int, plan: Plan
) -> tuple[list[subprocess.Popen[bytes]], list[str], str | None]:
    """`one`: the API, relay, SLA clock and MQTT ingestor in one process. `split`: the ingestor
    in a process of its own (`pingan ingest --no-relay`), as a deployment with a heavy IoT load
    runs it. With `api_processes` > 1 the API processes run without workers, beside one
    `pingan worker relay` and one `pingan worker sla`, all on the NATS bus, as several stateless
    API processes behind a load balancer do. The first API process comes first in the list, the
    ingestor second; returns the processes, the API base URLs and the bus stream made for them."""
    from bench.intake import _port, _wait

    env = {**os.environ, "PINGAN_DATABASE_URL": url, "PINGAN_MEDIA_DIR": str(media)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PINGAN_MQTT_URL", None)
    broker = f"mqtt://127.0.0.1:{mqtt_port}"
    client_id = f"soak-{uuid.uuid4().hex[:6]}"
    pingan = str(BIN / "pingan")
    several = plan.api_processes > 1
    stream = f"SOAK{uuid.uuid4().hex[:8].upper()}" if several else None
    if plan.layout == "one":
        env |= {"PINGAN_MQTT_URL": broker, "PINGAN_MQTT_CLIENT_ID": client_id}
    if stream is not None:
        env |= {
            "PINGAN_BUS_URL": NATS_URL,
            "PINGAN_BUS_STREAM": stream,
            "PINGAN_BUS_SUBJECTS": f"{stream.lower()}.events",
        }
    procs: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []

    def launch(name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        log = (OUT / f"{name}.log").open("wb")
        procs.append(subprocess.Popen([pingan, *cmd], env=env, stdout=log, stderr=log))
        return procs[-1]

    def serve() -> None:
        port = _port()
        extra = ["--no-workers"] if several else []
        proc = launch(f"api{len(bases)}", ["serve", "--port", str(port), *extra])
        bases.append(f"http://127.0.0.1:{port}")
        _wait(bases[-1], proc)

    serve()
    if plan.layout == "split":
        launch("ingest", ["ingest", "--mqtt-url", broker, "--client-id", client_id, "--no-relay"])
        _wait_for_line(OUT / "ingest.log", b"subscribed", procs[-1])
    for _ in range(plan.api_processes - 1):
        serve()
    if several:
        for kind in ("relay", "sla"):
            _wait_for_line(OUT / f"{kind}.log", b"ready", launch(kind, ["worker", kind]))
    return procs, bases, stream


def _drop_stream(stream: str) -> None:
    """The soak's own JetStream stream, removed with its events once the run is over."""
    from pingan.adapters.bus.nats import JetStreamBus

    bus = JetStreamBus(NATS_URL, stream=stream, subject_prefix=f"{stream.lower()}.events")
    bus.delete_stream()
    bus.close()


def _wait_for_line(log: Path, line: bytes, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while line not in log.read_bytes():
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"{proc.args} did not start; see {log}")
        time.sleep(0.2)


# --- the open-model client ---------------------------------------------------------------------


class Soak:
    def __init__(
        self, plan: Plan, bases: list[str], tokens: dict[str, str], grids: list[Any]
    ) -> None:
        self.plan = plan
        self.bases = itertools.cycle(bases)  # round robin, as a load balancer spreads them
        self.tokens = tokens
        self.grids = grids
        self.stats: dict[str, ClassStats] = defaultdict(ClassStats)
        self.ready: deque[dict[str, Any]] = deque()  # cases free for their next transition
        self.known: list[int] = []
        self.in_flight = 0
        self.closed = False
        self.t0 = 0.0
        self.rng = random.Random(7)

    def url(self, path: str) -> str:
        return next(self.bases) + path

    def header(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    async def run(self, http: aiohttp.ClientSession, until: float) -> None:
        self.t0 = time.monotonic()
        s = self.plan.scale
        await asyncio.gather(
            self.schedule(http, "create", RATES["create"] * s, until),
            self.schedule(http, "transition", RATES["transition"] * s, until),
            self.schedule(http, "read", RATES["read"] * s, until),
        )
        while self.in_flight and time.monotonic() - self.t0 < until + 30:
            await asyncio.sleep(0.1)
        self.closed = True  # what is still in flight is unfinished, not an error of the server

    async def schedule(
        self, http: aiohttp.ClientSession, kind: str, rate: float, until: float
    ) -> None:
        """Fire one request every 1/rate s, each on its own instant; never wait for answers."""
        if rate <= 0:
            return
        stats = self.stats[kind]
        k = 0
        while True:
            due = k / rate
            if due >= until:
                return
            k += 1
            delay = self.t0 + due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            stats.scheduled += 1
            if time.monotonic() - (self.t0 + due) > LATE_S or self.in_flight >= MAX_IN_FLIGHT:
                stats.late += 1
                continue
            self.in_flight += 1
            asyncio.get_running_loop().create_task(self.send(http, kind, self.t0 + due))

    async def send(self, http: aiohttp.ClientSession, kind: str, instant: float) -> None:
        stats = self.stats[kind]
        try:
            status = await getattr(self, kind)(http)
        except TimeoutError:
            status = "timeout"
        except aiohttp.ClientError as e:
            status = type(e).__name__
        finally:
            self.in_flight -= 1
        latency = (time.monotonic() - instant) * 1000
        if self.closed:
            return
        if status == "no_case_ready":  # every case was busy: nothing could be sent
            stats.late += 1
            return
        stats.done += 1
        stats.statuses[str(status)] += 1
        if str(status).startswith("2"):
            stats.latencies_ms.append(latency)
            stats.timeline.append((instant - self.t0, latency))

    async def create(self, http: aiohttp.ClientSession) -> int | str:
        key = f"soak-{uuid.uuid4().hex}"
        lng, lat = self.rng.choice(self.grids)
        body = {"category_code": "E0102", "title": key, "lng": lng, "lat": lat}
        headers = {**self.header(CITIZEN), "Idempotency-Key": key}
        async with http.post(self.url("/api/v1/cases"), json=body, headers=headers) as r:
            if r.status == 201:
                case = await r.json()
                self.known.append(case["id"])
                self.ready.append(case)
            return r.status

    async def transition(self, http: aiohttp.ClientSession) -> int | str:
        if not self.ready:
            return "no_case_ready"
        case = self.ready.popleft()
        state = case["state"]
        if state == "reported":
            action, user, body = "file", OPERATOR, {}
        elif state == "filed":
            action, user, body = "dispatch", OPERATOR, {}
        elif state == "dispatched":
            action, user, body = "accept", f"h.{case['department_id']}", {}
        else:  # accepted: back to the centre, and round the loop again
            action, user, body = "return", f"h.{case['department_id']}", {"reason": "轮转 / rotate"}
        headers = {**self.header(user), "If-Match": f'"{case["version"]}"'}
        async with http.post(
            self.url(f"/api/v1/cases/{case['id']}/actions/{action}"), json=body, headers=headers
        ) as r:
            status = r.status
            moved = await r.json() if status == 200 else None
        if moved is not None:
            self.ready.append(moved)
        elif status in (409, 412):  # learn the case's present state, use it again later
            async with http.get(
                self.url(f"/api/v1/cases/{case['id']}"), headers=self.header(OPERATOR)
            ) as fresh:
                self.ready.append(await fresh.json() if fresh.status == 200 else case)
        else:
            self.ready.append(case)
        return status

    async def read(self, http: aiohttp.ClientSession) -> int | str:
        if self.known and self.rng.random() < 0.7:
            url = f"/api/v1/cases/{self.rng.choice(self.known)}"
        else:
            url = "/api/v1/cases?limit=20"
        async with http.get(self.url(url), headers=self.header(OPERATOR)) as r:
            await r.read()
            return r.status


class IotPublisher(multiprocessing.Process):
    """Readings over MQTT at the planned rate (and the burst), in 10 ms slices, from a process of
    its own so that publishing does not compete with the HTTP client for one interpreter."""

    def __init__(self, plan: Plan, port: int, devices: list[str]) -> None:
        super().__init__(name="soak-iot", daemon=True)
        self.plan = plan
        self.port = port
        self.devices = devices
        self.stats = ClassStats()
        self.t0 = 0.0
        self._result: multiprocessing.Queue[ClassStats] = multiprocessing.Queue()

    def collect(self, timeout: float) -> None:
        """The publisher's counts, once it has finished."""
        self.stats = self._result.get(timeout=timeout)
        self.join(timeout=10)

    def rate_at(self, t: float) -> float:
        start, end = self.plan.burst_window()
        return (BURST_RATE if start <= t < end else RATES["iot"]) * self.plan.scale

    def run(self) -> None:
        try:
            self._publish()
        finally:  # the parent waits for these counts: send them even when publishing failed
            self._result.put(self.stats)

    def _publish(self) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"soak-pub-{uuid.uuid4().hex[:6]}"
        )
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.connect("127.0.0.1", self.port)
        client.loop_start()
        owed = 0.0
        n = 0
        last = time.monotonic()
        while True:
            now = time.monotonic()
            t = now - self.t0
            if t >= self.plan.seconds:
                break
            owed += (now - last) * self.rate_at(t)
            last = now
            due = int(owed)
            if due > self.rate_at(t) * LATE_S:  # more than a second behind: drop the excess
                self.stats.late += due - int(self.rate_at(t) * LATE_S)
                self.stats.scheduled += due - int(self.rate_at(t) * LATE_S)
                owed -= due - int(self.rate_at(t) * LATE_S)
                due = int(owed)
            stamp = datetime.now(UTC)
            for _ in range(due):
                device = self.devices[n % len(self.devices)]
                n += 1
                body = json.dumps(
                    {"ts": stamp.isoformat(), "metrics": {"lel_pct": 2.0 + (n % 7) / 10}}
                )
                info = client.publish(f"pingan/330400/devices/{device}/telemetry", body, qos=1)
                self.stats.scheduled += 1
                self.stats.done += 1
                self.stats.statuses["published" if info.rc == 0 else f"rc{info.rc}"] += 1
            owed -= due
            time.sleep(0.01)
        client.loop_stop()
        client.disconnect()


# --- sampling ----------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Sampler(threading.Thread):
    """Every 10 s: server RSS, outbox lag and backlog, IoT ingestion lag and readings stored."""

    def __init__(self, url: str, pids: list[int], t0: float) -> None:
        super().__init__(name="soak-sampler", daemon=True)
        self.url = url
        self.pids = pids  # the API first, then the ingestor when it runs apart
        self.t0 = t0
        self.samples: list[dict[str, Any]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        from sqlalchemy import text

        from pingan.adapters.db.engine import make_engine

        engine = make_engine(self.url, pool_size=1, max_overflow=0)
        while not self.stop.wait(0 if not self.samples else SAMPLE_S):
            now = datetime.now(UTC)
            with engine.connect() as conn:
                oldest, backlog = conn.execute(
                    text("SELECT min(occurred_at), count(*) FROM outbox WHERE published_at IS NULL")
                ).one()
                newest, stored = conn.execute(text("SELECT max(at), count(*) FROM readings")).one()
            self.samples.append(
                {
                    "t_s": round(time.monotonic() - self.t0, 1),
                    "rss_mb": round(rss_mb(self.pids[0]), 1),
                    "ingest_rss_mb": round(rss_mb(self.pids[1]), 1) if len(self.pids) > 1 else None,
                    "outbox_backlog": int(backlog),
                    "outbox_lag_s": round((now - _utc(oldest)).total_seconds(), 2)
                    if oldest
                    else 0.0,
                    "readings_stored": int(stored),
                    "iot_lag_s": round((now - _utc(newest)).total_seconds(), 2) if newest else None,
                }
            )
        engine.dispose()


def _utc(value: Any) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def slope_mb_per_min(
    samples: list[dict[str, Any]], seconds: float, key: str = "rss_mb"
) -> float | None:
    """Least-squares slope of a process's RSS over the last two thirds of the run."""
    tail = [s for s in samples if s["t_s"] >= seconds / 3 and s.get(key) is not None]
    if len(tail) < 3:
        return None
    xs = [s["t_s"] / 60 for s in tail]
    ys = [s[key] for s in tail]
    return round(statistics.linear_regression(xs, ys).slope, 3)


# --- the run -----------------------------------------------------------------------------------


def sign_in(base: str, users: list[str]) -> dict[str, str]:
    out = {}
    for user in users:
        r = httpx.post(f"{base}/api/v1/auth/token", data={"username": user, "password": PASSWORD})
        r.raise_for_status()
        out[user] = r.json()["access_token"]
    return out


async def drive(soak: Soak, plan: Plan) -> None:
    connector = aiohttp.TCPConnector(limit=256)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        # Warm up: cases for the transitions to work on (not measured).
        for _ in range(100):
            await soak.create(http)
        soak.stats.clear()
        await soak.run(http, plan.seconds)


def main() -> int:
    plan = Plan(
        float(os.environ.get("SOAK_MINUTES", "30")),
        float(os.environ.get("SOAK_SCALE", "1")),
        os.environ.get("SOAK_LAYOUT", "split"),
        int(os.environ.get("SOAK_API_PROCESSES", "1")),
    )
    if plan.layout not in ("one", "split"):
        raise SystemExit("SOAK_LAYOUT is one or split")
    OUT.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    from tests.conftest import PG_ADMIN_URL, fresh_database_url
    from tests.reliability.crash_battery import prepare_database

    url, drop = fresh_database_url("postgres", str(OUT), PG_ADMIN_URL)
    media = Path(tempfile.mkdtemp(prefix="pingan-soak-media-"))
    broker, mqtt_port = start_broker()
    servers: list[subprocess.Popen[bytes]] = []
    stream: str | None = None
    try:
        console.print(
            f"soak: {plan.minutes} min at scale {plan.scale}, layout {plan.layout}, on {url}"
        )
        grids, devices, handlers = prepare_database(url, DEVICES)
        servers, bases, stream = start_server(url, media, mqtt_port, plan)
        tokens = sign_in(bases[0], [OPERATOR, CITIZEN, *handlers])
        soak = Soak(plan, bases, tokens, grids)
        iot = IotPublisher(plan, mqtt_port, devices)
        t0 = time.monotonic()
        sampler = Sampler(url, [p.pid for p in servers], t0)
        sampler.start()
        iot.t0 = t0
        iot.start()
        try:
            import uvloop

            uvloop.run(drive(soak, plan))
        except ImportError:
            asyncio.run(drive(soak, plan))
        iot.collect(timeout=plan.seconds + 60)
        time.sleep(SAMPLE_S)  # one sample after the load: how far behind the server is
        sampler.stop.set()
        sampler.join(timeout=30)
        result = report(plan, soak, iot, sampler)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        broker.terminate()
        broker.wait(timeout=5)
        drop()  # type: ignore[operator]
        if stream is not None:
            _drop_stream(stream)
    (OUT / "soak.json").write_text(json.dumps(result, indent=1))
    chart(result, soak, OUT / "soak.png")
    console.print(f"wrote {OUT / 'soak.json'} and {OUT / 'soak.png'}")
    return 0


def report(plan: Plan, soak: Soak, iot: IotPublisher, sampler: Sampler) -> dict[str, Any]:
    seconds = plan.seconds
    classes = {k: soak.stats[k].summary(seconds) for k in ("create", "transition", "read")}
    samples = sampler.samples
    stored = samples[-1]["readings_stored"] if samples else 0
    published = iot.stats.statuses.get("published", 0)
    iot_summary = iot.stats.summary(seconds)
    iot_summary.update({"stored": stored, "stored_share": round(stored / max(1, published), 4)})
    classes["iot"] = iot_summary
    burst = plan.burst_window()
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} vCPU, Python {platform.python_version()}; "
            "load client, PostgreSQL, Mosquitto and server on the same machine"
        ),
        "minutes": plan.minutes,
        "scale": plan.scale,
        "layout": plan.layout,
        "api_processes": plan.api_processes,
        "planned_rates_per_s": {k: v * plan.scale for k, v in RATES.items()},
        "burst": {"from_s": burst[0], "to_s": burst[1], "rate_per_s": BURST_RATE * plan.scale},
        "classes": classes,
        "samples": samples,
        "rss_slope_mb_per_min_last_two_thirds": slope_mb_per_min(samples, seconds),
        "ingest_rss_slope_mb_per_min_last_two_thirds": slope_mb_per_min(
            samples, seconds, "ingest_rss_mb"
        ),
        "outbox_lag_max_s": max((s["outbox_lag_s"] for s in samples), default=None),
        # while readings are being published (afterwards "now − newest" only measures idleness)
        "iot_lag_max_s": max(
            (s["iot_lag_s"] or 0 for s in samples if s["t_s"] <= seconds), default=None
        ),
        "readings_published": published,
    }
    table = Table(
        title=f"Soak: {plan.minutes:g} min, scale {plan.scale:g}, {plan.layout}, "
        f"{plan.api_processes} API process(es), PostgreSQL"
    )
    for col in (
        "class",
        "planned/s",
        "sent/s",
        "ok/s",
        "not in time",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
    ):
        table.add_column(col, justify="right")
    for name, c in classes.items():
        table.add_row(
            name,
            f"{c['scheduled_per_s']:.1f}",
            f"{(c['attempted']) / seconds:.1f}",
            f"{c['achieved_ok_per_s']:.1f}",
            str(c["not_attempted_in_time"]),
            str(c["p50_ms"]),
            str(c["p95_ms"]),
            str(c["p99_ms"]),
            ", ".join(f"{k}×{v}" for k, v in c["errors_by_status"].items()) or "0",
        )
    console.print(table)
    console.print(
        f"API RSS {samples[0]['rss_mb'] if samples else '?'} → "
        f"{samples[-1]['rss_mb'] if samples else '?'} MB, "
        f"slope over the last 2/3: {result['rss_slope_mb_per_min_last_two_thirds']} MB/min; "
        f"outbox lag max {result['outbox_lag_max_s']} s; IoT lag max {result['iot_lag_max_s']} s; "
        f"readings stored {stored}/{published}"
    )
    return result


def chart(result: dict[str, Any], soak: Soak, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b, c) = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    for name in ("create", "transition", "read"):
        points = soak.stats[name].timeline
        if not points:
            continue
        # p95 per 10 s window
        windows: dict[int, list[float]] = defaultdict(list)
        for t, ms in points:
            windows[int(t // SAMPLE_S)].append(ms)
        xs = sorted(windows)
        ys = [sorted(windows[x])[int(0.95 * (len(windows[x]) - 1))] for x in xs]
        a.plot([x * SAMPLE_S for x in xs], ys, label=f"{name} p95")
    a.set_ylabel("latency ms (p95 per 10 s)")
    a.set_yscale("log")
    a.legend()
    samples = result["samples"]
    ts = [s["t_s"] for s in samples]
    b.plot(ts, [s["rss_mb"] for s in samples], label="API RSS MB")
    if samples and samples[0].get("ingest_rss_mb") is not None:
        b.plot(ts, [s["ingest_rss_mb"] for s in samples], label="ingestor RSS MB")
    b.set_ylabel("MB")
    b.legend()
    c.plot(ts, [s["outbox_lag_s"] for s in samples], label="outbox lag s")
    publishing = [s for s in samples if s["t_s"] <= result["minutes"] * 60]
    c.plot(
        [s["t_s"] for s in publishing], [s["iot_lag_s"] or 0 for s in publishing], label="IoT lag s"
    )
    c.set_ylabel("s")
    c.set_xlabel("seconds since start")
    c.legend()
    burst = result["burst"]
    for ax in (a, b, c):
        ax.axvspan(burst["from_s"], burst["to_s"], color="orange", alpha=0.15)
    fig.suptitle(
        f"Pingan soak — {result['minutes']:g} min, scale {result['scale']:g}, "
        f"{result['layout']} (orange: IoT burst)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=90)


if __name__ == "__main__":
    raise SystemExit(main())
