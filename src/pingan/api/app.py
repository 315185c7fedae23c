"""The FastAPI application: routers, error mapping, body limits, workers on start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pingan import __version__
from pingan.api import errors
from pingan.api.routers import (
    admin,
    audit,
    auth,
    calls,
    cases,
    contacts,
    geocode,
    hotline,
    imports,
    intake,
    iot,
    live,
    map,
    media,
    patrols,
    places,
    stats,
    web,
    webhooks,
)
from pingan.api.routers.open311 import router as open311_router
from pingan.api.runtime import Runtime
from pingan.api.signalling import Signalling
from pingan.config import Settings
from pingan.messages import message, pick_language
from pingan.services.ports import utc_now


class BodyLimit:
    """Refuse bodies over the limit with 413 before they are read into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = (
            self.upload_max_bytes + 64_000
            if scope["path"].endswith(("/attachments", "/imports/cases"))
            else self.upload_max_bytes * 2  # photos arrive base64-encoded in the JSON
            if scope["path"].startswith("/api/v1/hooks/")
            else self.max_bytes
        )
        headers = dict(scope.get("headers") or [])
        lang = pick_language(headers.get(b"accept-language", b"").decode("latin-1"))
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, lang)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
            return msg

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send, lang)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send, lang: str) -> None:
    import json

    body = json.dumps(
        {"error": {"code": "request.too_large", "message": message("request.too_large", lang)}},
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    clock: Callable[[], datetime] = utc_now,
    start_workers: bool | None = None,
) -> FastAPI:
    settings = settings or (runtime.settings if runtime else Settings())
    rt = runtime or Runtime.build(settings, clock)
    run_workers = settings.run_workers if start_workers is None else start_workers
    signalling = Signalling(rt)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if run_workers:
            rt.start_workers()
        signalling.resume()
        try:
            yield
        finally:
            signalling.stop()
            if run_workers:
                rt.stop_workers()

    app = FastAPI(
        title="Pingan 平安 — social-governance command centre API",
        version=__version__,
        description=(
            "Grids, closed-loop cases (上报→立案→派遣→处置→核查→结案→评价) with SLA clocks, "
            "multi-level jurisdictions. Errors are `{error: {code, message}}`; messages follow "
            "Accept-Language (zh-CN default, en)."
        ),
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url="/redoc",
    )
    app.state.runtime = rt
    app.state.signalling = signalling
    errors.install(app)
    for module in (
        auth,
        cases,
        places,
        media,
        admin,
        live,
        stats,
        iot,
        patrols,
        calls,
        map,
        hotline,
        webhooks,
        imports,
        contacts,
        audit,
        intake,
        geocode,
    ):
        app.include_router(module.router)
    app.include_router(open311_router)
    web.install(app)
    _wrap: Any = BodyLimit
    app.add_middleware(
        _wrap, max_bytes=settings.max_body_bytes, upload_max_bytes=settings.max_upload_bytes
    )
    return app
