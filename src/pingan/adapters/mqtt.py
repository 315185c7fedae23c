"""IoT and camera-AI messages from an MQTT broker (Mosquitto locally), into the telemetry service.

Topics: `pingan/<unit code>/devices/<device id>/telemetry` and `.../events`, QoS 1.
Payloads (JSON):
    telemetry: {"ts": "2026-11-29T08:00:00+08:00" | 1795910400, "metrics": {"lel_pct": 3.2}}
    events:    {"ts": ..., "type": "camera.fire", "confidence": 0.93, "snapshot_url": "...",
                "clear": false}

Nothing is acknowledged to the broker before it is committed: the client runs with manual
acknowledgement, a worker thread stores messages in batches (one transaction each) and only then
sends the PUBACKs. The session is persistent (MQTT 5, clean start off, a long session expiry), so
messages that arrive while Pingan is down or restarting wait at the broker, and those delivered but
never acknowledged are delivered again on reconnect; the service ignores the ones it already stored.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from pingan.adapters.db.uow import UnitOfWorkFactory
from pingan.domain.access import SYSTEM_ACTOR
from pingan.services.ports import Env
from pingan.services.telemetry import FloodGate, Incoming, IngestReport, ingest

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600
RECEIVE_MAXIMUM = 1000


def topics(prefix: str) -> list[tuple[str, int]]:
    return [(f"{prefix}/+/devices/+/telemetry", 1), (f"{prefix}/+/devices/+/events", 1)]


def route(topic: str, prefix: str) -> tuple[str, str] | None:
    """(device id, channel) of a topic in our scheme, or None."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != prefix or parts[2] != "devices":
        return None
    if parts[4] not in ("telemetry", "events") or not parts[3]:
        return None
    return parts[3], parts[4]


@dataclass
class IngestStats:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    batches: int = 0
    cases: int = 0
    reconnects: int = 0
    last_error: str = ""
    rejected_by_reason: dict[str, int] = field(default_factory=dict)

    def add(self, report: IngestReport) -> None:
        self.batches += 1
        self.stored += report.stored
        self.duplicates += report.duplicates
        self.cases += len(report.cases)
        for reason, n in report.rejected.items():
            self.rejected += n
            self.rejected_by_reason[reason] = self.rejected_by_reason.get(reason, 0) + n


class MqttIngestor:
    def __init__(
        self,
        uows: UnitOfWorkFactory,
        env: Env,
        url: str = "mqtt://127.0.0.1:1883",
        *,
        client_id: str = "pingan-ingest",
        username: str | None = None,
        password: str | None = None,
        prefix: str = "pingan",
        batch_max: int = 500,
        batch_wait_s: float = 0.05,
        gate: FloodGate | None = None,
    ) -> None:
        self.uows = uows
        self.env = env
        self.prefix = prefix
        self.batch_max = batch_max
        self.batch_wait_s = batch_wait_s
        self.gate = gate or FloodGate()
        self.stats = IngestStats()
        self._queue: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self.connected = threading.Event()
        parsed = urlparse(url)
        self._host = parsed.hostname or "127.0.0.1"
        self._tls = parsed.scheme in ("mqtts", "ssl")
        self._port = parsed.port or (8883 if self._tls else 1883)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if self._tls:
            self.client.tls_set_context(ssl.create_default_context())
        if username:
            self.client.username_pw_set(username, password)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        self.client.connect_async(
            self._host, self._port, keepalive=30, clean_start=False, properties=props
        )
        self.client.loop_start()
        self._worker = threading.Thread(target=self._work, name="mqtt-ingest", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._worker:
            self._worker.join(timeout=10)
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, reason: object, _p: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("MQTT connect refused: %s", reason)
            return
        client.subscribe(topics(self.prefix))
        log.info("MQTT connected to %s:%s", self._host, self._port)

    def _on_subscribe(self, *_args: object) -> None:
        self.connected.set()  # ready only once the broker has confirmed the subscriptions

    def _on_disconnect(
        self, _c: mqtt.Client, _u: object, _f: object, reason: object, _p: object
    ) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            self.stats.reconnects += 1
            log.warning("MQTT disconnected (%s); reconnecting", reason)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        self.stats.received += 1
        self._queue.put(msg)

    def _work(self) -> None:
        while not self._stop.is_set():
            batch = self._collect()
            if not batch:
                continue
            incoming = []
            for msg in batch:
                routed = route(msg.topic, self.prefix)
                device_id, channel = routed if routed else ("", "telemetry")
                incoming.append(
                    Incoming(device_id, channel, msg.payload, msg.topic)  # type: ignore[arg-type]
                )
            while not self._stop.is_set():
                try:
                    with self.uows(SYSTEM_ACTOR) as uow:
                        report = ingest(uow, incoming, self.env, self.gate)
                    break
                except (
                    Exception
                ) as exc:  # the database is down: keep the batch, acknowledge nothing
                    self.stats.last_error = f"{type(exc).__name__}: {exc}"
                    log.exception("storing an MQTT batch failed; retrying")
                    time.sleep(1.0)
            else:
                return  # stopping: unacknowledged messages will be redelivered
            self.stats.add(report)
            for msg in batch:
                self.client.ack(msg.mid, msg.qos)

    def _collect(self) -> list[mqtt.MQTTMessage]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.batch_wait_s
        while len(batch) < self.batch_max:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=left))
            except queue.Empty:
                break
        return batch
