"""MQTT intake end to end: readings per second stored (publish → stored → rules run) at QoS 0 and
QoS 1, next to the rate at which the broker alone delivers to a bare subscriber; and alarm latency
from publish to the case being visible over the HTTP API."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.intake import _serve
from pingan.adapters.mqtt import MqttIngestor
from pingan.api.runtime import Runtime
from pingan.config import Settings
from pingan.domain.access import SYSTEM_ACTOR
from pingan.services.devices import DeviceInput, register
from pingan.services.telemetry import FloodGate

BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
PORT = 1883
BROKER_CONF = """\
listener {port} 127.0.0.1
allow_anonymous true
persistence false
set_tcp_nodelay true
max_inflight_messages 1000
max_queued_messages 200000
"""


def start_broker() -> subprocess.Popen[bytes]:
    """A Mosquitto with the settings docs/iot.md recommends for ingestion (see there why)."""
    global PORT
    from bench.intake import _port

    PORT = _port()
    conf = Path(tempfile.mkdtemp(prefix="pingan-mosquitto-")) / "mosquitto.conf"
    conf.write_text(BROKER_CONF.format(port=PORT))
    proc = subprocess.Popen(
        ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(0.5)
    return proc


def _client(name: str) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{name}-{uuid.uuid4().hex[:6]}")
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect(HOST, PORT)
    c.loop_start()
    return c


def _publish_all(
    n: int, qos: int, devices: list[str], start: datetime, prefix: str = "pingan"
) -> float:
    pub = _client("bench-pub")
    t0 = time.perf_counter()
    last = None
    for i in range(n):
        device = devices[i % len(devices)]
        body = {"ts": (start + timedelta(milliseconds=i)).isoformat(), "metrics": {"lel_pct": 2.0}}
        last = pub.publish(f"{prefix}/330400/devices/{device}/telemetry", json.dumps(body), qos=qos)
    if last is not None:
        last.wait_for_publish(60)
    elapsed = time.perf_counter() - t0
    pub.loop_stop()
    pub.disconnect()
    return elapsed


def raw_broker_rate(n: int, qos: int) -> float:
    """Messages per second a bare paho subscriber receives from the broker."""
    topic = f"bench-{uuid.uuid4().hex[:6]}"
    got = 0
    done = threading.Event()

    def on_message(*_: Any) -> None:
        nonlocal got
        got += 1
        if got >= n:
            done.set()

    sub = _client("bench-sub")
    sub.on_message = on_message
    sub.subscribe(f"{topic}/+/devices/+/telemetry", qos=qos)
    time.sleep(0.5)
    t0 = time.perf_counter()
    _publish_all(n, qos, ["d1", "d2", "d3"], datetime.now(UTC), prefix=topic)
    done.wait(120)
    rate = got / (time.perf_counter() - t0)
    sub.loop_stop()
    sub.disconnect()
    return rate


def _world(devices: int) -> tuple[Runtime, list[str], str, dict[str, str]]:
    tmp = Path(tempfile.mkdtemp(prefix="pingan-bench-iot-"))
    env = {
        **os.environ,
        "PINGAN_DATABASE_URL": f"sqlite:///{tmp}/pingan.db",
        "PINGAN_MEDIA_DIR": str(tmp / "m"),
    }
    seeded = subprocess.run(
        [BIN / "pingan", "demo", "--small", "--no-serve", "--weeks", "1", "--per-day", "2"],
        env=env,
        capture_output=True,
        text=True,
    )
    if seeded.returncode:
        raise RuntimeError(seeded.stdout + seeded.stderr)
    rt = Runtime.build(Settings(database_url=env["PINGAN_DATABASE_URL"], run_workers=False))
    with rt.uows(SYSTEM_ACTOR, readonly=True) as uow:
        grids = [
            r
            for r in uow.units.records("", None, with_geometry=False)
            if r.unit.level.value == "grid"
        ]
    ids = [f"bench-gas-{i:05d}" for i in range(devices)]
    items = [
        DeviceInput(
            ids[i],
            "gas",
            ids[i],
            grids[i % len(grids)].center[0],
            grids[i % len(grids)].center[1],
            interval_s=60,
        )
        for i in range(devices)
    ]
    with rt.uows(SYSTEM_ACTOR) as uow:
        register(uow, SYSTEM_ACTOR, items, rt.env)
    return rt, ids, env["PINGAN_DATABASE_URL"], env


def pingan_rate(rt: Runtime, devices: list[str], n: int, qos: int) -> dict[str, float]:
    """Publish n readings and time until the last one is stored (rules run in the same batch)."""
    ing = MqttIngestor(
        rt.uows,
        rt.env,
        f"mqtt://{HOST}:{PORT}",
        client_id=f"bench-{uuid.uuid4().hex[:6]}",
        gate=FloodGate(rate=1e9, burst=1e9),
        batch_max=2000,
        batch_wait_s=0.05,
    )
    ing.start()
    ing.connected.wait(10)
    time.sleep(0.5)
    start_stored = ing.stats.stored
    t0 = time.perf_counter()
    _publish_all(n, qos, devices, datetime.now(UTC) - timedelta(hours=1, minutes=qos * 5))
    deadline = time.monotonic() + 300
    while (
        ing.stats.stored - start_stored + ing.stats.duplicates < n and time.monotonic() < deadline
    ):
        time.sleep(0.02)
    elapsed = time.perf_counter() - t0
    stored = ing.stats.stored - start_stored
    ing.stop()
    return {
        "messages": float(n),
        "stored": float(stored),
        "seconds": elapsed,
        "rate": stored / elapsed,
        "batches": float(ing.stats.batches),
    }


def alarm_latency(env: dict[str, str], devices: list[str], count: int = 40) -> dict[str, float]:
    """Publish anomalies one by one; time until each one's case appears in GET /api/v1/alarms."""
    server, base = _serve(
        [str(BIN / "pingan"), "serve"],
        {
            **env,
            "PINGAN_MQTT_URL": f"mqtt://{HOST}:{PORT}",
            "PINGAN_MQTT_CLIENT_ID": f"lat-{uuid.uuid4().hex[:6]}",
        },
    )
    try:
        token = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": "op.330400", "password": "Pingan@2019"}
        ).json()["access_token"]
        http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
        time.sleep(1.0)
        pub = _client("bench-lat")
        latencies = []
        for i in range(count):
            device = devices[i]  # one per grid in turn; a fresh device each time
            body = {"ts": datetime.now(UTC).isoformat(), "metrics": {"lel_pct": 40.0}}
            t0 = time.perf_counter()
            pub.publish(f"pingan/330400/devices/{device}/telemetry", json.dumps(body), qos=1)
            while time.perf_counter() - t0 < 10:
                alarms = http.get("/api/v1/alarms", params={"state": "cased", "limit": 200}).json()
                if any(
                    (a["device_id"] == device or device in a["devices"]) and a["case_id"]
                    for a in alarms
                ):
                    latencies.append(time.perf_counter() - t0)
                    break
            # the next anomaly is in another grid or after this alarm: move on regardless
        pub.loop_stop()
        latencies.sort()
        return {
            "alarms": float(len(latencies)),
            "p50_ms": statistics.median(latencies) * 1e3 if latencies else float("nan"),
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e3
            if latencies
            else float("nan"),
        }
    finally:
        server.terminate()
        server.wait()


def bench_iot(n: int = 20_000) -> dict[str, Any]:
    broker = start_broker()
    try:
        rt, devices, _url, env = _world(devices=400)
        out: dict[str, Any] = {"broker_port": PORT}
        for qos in (0, 1):
            out[f"broker_qos{qos}"] = raw_broker_rate(n, qos)
            out[f"pingan_qos{qos}"] = pingan_rate(rt, devices, n, qos)
        rt.engine.dispose()
        out["alarm_latency"] = alarm_latency(env, devices[200:260])
        return out
    finally:
        broker.terminate()
        broker.wait()
