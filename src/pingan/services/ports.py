"""What services need from the outside world, as protocols; adapters provide them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol

from pingan.domain.access import Actor
from pingan.domain.events import DomainEvent
from pingan.domain.sla import WorkCalendar


class UnitOfWork(Protocol):
    """One transaction with its repositories (see adapters/db/uow.py for the SQL one)."""

    actor: Actor
    cases: Any
    units: Any
    departments: Any
    users: Any
    deadlines: Any
    outbox: Any
    inbox: Any
    idempotency: Any
    attachments: Any
    dispatch_rules: Any
    notifications: Any
    calendar: Any
    devices: Any
    facilities: Any
    readings: Any
    alarms: Any
    rejections: Any
    open311: Any
    patrols: Any
    contacts: Any
    audit: Any
    hotline: Any
    calls: Any
    webhooks: Any
    case_imports: Any

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def emit(self, event: DomainEvent) -> None: ...
    def discard_events(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(
        self, actor: Actor = ..., *, readonly: bool = False, snapshot: bool = False
    ) -> UnitOfWork: ...


class Locator(Protocol):
    """Places a WGS-84 point in its grid; returns the grid's path or None outside every grid."""

    def locate(self, lng: float, lat: float) -> str | None: ...


class Broadcast(Protocol):
    """Fan-out to every API process, kept nowhere: what one process's WebSocket connections must
    hear from another (call signalling, presence, live positions). A message sent while a process
    is away is not replayed; the durable news travels through the outbox instead."""

    def broadcast(self, message: dict[str, Any]) -> None: ...
    def on_broadcast(self, handler: Callable[[dict[str, Any]], None]) -> None: ...


class EventBus(Broadcast, Protocol):
    """Carries committed events from the outbox relay to consumers.

    `publish` returns once the bus has accepted the event (durably, for a durable bus) and raises
    `DeliveryFailed` otherwise, so the relay keeps it in the outbox. A durable consumer resumes
    where it left off after a restart; a non-durable one (per-process, e.g. browser push) sees only
    what arrives while it is subscribed. Delivery is at least once: consumers are idempotent.
    It is also the `Broadcast` channel between API processes (in-process: to itself).
    """

    def publish(self, event: DomainEvent) -> None: ...
    def subscribe(
        self, consumer: str, handler: Callable[[DomainEvent], None], *, durable: bool = True
    ) -> None: ...
    def close(self) -> None: ...


class TrackingNoTaken(Exception):
    """A new case's tracking number is already another case's; nothing was written."""


class DeliveryFailed(Exception):
    """The bus did not accept an event (or a consumer failed on it); try again later."""

    def __init__(self, event_id: str, reason: str) -> None:
        super().__init__(f"event {event_id} not delivered: {reason}")
        self.event_id = event_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Which cases a list asks for; repositories add the reader's jurisdiction on top."""

    states: tuple[str, ...] = ()
    category: str | None = None
    unit_path: str | None = None
    department_id: str | None = None
    overdue: bool | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None
    q: str | None = None


def utc_now() -> datetime:
    return datetime.now(UTC)


class Clock(Protocol):
    """What tells the time, for use cases that need nothing else of `Env` (which is one)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time, for a one-off command that has no `Env`."""

    def now(self) -> datetime:
        return utc_now()


@dataclass
class Env:
    """The clock, the working calendar and the grid locator, injected so tests control them."""

    calendar: WorkCalendar
    locator: Locator
    clock: Callable[[], datetime] = field(default=utc_now)

    def now(self) -> datetime:
        return self.clock()
