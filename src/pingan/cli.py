"""The `pingan` command: demo, serve, worker, migrate, import, locate, sla, calendar, users."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from pingan.cli_intake import evaluate_app, export_app, import_addresses
from pingan.cli_intake import train as train_command
from pingan.config import Settings
from pingan.domain.audit import Action as Audit

if TYPE_CHECKING:
    from pingan.adapters.crypto import Keyring
    from pingan.adapters.db.uow import UnitOfWorkFactory
    from pingan.demo.seed import DemoLogin
    from pingan.domain.access import Actor

app = typer.Typer(help="Pingan 平安 — social-governance command centre", no_args_is_help=True)
import_app = typer.Typer(help="Import data", no_args_is_help=True)
calendar_app = typer.Typer(help="The working-day calendar", no_args_is_help=True)
users_app = typer.Typer(help="User accounts", no_args_is_help=True)
sla_app = typer.Typer(help="SLA clocks", no_args_is_help=True)
keys_app = typer.Typer(help="Personal-data keys (PINGAN_DATA_KEYS)", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit trail", no_args_is_help=True)
webhooks_app = typer.Typer(
    help="Departmental systems: webhooks and dead letters", no_args_is_help=True
)
worker_app = typer.Typer(
    help="Background workers as processes of their own (beside `serve --no-workers`)",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")
app.add_typer(calendar_app, name="calendar")
app.add_typer(users_app, name="users")
app.add_typer(sla_app, name="sla")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(evaluate_app, name="evaluate")
app.add_typer(export_app, name="export")
app.command("train")(train_command)
import_app.command("addresses")(import_addresses)
app.add_typer(worker_app, name="worker")
console = Console()

UrlOpt = Annotated[
    str | None, typer.Option("--url", help="database URL (default PINGAN_DATABASE_URL)")
]


@contextmanager
def _step_bars() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar per named step, for long commands that report `(step, done, total)`."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        yield progress


def _settings(url: str | None) -> Settings:
    settings = Settings()
    if url:
        settings.database_url = url
    return settings


@app.command()
def migrate(url: UrlOpt = None) -> None:
    """Create or upgrade the database schema (Alembic)."""
    from pingan.adapters.db.migrate import upgrade

    settings = _settings(url)
    upgrade(settings.database_url)
    console.print(f"[green]schema up to date[/] {settings.database_url}")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    url: UrlOpt = None,
    workers: Annotated[bool, typer.Option(help="run relay and SLA clock in-process")] = True,
) -> None:
    """Serve the API (and the web apps) with uvicorn."""
    import uvicorn

    from pingan.api.app import create_app

    settings = _settings(url)
    settings.run_workers = workers
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


@app.command()
def demo(
    host: str = "127.0.0.1",
    port: int = 8000,
    url: UrlOpt = None,
    reset: Annotated[bool, typer.Option(help="delete the SQLite file and start over")] = False,
    small: Annotated[bool, typer.Option(help="a tiny city (2 districts) for quick looks")] = False,
    weeks: int = 6,
    per_day: int = 150,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="seed only")] = False,
) -> None:
    """Migrate, seed the demo city of Jiaxing (嘉兴) if empty, print the logins, serve."""
    from sqlalchemy.engine import make_url

    from pingan.adapters.db.migrate import upgrade

    settings = _settings(url)
    parsed = make_url(settings.database_url)
    if reset and parsed.get_backend_name() == "sqlite" and parsed.database:
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
    upgrade(settings.database_url)
    logins = _seed_if_empty(settings, small=small, weeks=weeks, per_day=per_day)
    _print_logins(logins, host, port)
    if not no_serve:
        serve(host=host, port=port, url=settings.database_url, workers=True)


def _seed_if_empty(settings: Settings, *, small: bool, weeks: int, per_day: int) -> list[DemoLogin]:
    from pingan.adapters.calendar import build_calendar
    from pingan.adapters.crypto import keyring_from
    from pingan.adapters.db.engine import make_engine
    from pingan.adapters.db.uow import UnitOfWorkFactory
    from pingan.adapters.media import MediaStore
    from pingan.adapters.passwords import hash_password
    from pingan.demo.city import generate_city, generate_small_city
    from pingan.demo.seed import DEMO_PASSWORD, seed
    from pingan.domain.access import SYSTEM_ACTOR
    from pingan.services.ports import Env

    engine = make_engine(settings.database_url)
    uows = UnitOfWorkFactory(engine)
    with uows(readonly=True) as uow:
        existing = uow.users.count()
    if existing:
        console.print(
            f"[yellow]database already seeded[/] ({existing} users); use --reset to start over"
        )
        from pingan.demo.seed import demo_logins_from_db

        with uows(readonly=True) as uow:
            return list(demo_logins_from_db(uow))
    with console.status(
        "generating the demo city (real Jiaxing districts, generated towns and grids)…"
    ):
        city = generate_small_city() if small else generate_city()
    env = Env(calendar=build_calendar(), locator=city.grid_index())
    with _step_bars() as progress:
        report = seed(
            uows,
            SYSTEM_ACTOR,
            city,
            env,
            hash_password(DEMO_PASSWORD),
            MediaStore(settings.media_dir).put,
            weeks=2 if small else weeks,
            cases_per_day=20 if small else per_day,
            progress=progress,
            sealer=keyring_from(settings.data_keys),
        )
    engine.dispose()
    console.print(
        f"seeded {report.units} units ({report.grids} grids), {report.departments} departments, "
        f"{report.users} users, {report.facilities} facilities, {report.devices} devices, "
        f"{report.addresses} addresses, "
        f"{report.cases} cases ({report.open_cases} open). "
        "[dim]Towns, communities, grids and people are generated (模拟数据); "
        "district boundaries are real, converted from GCJ-02.[/]"
    )
    from pingan.cli_intake import train_demo_model

    train_demo_model(settings)
    return list(report.logins)


def _print_logins(logins: list[DemoLogin], host: str, port: int) -> None:
    from pingan.adapters.totp import provisioning_uri
    from pingan.demo.seed import DEMO_PASSWORD, DEMO_TOTP_SECRET, DEMO_TOTP_USERS

    table = Table(title=f"Demo logins (password: {DEMO_PASSWORD})")
    table.add_column("username")
    table.add_column("role")
    table.add_column("where")
    for login in logins:
        table.add_row(login.username, login.role, login.where)
    console.print(table)
    console.print(
        f"[yellow]{', '.join(DEMO_TOTP_USERS)} also need a TOTP code[/] (DEV-ONLY secret "
        f"{DEMO_TOTP_SECRET}): {provisioning_uri(DEMO_TOTP_SECRET, 'admin', 'Pingan demo')}"
    )
    console.print(f"API: http://{host}:{port}/docs   OpenAPI: http://{host}:{port}/openapi.json")


@import_app.command("grids")
def import_grids(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="GeoJSON FeatureCollection")
    ],
    crs: Annotated[str, typer.Option(help="wgs84 | gcj02 | bd09")] = "wgs84",
    parent: Annotated[
        str | None, typer.Option(help="parent code for features that name none")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="validate and report only")] = False,
    allow_gaps: Annotated[
        bool, typer.Option(help="store even if children leave gaps in the parent")
    ] = False,
    url: UrlOpt = None,
) -> None:
    """Import units or grids from GeoJSON; invalid shapes, overlaps and gaps are reported."""
    from pingan.adapters.db.engine import make_engine
    from pingan.adapters.db.uow import UnitOfWorkFactory
    from pingan.adapters.grid_files import plan_import
    from pingan.domain.access import SYSTEM_ACTOR
    from pingan.domain.errors import DomainError
    from pingan.domain.geo import CRS
    from pingan.services.grids import import_units

    settings = _settings(url)
    uows = UnitOfWorkFactory(make_engine(settings.database_url))
    try:
        data = json.loads(file.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        console.print(f"[red]not a UTF-8 JSON file:[/] {exc}")
        raise typer.Exit(2) from None
    try:
        with uows(readonly=True) as uow:
            plan = plan_import(uow, data, CRS(crs), parent)
    except DomainError as exc:
        console.print(f"[red]{exc.code}[/] {exc.params}")
        raise typer.Exit(2) from None
    blocking = [i for i in plan.issues if not (allow_gaps and i.code == "grid.gap")]
    if plan.issues:
        console.print(f"[bold]{len(plan.issues)} problem(s) found[/]")
        for issue in plan.issues[:500]:
            area = f"  {issue.area_m2:,.0f} m²" if issue.area_m2 is not None else ""
            console.print(
                f"[red]{issue.code}[/]  {', '.join(issue.unit_codes)}{area}  {issue.detail}",
                soft_wrap=True,
            )
    console.print(f"{len(plan.items)} unit(s) read from {file}")
    if dry_run:
        raise typer.Exit(1 if blocking else 0)
    if blocking:
        console.print(
            "[red]nothing stored[/]: fix the problems above (or --allow-gaps for gaps only)"
        )
        raise typer.Exit(1)
    try:
        with uows(SYSTEM_ACTOR) as uow:
            result = import_units(uow, SYSTEM_ACTOR, plan.items)
    except DomainError as exc:
        console.print(f"[red]{exc.code}[/] {exc.params}")
        raise typer.Exit(2) from None
    console.print(f"[green]stored[/]: {result.created} new, {result.updated} updated")


@app.command()
def locate(
    lng: float,
    lat: float,
    crs: Annotated[str, typer.Option(help="wgs84 | gcj02 | bd09")] = "wgs84",
    url: UrlOpt = None,
) -> None:
    """Which grid a point lies in."""
    from pingan.adapters.db.engine import make_engine
    from pingan.adapters.db.uow import UnitOfWorkFactory
    from pingan.api.runtime import ReloadableLocator
    from pingan.domain.geo import CRS, to_wgs84

    settings = _settings(url)
    locator = ReloadableLocator(UnitOfWorkFactory(make_engine(settings.database_url)))
    point = to_wgs84(lng, lat, CRS(crs))
    path = locator.locate(point.lng, point.lat)
    if path is None:
        console.print("[red]outside every grid[/]")
        raise typer.Exit(1)
    console.print(f"WGS-84 {point.lng:.6f},{point.lat:.6f} → {path}")


@sla_app.command("tick")
def sla_tick(url: UrlOpt = None) -> None:
    """Run one pass of the SLA clock now (warnings and escalations)."""
    from pingan.api.runtime import Runtime
    from pingan.services.clocks import run_clocks

    rt = Runtime.build(_settings(url))
    report = run_clocks(rt.uows, rt.env)
    rt.relay.drain()
    console.print(f"warned {report.warned}, lapsed {report.lapsed}, escalated {report.escalated}")


def _run_worker(kind: str, url: str | None) -> None:
    from pingan.api.runtime import Runtime

    rt = Runtime.build(_settings(url))
    typer.echo(f"worker {kind} ready", nl=True)
    sys.stdout.flush()
    try:
        rt.run_worker(kind)
    finally:
        rt.stop_workers()


@worker_app.command("relay")
def worker_relay(url: UrlOpt = None) -> None:
    """Deliver committed outbox events to the bus and its consumers until stopped."""
    _run_worker("relay", url)


@worker_app.command("sla")
def worker_sla(url: UrlOpt = None) -> None:
    """Run the SLA clock (warn, lapse, escalate) every PINGAN_SLA_INTERVAL_S until stopped."""
    _run_worker("sla", url)


@calendar_app.command("set")
def calendar_set(
    day: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
    kind: Annotated[str, typer.Argument(help="holiday | workday")],
    name: str = "",
    url: UrlOpt = None,
) -> None:
    """Declare a day off or a make-up working day (from the State Council's notice)."""
    from pingan.adapters.db.engine import make_engine
    from pingan.adapters.db.uow import UnitOfWorkFactory

    if kind not in ("holiday", "workday"):
        console.print("[red]kind must be holiday or workday[/]")
        raise typer.Exit(2)
    uows = UnitOfWorkFactory(make_engine(_settings(url).database_url))
    with uows() as uow:
        uow.calendar.put(date.fromisoformat(day), kind, name)
        uow.commit()
    console.print(f"{day}: {kind} {name} (restart or wait for the next reload to apply)")


@calendar_app.command("import")
def calendar_import(file: Path, url: UrlOpt = None) -> None:
    """Load `{"holidays": {day: name}, "workdays": {day: name}}` into the calendar."""
    from pingan.adapters.calendar import read_calendar_file
    from pingan.adapters.db.engine import make_engine
    from pingan.adapters.db.uow import UnitOfWorkFactory
    from pingan.domain.errors import DomainError

    try:
        days = read_calendar_file(file)
    except DomainError as exc:
        console.print(f"[red]{exc.code}[/] {exc.params}")
        raise typer.Exit(2) from None
    uows = UnitOfWorkFactory(make_engine(_settings(url).database_url))
    with uows() as uow:
        for day, kind, name in days:
            uow.calendar.put(day, kind, name)
        uow.commit()
    console.print(f"{len(days)} day(s) stored")


@calendar_app.command("show")
def calendar_show(year: int = datetime.now(UTC).year, url: UrlOpt = None) -> None:
    """Days off on weekdays and working weekend days of a year."""
    from datetime import timedelta

    from pingan.adapters.db.engine import make_engine
    from pingan.adapters.db.uow import UnitOfWorkFactory
    from pingan.api.runtime import load_calendar

    settings = _settings(url)
    cal = load_calendar(UnitOfWorkFactory(make_engine(settings.database_url)), settings)
    day = date(year, 1, 1)
    table = Table(title=f"{year}: exceptions to Monday–Friday")
    table.add_column("date")
    table.add_column("kind")
    while day.year == year:
        weekend = day.weekday() >= 5
        if weekend == cal.is_workday(day):
            table.add_row(day.isoformat(), "workday (调休)" if weekend else "holiday (放假)")
        day += timedelta(days=1)
    console.print(table)


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[
        str, typer.Option(help="commander|operator|handler|grid_worker|citizen|auditor|admin")
    ],
    unit: Annotated[str, typer.Option(help="jurisdiction path, e.g. 330400.330402")],
    name: str = "",
    department: str | None = None,
    grid: str | None = None,
    url: UrlOpt = None,
) -> None:
    """Create a user; the password is read from the prompt (never the command line)."""
    from pingan.adapters.db.engine import make_engine
    from pingan.adapters.db.uow import UnitOfWorkFactory
    from pingan.adapters.passwords import hash_password
    from pingan.domain.access import USER_ROLES, Role

    if role not in {r.value for r in USER_ROLES}:
        console.print(f"[red]unknown role {role}[/]")
        raise typer.Exit(2)
    password = typer.prompt("password", hide_input=True, confirmation_prompt=sys.stdin.isatty())
    if len(password) < 10:
        console.print("[red]use at least 10 characters[/]")
        raise typer.Exit(2)
    uows = UnitOfWorkFactory(make_engine(_settings(url).database_url))
    with uows() as uow:
        if uow.units.get_by_path(unit) is None:
            console.print(f"[red]no unit with path {unit}[/]")
            raise typer.Exit(2)
        user_id = uow.users.add(
            username=username,
            display_name=name or username,
            role=Role(role).value,
            jurisdiction=unit,
            department_id=department,
            grid_code=grid,
            password_hash=hash_password(password),
            disabled=False,
            synthetic=False,
            created_at=datetime.now(UTC),
        )
        uow.audit.append(
            _cli_actor(),
            Audit.USER_CREATED,
            datetime.now(UTC),
            f"user:{username}",
            {"role": role, "jurisdiction": unit},
        )
        uow.commit()
    console.print(f"user {username} created (id {user_id})")


def _cli_actor() -> Actor:
    """Who the audit trail names for changes made at the console."""
    import getpass

    from pingan.domain.access import Actor, Role

    return Actor(
        user_id=0, username=f"cli:{getpass.getuser()}"[:64], role=Role.SYSTEM, jurisdiction=""
    )


@users_app.command("disable")
def users_disable(
    username: str,
    enable: Annotated[bool, typer.Option("--enable", help="enable again instead")] = False,
    url: UrlOpt = None,
) -> None:
    """Disable (or re-enable) an account; its tokens stop working at once."""
    from pingan.adapters.db.engine import make_engine
    from pingan.adapters.db.uow import UnitOfWorkFactory

    uows = UnitOfWorkFactory(make_engine(_settings(url).database_url))
    with uows() as uow:
        user = uow.users.by_username(username)
        if user is None:
            console.print(f"[red]no user {username}[/]")
            raise typer.Exit(2)
        uow.users.set_disabled(user.id, not enable)
        uow.audit.append(
            _cli_actor(),
            Audit.USER_CHANGED,
            datetime.now(UTC),
            f"user:{username}",
            {"disabled": not enable},
        )
        uow.commit()
    console.print(f"user {username} {'enabled' if enable else 'disabled'}")


@users_app.command("totp")
def users_totp(username: str, url: UrlOpt = None) -> None:
    """Enrol (or replace) a user's TOTP authenticator at the console and print its otpauth URI.

    Use it to enrol administrators and auditors before their first sign-in, or after a lost phone.
    """
    from pingan.adapters.crypto import keyring_from
    from pingan.adapters.db.engine import make_engine
    from pingan.adapters.db.uow import UnitOfWorkFactory
    from pingan.adapters.totp import SecondFactor

    settings = _settings(url)
    factor = SecondFactor(keyring_from(settings.data_keys), settings.totp_issuer)
    uows = UnitOfWorkFactory(make_engine(settings.database_url))
    with uows() as uow:
        user = uow.users.by_username(username)
        if user is None:
            console.print(f"[red]no user {username}[/]")
            raise typer.Exit(2)
        secret = factor.new_secret()
        now = datetime.now(UTC)
        uow.users.put_totp(user.id, factor.seal(secret), now, confirmed=True)
        uow.audit.append(
            _cli_actor(), Audit.TOTP_ENROLLED, now, f"user:{username}", {"at": "console"}
        )
        uow.commit()
    console.print(f"scan once, then discard: {factor.uri(secret, username)}", soft_wrap=True)


@contextmanager
def _keys_database(url: str | None) -> Iterator[tuple[UnitOfWorkFactory, Keyring]]:
    """The database and the keyring, all the key commands need: no bus, relay, calendar or grid
    index is started for them, so they run wherever the database can be reached."""
    from pingan.adapters.crypto import keyring_from
    from pingan.adapters.db.engine import make_engine
    from pingan.adapters.db.uow import UnitOfWorkFactory

    settings = _settings(url)
    keyring = keyring_from(settings.data_keys)
    engine = make_engine(settings.database_url)
    try:
        yield UnitOfWorkFactory(engine), keyring
    finally:
        engine.dispose()


@keys_app.command("rotate")
def keys_rotate(
    url: UrlOpt = None,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="values per transaction")] = 200,
) -> None:
    """Re-encrypt every personal-data value under the active key; safe to interrupt and rerun."""
    from pingan.services.keys import key_usage, rotate_keys
    from pingan.services.ports import SystemClock

    with _keys_database(url) as (uows, keyring):
        with _step_bars() as progress:
            report = rotate_keys(
                uows, keyring, SystemClock(), actor=_cli_actor(), batch=batch, progress=progress
            )
        console.print(
            f"[green]rotated[/] {report.rewritten} value(s) to key {report.active}; "
            f"{report.already_current} already under it"
        )
        _print_key_usage(key_usage(uows, keyring))


@keys_app.command("reindex")
def keys_reindex(
    url: UrlOpt = None,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="rows per transaction")] = 200,
) -> None:
    """Recompute every blind index after the `index=` key changed; safe to interrupt and rerun."""
    from pingan.services.keys import reindex
    from pingan.services.ports import SystemClock

    with _keys_database(url) as (uows, keyring), _step_bars() as progress:
        changed = reindex(
            uows, keyring, SystemClock(), actor=_cli_actor(), batch=batch, progress=progress
        )
    console.print(f"[green]re-keyed[/] {changed} blind index value(s)")


@keys_app.command("status")
def keys_status(url: UrlOpt = None) -> None:
    """How many stored values each key id protects (remove a key only when it protects none)."""
    from pingan.services.keys import key_usage

    with _keys_database(url) as (uows, keyring):
        _print_key_usage(key_usage(uows, keyring))


def _print_key_usage(usage: dict[str, Counter[str]]) -> None:
    table = Table(title="Encrypted values by key id")
    table.add_column("column")
    table.add_column("key id")
    table.add_column("values", justify="right")
    for column, counts in usage.items():
        for key_id, n in sorted(counts.items()):
            table.add_row(column, key_id, f"{n:,}")
    console.print(table)


@audit_app.command("verify")
def audit_verify(url: UrlOpt = None) -> None:
    """Walk the hash chain from the first entry; exit 1 at the first row that does not follow."""
    from pingan.adapters.db.engine import make_engine
    from pingan.adapters.db.uow import UnitOfWorkFactory

    engine = make_engine(_settings(url).database_url)
    with UnitOfWorkFactory(engine)(snapshot=True) as uow:  # chain and head as of one moment
        checked, broken = uow.audit.verify()
    engine.dispose()
    if broken is not None:
        console.print(
            f"[red]audit chain broken at entry {broken.seq}[/] ({broken.reason}); "
            f"{checked} entries checked"
        )
        raise typer.Exit(1)
    console.print(f"[green]audit chain intact[/]: {checked} entries")


@app.command()
def ingest(
    url: UrlOpt = None,
    mqtt_url: Annotated[str, typer.Option(help="broker URL")] = "mqtt://127.0.0.1:1883",
    client_id: str = "pingan-ingest",
    relay: Annotated[
        bool,
        typer.Option(
            help="also deliver the outbox from here (off when `serve` or `worker relay` runs)"
        ),
    ] = True,
) -> None:
    """Consume IoT telemetry and camera events from MQTT until stopped (Ctrl-C)."""
    import signal
    import threading

    from pingan.api.runtime import Runtime, make_ingestor

    settings = _settings(url)
    settings.mqtt_url = mqtt_url
    settings.mqtt_client_id = client_id
    rt = Runtime.build(settings)
    ingestor = make_ingestor(rt)
    if relay:
        rt.relay.start()
    ingestor.start()
    if ingestor.connected.wait(30):
        console.print(f"subscribed to {mqtt_url} as {client_id}")
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(10):
            s = ingestor.stats
            console.print(
                f"received {s.received:,}  stored {s.stored:,}  duplicates {s.duplicates:,}  "
                f"rejected {s.rejected:,}  cases {s.cases:,}"
            )
    except KeyboardInterrupt:
        pass
    finally:
        ingestor.stop()
        if relay:
            rt.relay.stop()


@app.command()
def simulate(
    url: UrlOpt = None,
    mqtt_url: Annotated[str, typer.Option(help="broker URL")] = "mqtt://127.0.0.1:1883",
    rate: Annotated[float, typer.Option(help="messages per second")] = 20.0,
    anomaly: Annotated[float, typer.Option(help="share of messages that are anomalies")] = 0.01,
    duration: Annotated[float, typer.Option(help="seconds; 0 runs until stopped")] = 0.0,
    qos: int = 1,
) -> None:
    """Publish realistic telemetry and camera events for the demo city's devices over MQTT."""
    from urllib.parse import urlparse

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from pingan.adapters.db.engine import make_engine
    from pingan.adapters.db.uow import UnitOfWorkFactory
    from pingan.demo.simulator import Message, run
    from pingan.domain.access import SYSTEM_ACTOR

    uows = UnitOfWorkFactory(make_engine(_settings(url).database_url))
    with uows(SYSTEM_ACTOR, readonly=True) as uow:
        devices = uow.devices.all_in_scope()
    if not devices:
        console.print("[red]no devices registered[/]: run `pingan demo` first")
        raise typer.Exit(1)
    target = urlparse(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="pingan-simulator")
    client.connect(target.hostname or "127.0.0.1", target.port or 1883)
    client.loop_start()

    def publish(m: Message) -> None:
        client.publish(m.topic, m.payload, qos=qos)

    console.print(f"simulating {len(devices):,} devices at {rate:g} msg/s, {anomaly:.1%} anomalies")
    try:
        sent = run(devices, publish, rate=rate, anomaly_rate=anomaly, duration_s=duration)
        console.print(f"sent {sent:,} messages")
    except KeyboardInterrupt:
        pass
    finally:
        client.loop_stop()
        client.disconnect()


@import_app.command("devices")
def import_devices(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV (UTF-8 or GBK) or xlsx")
    ],
    dry_run: Annotated[bool, typer.Option(help="check every row, store nothing")] = False,
    url: UrlOpt = None,
) -> None:
    """Register devices: columns id, kind, name, lng, lat[, crs, owner, facility_id, interval_s]."""
    from pingan.adapters.device_files import read_devices
    from pingan.api.runtime import Runtime
    from pingan.domain.access import SYSTEM_ACTOR
    from pingan.domain.errors import DomainError
    from pingan.services.devices import register

    rt = Runtime.build(_settings(url))
    try:
        items = read_devices(file)
    except DomainError as exc:
        console.print(f"[red]{exc.code}[/] {exc.params}")
        raise typer.Exit(2) from None
    with rt.uows(SYSTEM_ACTOR) as uow:
        report = register(uow, SYSTEM_ACTOR, items, rt.env, dry_run=dry_run)
    for row, device_id, code in report.errors[:200]:
        console.print(f"[red]row {row}[/] {device_id}: {code}", soft_wrap=True)
    if report.errors:
        console.print(f"[red]nothing stored[/]: {len(report.errors)} bad row(s) of {len(items)}")
        raise typer.Exit(1)
    verb = "would store" if dry_run else "stored"
    console.print(f"[green]{verb}[/] {report.created} new, {report.updated} updated device(s)")


@import_app.command("cases")
def import_cases(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV (UTF-8 or GBK) or xlsx")
    ],
    dry_run: Annotated[bool, typer.Option(help="check every row, store nothing")] = False,
    crs: Annotated[str, typer.Option(help="datum of lng/lat: wgs84 | gcj02 | bd09")] = "wgs84",
    url: UrlOpt = None,
) -> None:
    """Import historic (finished) cases; idempotent on external_id. Columns: docs/import.md."""
    from pingan.adapters.case_files import read_case_sheet
    from pingan.api.runtime import Runtime
    from pingan.domain.access import SYSTEM_ACTOR
    from pingan.domain.errors import DomainError
    from pingan.domain.geo import CRS
    from pingan.messages import message
    from pingan.services import case_import

    rt = Runtime.build(_settings(url))
    try:
        sheet = read_case_sheet(file.read_bytes(), file.name)
        report = case_import.check(
            rt.uows, SYSTEM_ACTOR, sheet, rt.env, source=file.name, crs=CRS(crs)
        )
    except (DomainError, ValueError) as exc:
        code = getattr(exc, "code", "import.bad_crs")
        console.print(f"[red]{code}[/] {message(code, 'zh-CN', getattr(exc, 'params', {}))}")
        raise typer.Exit(2) from None
    console.print(
        f"{file.name} ({sheet.encoding}): {report.rows} row(s), {len(report.ready)} to import, "
        f"{len(report.already)} imported before, {len(report.problems)} bad"
    )
    for p in report.problems[:500]:
        text = message(p.code, "zh-CN", p.params) + " / " + message(p.code, "en", p.params)
        console.print(f"[red]line {p.line}[/] {p.external_id} {p.code}: {text}", soft_wrap=True)
    if dry_run:
        for r in report.ready[:200]:
            console.print(f"line {r.line} {r.external_id} -> {r.grid_path} ({r.state.value})")
        raise typer.Exit(1 if report.problems else 0)
    if report.problems:
        console.print("[red]nothing imported[/]: fix the rows above")
        raise typer.Exit(1)
    with _step_bars() as progress:
        stored = 0

        def advance(n: int) -> None:
            nonlocal stored
            stored += n
            progress("importing cases", stored, len(report.ready))

        done = case_import.store(
            rt.uows, SYSTEM_ACTOR, report, rt.env, source=file.name, progress=advance
        )
    console.print(f"[green]imported[/] {done.imported} case(s); {len(done.already)} skipped")


def _cli_admin() -> Any:
    """Whoever runs the CLI holds the database: an administrator over the whole tree."""
    from pingan.domain.access import Actor, Role

    return Actor(user_id=0, username="cli", role=Role.ADMIN, jurisdiction="")


@webhooks_app.command("add")
def webhooks_add(
    department_id: str,
    endpoint: Annotated[str, typer.Argument(help="http(s) URL of the department's system")],
    event: Annotated[
        list[str] | None, typer.Option(help="event to send (repeatable); default all")
    ] = None,
    url: UrlOpt = None,
) -> None:
    """Subscribe a department's system; prints the signing secret once."""
    from pingan.api.runtime import Runtime
    from pingan.domain.errors import DomainError
    from pingan.services import webhooks

    rt = Runtime.build(_settings(url))
    actor = _cli_admin()
    try:
        with rt.uows(actor) as uow:
            created = webhooks.subscribe(
                uow, actor, department_id, endpoint, tuple(event) if event else None, rt.env
            )
    except DomainError as exc:
        console.print(f"[red]{exc.code}[/] {exc.params}")
        raise typer.Exit(2) from None
    console.print(f"subscription {created.id}: {', '.join(created.events)} -> {created.url}")
    console.print(f"secret (shown once): [bold]{created.secret}[/]")


@webhooks_app.command("deliveries")
def webhooks_deliveries(
    status: Annotated[str | None, typer.Option(help="pending | delivered | dead")] = "dead",
    url: UrlOpt = None,
) -> None:
    """List deliveries; by default the dead-letter list."""
    from pingan.api.runtime import Runtime
    from pingan.services import webhooks

    rt = Runtime.build(_settings(url))
    actor = _cli_admin()
    with rt.uows(actor, readonly=True) as uow:
        found = webhooks.deliveries(uow, actor, status)
    table = Table("delivery", "subscription", "event", "case", "status", "tries", "last error")
    for d in found:
        table.add_row(
            d.id,
            str(d.subscription_id),
            d.event,
            str(d.case_id),
            d.status,
            str(d.attempts),
            d.last_error[:60],
        )
    console.print(table)


@webhooks_app.command("replay")
def webhooks_replay(delivery_id: str, url: UrlOpt = None) -> None:
    """Send a dead letter again (the running server's sender picks it up)."""
    from pingan.api.runtime import Runtime
    from pingan.domain.errors import DomainError
    from pingan.services import webhooks

    rt = Runtime.build(_settings(url))
    actor = _cli_admin()
    try:
        with rt.uows(actor) as uow:
            webhooks.replay(uow, actor, delivery_id, rt.env)
    except DomainError as exc:
        console.print(f"[red]{exc.code}[/] {exc.params}")
        raise typer.Exit(2) from None
    console.print(f"[green]queued[/] {delivery_id}")


if __name__ == "__main__":
    app()
