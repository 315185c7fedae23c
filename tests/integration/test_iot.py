"""IoT intake against the real Mosquitto broker and both databases: readings stored, alarms raised
and folded, cases opened by rule, bad input counted, nothing lost or doubled across a restart."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from pingan.adapters.mqtt import MqttIngestor
from pingan.domain.access import SYSTEM_ACTOR
from pingan.services.devices import DeviceInput, register
from tests.conftest import require_service
from tests.integration.conftest import World


@pytest.fixture
def broker() -> str:
    require_service("Mosquitto", 1883, "PINGAN_REQUIRE_MQTT")
    return "mqtt://127.0.0.1:1883"


def _wait(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


class Devices:
    """A few devices of each kind registered in the world's first grids, with unique ids."""

    def __init__(self, world: World) -> None:
        self.world = world
        tag = uuid.uuid4().hex[:6]
        g0, g1 = world.grids()[0], world.grids()[1]
        self.gas_a = f"gas-{tag}-a"
        self.gas_b = f"gas-{tag}-b"  # same grid as gas_a
        self.gas_c = f"gas-{tag}-c"  # another grid
        self.camera = f"cam-{tag}"
        self.items = [
            DeviceInput(self.gas_a, "gas", "燃气探测器A", g0.lng, g0.lat, interval_s=60),
            DeviceInput(self.gas_b, "gas", "燃气探测器B", g0.lng + 1e-5, g0.lat, interval_s=60),
            DeviceInput(self.gas_c, "gas", "燃气探测器C", g1.lng, g1.lat, interval_s=60),
            DeviceInput(self.camera, "camera", "路口摄像头", g0.lng, g0.lat, interval_s=300),
        ]
        with world.rt.uows(SYSTEM_ACTOR) as uow:
            report = register(uow, SYSTEM_ACTOR, self.items, world.rt.env)
        assert not report.errors, report.errors

    def ts(self, seconds: float = 0.0) -> str:
        return (self.world.clock.now + timedelta(seconds=seconds)).isoformat()


@pytest.fixture
def devices(world: World) -> Devices:
    return Devices(world)


@pytest.fixture
def ingestor(world: World, broker: str) -> Iterator[MqttIngestor]:
    ing = MqttIngestor(
        world.rt.uows, world.rt.env, broker, client_id=f"pingan-test-{uuid.uuid4().hex[:8]}"
    )
    ing.start()
    assert ing.connected.wait(10)
    yield ing
    ing.stop()


def _publisher() -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    return client


def _publish(client: mqtt.Client, device: str, channel: str, payload: Any, qos: int = 1) -> None:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    client.publish(f"pingan/330400/devices/{device}/{channel}", body, qos=qos).wait_for_publish(5)


def _alarms(world: World, device: str) -> list[dict[str, Any]]:
    r = world.client("op.330400").get("/api/v1/alarms", params={"limit": 500})
    return [a for a in r.json() if a["device_id"] == device or device in a["devices"]]


def test_a_gas_leak_over_mqtt_becomes_one_case_and_repeats_fold_into_its_alarm(
    world: World, devices: Devices, ingestor: MqttIngestor
) -> None:
    pub = _publisher()
    try:
        _publish(pub, devices.gas_a, "telemetry", {"ts": devices.ts(), "metrics": {"lel_pct": 3.1}})
        _publish(
            pub, devices.gas_a, "telemetry", {"ts": devices.ts(1), "metrics": {"lel_pct": 35.0}}
        )
        _publish(
            pub, devices.gas_a, "telemetry", {"ts": devices.ts(2), "metrics": {"lel_pct": 41.0}}
        )
        _publish(
            pub, devices.gas_b, "telemetry", {"ts": devices.ts(3), "metrics": {"lel_pct": 28.0}}
        )
        _wait(lambda: ingestor.stats.stored >= 4)
    finally:
        pub.loop_stop()
    alarms = _alarms(world, devices.gas_a)
    assert len(alarms) == 1, alarms
    alarm = alarms[0]
    assert (
        alarm["kind"] == "gas.leak" and alarm["count"] == 3 and alarm["devices"] == [devices.gas_b]
    )
    assert alarm["state"] == "cased" and alarm["case_id"]
    case = world.client("op.330400").get(f"/api/v1/cases/{alarm['case_id']}").json()
    assert (
        case["channel"] == "iot"
        and case["category_code"] == "S0202"
        and case["urgency"] == "critical"
    )
    assert case["grid_code"] == world.grids()[0].unit.code


def test_a_clear_reading_closes_the_alarm(
    world: World, devices: Devices, ingestor: MqttIngestor
) -> None:
    pub = _publisher()
    try:
        _publish(
            pub, devices.gas_c, "telemetry", {"ts": devices.ts(), "metrics": {"lel_pct": 30.0}}
        )
        _publish(
            pub, devices.gas_c, "telemetry", {"ts": devices.ts(5), "metrics": {"lel_pct": 1.0}}
        )
        _wait(
            lambda: (
                bool(_alarms(world, devices.gas_c))
                and _alarms(world, devices.gas_c)[0]["state"] == "cleared"
            )
        )
    finally:
        pub.loop_stop()


def test_camera_events_that_need_an_operator_wait_for_confirmation(
    world: World, devices: Devices, ingestor: MqttIngestor
) -> None:
    pub = _publisher()
    try:
        _publish(
            pub,
            devices.camera,
            "events",
            {"ts": devices.ts(), "type": "camera.crowd", "confidence": 0.8},
        )
        _wait(lambda: bool(_alarms(world, devices.camera)))
    finally:
        pub.loop_stop()
    alarm = _alarms(world, devices.camera)[0]
    assert alarm["state"] == "open" and alarm["case_id"] is None
    operator = world.client(f"op.{world.town().unit.code}")
    confirmed = operator.post(f"/api/v1/alarms/{alarm['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["state"] == "cased" and confirmed.json()["case_id"]
    again = operator.post(f"/api/v1/alarms/{alarm['id']}/confirm")
    assert again.status_code == 409


def test_bad_messages_are_counted_with_their_reason_and_the_consumer_keeps_going(
    world: World, devices: Devices, ingestor: MqttIngestor
) -> None:
    pub = _publisher()
    before = ingestor.stats.rejected
    try:
        _publish(pub, devices.gas_a, "telemetry", b"\xff not json")
        _publish(
            pub, devices.gas_a, "telemetry", {"ts": devices.ts(), "metrics": {"lel_pct": "high"}}
        )
        _publish(
            pub, devices.gas_a, "telemetry", {"ts": devices.ts(86_400), "metrics": {"lel_pct": 1}}
        )
        _publish(
            pub, "no-such-device", "telemetry", {"ts": devices.ts(), "metrics": {"lel_pct": 1}}
        )
        _publish(pub, devices.gas_a, "telemetry", {"metrics": {"lel_pct": 1}})
        _publish(pub, devices.camera, "events", {"ts": devices.ts(), "type": "gas.leak"})
        for i in range(40):  # a flood from one device
            _publish(
                pub,
                devices.gas_b,
                "telemetry",
                {"ts": devices.ts(10 + i * 0.01), "metrics": {"lel_pct": 1}},
                qos=0,
            )
        _publish(
            pub, devices.gas_c, "telemetry", {"ts": devices.ts(99), "metrics": {"lel_pct": 2.0}}
        )
        _wait(lambda: ingestor.stats.rejected - before >= 6 + 10)
    finally:
        pub.loop_stop()
    reasons = ingestor.stats.rejected_by_reason
    for reason in (
        "iot.not_json",
        "iot.bad_metric_value",
        "iot.time_in_future",
        "iot.unknown_device",
        "iot.bad_timestamp",
        "iot.unknown_event",
        "iot.flood",
    ):
        assert reasons.get(reason, 0) >= 1, (reason, reasons)
    with world.rt.uows(SYSTEM_ACTOR, readonly=True) as uow:
        assert uow.rejections.counts().get("iot.unknown_device", 0) >= 1
        _wait(lambda: uow.readings.count(devices.gas_c) >= 1)


def test_the_same_reading_delivered_twice_is_stored_once(world: World, devices: Devices) -> None:
    client = world.client("op.330400")
    msg = {
        "device_id": devices.gas_a,
        "payload": {"ts": devices.ts(), "metrics": {"lel_pct": 50.0}},
    }
    first = client.post("/api/v1/iot/messages", json={"messages": [msg]}).json()
    again = client.post("/api/v1/iot/messages", json={"messages": [msg]}).json()
    assert first["stored"] == 1 and first["alarms_raised"] + first["alarms_folded"] == 1
    assert again["stored"] == 0 and again["duplicates"] == 1
    assert again["alarms_raised"] == again["alarms_folded"] == 0 and again["cases"] == []


def test_each_device_keeps_its_newest_report_and_never_goes_back(
    world: World, devices: Devices
) -> None:
    client = world.client("op.330400")

    def push(*messages: dict[str, Any]) -> None:
        r = client.post("/api/v1/iot/messages", json={"messages": list(messages)})
        assert r.status_code == 200 and not r.json().get("rejected"), r.text

    def reading(device: str, seconds: float, lel: float) -> dict[str, Any]:
        payload = {"ts": devices.ts(seconds), "metrics": {"lel_pct": lel}}
        return {"device_id": device, "payload": payload}

    push(
        reading(devices.gas_a, -10, 2.0),
        reading(devices.gas_a, -30, 3.0),  # older, later in the batch
        reading(devices.gas_c, -20, 4.0),
        {
            "device_id": devices.camera,
            "channel": "events",
            "payload": {"ts": devices.ts(-5), "type": "camera.crowd", "confidence": 0.2},
        },
    )
    push(reading(devices.gas_c, -60, 9.0))  # an older reading arriving late

    def last(device: str) -> tuple[Any, Any]:
        with world.rt.uows(SYSTEM_ACTOR, readonly=True) as uow:
            record = uow.devices.get(device)
        assert record is not None
        return record.device.last_seen_at, record.last_metrics

    def at(seconds: float) -> Any:
        return (world.clock.now + timedelta(seconds=seconds)).replace(microsecond=0)

    def seen(device: str) -> Any:
        return last(device)[0].astimezone(world.clock.now.tzinfo).replace(microsecond=0)

    assert seen(devices.gas_a) == at(-10) and last(devices.gas_a)[1] == {"lel_pct": 2.0}
    assert seen(devices.gas_c) == at(-20) and last(devices.gas_c)[1] == {"lel_pct": 4.0}
    assert seen(devices.camera) == at(-5) and last(devices.camera)[1] is None
    assert last(devices.gas_b) == (None, None)


def test_fleet_status_counts_online_devices_and_alarms(world: World, devices: Devices) -> None:
    client = world.client("op.330400")
    client.post(
        "/api/v1/iot/messages",
        json={
            "messages": [
                {
                    "device_id": devices.gas_c,
                    "payload": {"ts": devices.ts(), "metrics": {"lel_pct": 1.0}},
                }
            ]
        },
    )
    status = client.get("/api/v1/devices/status").json()
    assert status["devices"] >= 4 and status["online"] >= 1
    assert "gas" in status["by_kind"]
    other_town = world.client(f"op.{world.town(1).unit.code}").get("/api/v1/devices/status").json()
    assert other_town["devices"] < status["devices"]


def test_alarms_are_pushed_live_to_the_centre_with_their_case(
    world: World, devices: Devices
) -> None:
    world.rt.relay.drain()
    token = world.token("op.330400")
    fire = {"ts": devices.ts(30), "type": "camera.fire"}
    message = {"device_id": devices.camera, "channel": "events", "payload": fire}
    with world.client().websocket_connect(f"/api/v1/ws?token={token}") as ws:
        assert ws.receive_json()["type"] == "hello"
        client = world.client("op.330400")
        pushed = client.post("/api/v1/iot/messages", json={"messages": [message]}).json()
        assert pushed["alarms_raised"] == 1, pushed
        world.rt.relay.drain()
        for _ in range(10_000):  # bounded: a missing push fails instead of hanging
            msg = ws.receive_json()
            if msg["type"] == "alarm.raised" and msg["payload"]["device_id"] == devices.camera:
                break
    assert pushed["cases"] and msg["case_id"] == pushed["cases"][0] and msg["alarm_id"]


def test_the_ingestor_reconnects_after_a_broker_restart_and_loses_nothing(
    world: World, devices: Devices, tmp_path: Path
) -> None:
    """Our own persistent Mosquitto: stop it mid-stream and start it again."""
    require_service("Mosquitto", 1883, "PINGAN_REQUIRE_MQTT")  # the binary is the same
    port = _free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {tmp_path}/\nautosave_interval 1\n"
    )

    def broker() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL)
        _wait(lambda: _listening(port), timeout=10)
        return proc

    def send(numbers: range) -> None:
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="restart-pub")
        pub.connect("127.0.0.1", port)
        pub.loop_start()
        topic = f"pingan/330400/devices/{devices.gas_c}/telemetry"
        for i in numbers:
            body = {"ts": devices.ts(100 + i), "metrics": {"lel_pct": 1.0}}
            pub.publish(topic, json.dumps(body), qos=1).wait_for_publish(5)
        pub.loop_stop()
        pub.disconnect()

    server = broker()
    url = f"mqtt://127.0.0.1:{port}"
    ing = MqttIngestor(world.rt.uows, world.rt.env, url, client_id="restart-test")
    ing.start()
    try:
        assert ing.connected.wait(10)
        send(range(20))
        _wait(lambda: ing.stats.stored >= 20)
        server.terminate()  # the broker goes away; its state is on disk
        server.wait()
        _wait(lambda: not ing.connected.is_set())
        server = broker()
        assert ing.connected.wait(40), "the ingestor did not reconnect"
        send(range(20, 40))
        _wait(lambda: ing.stats.stored >= 40, timeout=20)
        assert ing.stats.reconnects >= 1
        with world.rt.uows(SYSTEM_ACTOR, readonly=True) as uow:
            assert uow.readings.count(devices.gas_c) >= 40
    finally:
        ing.stop()
        server.terminate()
        server.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def test_a_device_file_dry_run_reports_and_stores_nothing(world: World, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pingan.cli import app

    grid = world.grids()[0]
    device = f"csv-{uuid.uuid4().hex[:6]}"
    csv_file = tmp_path / "devices.csv"
    csv_file.write_text(f"id,kind,name,lng,lat\n{device},smoke,烟感,{grid.lng},{grid.lat}\n", "gbk")
    runner = CliRunner(env={"COLUMNS": "200"})
    dry = runner.invoke(app, ["import", "devices", str(csv_file), "--dry-run", "--url", world.url])
    assert dry.exit_code == 0 and "would store 1 new" in dry.output, dry.output
    with world.rt.uows(SYSTEM_ACTOR, readonly=True) as uow:
        assert uow.devices.get_many([device]) == {}
    stored = runner.invoke(app, ["import", "devices", str(csv_file), "--url", world.url])
    assert stored.exit_code == 0 and "stored 1 new" in stored.output, stored.output
    with world.rt.uows(SYSTEM_ACTOR, readonly=True) as uow:
        assert device in uow.devices.get_many([device])
