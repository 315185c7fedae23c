"""Kill the MQTT ingestor with SIGKILL mid-stream: after a restart every message the broker kept
is stored exactly once, and every anomalous reading counts in exactly one alarm."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from pingan.adapters.db.engine import make_engine
from pingan.adapters.db.iot_tables import alarms, devices, readings
from tests.conftest import require_service
from tests.e2e.conftest import BIN, seeded_env

MESSAGES = 1000  # within Mosquitto's default per-session queue (max_queued_messages 1000)
EVERY_NTH_ANOMALY = 25


def _ingestor(env: dict[str, str], client_id: str) -> subprocess.Popen[str]:
    """Start `pingan ingest` and return once it has subscribed (its session exists from then on)."""
    proc = subprocess.Popen(
        [BIN / "pingan", "ingest", "--client-id", client_id],
        env={**env, "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "subscribed" in line, line
    return proc


def _count(url: str, stmt: object) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())  # type: ignore[call-overload]
    finally:
        engine.dispose()


def test_sigkill_of_the_ingestor_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    require_service("Mosquitto", 1883, "PINGAN_REQUIRE_MQTT")
    env = seeded_env(tmp_path)
    url = env["PINGAN_DATABASE_URL"]
    engine = make_engine(url)
    with engine.connect() as conn:
        gas = [r.id for r in conn.execute(select(devices.c.id).where(devices.c.kind == "gas"))]
    engine.dispose()
    assert gas
    client_id = f"pingan-crash-{uuid.uuid4().hex[:8]}"
    ingestor = _ingestor(env, client_id)

    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    pub.connect("127.0.0.1", 1883)
    pub.loop_start()
    start = datetime.now(UTC) - timedelta(hours=1)
    anomalies = 0
    for n in range(MESSAGES):
        device = gas[n % len(gas)]
        anomalous = n % EVERY_NTH_ANOMALY == 0
        anomalies += anomalous
        body = {
            "ts": (start + timedelta(seconds=n)).isoformat(),
            "metrics": {"lel_pct": 33.0 if anomalous else 2.0},
        }
        pub.publish(f"pingan/330400/devices/{device}/telemetry", json.dumps(body), qos=1)
        if n == MESSAGES // 3:
            ingestor.send_signal(signal.SIGKILL)  # mid-stream, mid-batch
            ingestor.wait()
    pub.loop_stop()
    pub.disconnect()

    ingestor = _ingestor(env, client_id)  # the same session: the broker hands over what it kept
    try:
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline
            and _count(url, select(func.count()).select_from(readings)) < MESSAGES
        ):
            time.sleep(0.5)
        time.sleep(1.0)  # let any redelivery land, to prove it has no effect
        assert _count(url, select(func.count()).select_from(readings)) == MESSAGES
        assert _count(url, select(func.coalesce(func.sum(alarms.c.count), 0))) == anomalies
    finally:
        ingestor.terminate()
        ingestor.wait(timeout=10)
