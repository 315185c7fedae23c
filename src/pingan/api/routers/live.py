"""Live updates, KPIs summary and health."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from pingan.api.deps import ActorDep, RuntimeDep, session_for_token
from pingan.api.errors import ApiError, documented
from pingan.api.realtime import Subscriber
from pingan.api.schemas import SummaryOut
from pingan.api.signalling import Signalling
from pingan.domain.access import Actor
from pingan.domain.sla import CST

router = APIRouter(tags=["live"])


@router.get(
    "/api/v1/stats/summary",
    response_model=SummaryOut,
    summary="Case counts in my jurisdiction",
    responses=documented(401, 422),
)
def summary(rt: RuntimeDep, actor: ActorDep, unit: str | None = None) -> SummaryOut:
    now = rt.env.now()
    day_start = datetime.combine(now.astimezone(CST).date(), time(0), CST)
    with rt.uows(actor, readonly=True) as uow:
        data = uow.cases.summary(unit, now, day_start)
    return SummaryOut(unit_path=unit or actor.jurisdiction, **data)


@router.websocket("/api/v1/ws")
async def events(ws: WebSocket, token: str | None = None) -> None:
    """Push case events the user may see; authenticate with `?token=` or a first `{"token"}`."""
    rt = ws.app.state.runtime
    await ws.accept()
    try:
        if token is None:
            first = await asyncio.wait_for(ws.receive_json(), timeout=10)
            token = str(first.get("token", "")) if isinstance(first, dict) else ""
        actor, session = await run_in_threadpool(session_for_token, rt, token)  # a database read
    except (ApiError, TimeoutError, ValueError, WebSocketDisconnect):
        await ws.close(code=4401, reason="auth required")
        return
    sub = rt.hub.add(actor, session)
    await ws.send_json(
        {"type": "hello", "jurisdiction": actor.jurisdiction, "role": actor.role.value}
    )
    reader = asyncio.ensure_future(_read(ws, actor, sub, ws.app.state.signalling))
    lapsed = asyncio.ensure_future(sub.lapsed.wait())  # the hub's re-check: signed out since?
    try:
        while not reader.done():
            getter = asyncio.ensure_future(sub.queue.get())
            done, _ = await asyncio.wait(
                {getter, reader, lapsed}, return_when=asyncio.FIRST_COMPLETED
            )
            if getter in done:
                await ws.send_text(getter.result())
            else:
                getter.cancel()
            if lapsed in done:
                await ws.close(code=4401, reason="signed out")
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        reader.cancel()
        lapsed.cancel()
        rt.hub.remove(sub)


async def _read(ws: WebSocket, actor: Actor, sub: Subscriber, signalling: Signalling) -> None:
    """Read what the browser sends: call signals are relayed, anything else ignored; a closed
    tab is noticed at once."""
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            body = _json(message.get("text"))
            if body is None or body.get("type") != "call.signal":
                continue
            error = await run_in_threadpool(signalling.relay, actor, body)
            if error is not None:
                sub.offer(json.dumps({"type": "call.error", "code": error, "ref": body.get("ref")}))
    except (WebSocketDisconnect, RuntimeError):
        return


def _json(text: str | None) -> dict[str, Any] | None:
    if not text or len(text) > 100_000:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Ready when the database answers", responses=documented(503))
def readyz(rt: RuntimeDep) -> dict[str, object]:
    try:
        with rt.uows(readonly=True) as uow:
            uow.connection.execute(text("SELECT 1"))
            backlog = uow.outbox.backlog()
    except SQLAlchemyError:
        raise ApiError(503, "service.not_ready") from None
    return {"status": "ready", "outbox_backlog": backlog}
