"""The one place where domain errors become HTTP responses, in the caller's language."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pingan.domain.audit import AuditUnavailable
from pingan.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    IllegalTransition,
    InvalidInput,
    NotFound,
    StaleVersion,
)
from pingan.messages import message, pick_language
from pingan.services.accounts import AuthFailed, Throttled


class ApiError(Exception):
    """An error raised at the HTTP edge itself (missing header, bad token)."""

    def __init__(
        self, status: int, code: str, headers: dict[str, str] | None = None, **params: Any
    ):
        self.status = status
        self.code = code
        self.params = params
        self.headers = headers or {}


STATUS: list[tuple[type[DomainError], int]] = [
    (IllegalTransition, 409),
    (StaleVersion, 412),
    (Forbidden, 403),
    (NotFound, 404),
    (InvalidInput, 422),
    (Conflict, 409),
    (AuthFailed, 401),
    (Throttled, 429),
    (AuditUnavailable, 503),
]


def status_of(exc: DomainError) -> int:
    for kind, status in STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def error_body(
    code: str, lang: str, params: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message(code, lang, params), **extra}
    if params:
        body["params"] = params
    return {"error": body}


def _lang(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"))


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        status = status_of(exc)
        params = {k: v for k, v in exc.params.items() if _plain(v)}
        headers = {}
        if isinstance(exc, Throttled):
            headers["Retry-After"] = str(exc.params.get("retry_after", 60))
        if isinstance(exc, AuthFailed):
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(error_body(exc.code, _lang(request), params), status, headers=headers)

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, _lang(request), exc.params), exc.status, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse(error_body("request.malformed_json", _lang(request)), 400)
        details = [
            {"loc": [str(p) for p in e.get("loc", ())], "type": e.get("type"), "msg": e.get("msg")}
            for e in errors
        ]
        return JSONResponse(error_body("request.invalid", _lang(request), details=details), 422)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        """A value the database cannot store or compare (PostgreSQL refuses NUL in text): the
        client's input, so 422 like any other invalid input, never a 500."""
        return JSONResponse(error_body("request.invalid", _lang(request)), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "request.invalid", 413: "request.too_large"}.get(
            exc.status_code, "request.invalid"
        )
        return JSONResponse(error_body(code, _lang(request)), exc.status_code)


def _plain(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | list) or value is None


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
            },
            "required": ["code", "message"],
        }
    },
}


_DESCRIPTIONS = {
    400: "Malformed request body",
    401: "Not signed in, or the token is invalid or expired",
    403: "Your role or jurisdiction does not allow this",
    404: "Not found within your jurisdiction",
    409: "Not allowed in the current state",
    412: "The resource changed since the ETag you sent",
    413: "Request body too large",
    422: "Invalid input (message in your language)",
    428: "If-Match header required",
    429: "Too many attempts; retry later",
    503: "Not ready",
}


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for error statuses, all in the one error shape."""
    return {
        c: {
            "description": _DESCRIPTIONS[c],
            "content": {"application/json": {"schema": ERROR_SCHEMA}},
        }
        for c in codes
    }
