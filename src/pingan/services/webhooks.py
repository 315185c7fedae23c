"""Departmental systems (部门系统对接): signed webhooks out to a department's own system, and its
handling results back in.

Out: each case event that concerns a department with a subscription becomes a durable delivery
row (recorded by a bus consumer, idempotently per event); a sender posts it and settles it here —
delivered, retried later with backoff, or moved to the dead-letter list an operator can replay.
Delivery is at least once: a receiver dedupes on the delivery id.

In: a department's system posts accept / return / handle for a case dispatched to it, signed with
the subscription's secret. It acts as the subscription's own handler account, through the same
case rules as the API, and the timeline records that the action came from the department's system.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from pingan.domain.access import SYSTEM_ACTOR, Actor, Role
from pingan.domain.cases import Action, Case, Command
from pingan.domain.errors import Forbidden, InvalidInput, NotFound
from pingan.domain.events import DomainEvent
from pingan.domain.geo import is_within
from pingan.domain.ids import MAX_ID
from pingan.domain.webhooks import (
    HOOK_EVENTS,
    Replayed,
    RetryPolicy,
    hook_event,
    verify,
)
from pingan.services import evidence
from pingan.services.ports import Env, UnitOfWork, UnitOfWorkFactory
from pingan.services.transitions import transition

CONSUMER = "webhooks"
MANAGERS = frozenset({Role.ADMIN, Role.COMMANDER})
INCOMING_ACTIONS = {"accept": Action.ACCEPT, "return": Action.RETURN, "handle": Action.HANDLE}
MAX_PHOTOS = 9
NONCE_MAX = 64


@dataclass(frozen=True, slots=True)
class Created:
    id: int
    department_id: str
    url: str
    events: tuple[str, ...]
    secret: str  # shown once, at creation


def _covers(scope: str, path: str) -> bool:
    """Whether a jurisdiction contains a place; the empty scope is the whole tree."""
    return not scope or is_within(path, scope)


def _check_manager(uow: UnitOfWork, actor: Actor, department_id: str) -> Any:
    if actor.role not in MANAGERS:
        raise Forbidden("webhook.not_permitted")
    dept = uow.departments.get(department_id)
    if dept is None or not _covers(actor.jurisdiction, dept.unit_path):
        raise NotFound("dispatch.unknown_department", department_id=department_id)
    return dept


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise InvalidInput("webhook.bad_url")
    return url


def subscribe(
    uow: UnitOfWork,
    actor: Actor,
    department_id: str,
    url: str,
    events: tuple[str, ...] | None,
    env: Env,
) -> Created:
    """Register a department's endpoint; makes the handler account its system will act as."""
    dept = _check_manager(uow, actor, department_id)
    url = _check_url(url)
    chosen = tuple(dict.fromkeys(events or HOOK_EVENTS))
    unknown = [e for e in chosen if e not in HOOK_EVENTS]
    if unknown:
        raise InvalidInput("webhook.unknown_event", events=unknown)
    now = env.now()
    user_id = uow.users.add(
        username=f"hook.{department_id}.{secrets.token_hex(4)}"[:64],
        display_name=f"部门系统 {dept.name}"[:128],
        role=Role.HANDLER.value,
        jurisdiction=dept.unit_path,
        department_id=department_id,
        grid_code=None,
        password_hash="!webhook",  # not an Argon2 hash: this account can never sign in
        disabled=False,
        synthetic=False,
        created_at=now,
    )
    secret = "whsec_" + secrets.token_urlsafe(32)
    sub_id = uow.webhooks.add_subscription(
        department_id=department_id,
        url=url,
        secret=secret,
        events=list(chosen),
        user_id=user_id,
        active=True,
        created_by=actor.user_id,
        created_at=now,
    )
    uow.commit()
    return Created(sub_id, department_id, url, chosen, secret)


def subscriptions(uow: UnitOfWork, actor: Actor) -> list[Any]:
    if actor.role not in MANAGERS:
        raise Forbidden("webhook.not_permitted")
    return list(uow.webhooks.subscriptions(actor.jurisdiction))


def unsubscribe(uow: UnitOfWork, actor: Actor, subscription_id: int) -> None:
    """Stop sending and refuse its incoming requests; its history stays."""
    sub = uow.webhooks.subscription(subscription_id)
    if sub is None:
        raise NotFound("webhook.unknown_subscription")
    _check_manager(uow, actor, sub.department_id)
    uow.webhooks.deactivate(subscription_id)
    uow.commit()


# -- out: record, settle, dead letters -------------------------------------------------------


def _case_body(case: Case | None, payload: dict[str, Any]) -> dict[str, Any]:
    if case is None:
        return {"id": payload.get("case_id"), "tracking_no": payload.get("tracking_no")}
    return {
        "id": case.id,
        "tracking_no": case.tracking_no,
        "state": case.state.value,
        "version": case.version,
        "category_code": case.category_code,
        "urgency": case.urgency.value,
        "title": case.title,
        "description": case.description,
        "address": case.address,
        "lng": case.lng,
        "lat": case.lat,
        "grid_code": case.grid_code,
        "department_id": case.department_id,
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "rework_count": case.rework_count,
        "supervision_count": case.supervision_count,
    }


def record(uows: UnitOfWorkFactory, env: Env, event: DomainEvent) -> int:
    """Queue one delivery per subscription that wants this event (and existed when it happened);
    idempotent per event id, so a redelivered event queues nothing twice. Returns how many were
    queued now."""
    name = hook_event(event.type, event.payload)
    department_id = event.payload.get("department_id")
    if name is None or not department_id:
        return 0
    queued = 0
    with uows(SYSTEM_ACTOR) as uow:
        subs = [
            s
            for s in uow.webhooks.subscriptions(department_id=str(department_id))
            if s.active and name in s.events and s.created_at <= event.occurred_at
        ]
        if not subs:
            return 0
        case = uow.cases.get(event.aggregate_id)
        data = {
            k: v
            for k, v in event.payload.items()
            if k not in ("reporter_id", "owner_path", "case_id", "tracking_no", "version")
        }
        now = env.now()
        for sub in subs:
            delivery_id = str(uuid.uuid4())
            body = {
                "id": delivery_id,
                "event": name,
                "occurred_at": event.occurred_at.isoformat(),
                "department_id": sub.department_id,
                "case": _case_body(case, event.payload),
                "data": data,
            }
            if uow.webhooks.add_delivery(
                id=delivery_id,
                subscription_id=sub.id,
                event_id=event.event_id,
                event=name,
                case_id=event.aggregate_id,
                body=json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str),
                status="pending",
                attempts=0,
                next_attempt_at=now,
                last_status=None,
                last_error="",
                created_at=now,
            ):
                queued += 1
        uow.commit()
    return queued


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one POST of a delivery came to."""

    delivery_id: str
    ok: bool
    status_code: int | None
    error: str
    policy: RetryPolicy
    jitter: float


def settle(uow: UnitOfWork, attempts: list[Attempt], env: Env) -> list[str]:
    """Record a batch of attempts in one transaction: each delivered, pending (with its next
    try), or dead. Returns the new status of each."""
    now = env.now()
    statuses = []
    for a in attempts:
        delivery = uow.webhooks.delivery(a.delivery_id)
        if delivery is None:
            statuses.append("missing")
            continue
        tries = delivery.attempts + 1
        if a.ok:
            status, next_at = "delivered", now
        else:
            delay = a.policy.next_delay(tries, a.jitter)
            status = "dead" if delay is None else "pending"
            next_at = now if delay is None else now + timedelta(seconds=delay)
        uow.webhooks.record_attempt(
            a.delivery_id,
            status=status,
            attempts=tries,
            next_attempt_at=next_at,
            last_status=a.status_code,
            last_error="" if a.ok else a.error,
            now=now,
        )
        statuses.append(status)
    uow.commit()
    return statuses


def deliveries(uow: UnitOfWork, actor: Actor, status: str | None) -> list[Any]:
    """The deliveries (status `dead`: the dead-letter list) of departments in the actor's area."""
    if actor.role not in MANAGERS:
        raise Forbidden("webhook.not_permitted")
    if status is not None and status not in ("pending", "delivered", "dead"):
        raise InvalidInput("webhook.bad_status", status=status)
    return list(uow.webhooks.deliveries(actor.jurisdiction, status))


def replay(uow: UnitOfWork, actor: Actor, delivery_id: str, env: Env) -> Any:
    """Put a dead letter back in the queue with a fresh set of attempts, due now. The delivery
    id stays the same, so a receiver that did process it before sees a duplicate it can drop."""
    if actor.role not in MANAGERS:
        raise Forbidden("webhook.not_permitted")
    delivery = uow.webhooks.delivery(delivery_id)
    sub = uow.webhooks.subscription(delivery.subscription_id) if delivery else None
    dept = uow.departments.get(sub.department_id) if sub else None
    if delivery is None or dept is None or not _covers(actor.jurisdiction, dept.unit_path):
        raise NotFound("webhook.delivery_not_found", delivery_id=delivery_id)
    if delivery.status != "dead":
        raise InvalidInput("webhook.not_dead", status=delivery.status)
    uow.webhooks.requeue(delivery_id, env.now())
    uow.commit()
    return uow.webhooks.delivery(delivery_id)


# -- in: a department's system posts a result -----------------------------------------------


@dataclass(frozen=True, slots=True)
class Result:
    case: Case
    delivery_id: str
    subscription_id: int


def authenticate(
    uows: UnitOfWorkFactory,
    env: Env,
    subscription_id: int,
    delivery_id: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    window_s: int,
) -> tuple[Any, Actor]:
    """Prove the request came from the subscription's holder and is not a replay; no change."""
    with uows(SYSTEM_ACTOR, readonly=True) as uow:
        sub = uow.webhooks.subscription(subscription_id)
        user = uow.users.get(sub.user_id) if sub is not None else None
        if sub is None or not sub.active or user is None or user.disabled:
            raise NotFound("webhook.unknown_subscription")
        verify(sub.secret, timestamp, signature, body, env.now(), window_s)
        if not delivery_id or len(delivery_id) > NONCE_MAX or not delivery_id.isprintable():
            raise InvalidInput("webhook.bad_delivery_id")
        if uow.webhooks.seen_nonce(sub.id, delivery_id):
            raise Replayed(delivery_id=delivery_id)
    return sub, user.actor()


def _command(data: Any, photo_ids: tuple[int, ...]) -> tuple[int, Command]:
    if not isinstance(data, dict):
        raise InvalidInput("webhook.bad_body")
    action = INCOMING_ACTIONS.get(str(data.get("action")))
    if action is None:
        raise InvalidInput("webhook.unsupported_action", action=str(data.get("action"))[:32])
    case_id = data.get("case_id")
    if not isinstance(case_id, int) or isinstance(case_id, bool) or not 1 <= case_id <= MAX_ID:
        raise InvalidInput("webhook.bad_body")
    note, reason = data.get("note"), data.get("reason")
    if not isinstance(note, str | None) or not isinstance(reason, str | None):
        raise InvalidInput("webhook.bad_body")
    if action is Action.RETURN:
        reason = reason or note
    return case_id, Command(action, note=note, reason=reason, photo_ids=photo_ids)


def _photos(data: Any) -> list[tuple[str, bytes]]:
    photos = data.get("photos", []) if isinstance(data, dict) else []
    if not isinstance(photos, list) or len(photos) > MAX_PHOTOS:
        raise InvalidInput("webhook.bad_photo")
    out = []
    for p in photos:
        if not isinstance(p, dict) or not isinstance(p.get("data"), str):
            raise InvalidInput("webhook.bad_photo")
        try:
            raw = base64.b64decode(p["data"], validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("webhook.bad_photo") from None
        out.append((str(p.get("filename") or "photo"), raw))
    return out


def receive(
    uows: UnitOfWorkFactory,
    env: Env,
    sub: Any,
    actor: Actor,
    delivery_id: str,
    body: bytes,
    store: Callable[[bytes], tuple[str, str]],
    max_photo_bytes: int,
    clean: Callable[[bytes], evidence.CleanedImage],
) -> Result:
    """Apply an authenticated result. The nonce is stored in the same transaction as the case
    change, so a refused action (409, 404) can be corrected and sent again with the same id."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidInput("webhook.bad_body") from None
    _command(data, ())  # refuse a malformed request before storing any photo
    photo_ids = []
    for filename, raw in _photos(data):
        with uows(actor) as uow:
            up = evidence.upload(
                uow, actor, raw, filename, env, store, max_photo_bytes, clean=clean
            )
        photo_ids.append(up.id)
    case_id, command = _command(data, tuple(photo_ids))
    via = {"via": "webhook", "subscription_id": sub.id, "delivery_id": delivery_id}
    with uows(actor) as uow:
        if not uow.webhooks.claim_nonce(sub.id, delivery_id, env.now()):
            raise Replayed(delivery_id=delivery_id)
        case = transition(uow, actor, case_id, command, env, source=via)
    return Result(case, delivery_id, sub.id)


def forget_old_nonces(uows: UnitOfWorkFactory, env: Env, window_s: int) -> int:
    with uows(SYSTEM_ACTOR) as uow:
        n = int(uow.webhooks.forget_nonces(env.now() - timedelta(seconds=2 * window_s)))
        uow.commit()
    return n
