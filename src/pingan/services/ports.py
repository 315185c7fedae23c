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


class UnitOfWorkFactory(Protocol):
    def __call__(self, actor: Actor = ..., *, readonly: bool = False) -> UnitOfWork: ...


class Locator(Protocol):
    """Places a WGS-84 point in its grid; returns the grid's path or None outside every grid."""

    def locate(self, lng: float, lat: float) -> str | None: ...


class EventBus(Protocol):
    def publish(self, event: DomainEvent) -> None: ...
    def subscribe(self, consumer: str, handler: Callable[[DomainEvent], None]) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Env:
    """The clock, the working calendar and the grid locator, injected so tests control them."""

    calendar: WorkCalendar
    locator: Locator
    clock: Callable[[], datetime] = field(default=utc_now)

    def now(self) -> datetime:
        return self.clock()
