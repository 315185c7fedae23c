"""Seeding the demo city: the generated Jiaxing tree, departments, synthetic users for every role,
and some weeks of case history made by running the real domain rules over simulated time.

Everyone in the demo is synthetic and named so (模拟/synthetic). History events are not published:
they happened "before" the platform was switched on; open cases get live SLA clocks.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import shapely

from pingan.adapters.spatial import bbox, to_wkb
from pingan.demo.addresses import seed_addresses
from pingan.demo.city import DemoCity, DemoUnit
from pingan.demo.photos import striped_png
from pingan.demo.phrasing import PHRASINGS
from pingan.domain.access import Actor, Role
from pingan.domain.cases import Action, Case, Command
from pingan.domain.categories import CATEGORIES, DEPARTMENT_KINDS, Category
from pingan.domain.geo import UnitLevel
from pingan.domain.identity import Contact, check_character
from pingan.domain.registry import DeviceKind, FacilityKind
from pingan.domain.sla import Urgency
from pingan.services.clocks import sync_deadline
from pingan.services.dispatch import suggest
from pingan.services.grids import ImportedUnit, import_units
from pingan.services.intake import owner_of
from pingan.services.personal_data import Sealer, seal
from pingan.services.ports import Env, UnitOfWork

DEMO_PASSWORD = "Pingan@2019"
# DEV-ONLY, public: the demo administrator and auditor sign in with TOTP codes from this secret
# (add it to an authenticator app, or `python -c "import pyotp; print(pyotp.TOTP('...').now())"`).
DEMO_TOTP_SECRET = "PINGANDEMOTOTPKEYDEVONLY234567AB"
DEMO_TOTP_USERS = ("admin", "auditor")
Progress = Callable[[str, int, int], None]


@dataclass
class DemoLogin:
    username: str
    role: str
    where: str


@dataclass
class SeedReport:
    units: int = 0
    grids: int = 0
    departments: int = 0
    users: int = 0
    cases: int = 0
    open_cases: int = 0
    facilities: int = 0
    devices: int = 0
    addresses: int = 0
    logins: list[DemoLogin] = field(default_factory=list)


def _noop(_step: str, _done: int, _total: int) -> None:
    return None


def seed_units(uow: UnitOfWork, city: DemoCity, system: Actor) -> int:
    items = [
        ImportedUnit(
            code=u.unit.code,
            name=u.unit.name,
            name_en=u.unit.name_en,
            level=u.unit.level,
            parent_code=u.unit.parent_code,
            geom_wkb=to_wkb(u.geometry),
            bbox=bbox(u.geometry),
            center=(u.lng, u.lat),
            generated=u.unit.generated,
        )
        for u in city.units
    ]
    result = import_units(uow, system, items)
    return result.created + result.updated


def department_rows(city: DemoCity) -> list[dict[str, str]]:
    """Each line of government has an office in the city and in every district/county."""
    offices = [u for u in city.units if u.unit.level in (UnitLevel.CITY, UnitLevel.DISTRICT)]
    return [
        {
            "id": f"{o.unit.code}-{k.code}",
            "kind": k.code,
            "name": f"{o.unit.name}{k.name}",
            "name_en": f"{o.unit.name_en or o.unit.code} {k.name_en}",
            "unit_path": o.unit.path,
        }
        for o in offices
        for k in DEPARTMENT_KINDS
    ]


def seed(
    uow_factory: Callable[..., UnitOfWork],
    system: Actor,
    city: DemoCity,
    env: Env,
    password_hash: str,
    store: Callable[[bytes], tuple[str, str]],
    *,
    weeks: int = 6,
    cases_per_day: int = 150,
    seed_value: int = 2019,
    progress: Progress = _noop,
    sealer: Sealer | None = None,
) -> SeedReport:
    """With a `sealer` (the data keyring), hotline cases get synthetic caller contacts, stored
    encrypted, and the demo administrator and auditor get the DEV-ONLY TOTP secret."""
    report = SeedReport()
    rng = random.Random(seed_value)
    progress("units", 0, 1)
    with uow_factory(system) as uow:
        report.units = seed_units(uow, city, system)
    report.grids = len(city.at_level(UnitLevel.GRID))
    progress("units", 1, 1)

    with uow_factory(system) as uow:
        depts = department_rows(city)
        uow.departments.insert_many(depts)
        report.departments = len(depts)
        users, logins = _user_rows(city, depts, password_hash, env.now())
        uow.users.add_many(users)
        ids = uow.users.ids_by_username()
        for grid in city.at_level(UnitLevel.GRID):
            uow.units.set_worker(grid.unit.code, ids[f"gw.{grid.unit.code}"])
        if sealer is not None:
            for username in DEMO_TOTP_USERS:
                secret = sealer.encrypt(DEMO_TOTP_SECRET, "totp.secret")
                uow.users.put_totp(ids[username], secret, env.now(), confirmed=True)
        uow.commit()
        report.users = len(users)
        report.logins = logins

    with uow_factory(system) as uow:
        report.facilities, report.devices = seed_devices(uow, city, env, random.Random(seed_value))
        uow.commit()

    with uow_factory(system) as uow:
        report.addresses = seed_addresses(uow, city, env)

    with uow_factory(system) as uow:
        people = _People.load(uow, city)
        photos = [store(striped_png(rgb=c)) for c in ((46, 125, 50), (21, 101, 192), (230, 81, 0))]
        history = _History(rng, city, people, env, weeks, cases_per_day, photos)
        total = history.planned
        for i, case in enumerate(history.run(uow)):
            report.cases += 1
            report.open_cases += case.is_open
            if i % 200 == 0:
                progress("cases", i, total)
        uow.discard_events()  # history is not news
        if sealer is not None:
            uow.contacts.add_many(_contact_rows(uow, sealer, rng, env.now()))
        uow.commit()
        progress("cases", total, total)
    return report


def synthetic_contact(rng: random.Random) -> Contact:
    """A made-up caller: a (模拟) name, a mobile number and a checksum-valid identity number."""
    born = f"{rng.randint(1950, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = f"330402{born}{rng.randint(0, 999):03d}"
    return Contact(
        name=rng.choice("王李张刘陈杨黄赵吴周")
        + rng.choice(("伟", "芳", "娜", "敏", "静"))
        + "（模拟）",
        phone=f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}",
        id_number=first17 + check_character(first17),
    )


def _contact_rows(
    uow: UnitOfWork, sealer: Sealer, rng: random.Random, now: datetime
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for case, reporter_id in uow.contacts.cases_without_contact("hotline"):
        rows.append(
            {
                "case_id": case,
                **seal(sealer, synthetic_contact(rng)),
                "recorded_by": reporter_id,
                "recorded_at": now,
            }
        )
    return rows


# Per town: (device kind, how many, facility kind it watches or None, reporting interval s)
_DEVICE_PLAN: tuple[tuple[DeviceKind, int, FacilityKind | None, int], ...] = (
    (DeviceKind.KITCHEN_CAMERA, 3, FacilityKind.SCHOOL_KITCHEN, 300),
    (DeviceKind.GAS, 4, FacilityKind.RESTAURANT, 60),
    (DeviceKind.SMOKE, 6, FacilityKind.RESIDENTIAL, 300),
    (DeviceKind.WATER_LEVEL, 2, FacilityKind.RIVER, 120),
    (DeviceKind.MANHOLE, 3, FacilityKind.ROAD, 600),
    (DeviceKind.TEMPERATURE, 1, FacilityKind.RESIDENTIAL, 300),
    (DeviceKind.CAMERA, 3, FacilityKind.ROAD, 300),
)
_FACILITY_NAMES = {
    FacilityKind.SCHOOL_KITCHEN: "学校食堂",
    FacilityKind.RESTAURANT: "餐饮店",
    FacilityKind.RESIDENTIAL: "住宅小区",
    FacilityKind.RIVER: "河道监测点",
    FacilityKind.ROAD: "道路",
}


def seed_devices(uow: UnitOfWork, city: DemoCity, env: Env, rng: random.Random) -> tuple[int, int]:
    """Facilities and devices in every town; a few school kitchens still lack a camera and a
    few devices are offline, so the fleet screen has something to show."""
    now = env.now()
    facilities: list[dict[str, object]] = []
    devices: list[dict[str, object]] = []
    grids_by_town: dict[str, list[DemoUnit]] = {}
    for g in city.at_level(UnitLevel.GRID):
        grids_by_town.setdefault(owner_of(g.unit.path), []).append(g)
    for town_path, grids in grids_by_town.items():
        town = city.get(town_path)
        for kind, count, facility_kind, interval in _DEVICE_PLAN:
            for n in range(1, count + 1):
                grid = rng.choice(grids)
                lng, lat = _inside(grid, rng)
                facility_id = None
                if facility_kind is not None:
                    facility_id = f"{facility_kind.value}-{town.unit.code}-{kind.value}-{n}"
                    facilities.append(
                        {
                            "id": facility_id,
                            "kind": facility_kind.value,
                            "name": f"{town.unit.name}{_FACILITY_NAMES[facility_kind]}{n}（模拟）",
                            "grid_path": grid.unit.path,
                            "lng": lng,
                            "lat": lat,
                        }
                    )
                if kind is DeviceKind.KITCHEN_CAMERA and rng.random() < 0.03:
                    continue  # a kitchen not yet connected
                online = rng.random() < 0.96
                devices.append(
                    {
                        "id": f"{kind.value}-{town.unit.code}-{n:02d}",
                        "kind": kind.value,
                        "name": f"{town.unit.name}{kind.value}#{n}（模拟）",
                        "lng": lng,
                        "lat": lat,
                        "grid_path": grid.unit.path,
                        "owner": "",
                        "facility_id": facility_id,
                        "interval_s": interval,
                        "registered_at": now - timedelta(days=60),
                        "last_seen_at": now - timedelta(seconds=rng.uniform(0, interval))
                        if online
                        else now - timedelta(days=rng.uniform(1, 10)),
                    }
                )
    uow.facilities.add_many(facilities)
    uow.devices.upsert_many(devices)
    return len(facilities), len(devices)


def _user_rows(
    city: DemoCity, depts: list[dict[str, str]], password_hash: str, now: datetime
) -> tuple[list[dict[str, object]], list[DemoLogin]]:
    rows: list[dict[str, object]] = []

    def add(username: str, name: str, role: Role, where: str, **extra: object) -> None:
        rows.append(
            {
                "username": username,
                "display_name": name,
                "role": role.value,
                "jurisdiction": where,
                "password_hash": password_hash,
                "disabled": False,
                "synthetic": True,
                "created_at": now,
                "department_id": extra.get("department_id"),
                "grid_code": extra.get("grid_code"),
            }
        )

    root = city.units[0].unit
    add("admin", "系统管理员（模拟）", Role.ADMIN, root.path)
    add("auditor", "审计员（模拟）", Role.AUDITOR, root.path)
    for u in city.units:
        if u.unit.level in (UnitLevel.CITY, UnitLevel.DISTRICT, UnitLevel.TOWN):
            add(f"cmd.{u.unit.code}", f"{u.unit.name}指挥长（模拟）", Role.COMMANDER, u.unit.path)
            add(f"op.{u.unit.code}", f"{u.unit.name}坐席员（模拟）", Role.OPERATOR, u.unit.path)
        elif u.unit.level is UnitLevel.GRID:
            add(
                f"gw.{u.unit.code}",
                f"网格员{u.unit.code[-6:]}（模拟）",
                Role.GRID_WORKER,
                u.unit.path,
                grid_code=u.unit.code,
            )
    for d in depts:
        add(
            f"h.{d['id']}",
            f"{d['name']}处置员（模拟）",
            Role.HANDLER,
            d["unit_path"],
            department_id=d["id"],
        )
    for i in range(1, 51):
        add(f"citizen{i:02d}", f"市民{i:02d}（模拟）", Role.CITIZEN, root.path)

    district = city.at_level(UnitLevel.DISTRICT)[0]
    town = city.children(district.unit.path)[0]
    grid = next(g for g in city.at_level(UnitLevel.GRID) if g.unit.path.startswith(town.unit.path))
    logins = [
        DemoLogin("admin", Role.ADMIN.value, root.name),
        DemoLogin("auditor", Role.AUDITOR.value, root.name),
        DemoLogin(f"cmd.{root.code}", Role.COMMANDER.value, root.name),
        DemoLogin(f"op.{root.code}", Role.OPERATOR.value, root.name),
        DemoLogin(f"cmd.{district.unit.code}", Role.COMMANDER.value, district.unit.name),
        DemoLogin(f"op.{town.unit.code}", Role.OPERATOR.value, town.unit.name),
        DemoLogin(f"h.{district.unit.code}-cgj", Role.HANDLER.value, f"{district.unit.name}城管"),
        DemoLogin(
            f"gw.{grid.unit.code}", Role.GRID_WORKER.value, f"{town.unit.name} {grid.unit.name}"
        ),
        DemoLogin("citizen01", Role.CITIZEN.value, root.name),
    ]
    return rows, logins


@dataclass
class _People:
    by_username: dict[str, Actor]
    by_id: dict[int, Actor]

    @classmethod
    def load(cls, uow: UnitOfWork, city: DemoCity) -> _People:
        actors = [u.actor() for u in uow.users.in_scope("", limit=1_000_000)]
        return cls({a.username: a for a in actors}, {a.user_id: a for a in actors})

    def get(self, username: str) -> Actor:
        return self.by_username[username]


# Relative frequency of categories in the history (common street issues dominate).
_WEIGHTS = {
    "E01": 6,
    "E02": 2,
    "E03": 2,
    "E04": 1,
    "E05": 5,
    "E06": 2,
    "P01": 2,
    "P02": 1,
    "P03": 1,
    "P04": 1,
    "P05": 0.5,
    "P06": 0.5,
    "S01": 2,
    "S02": 2.5,
    "S03": 1,
    "S04": 0.2,
    "S05": 0.8,
    "S06": 0.8,
    "S07": 0.6,
    "S08": 0.6,
    "S09": 0.4,
}

_DESCRIPTIONS = (
    "巡查发现{cat}，位于{place}，请尽快处置。（模拟数据）",
    "居民反映{place}附近存在{cat}问题，已持续数日。（模拟数据）",
    "{place}{cat}，影响周边群众生活，请相关部门核实处理。（模拟数据）",
)


_LANDMARKS = (
    "小区门口", "菜市场旁边", "公交站", "学校后门", "河边", "超市门口", "十字路口", "停车场",
    "社区服务中心", "幼儿园对面", "老街", "桥头", "健身广场", "医院附近", "我家楼下",
)  # fmt: skip


class _History:
    """Cases over the past weeks, each moved through the loop by the actors the rules require."""

    def __init__(
        self,
        rng: random.Random,
        city: DemoCity,
        people: _People,
        env: Env,
        weeks: int,
        per_day: int,
        photos: list[tuple[str, str]],
    ) -> None:
        self.photos = photos
        self.rng = rng
        self.words = random.Random("demo-phrasing")  # its own stream: the history is unchanged
        self.city = city
        self.people = people
        self.env = env
        self.end = env.now()
        self.start = self.end - timedelta(weeks=weeks)
        self.planned = weeks * 7 * per_day
        self.grids = city.at_level(UnitLevel.GRID)
        cats = list(CATEGORIES.values())
        self.categories = cats
        self.weights = [_WEIGHTS.get(c.major_code, 1.0) for c in cats]
        urban = {"330402": 3.0, "330411": 2.0}
        self.grid_weights = [urban.get(g.unit.path.split(".")[1], 1.0) for g in self.grids]

    def run(self, uow: UnitOfWork) -> list[Case]:
        made: list[Case] = []
        span = (self.end - self.start).total_seconds()
        times = sorted(self.rng.random() ** 0.8 for _ in range(self.planned))
        for frac in times:
            at = self.start + timedelta(seconds=span * frac)
            made.append(self._one(uow, at))
        return made

    def _one(self, uow: UnitOfWork, at: datetime) -> Case:
        rng = self.rng
        cat: Category = rng.choices(self.categories, self.weights)[0]
        grid: DemoUnit = rng.choices(self.grids, self.grid_weights)[0]
        lng, lat = _inside(grid, rng)
        town = self.city.get(owner_of(grid.unit.path))
        channel = rng.choices(["grid_worker", "citizen", "hotline"], [45, 35, 20])[0]
        reporter = {
            "grid_worker": f"gw.{grid.unit.code}",
            "citizen": f"citizen{rng.randint(1, 50):02d}",
            "hotline": f"op.{town.unit.code}",
        }[channel]
        urgency = rng.choices(list(Urgency), [85, 12, 3])[0]
        case = Case.report(
            self.people.get(reporter),
            at,
            id=0,
            tracking_no=f"{at:%Y%m%d}{rng.getrandbits(24):06X}",
            category_code=cat.code,
            urgency=urgency,
            title=f"{town.unit.name}{cat.name}",
            description=self._describe(
                rng.choice(_DESCRIPTIONS), cat, f"{town.unit.name}{grid.unit.name}"
            ),
            lng=lng,
            lat=lat,
            grid_code=grid.unit.code,
            location_path=grid.unit.path,
            owner_path=town.unit.path,
            channel=channel,
        )
        uow.cases.add(case)
        stored_version = case.version
        last = self._walk(uow, case, at, town.unit.code, grid.unit.code)
        if case.is_open:
            clock = self.env.clock
            self.env.clock = lambda: last  # the clock starts where the history stopped
            sync_deadline(uow, case, self.env)
            self.env.clock = clock
        uow.cases.save(case, stored_version)
        return case

    def _describe(self, template: str, cat: Category, place: str) -> str:
        """Most reports in people's own words where the phrase bank has some, else the template.
        A separate generator picks them, so the rest of the history stays as it was."""
        own = PHRASINGS.get(cat.code)
        if own and self.words.random() < 0.8:
            landmark = self.words.choice(_LANDMARKS)
            return self.words.choice(own).format(p=landmark) + "（模拟数据）"
        return template.format(cat=cat.name, place=place)

    def _walk(self, uow: UnitOfWork, case: Case, at: datetime, town: str, grid: str) -> datetime:
        rng = self.rng
        operator = self.people.get(f"op.{town}")
        worker = self.people.get(f"gw.{grid}")
        t = at

        def step(action: Action, actor: Actor, minutes: tuple[float, float], **kw: object) -> bool:
            nonlocal t
            nxt = t + timedelta(minutes=rng.uniform(*minutes))
            if nxt > self.end:
                return False
            t = nxt
            if kw.pop("photo", False):
                kw["photo_ids"] = (self._photo(uow, case, actor, t),)
            case.apply(Command(action, **kw), actor, t)  # type: ignore[arg-type]
            return True

        if rng.random() < 0.05:
            step(Action.REJECT, operator, (5, 60), reason="不属于受理范围（模拟）")
            return t
        if not step(Action.FILE, operator, (3, 50)):
            return t
        suggestion = suggest(uow, case.category_code, case.location_path)
        if suggestion is None:
            return t
        handler = self.people.get(f"h.{suggestion.department_id}")
        if not step(Action.DISPATCH, operator, (2, 40), department_id=suggestion.department_id):
            return t
        if rng.random() < 0.02:
            step(
                Action.SUPERVISE,
                self.people.get(f"cmd.{town}"),
                (30, 300),
                note="请加快办理（模拟）",
            )
        if not step(Action.ACCEPT, handler, (5, 180)):
            return t
        for attempt in range(3):
            if not step(Action.HANDLE, handler, (60, 2400), note="已处置完毕（模拟）", photo=True):
                return t
            passed = attempt > 0 or rng.random() > 0.1
            if not step(
                Action.VERIFY,
                worker,
                (30, 360),
                passed=passed,
                note="现场核查（模拟）",
                photo=passed,
            ):
                return t
            if passed:
                break
        if not step(Action.CLOSE, operator, (10, 180)):
            return t
        if case.channel == "citizen" and rng.random() < 0.7:
            reporter = self.people.by_id[case.reporter_id]
            step(
                Action.EVALUATE,
                reporter,
                (60, 2880),
                satisfaction=rng.choices([5, 4, 3, 2, 1], [60, 25, 8, 4, 3])[0],
            )
        elif rng.random() < 0.5:
            step(
                Action.EVALUATE,
                operator,
                (120, 2880),
                satisfaction=rng.choices([5, 4, 3, 2], [65, 25, 7, 3])[0],
                note="电话回访（模拟）",
            )
        return t

    def _photo(self, uow: UnitOfWork, case: Case, actor: Actor, at: datetime) -> int:
        sha, key = self.rng.choice(self.photos)
        return int(
            uow.attachments.add(
                sha256=sha,
                content_type="image/png",
                size=0,
                filename="synthetic-evidence.png",
                storage_key=key,
                uploaded_by=actor.user_id,
                case_id=case.id,
                created_at=at,
            )
        )


def _inside(grid: DemoUnit, rng: random.Random) -> tuple[float, float]:
    minx, miny, maxx, maxy = shapely.bounds(grid.geometry).tolist()
    for _ in range(50):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if grid.geometry.contains(shapely.Point(x, y)):
            return x, y
    return grid.lng, grid.lat


def demo_logins_from_db(uow: UnitOfWork) -> list[DemoLogin]:
    """The same sample of accounts `seed` prints, found again in an already seeded database."""
    wanted = [
        Role.ADMIN,
        Role.AUDITOR,
        Role.COMMANDER,
        Role.OPERATOR,
        Role.HANDLER,
        Role.GRID_WORKER,
        Role.CITIZEN,
    ]
    out = []
    for role in wanted:
        users = uow.users.in_scope("", role=role, limit=1)
        if users:
            out.append(DemoLogin(users[0].username, role.value, users[0].jurisdiction))
    return out
