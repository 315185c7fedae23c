"""Who may do what, where: roles, actors and jurisdiction scopes.

A user's jurisdiction is a path in the administrative tree; they see what lies at or below it.
Department handlers additionally act only on cases dispatched to their own department, and a grid
worker verifies only in their own grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from pingan.domain.geo import is_within


class Role(StrEnum):
    COMMANDER = "commander"  # 指挥长
    OPERATOR = "operator"  # 中心坐席/受理员
    HANDLER = "handler"  # 部门处置人员
    GRID_WORKER = "grid_worker"  # 网格员
    CITIZEN = "citizen"  # 市民
    AUDITOR = "auditor"  # 审计员
    ADMIN = "admin"  # 系统管理员
    SYSTEM = "system"  # the platform itself (SLA clocks, rules); never a login


USER_ROLES = tuple(r for r in Role if r is not Role.SYSTEM)


CENTRE_ROLES = frozenset({Role.COMMANDER, Role.OPERATOR})


class Scope(StrEnum):
    """Capabilities beyond a role's defaults."""

    PII_READ = "pii:read"
    RULES_WRITE = "rules:write"
    AUDIT_READ = "audit:read"


# Who may see personal data unmasked (each reveal is audited): the commander who must call a
# citizen back, and the auditor who checks the record. Centre operators, handlers, grid workers
# and administrators see masked values only.
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.ADMIN: frozenset({Scope.RULES_WRITE}),
    Role.AUDITOR: frozenset({Scope.AUDIT_READ, Scope.PII_READ}),
    Role.COMMANDER: frozenset({Scope.RULES_WRITE, Scope.PII_READ}),
}

# Roles that must pass a second factor (TOTP) before a full token is issued.
SECOND_FACTOR_ROLES = frozenset({Role.ADMIN, Role.AUDITOR})


@dataclass(frozen=True, slots=True)
class Actor:
    """The authenticated user a command runs for."""

    user_id: int
    username: str
    role: Role
    jurisdiction: str
    department_id: str | None = None
    grid_code: str | None = None
    scopes: frozenset[Scope] = field(default_factory=frozenset)

    def sees(self, path: str) -> bool:
        """Readable when the place lies within the actor's jurisdiction."""
        return is_within(path, self.jurisdiction)

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes or scope in ROLE_SCOPES.get(self.role, frozenset())


SYSTEM_ACTOR = Actor(user_id=0, username="system", role=Role.SYSTEM, jurisdiction="")


def can_read_case(
    actor: Actor, location_path: str, department_id: str | None, reporter_id: int | None
) -> bool:
    """The read rule for one case; the repositories apply the same rule as SQL."""
    if actor.role is Role.SYSTEM:
        return True
    if actor.role is Role.CITIZEN:
        return reporter_id == actor.user_id
    if actor.role is Role.HANDLER:
        return (
            actor.department_id is not None
            and department_id == actor.department_id
            and actor.sees(location_path)
        )
    if actor.role is Role.GRID_WORKER:
        return actor.sees(location_path) or reporter_id == actor.user_id
    return actor.sees(location_path)
