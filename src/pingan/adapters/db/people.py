"""Users, login attempts, revoked tokens and second factors."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, delete, func, insert, select, update

from pingan.adapters.db.scope import within
from pingan.adapters.db.tables import login_attempts, revoked_tokens, user_totp, users
from pingan.domain.access import Actor, Role


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    role: Role
    jurisdiction: str
    department_id: str | None
    grid_code: str | None
    password_hash: str
    disabled: bool
    synthetic: bool

    def actor(self) -> Actor:
        return Actor(
            user_id=self.id,
            username=self.username,
            role=self.role,
            jurisdiction=self.jurisdiction,
            department_id=self.department_id,
            grid_code=self.grid_code,
        )


@dataclass(frozen=True, slots=True)
class TotpRecord:
    user_id: int
    secret_enc: str
    confirmed_at: datetime | None
    last_step: int | None


T = TypeVar("T")
CHUNK = 1000  # values per IN (…), well below what SQLite and PostgreSQL accept


def _chunks(values: Sequence[T]) -> list[Sequence[T]]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


def _user(row: Any) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        jurisdiction=row.jurisdiction,
        department_id=row.department_id,
        grid_code=row.grid_code,
        password_hash=row.password_hash,
        disabled=bool(row.disabled),
        synthetic=bool(row.synthetic),
    )


class UserRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, user_id: int) -> User | None:
        row = self.conn.execute(select(users).where(users.c.id == user_id)).first()
        return _user(row) if row else None

    def by_username(self, username: str) -> User | None:
        row = self.conn.execute(select(users).where(users.c.username == username)).first()
        return _user(row) if row else None

    def add(self, **values: Any) -> int:
        return int(
            self.conn.execute(insert(users).values(**values).returning(users.c.id)).scalar_one()
        )

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(users), rows)

    def set_password(self, user_id: int, password_hash: str) -> None:
        self.conn.execute(
            update(users).where(users.c.id == user_id).values(password_hash=password_hash)
        )

    def in_scope(self, scope: str, role: Role | None = None, limit: int = 200) -> list[User]:
        stmt = select(users).where(within(users.c.jurisdiction, scope)).order_by(users.c.id)
        if role is not None:
            stmt = stmt.where(users.c.role == role.value)
        return [_user(r) for r in self.conn.execute(stmt.limit(limit))]

    def ids_by_username(self) -> dict[str, int]:
        return {r.username: r.id for r in self.conn.execute(select(users.c.username, users.c.id))}

    def count(self) -> int:
        """People with accounts (the platform's own `system` account is not one)."""
        return int(
            self.conn.execute(
                select(func.count()).select_from(users).where(users.c.role != Role.SYSTEM.value)
            ).scalar_one()
        )

    def record_attempt(self, username: str, client: str, ok: bool, now: datetime) -> None:
        self.conn.execute(
            insert(login_attempts).values(username=username, client=client, ok=ok, at=now)
        )

    def recent_failures(self, username: str, client: str, since: datetime) -> int:
        """Failures for this account and client since the window opened or the last success."""
        last_ok = self.conn.execute(
            select(func.max(login_attempts.c.at)).where(
                login_attempts.c.username == username,
                login_attempts.c.client == client,
                login_attempts.c.ok.is_(True),
            )
        ).scalar_one_or_none()
        start = max(since, last_ok) if last_ok else since
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(login_attempts)
                .where(
                    login_attempts.c.username == username,
                    login_attempts.c.client == client,
                    login_attempts.c.ok.is_(False),
                    login_attempts.c.at > start,
                )
            ).scalar_one()
        )

    def set_disabled(self, user_id: int, disabled: bool) -> None:
        self.conn.execute(update(users).where(users.c.id == user_id).values(disabled=disabled))

    def revoke_token(self, jti: str, user_id: int, expires_at: datetime, now: datetime) -> None:
        """Deny this token from now on; expired entries are pruned as new ones arrive."""
        self.conn.execute(delete(revoked_tokens).where(revoked_tokens.c.expires_at < now))
        if not self.is_revoked(jti):
            self.conn.execute(
                insert(revoked_tokens).values(
                    jti=jti, user_id=user_id, expires_at=expires_at, revoked_at=now
                )
            )

    def signed_in(self, user_id: int, jti: str) -> User | None:
        """The user a token names, or None when there is no such user or the token was revoked:
        one query, since every authenticated request asks it."""
        revoked = select(revoked_tokens.c.jti).where(revoked_tokens.c.jti == jti).exists()
        row = self.conn.execute(select(users).where(users.c.id == user_id, ~revoked)).first()
        return _user(row) if row else None

    def is_revoked(self, jti: str) -> bool:
        return (
            self.conn.execute(
                select(revoked_tokens.c.jti).where(revoked_tokens.c.jti == jti)
            ).first()
            is not None
        )

    def enabled_among(self, user_ids: Collection[int]) -> set[int]:
        """Which of these users exist and are not disabled."""
        found: set[int] = set()
        for chunk in _chunks(sorted(user_ids)):
            found.update(
                self.conn.execute(
                    select(users.c.id).where(users.c.id.in_(chunk), users.c.disabled.is_(False))
                ).scalars()
            )
        return found

    def revoked_among(self, jtis: Collection[str]) -> set[str]:
        """Which of these tokens were revoked."""
        found: set[str] = set()
        for chunk in _chunks(sorted(jtis)):
            found.update(
                self.conn.execute(
                    select(revoked_tokens.c.jti).where(revoked_tokens.c.jti.in_(chunk))
                ).scalars()
            )
        return found

    def totp(self, user_id: int) -> TotpRecord | None:
        row = self.conn.execute(select(user_totp).where(user_totp.c.user_id == user_id)).first()
        if row is None:
            return None
        return TotpRecord(int(row.user_id), row.secret_enc, row.confirmed_at, row.last_step)

    def put_totp(
        self, user_id: int, secret_enc: str, now: datetime, confirmed: bool = False
    ) -> None:
        """Store a new (unconfirmed unless `confirmed`) secret, replacing any earlier one."""
        self.conn.execute(delete(user_totp).where(user_totp.c.user_id == user_id))
        self.conn.execute(
            insert(user_totp).values(
                user_id=user_id,
                secret_enc=secret_enc,
                confirmed_at=now if confirmed else None,
                created_at=now,
            )
        )

    def use_totp_step(self, user_id: int, step: int, now: datetime | None = None) -> bool:
        """Mark `step` used (and confirm the secret when `now` is given); False if already used."""
        values: dict[str, Any] = {"last_step": step}
        if now is not None:
            values["confirmed_at"] = now
        result = self.conn.execute(
            update(user_totp)
            .where(
                user_totp.c.user_id == user_id,
                (user_totp.c.last_step.is_(None)) | (user_totp.c.last_step < step),
            )
            .values(**values)
        )
        return bool(result.rowcount)
