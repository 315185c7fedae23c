"""Repository of video calls: loads and saves the `Call` aggregate with its parties, and reads
the call log of a case or of a user with the names shown in it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update

from pingan.adapters.db.call_tables import call_parties, calls
from pingan.adapters.db.tables import users
from pingan.domain.calls import Call, CallState, Outcome, Party, PartyState


@dataclass(frozen=True, slots=True)
class PartyView:
    user_id: int
    display_name: str
    role: str
    state: str
    joined_at: datetime | None
    left_at: datetime | None


@dataclass(frozen=True, slots=True)
class CallView:
    """A call as the log shows it: the aggregate plus the names of the people in it."""

    call: Call
    host_name: str
    parties: list[PartyView]
    recording_id: int | None = None


class CallRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, call: Call) -> int:
        call.id = int(
            self.conn.execute(
                insert(calls).values(**_call_values(call)).returning(calls.c.id)
            ).scalar_one()
        )
        self._write_parties(call)
        return call.id

    def get(self, call_id: int, *, for_update: bool = False) -> Call | None:
        query = select(calls).where(calls.c.id == call_id)
        if for_update:
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return self._calls([row])[0] if row else None

    def save(self, call: Call) -> None:
        call.version += 1
        self.conn.execute(
            update(calls)
            .where(calls.c.id == call.id)
            .values(**_call_values(call), version=call.version)
        )
        self.conn.execute(delete(call_parties).where(call_parties.c.call_id == call.id))
        self._write_parties(call)

    def set_recording(self, call_id: int, attachment_id: int) -> None:
        self.conn.execute(
            update(calls)
            .where(calls.c.id == call_id)
            .values(recording_id=attachment_id, version=calls.c.version + 1)
        )

    def live(self) -> list[Call]:
        """Calls still ringing or active, for the ring timer after a restart."""
        rows = self.conn.execute(select(calls).where(calls.c.state != CallState.ENDED.value))
        return self._calls(list(rows))

    def log(
        self, *, case_id: int | None = None, user_id: int | None = None, limit: int = 50
    ) -> list[CallView]:
        """Newest first: the calls about a case, or those a user hosted or was invited to."""
        query = select(calls).order_by(calls.c.created_at.desc(), calls.c.id.desc())
        if case_id is not None:
            query = query.where(calls.c.case_id == case_id)
        if user_id is not None:
            mine = select(call_parties.c.call_id).where(call_parties.c.user_id == user_id)
            query = query.where(or_(calls.c.host_id == user_id, calls.c.id.in_(mine)))
        return self._views(list(self.conn.execute(query.limit(limit))))

    def view(self, call_id: int) -> CallView | None:
        row = self.conn.execute(select(calls).where(calls.c.id == call_id)).first()
        return self._views([row])[0] if row else None

    def _calls(self, rows: Sequence[Any]) -> list[Call]:
        """The calls of these rows, their parties read in one query for all of them."""
        parties: dict[int, list[Any]] = defaultdict(list)
        if rows:
            ids = [r.id for r in rows]
            for p in self.conn.execute(select(call_parties).where(call_parties.c.call_id.in_(ids))):
                parties[p.call_id].append(p)
        return [_call(row, parties[row.id]) for row in rows]

    def _views(self, rows: Sequence[Any]) -> list[CallView]:
        """The calls of these rows as the log shows them: two queries (parties, then the names of
        everyone in them) however many calls there are."""
        found = self._calls(rows)
        wanted = {c.host_id for c in found} | {u for c in found for u in c.parties}
        people = (
            {
                r.id: r
                for r in self.conn.execute(
                    select(users.c.id, users.c.display_name, users.c.role).where(
                        users.c.id.in_(wanted)
                    )
                )
            }
            if wanted
            else {}
        )
        return [
            _view(call, row.recording_id, people) for call, row in zip(found, rows, strict=True)
        ]

    def contact(self, user_id: int) -> Contact | None:
        row = self.conn.execute(select(users).where(users.c.id == user_id)).first()
        return _contact(row) if row else None

    def contacts_for(self, grid_code: str, department_id: str | None) -> list[Contact]:
        """The people a case concerns: its grid's workers and its department's handlers."""
        return _contacts_for(self.conn, grid_code, department_id)

    def _write_parties(self, call: Call) -> None:
        self.conn.execute(
            insert(call_parties),
            [
                {
                    "call_id": call.id,
                    "user_id": p.user_id,
                    "state": p.state.value,
                    "invited_at": p.invited_at,
                    "joined_at": p.joined_at,
                    "left_at": p.left_at,
                }
                for p in call.parties.values()
            ],
        )


def _call_values(call: Call) -> dict[str, Any]:
    return {
        "host_id": call.host_id,
        "unit_path": call.unit_path,
        "case_id": call.case_id,
        "state": call.state.value,
        "outcome": call.outcome.value if call.outcome else None,
        "created_at": call.created_at,
        "connected_at": call.connected_at,
        "ended_at": call.ended_at,
    }


def _view(call: Call, recording_id: int | None, people: dict[int, Any]) -> CallView:
    def named(user_id: int) -> tuple[str, str]:
        person = people.get(user_id)
        return (person.display_name, person.role) if person else ("", "")

    parties = [
        PartyView(p.user_id, *named(p.user_id), p.state.value, p.joined_at, p.left_at)
        for p in sorted(call.parties.values(), key=lambda p: (p.invited_at, p.user_id))
    ]
    return CallView(call, named(call.host_id)[0], parties, recording_id)


def _call(row: Any, party_rows: Any) -> Call:
    call = Call(
        id=row.id,
        host_id=row.host_id,
        unit_path=row.unit_path,
        created_at=row.created_at,
        case_id=row.case_id,
        state=CallState(row.state),
        outcome=Outcome(row.outcome) if row.outcome else None,
        connected_at=row.connected_at,
        ended_at=row.ended_at,
        version=row.version,
    )
    for p in party_rows:
        call.parties[p.user_id] = Party(
            p.user_id, PartyState(p.state), p.invited_at, p.joined_at, p.left_at
        )
    return call


@dataclass(frozen=True, slots=True)
class Contact:
    user_id: int
    username: str
    display_name: str
    role: str
    jurisdiction: str
    grid_code: str | None
    department_id: str | None
    disabled: bool


def _contacts_for(conn: Connection, grid_code: str, department_id: str | None) -> list[Contact]:
    who = users.c.grid_code == grid_code
    if department_id is not None:
        who = or_(who, users.c.department_id == department_id)
    rows = conn.execute(
        select(users)
        .where(who, users.c.role.in_(("grid_worker", "handler")), users.c.disabled.is_(False))
        .order_by(users.c.role.desc(), users.c.id)
        .limit(20)
    )
    return [_contact(r) for r in rows]


def _contact(r: Any) -> Contact:
    return Contact(
        r.id,
        r.username,
        r.display_name,
        r.role,
        r.jurisdiction,
        r.grid_code,
        r.department_id,
        bool(r.disabled),
    )
