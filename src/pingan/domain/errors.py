"""Domain errors carry a stable code; the API maps codes to HTTP statuses and messages once."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain was broken; `code` is stable and looked up in the message catalogue."""

    code = "domain.error"

    def __init__(self, code: str | None = None, /, **params: Any) -> None:
        # positional-only, so that a parameter may itself be called `code` (a unit or category code)
        self.code = code or type(self).code
        self.params = params
        super().__init__(f"{self.code} {params}" if params else self.code)


class IllegalTransition(DomainError):
    code = "case.illegal_transition"


class Forbidden(DomainError):
    code = "access.forbidden"


class NotFound(DomainError):
    code = "not_found"


class InvalidInput(DomainError):
    code = "input.invalid"


class Conflict(DomainError):
    code = "conflict"


class StaleVersion(DomainError):
    code = "case.stale_version"
