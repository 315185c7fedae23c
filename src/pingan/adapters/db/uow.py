"""The unit of work: one database transaction, its repositories, and the events it will publish.

Events collected from aggregates are written to the outbox inside the same transaction just before
commit, so a change and the news of it are stored together or not at all. A reader (`readonly`)
cannot commit or write; on PostgreSQL it runs without a transaction (see `_read_options`) unless
it asks for a `snapshot`.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from pingan.adapters.db.addresses import AddressRepository
from pingan.adapters.db.audit import AuditRepository
from pingan.adapters.db.calls import CallRepository
from pingan.adapters.db.case_imports import CaseImportRepository
from pingan.adapters.db.case_texts import CaseTextRepository
from pingan.adapters.db.cases import CaseRepository
from pingan.adapters.db.contacts import ContactRepository
from pingan.adapters.db.deadlines import DeadlineRepository
from pingan.adapters.db.engine import READONLY, is_sqlite, writer_lock
from pingan.adapters.db.hotline import HotlineRepository
from pingan.adapters.db.iot import (
    AlarmRepository,
    DeviceRepository,
    FacilityRepository,
    ReadingRepository,
    RejectionRepository,
)
from pingan.adapters.db.open311 import Open311Repository
from pingan.adapters.db.outbox import InboxRepository, OutboxRepository
from pingan.adapters.db.patrols import PatrolRepository
from pingan.adapters.db.people import UserRepository
from pingan.adapters.db.places import DepartmentRepository, UnitRepository
from pingan.adapters.db.records import (
    AttachmentRepository,
    CalendarRepository,
    DispatchRuleRepository,
    IdempotencyRepository,
    NotificationRepository,
)
from pingan.adapters.db.webhooks import WebhookRepository
from pingan.domain.access import SYSTEM_ACTOR, Actor, Role
from pingan.domain.errors import Conflict
from pingan.domain.events import DomainEvent


class SqlUnitOfWork:
    """`with uows(actor) as uow: ...; uow.commit()`; leaving a writer without commit rolls back."""

    cases: CaseRepository
    units: UnitRepository
    departments: DepartmentRepository
    users: UserRepository
    deadlines: DeadlineRepository
    outbox: OutboxRepository
    inbox: InboxRepository
    idempotency: IdempotencyRepository
    attachments: AttachmentRepository
    dispatch_rules: DispatchRuleRepository
    notifications: NotificationRepository
    calendar: CalendarRepository
    devices: DeviceRepository
    facilities: FacilityRepository
    readings: ReadingRepository
    alarms: AlarmRepository
    rejections: RejectionRepository
    open311: Open311Repository
    patrols: PatrolRepository
    contacts: ContactRepository
    audit: AuditRepository
    hotline: HotlineRepository
    calls: CallRepository
    webhooks: WebhookRepository
    case_imports: CaseImportRepository
    case_texts: CaseTextRepository
    addresses: AddressRepository

    def __init__(
        self,
        engine: Engine,
        actor: Actor = SYSTEM_ACTOR,
        *,
        readonly: bool = False,
        snapshot: bool = False,
        on_commit: Callable[[list[DomainEvent]], None] | None = None,
    ) -> None:
        self.engine = engine
        self.actor = actor
        self.readonly = readonly or snapshot
        self.snapshot = snapshot
        self.events: list[DomainEvent] = []
        self._on_commit = on_commit
        self._conn: Connection | None = None
        self._lock = None if self.readonly else writer_lock(engine)
        self._locked = False

    def __enter__(self) -> SqlUnitOfWork:
        if self._lock is not None:
            self._locked = self._lock.acquire(timeout=60)
        conn = self.engine.connect()
        if self.readonly:
            conn = conn.execution_options(**_read_options(self.engine, self.snapshot))
        self._conn = conn
        conn.begin()
        self.cases = CaseRepository(conn, self.actor, self.events)
        self.units = UnitRepository(conn)
        self.departments = DepartmentRepository(conn)
        self.users = UserRepository(conn)
        self.deadlines = DeadlineRepository(conn)
        self.outbox = OutboxRepository(conn)
        self.inbox = InboxRepository(conn)
        self.idempotency = IdempotencyRepository(conn)
        self.attachments = AttachmentRepository(conn)
        self.dispatch_rules = DispatchRuleRepository(conn)
        self.notifications = NotificationRepository(conn)
        self.calendar = CalendarRepository(conn)
        self.open311 = Open311Repository(conn)
        self.patrols = PatrolRepository(conn)
        self.contacts = ContactRepository(conn)
        self.audit = AuditRepository(conn)
        self.hotline = HotlineRepository(conn)
        self.calls = CallRepository(conn)
        self.webhooks = WebhookRepository(conn)
        self.case_imports = CaseImportRepository(conn)
        self.case_texts = CaseTextRepository(conn)
        self.addresses = AddressRepository(conn)
        scope = "" if self.actor.role is Role.SYSTEM else self.actor.jurisdiction
        self.devices = DeviceRepository(conn, scope)
        self.facilities = FacilityRepository(conn, scope)
        self.readings = ReadingRepository(conn)
        self.alarms = AlarmRepository(conn, scope)
        self.rejections = RejectionRepository(conn)
        return self

    @property
    def connection(self) -> Connection:
        assert self._conn is not None, "unit of work not entered"
        return self._conn

    def emit(self, event: DomainEvent) -> None:
        self.events.append(event)

    def discard_events(self) -> None:
        """Commit without publishing what was collected (imported history is not news)."""
        self.events.clear()

    def commit(self) -> None:
        # A reader runs without a transaction on PostgreSQL: a write there would not be atomic.
        if self.readonly:
            raise RuntimeError("a read-only unit of work cannot commit")
        conn = self.connection
        published = list(self.events)
        try:
            self.outbox.append(published)
            conn.commit()
        except IntegrityError:
            conn.rollback()
            raise Conflict("db.conflict") from None
        self.events.clear()
        if self._on_commit and published:
            self._on_commit(published)

    def rollback(self) -> None:
        self.connection.rollback()
        self.events.clear()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        try:
            if conn is not None:
                try:
                    if conn.in_transaction():
                        conn.rollback()
                finally:
                    conn.close()
                    self._conn = None
        finally:
            if self._locked and self._lock is not None:
                self._lock.release()
                self._locked = False


def _read_options(engine: Engine, snapshot: bool) -> dict[str, Any]:
    """PostgreSQL reads run in autocommit: at READ COMMITTED each statement takes its own
    snapshot inside a transaction too, so BEGIN and ROLLBACK were two round trips that bought
    nothing. A `snapshot` reader gets a REPEATABLE READ transaction instead: for reads whose
    statements must agree with each other (the audit chain and its head) and for server-side
    cursors, which PostgreSQL opens only inside a transaction. SQLite keeps its deferred
    transaction: it is local, and already one snapshot for the whole read."""
    if is_sqlite(engine):
        return {READONLY: True}
    if snapshot:
        return {READONLY: True, "isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    return {READONLY: True, "isolation_level": "AUTOCOMMIT"}


class UnitOfWorkFactory:
    """Makes units of work bound to one engine; the API and workers share one factory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._listeners: list[Callable[[list[DomainEvent]], None]] = []

    def __call__(
        self, actor: Actor = SYSTEM_ACTOR, *, readonly: bool = False, snapshot: bool = False
    ) -> SqlUnitOfWork:
        """`readonly`: a reader (no commit); `snapshot`: a reader that sees one point in time."""
        return SqlUnitOfWork(
            self.engine, actor, readonly=readonly, snapshot=snapshot, on_commit=self._notify
        )

    def on_commit(self, listener: Callable[[list[DomainEvent]], None]) -> None:
        """Called after a commit that wrote events; the relay uses it to wake up at once."""
        self._listeners.append(listener)

    def _notify(self, events: list[DomainEvent]) -> None:
        for listener in self._listeners:
            listener(events)
