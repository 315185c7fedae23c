"""Key rotation: re-encrypt every sealed value under the active key, batch by batch.

Each batch commits on its own, and values already under the active key are skipped, so a rotation
that is interrupted simply resumes when run again. Once `key_usage` shows no value under an old
key id, that key can be removed from `PINGAN_DATA_KEYS`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pingan.domain.access import SYSTEM_ACTOR, Actor
from pingan.domain.audit import Action
from pingan.services.ports import Clock, UnitOfWorkFactory

Progress = Callable[[str, int, int], None]  # column, done, total


class Rotator(Protocol):
    active: str

    def rotate(self, stored: str, context: str) -> str: ...
    def key_id(self, stored: str) -> str: ...


class Indexer(Protocol):
    def decrypt(self, stored: str, context: str) -> str: ...
    def blind_index(self, value: str, context: str) -> str: ...


@dataclass
class RotationReport:
    active: str
    rewritten: int = 0
    already_current: int = 0
    columns: dict[str, int] = field(default_factory=dict)


def _noop(_column: str, _done: int, _total: int) -> None:
    return None


def key_usage(uows: UnitOfWorkFactory, rotator: Rotator) -> dict[str, Counter[str]]:
    """How many values each key id protects, per encrypted column."""
    usage: dict[str, Counter[str]] = {}
    with uows(readonly=True) as uow:
        for column in uow.contacts.sealed_columns():
            counts: Counter[str] = Counter()
            after: Any = None
            while rows := column.batch(after, 1000):
                counts.update(rotator.key_id(value) for _key, value in rows)
                after = rows[-1][0]
            usage[column.name] = counts
    return usage


def rotate_keys(
    uows: UnitOfWorkFactory,
    rotator: Rotator,
    clock: Clock,
    *,
    actor: Actor = SYSTEM_ACTOR,
    batch: int = 200,
    progress: Progress = _noop,
) -> RotationReport:
    """Re-encrypt every value not yet under `rotator.active`; idempotent and resumable."""
    report = RotationReport(active=rotator.active)
    with uows(readonly=True) as uow:
        columns = [(c.name, c.count()) for c in uow.contacts.sealed_columns()]
    for index, (name, total) in enumerate(columns):
        done, rewritten, after = 0, 0, None
        progress(name, 0, total)
        while True:
            with uows(actor) as uow:
                column = uow.contacts.sealed_columns()[index]
                rows = column.batch(after, batch)
                for key, value in rows:
                    if rotator.key_id(value) == rotator.active:
                        report.already_current += 1
                    elif column.rewrite(key, value, rotator.rotate(value, column.context)):
                        rewritten += 1
                uow.commit()
            if not rows:
                break
            after = rows[-1][0]
            done += len(rows)
            progress(name, min(done, total), total)
        report.columns[name] = rewritten
        report.rewritten += rewritten
    with uows(actor) as uow:
        uow.audit.append(
            actor,
            Action.KEYS_ROTATED,
            clock.now(),
            rotator.active,
            {"rewritten": report.rewritten, "columns": report.columns},
        )
        uow.commit()
    return report


def reindex(
    uows: UnitOfWorkFactory,
    indexer: Indexer,
    clock: Clock,
    *,
    actor: Actor = SYSTEM_ACTOR,
    batch: int = 200,
    progress: Progress = _noop,
) -> int:
    """Recompute every blind index under the keyring's index key (after it was changed).

    Until it finishes, lookups by phone or identity number miss rows not yet re-keyed; like
    rotation it commits per batch, skips rows already right, and can simply be run again.
    """
    changed = 0
    with uows(readonly=True) as uow:
        columns = [(c.name, c.count()) for c in uow.contacts.indexed_columns()]
    for position, (name, total) in enumerate(columns):
        done, after = 0, None
        progress(name, 0, total)
        while True:
            with uows(actor) as uow:
                column = uow.contacts.indexed_columns()[position]
                rows = column.batch(after, batch)
                for key, sealed, index in rows:
                    fresh = indexer.blind_index(
                        indexer.decrypt(sealed, column.context), column.context
                    )
                    if fresh != index and column.rewrite(key, sealed, fresh):
                        changed += 1
                uow.commit()
            if not rows:
                break
            after = rows[-1][0]
            done += len(rows)
            progress(name, min(done, total), total)
    with uows(actor) as uow:
        uow.audit.append(actor, Action.KEYS_REINDEXED, clock.now(), "index", {"rewritten": changed})
        uow.commit()
    return changed
