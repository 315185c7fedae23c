"""Crash durability battery: a real API, outbox relay and SLA clock, each in a process of its own,
killed with SIGKILL at random moments and restarted, while a load client writes cases and moves them
through transitions and records every operation, as it saw it, in an fsync'd ledger.

Afterwards the unknowns are replayed (creates with the same `Idempotency-Key`, transitions resolved
from the timeline) and the database is checked against the ledger:

- every acknowledged case exists with the content it was acknowledged with;
- every key, sent again, answers the case it made the first time, and no key made two cases;
- every acknowledged transition is in the case's timeline at the version it was acknowledged with;
- every event was delivered, and each event's effect (task notifications) happened exactly once;
- every lapsed deadline escalated (or was supervised) exactly once, and none overdue was missed;
- the database passes its integrity checks (SQLite `PRAGMA integrity_check`, orphan and count
  checks on both);
- each process was ready again within `READY_LIMIT_S` of its restart.

The SLA clock runs on a warped clock (`python -m tests.reliability.crash_battery sla-worker`):
days ahead of real time and running `CRASH_WARP_RATE` times faster, so deadlines the API starts on
real time lapse within the run. Production code is unchanged by this: the worker runs the same
`Runtime.run_worker("sla")` as `pingan worker sla`, with only its clock supplied by the battery.

`pytest tests/reliability/test_crash_durability.py` runs a short version (tens of kills per
database); `make soak` runs `python -m tests.reliability.crash_battery run` with hundreds.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
READY_LIMIT_S = float(os.environ.get("CRASH_READY_LIMIT_S", "5"))
PASSWORD = "Pingan@2019"
CITY_OPERATOR = "op.330400"
CITIZEN = "citizen01"
CATEGORY = "E0102"
# What the battery compares between the acknowledgement of a create and the stored case.
IMMUTABLE = (
    "id",
    "tracking_no",
    "category_code",
    "urgency",
    "title",
    "description",
    "address",
    "lng",
    "lat",
    "grid_code",
    "location_path",
    "channel",
    "created_at",
)
WARP_OFFSET = timedelta(days=3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the warped SLA worker ---------------------------------------------------------------------


def warped_clock(epoch: float, rate: float) -> Callable[[], datetime]:
    """Days ahead of real time and `rate` times faster; the same for every restart of the worker,
    because it is computed from a fixed epoch, so time never runs backwards across a crash."""

    def now() -> datetime:
        real = time.time()
        return datetime.fromtimestamp(real + (real - epoch) * (rate - 1), UTC) + WARP_OFFSET

    return now


def sla_worker_main() -> None:
    from pingan.api.runtime import Runtime
    from pingan.config import Settings

    clock = warped_clock(
        float(os.environ["CRASH_WARP_EPOCH"]), float(os.environ["CRASH_WARP_RATE"])
    )
    rt = Runtime.build(Settings(), clock)
    print("worker sla ready", flush=True)
    rt.run_worker("sla")


# --- processes ---------------------------------------------------------------------------------


@dataclass
class Proc:
    """One of the three processes the killer picks from."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    base: str | None = None  # the API answers /readyz here; workers print a ready line
    popen: subprocess.Popen[bytes] | None = None
    ready_s: list[float] = field(default_factory=list)

    def start(self) -> float:
        t0 = time.monotonic()
        with self.log.open("ab") as err:
            # A worker prints one line when ready; the API logs every request, so its output
            # goes to the file (a pipe nobody reads would fill up and block it).
            out = err if self.base else subprocess.PIPE
            self.popen = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=out, stderr=err)
        if self.base:
            self._wait_http(t0)
        else:
            self._wait_line(t0)
        took = time.monotonic() - t0
        self.ready_s.append(took)
        return took

    def _wait_http(self, t0: float) -> None:
        while time.monotonic() - t0 < 30:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} did not become ready; see {self.log}")

    def _wait_line(self, t0: float) -> None:
        assert self.popen is not None and self.popen.stdout is not None
        out = self.popen.stdout
        seen = b""
        while time.monotonic() - t0 < 30:
            ready, _, _ = select.select([out], [], [], 0.05)
            if ready:
                chunk = os.read(out.fileno(), 4096)
                if not chunk:
                    break
                seen += chunk
                if b"ready" in seen:
                    return
        raise RuntimeError(f"{self.name} did not become ready; see {self.log}")

    def kill(self) -> None:
        if self.popen is not None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait()
            if self.popen.stdout is not None:
                self.popen.stdout.close()
            self.popen = None

    def stop(self) -> None:
        if self.popen is None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        self.popen = None


# --- the ledger --------------------------------------------------------------------------------


class Ledger:
    """What the client saw, one JSON line per operation, fsync'd before the next one starts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def record(self, **entry: Any) -> None:
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def entries(self) -> list[dict[str, Any]]:
        with self.path.open(encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]


# --- the load client ---------------------------------------------------------------------------


@dataclass
class Tokens:
    by_user: dict[str, str]

    def header(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.by_user[username]}"}


def sign_in(base: str, usernames: list[str]) -> Tokens:
    out: dict[str, str] = {}
    for name in usernames:
        r = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": name, "password": PASSWORD}, timeout=10
        )
        r.raise_for_status()
        out[name] = str(r.json()["access_token"])
    return Tokens(out)


def outcome(status: int | None) -> str:
    """ok: acknowledged; failed: the server answered no (or was never reached); unknown: the
    request may or may not have taken effect (the connection broke, or a 5xx)."""
    if status is None:
        return "unknown"
    if 200 <= status < 300:
        return "ok"
    return "unknown" if status >= 500 else "failed"


def next_step(state: str, rng: random.Random) -> tuple[str, str, dict[str, Any]] | None:
    """(action, who, body) for a case in `state`: the loop the client drives round and round."""
    if state == "reported":
        return "file", "operator", {}
    if state == "filed":
        return "dispatch", "operator", {}
    if state == "dispatched":
        if rng.random() < 0.6:
            return "accept", "handler", {}
        return "return", "handler", {"reason": "不属本部门 / not ours"}
    if state == "accepted":
        return "return", "handler", {"reason": "需其他部门处理 / for another department"}
    return None


class LoadClient:
    """Threads that create cases and move them on, each thread with cases of its own."""

    def __init__(
        self, base: str, ledger: Ledger, tokens: Tokens, grids: list[tuple[float, float]], seed: int
    ) -> None:
        self.base = base
        self.ledger = ledger
        self.tokens = tokens
        self.grids = grids
        self.seed = seed
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.tally: Counter[str] = Counter()
        self._lock = threading.Lock()

    def start(self, n: int) -> None:
        for i in range(n):
            t = threading.Thread(target=self._run, args=(i,), name=f"load-{i}", daemon=True)
            t.start()
            self.threads.append(t)

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)

    def _count(self, what: str) -> None:
        with self._lock:
            self.tally[what] += 1

    def _run(self, n: int) -> None:
        rng = random.Random(self.seed * 1000 + n)
        mine: list[int] = []
        with httpx.Client(base_url=self.base, timeout=10) as http:
            while not self.stop.is_set():
                if not mine or rng.random() < 0.3:
                    case_id = self._create(http, n, rng)
                    if case_id is not None:
                        mine.append(case_id)
                else:
                    case_id = rng.choice(mine)
                    if not self._act(http, n, case_id, rng):
                        mine.remove(case_id)

    def _create(self, http: httpx.Client, n: int, rng: random.Random) -> int | None:
        key = f"crash-{uuid.uuid4().hex}"
        lng, lat = rng.choice(self.grids)
        body = {
            "category_code": CATEGORY,
            "title": key,
            "description": f"client {n}: 垃圾堆积 / litter",
            "lng": lng,
            "lat": lat,
        }
        status, data, replayed = self._post(http, "/api/v1/cases", CITIZEN, body, key=key)
        result = outcome(status)
        self._count(f"create {result}")
        self.ledger.record(
            op="create",
            key=key,
            body=body,
            outcome=result,
            status=status,
            case=data if result == "ok" else None,
            replayed=replayed,
        )
        if result == "failed" and status is None:
            time.sleep(0.05)  # the API is down: do not spin
        return int(data["id"]) if result == "ok" and data else None

    def _act(self, http: httpx.Client, n: int, case_id: int, rng: random.Random) -> bool:
        """One transition of one case; False when the case has left the client's loop."""
        try:
            r = http.get(f"/api/v1/cases/{case_id}", headers=self.tokens.header(CITY_OPERATOR))
        except httpx.TransportError:
            time.sleep(0.05)
            return True
        if r.status_code != 200:
            return True
        case = r.json()
        step = next_step(case["state"], rng)
        if step is None:
            return False
        action, who, body = step
        user = CITY_OPERATOR if who == "operator" else f"h.{case['department_id']}"
        if user not in self.tokens.by_user:
            return False
        version = int(case["version"])
        status, data, _ = self._post(
            http, f"/api/v1/cases/{case_id}/actions/{action}", user, body, if_match=version
        )
        result = outcome(status)
        self._count(f"{action} {result}")
        self.ledger.record(
            op="act",
            case_id=case_id,
            action=action,
            user=user,
            if_match=version,
            outcome=result,
            status=status,
            version=data.get("version") if result == "ok" and data else None,
            to_state=data.get("state") if result == "ok" and data else None,
        )
        return True

    def _post(
        self,
        http: httpx.Client,
        path: str,
        user: str,
        body: dict[str, Any],
        *,
        key: str | None = None,
        if_match: int | None = None,
    ) -> tuple[int | None, dict[str, Any] | None, bool]:
        headers = self.tokens.header(user)
        if key:
            headers["Idempotency-Key"] = key
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        try:
            r = http.post(path, json=body, headers=headers)
        except httpx.ConnectError:
            return 0, None, False  # never reached the server: nothing can have happened
        except httpx.TransportError:
            return None, None, False
        data = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        return r.status_code, data, r.headers.get("Idempotency-Replayed") == "true"


# --- the battery -------------------------------------------------------------------------------


@dataclass
class Report:
    database: str
    kills: Counter[str] = field(default_factory=Counter)
    ready_max_s: dict[str, float] = field(default_factory=dict)
    ready_p50_s: dict[str, float] = field(default_factory=dict)
    ops: Counter[str] = field(default_factory=Counter)
    unknown_creates: int = 0
    unknown_creates_found_made: int = 0
    unknown_acts: int = 0
    unknown_acts_found_applied: int = 0
    cases: int = 0
    acknowledged_transitions: int = 0
    events: int = 0
    notifications: int = 0
    lapsed_deadlines: int = 0
    chaos_s: float = 0.0
    sla_catch_up_s: float = 0.0
    violations: list[str] = field(default_factory=list)  # what was lost, doubled or corrupted
    slow_restarts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["kills"] = dict(self.kills)
        out["ops"] = dict(self.ops)
        return out


@dataclass
class Battery:
    kind: str  # sqlite | postgres
    url: str
    root: Path
    kills: int = 30
    clients: int = 3
    warp_rate: float = 600.0
    pause_s: tuple[float, float] = (0.1, 0.5)
    ready_limit_s: float = READY_LIMIT_S
    seed: int = field(default_factory=lambda: random.randrange(1 << 30))
    epoch: float = field(default_factory=time.time)

    def run(self) -> Report:
        report = Report(self.kind)
        self.root.mkdir(parents=True, exist_ok=True)
        grids, _devices, handlers = prepare_database(self.url)
        procs = self._processes()
        ledger = Ledger(self.root / "ledger.jsonl")
        rng = random.Random(self.seed)
        try:
            starting = [threading.Thread(target=p.start) for p in procs.values()]
            for t in starting:
                t.start()
            for t in starting:
                t.join()
            api = procs["api"]
            assert api.base is not None
            tokens = sign_in(api.base, [CITY_OPERATOR, CITIZEN, *handlers])
            client = LoadClient(api.base, ledger, tokens, grids, self.seed)
            client.start(self.clients)
            t0 = time.monotonic()
            order: list[str] = []
            for _ in range(self.kills):
                time.sleep(rng.uniform(*self.pause_s))
                if not order:  # each process as often as the others, in a random order
                    order = rng.sample(sorted(procs), len(procs))
                victim = procs[order.pop()]
                victim.kill()
                report.kills[victim.name] += 1
                time.sleep(rng.uniform(0.0, 0.2))  # the client meets a dead process for a while
                victim.start()  # one restart at a time, so each is timed on its own
            time.sleep(1.0)  # some load after the last restart too
            client.join()
            report.chaos_s = round(time.monotonic() - t0, 1)
            report.ops = client.tally
            # The SLA clock catches up with what the load left due (or the check below fails).
            t1 = time.monotonic()
            while self._missed_lapses(time.time() - 1.0) and time.monotonic() - t1 < 60:
                time.sleep(0.5)
            report.sla_catch_up_s = round(time.monotonic() - t1, 1)
            sla_stopped = time.time() - 1.0
            procs["sla"].stop()
            made = self._replay(api.base, tokens, ledger, report)
            api.stop()
            self._drain()
            procs["relay"].stop()
            check_database(self.url, self.kind, made, ledger.entries(), report)
            self._check_clock(sla_stopped, report)
        finally:
            ledger.close()
            for p in procs.values():
                p.stop()
        for name, p in procs.items():
            restarts = p.ready_s[1:] or p.ready_s
            report.ready_max_s[name] = round(max(restarts), 3)
            report.ready_p50_s[name] = round(sorted(restarts)[len(restarts) // 2], 3)
            if max(restarts) > self.ready_limit_s:
                report.slow_restarts.append(
                    f"{name} took {max(restarts):.2f} s to be ready (limit {self.ready_limit_s} s)"
                )
        return report

    def _processes(self) -> dict[str, Proc]:
        port = free_port()
        env = {
            **os.environ,
            "PINGAN_DATABASE_URL": self.url,
            "PINGAN_MEDIA_DIR": str(self.root / "media"),
            "PINGAN_RELAY_INTERVAL_S": "0.2",
            "PINGAN_SLA_INTERVAL_S": "0.5",
            "PINGAN_BUS_URL": "memory://",
            "CRASH_WARP_EPOCH": repr(self.epoch),
            "CRASH_WARP_RATE": str(self.warp_rate),
        }
        env.pop("PINGAN_MQTT_URL", None)
        # Restarts read compiled bytecode, as an installed deployment does (the development
        # container sets PYTHONDONTWRITEBYTECODE, which makes every start compile again).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        pingan = str(BIN / "pingan")
        return {
            "api": Proc(
                "api",
                [pingan, "serve", "--port", str(port), "--no-workers"],
                env,
                self.root / "api.log",
                base=f"http://127.0.0.1:{port}",
            ),
            "relay": Proc("relay", [pingan, "worker", "relay"], env, self.root / "relay.log"),
            "sla": Proc(
                "sla",
                [sys.executable, "-m", "tests.reliability.crash_battery", "sla-worker"],
                env,
                self.root / "sla.log",
            ),
        }

    def _drain(self) -> None:
        """Wait until the relay has delivered every event (or a minute has passed)."""
        from sqlalchemy import func, select

        from pingan.adapters.db.engine import make_engine
        from pingan.adapters.db.tables import outbox

        engine = make_engine(self.url)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with engine.connect() as conn:
                    pending = conn.execute(
                        select(func.count())
                        .select_from(outbox)
                        .where(outbox.c.published_at.is_(None))
                    ).scalar_one()
                if pending == 0:
                    return
                time.sleep(0.2)
        finally:
            engine.dispose()

    def _missed_lapses(self, at: float) -> int:
        """Live deadlines that were due at `at` (real time). Deadlines the API started are on real
        time, those the SLA clock restarted on its own warped time."""
        from sqlalchemy import text

        from pingan.adapters.db.engine import make_engine

        real = datetime.fromtimestamp(at, UTC)
        warped = datetime.fromtimestamp(at + (at - self.epoch) * (self.warp_rate - 1), UTC)
        warped += WARP_OFFSET
        engine = make_engine(self.url)
        missed = 0
        with engine.connect() as conn:
            for r in conn.execute(
                text("SELECT started_at, due_at FROM deadlines WHERE status = 'live'")
            ):
                started, due = _utc(r.started_at), _utc(r.due_at)
                existed = started < real or real + timedelta(days=1) < started < warped
                if existed and due < warped:
                    missed += 1
        engine.dispose()
        return missed

    def _check_clock(self, stopped: float, report: Report) -> None:
        """No live deadline that was due before the SLA clock stopped escaped it."""
        missed = self._missed_lapses(stopped)
        if missed:
            report.violations.append(f"{missed} live deadlines were due but never lapsed")

    def _replay(self, base: str, tokens: Tokens, ledger: Ledger, report: Report) -> dict[str, int]:
        """Send every key again; check every acknowledged case; returns key -> case id."""
        entries = ledger.entries()
        creates = [e for e in entries if e["op"] == "create"]
        acked: dict[str, dict[str, Any]] = {
            e["key"]: e["case"] for e in creates if e["outcome"] == "ok"
        }
        unknown = [e for e in creates if e["outcome"] == "unknown"]
        report.unknown_creates = len(unknown)
        v = report.violations
        made: dict[str, int] = {}
        with httpx.Client(base_url=base, timeout=30) as http:
            # Replay every key (the unknowns and, as a check, the acknowledged ones).
            for e in creates:
                if e["outcome"] == "failed" and e["key"] not in acked:
                    continue
                headers = {**tokens.header(CITIZEN), "Idempotency-Key": e["key"]}
                r = http.post("/api/v1/cases", json=e["body"], headers=headers)
                if r.status_code != 201:
                    v.append(f"replaying key {e['key']} answered {r.status_code}")
                    continue
                replayed = r.headers.get("Idempotency-Replayed") == "true"
                made[e["key"]] = int(r.json()["id"])
                if e["key"] in acked:
                    if not replayed or made[e["key"]] != acked[e["key"]]["id"]:
                        v.append(f"key {e['key']} made case {made[e['key']]} on replay")
                elif replayed:
                    report.unknown_creates_found_made += 1
            # Every acknowledged case, as acknowledged.
            for key, case in acked.items():
                r = http.get(f"/api/v1/cases/{case['id']}", headers=tokens.header(CITY_OPERATOR))
                if r.status_code != 200:
                    v.append(f"acknowledged case {case['id']} ({key}) answers {r.status_code}")
                    continue
                stored = r.json()
                for name in IMMUTABLE:
                    if stored[name] != case[name]:
                        v.append(
                            f"case {case['id']} {name}: acknowledged {case[name]!r}, "
                            f"stored {stored[name]!r}"
                        )
        return made


def prepare_database(
    url: str, devices: int = 0
) -> tuple[list[tuple[float, float]], list[str], list[str]]:
    """Migrate and seed the small demo city (no case history), with `devices` gas meters spread
    over the grid centres; returns grid centres, the device ids and the usernames of the
    departments' handlers."""
    from pingan.adapters.calendar import build_calendar
    from pingan.adapters.db.engine import make_engine
    from pingan.adapters.db.migrate import upgrade
    from pingan.adapters.db.uow import UnitOfWorkFactory
    from pingan.adapters.passwords import hash_password
    from pingan.demo.city import generate_small_city
    from pingan.demo.seed import seed
    from pingan.domain.access import SYSTEM_ACTOR
    from pingan.domain.geo import UnitLevel
    from pingan.services.devices import DeviceInput, register
    from pingan.services.ports import Env

    upgrade(url)
    city = generate_small_city()
    engine = make_engine(url)
    uows = UnitOfWorkFactory(engine)
    env = Env(calendar=build_calendar(), locator=city.grid_index())
    seed(
        uows,
        SYSTEM_ACTOR,
        city,
        env,
        hash_password(PASSWORD),
        lambda data: ("0" * 64, "none"),
        weeks=0,
        cases_per_day=0,
    )
    grids = [(g.lng, g.lat) for g in city.at_level(UnitLevel.GRID)]
    ids = [f"soak-{i:05d}" for i in range(devices)]
    items = [
        DeviceInput(ids[i], "gas", ids[i], *grids[i % len(grids)], interval_s=60)
        for i in range(devices)
    ]
    with uows(SYSTEM_ACTOR) as uow:
        register(uow, SYSTEM_ACTOR, items, env)
    with uows(readonly=True) as uow:
        handlers = [u for u in uow.users.ids_by_username() if u.startswith("h.")]
    engine.dispose()
    return grids, ids, sorted(handlers)


def check_database(
    url: str, kind: str, made: dict[str, int], entries: list[dict[str, Any]], report: Report
) -> None:
    """Everything the ledger says happened, and the exactly-once effects, against the rows."""
    acts = [e for e in entries if e["op"] == "act"]
    from sqlalchemy import text

    from pingan.adapters.db.engine import make_engine
    from pingan.domain.events import DomainEvent
    from pingan.services import notifications

    v = report.violations
    engine = make_engine(url)
    with engine.connect() as conn:
        q = conn.execute
        if kind == "sqlite":
            integrity = q(text("PRAGMA integrity_check")).scalars().all()
            if integrity != ["ok"]:
                v.append(f"PRAGMA integrity_check: {integrity[:5]}")
            fk = q(text("PRAGMA foreign_key_check")).all()
            if fk:
                v.append(f"PRAGMA foreign_key_check: {fk[:5]}")
        cases = {
            r.id: r
            for r in q(
                text("SELECT id, title, version, state FROM cases WHERE title LIKE 'crash-%'")
            )
        }
        report.cases = len(cases)
        titles = Counter(r.title for r in cases.values())
        for title, n in titles.items():
            if n > 1:
                v.append(f"key {title} made {n} cases")
        if set(titles) != set(made):
            v.append(
                f"cases without a key the client sent: {sorted(set(titles) - set(made))[:5]}; "
                f"keys without a case: {sorted(set(made) - set(titles))[:5]}"
            )
        for key, case_id in made.items():
            if case_id not in cases or cases[case_id].title != key:
                v.append(f"key {key} answers case {case_id}, which is not its case")

        timeline: dict[int, dict[int, Any]] = defaultdict(dict)
        for r in q(
            text(
                "SELECT case_id, seq, action, to_state, actor_role, note, at FROM case_timeline"
                " ORDER BY case_id, seq"
            )
        ):
            timeline[r.case_id][r.seq] = r
        for case_id, row in cases.items():
            seqs = sorted(timeline[case_id])
            if seqs != list(range(1, row.version + 1)):
                v.append(f"case {case_id}: version {row.version}, timeline seqs {seqs[:3]}…")
        # Acknowledged transitions are where they were acknowledged; unknown ones are resolved.
        claimed = {(e["case_id"], e["version"]) for e in acts if e["outcome"] == "ok"}
        for e in acts:
            if e["outcome"] == "ok":
                report.acknowledged_transitions += 1
                entry = timeline[e["case_id"]].get(e["version"])
                if entry is None or entry.action != e["action"] or entry.to_state != e["to_state"]:
                    v.append(
                        f"case {e['case_id']}: {e['action']} acknowledged as version "
                        f"{e['version']}, timeline has {entry and entry.action}"
                    )
                if e["version"] != e["if_match"] + 1:
                    v.append(f"case {e['case_id']}: {e['action']} skipped a version")
            elif e["outcome"] == "unknown":
                report.unknown_acts += 1
                entry = timeline[e["case_id"]].get(e["if_match"] + 1)
                if (
                    entry is not None
                    and entry.action == e["action"]
                    and (e["case_id"], e["if_match"] + 1) not in claimed
                ):
                    report.unknown_acts_found_applied += 1

        # Every write has its event; every event was delivered; each effect happened once.
        events = q(
            text(
                "SELECT event_id, type, aggregate_id, unit_path, occurred_at, payload,"
                " published_at FROM outbox"
            )
        ).all()
        report.events = len(events)
        per_case = Counter(e.aggregate_id for e in events if e.type.startswith("case."))
        for case_id, row in cases.items():
            if per_case[case_id] != row.version:
                v.append(f"case {case_id}: version {row.version}, {per_case[case_id]} case events")
        unpublished = [e.event_id for e in events if e.published_at is None]
        if unpublished:
            v.append(f"{len(unpublished)} events never delivered, e.g. {unpublished[:3]}")
        notes = Counter(
            (r.event_id, r.recipient_kind, r.recipient, r.kind)
            for r in q(text("SELECT event_id, recipient_kind, recipient, kind FROM notifications"))
        )
        report.notifications = sum(notes.values())
        inbox = Counter(
            r.event_id
            for r in q(
                text("SELECT event_id FROM inbox WHERE consumer = :c"),
                {"c": notifications.CONSUMER},
            )
        )
        expected: Counter[tuple[str, str, str, str]] = Counter()
        for e in events:
            payload = e.payload if isinstance(e.payload, dict) else json.loads(e.payload)
            event = DomainEvent(
                e.type, e.aggregate_id, e.unit_path, e.occurred_at, payload, e.event_id
            )
            targets = notifications.recipients(event)
            for kind_, recipient, what in targets:
                expected[(e.event_id, kind_, recipient, what)] += 1
            if targets and inbox[e.event_id] != 1:
                v.append(f"event {e.event_id} ({e.type}) claimed {inbox[e.event_id]} times")
        if notes != expected:
            extra = notes - expected
            missing = expected - notes
            v.append(
                f"notifications: {sum(extra.values())} extra (e.g. {list(extra)[:2]}), "
                f"{sum(missing.values())} missing (e.g. {list(missing)[:2]})"
            )

        # Every lapse escalated or supervised exactly once; nothing overdue left unclaimed.
        lapsed: dict[int, list[Any]] = defaultdict(list)
        for r in q(text("SELECT case_id, lapsed_at FROM deadlines WHERE status = 'lapsed'")):
            lapsed[r.case_id].append(_utc(r.lapsed_at))
        report.lapsed_deadlines = sum(len(x) for x in lapsed.values())
        lapse_events = Counter(e.aggregate_id for e in events if e.type == "sla.lapsed")
        for case_id in cases:
            overdue = [
                _utc(entry.at)
                for entry in timeline[case_id].values()
                if entry.actor_role == "system"
                and entry.action in ("escalate", "supervise")
                and (entry.note or "").startswith("sla.overdue:")
            ]
            if sorted(lapsed[case_id]) != overdue:
                v.append(
                    f"case {case_id}: {len(lapsed[case_id])} lapsed deadlines, "
                    f"{len(overdue)} overdue escalations"
                )
            if lapse_events[case_id] != len(lapsed[case_id]):
                v.append(f"case {case_id}: {lapse_events[case_id]} sla.lapsed events")
        # No orphans (PostgreSQL enforces the keys too; this also covers a lax SQLite).
        for table in ("case_timeline", "deadlines", "notifications", "idempotency_keys"):
            n = q(
                text(
                    f"SELECT count(*) FROM {table} t LEFT JOIN cases c ON c.id = t.case_id"
                    " WHERE c.id IS NULL"
                )
            ).scalar_one()
            if n:
                v.append(f"{n} rows of {table} name no case")
        keys = q(text("SELECT count(*) FROM idempotency_keys")).scalar_one()
        if keys != len(cases):
            v.append(f"{keys} idempotency keys for {len(cases)} cases")
    engine.dispose()


def _utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- command line (`make soak`) ----------------------------------------------------------------


def run_battery(kind: str, kills: int, root: Path, **options: Any) -> Report:
    sys.path.insert(0, str(ROOT))
    from tests.conftest import PG_ADMIN_URL, fresh_database_url

    url, drop = fresh_database_url(kind, str(root), PG_ADMIN_URL if kind == "postgres" else None)
    try:
        return Battery(kind, url, root / kind, kills=kills, **options).run()
    finally:
        drop()  # type: ignore[operator]


def main(argv: list[str]) -> int:
    if argv[:1] == ["sla-worker"]:
        sla_worker_main()
        return 0
    kills = int(os.environ.get("CRASH_KILLS", "300"))
    out = ROOT / "var" / "soak"
    out.mkdir(parents=True, exist_ok=True)
    results = []
    failed = False
    for kind in (
        (argv[1:] or ["sqlite", "postgres"]) if argv[:1] == ["run"] else ["sqlite", "postgres"]
    ):
        root = out / f"crash-{kind}-{int(time.time())}"
        report = run_battery(kind, kills, root)
        results.append(report.as_dict())
        print(json.dumps(report.as_dict(), indent=1, default=str), flush=True)
        failed = failed or bool(report.violations or report.slow_restarts)
    (out / "crash.json").write_text(json.dumps(results, indent=1, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
