"""Departmental systems: webhook subscriptions, their deliveries and dead letters (for admins and
commanders), and the signed endpoint where a department's system posts handling results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from pingan.adapters.media import MediaStore, PhotoCleaner
from pingan.api.deps import ActorDep, RuntimeDep
from pingan.api.errors import ApiError, documented
from pingan.api.runtime import Runtime
from pingan.api.schemas import IdPath
from pingan.domain.ids import MAX_ID
from pingan.domain.webhooks import HOOK_EVENTS, SignatureRejected
from pingan.services import webhooks

router = APIRouter(prefix="/api/v1", tags=["webhooks"])


class SubscriptionIn(BaseModel):
    department_id: str = Field(max_length=64)
    url: str = Field(max_length=2000, description="http(s) endpoint of the department's system")
    events: list[str] | None = Field(
        default=None, description=f"Any of {', '.join(HOOK_EVENTS)}; default all"
    )


class SubscriptionOut(BaseModel):
    id: int
    department_id: str
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class SubscriptionCreatedOut(BaseModel):
    id: int
    department_id: str
    url: str
    events: list[str]
    secret: str = Field(description="Shown only now: the key that signs both directions")


class DeliveryOut(BaseModel):
    id: str
    subscription_id: int
    event: str
    case_id: int
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    dead_at: datetime | None

    @classmethod
    def of(cls, d: Any) -> DeliveryOut:
        return cls.model_validate(d, from_attributes=True)


class HookResultOut(BaseModel):
    case_id: int
    state: str
    version: int
    delivery_id: str


@router.post(
    "/webhooks",
    response_model=SubscriptionCreatedOut,
    status_code=201,
    responses=documented(400, 401, 403, 404, 422),
    summary="Subscribe a department's system to its cases' events; the secret is shown once",
)
def add_subscription(
    body: SubscriptionIn, rt: RuntimeDep, actor: ActorDep
) -> SubscriptionCreatedOut:
    events = tuple(body.events) if body.events is not None else None
    with rt.uows(actor) as uow:
        created = webhooks.subscribe(uow, actor, body.department_id, body.url, events, rt.env)
    return SubscriptionCreatedOut(
        id=created.id,
        department_id=created.department_id,
        url=created.url,
        events=list(created.events),
        secret=created.secret,
    )


@router.get(
    "/webhooks",
    response_model=list[SubscriptionOut],
    responses=documented(401, 403),
    summary="Subscriptions of the departments in your jurisdiction",
)
def list_subscriptions(rt: RuntimeDep, actor: ActorDep) -> list[SubscriptionOut]:
    with rt.uows(actor, readonly=True) as uow:
        subs = webhooks.subscriptions(uow, actor)
    return [
        SubscriptionOut(
            id=s.id,
            department_id=s.department_id,
            url=s.url,
            events=list(s.events),
            active=s.active,
            created_at=s.created_at,
        )
        for s in subs
    ]


@router.delete(
    "/webhooks/{subscription_id}",
    status_code=204,
    responses=documented(401, 403, 404),
    summary="Stop a subscription: nothing more is sent, its results are refused",
)
def remove_subscription(subscription_id: IdPath, rt: RuntimeDep, actor: ActorDep) -> Response:
    with rt.uows(actor) as uow:
        webhooks.unsubscribe(uow, actor, subscription_id)
    return Response(status_code=204)


@router.get(
    "/webhooks/deliveries",
    response_model=list[DeliveryOut],
    responses=documented(401, 403, 422),
    summary="Outgoing deliveries, newest first; status=dead is the dead-letter list",
)
def list_deliveries(
    rt: RuntimeDep,
    actor: ActorDep,
    status: Annotated[str | None, Query(description="pending | delivered | dead")] = None,
) -> list[DeliveryOut]:
    with rt.uows(actor, readonly=True) as uow:
        found = webhooks.deliveries(uow, actor, status)
    return [DeliveryOut.of(d) for d in found]


@router.post(
    "/webhooks/deliveries/{delivery_id}/replay",
    response_model=DeliveryOut,
    status_code=202,
    responses=documented(401, 403, 404, 422),
    summary="Send a dead letter again, with a fresh set of attempts",
)
def replay_delivery(delivery_id: str, rt: RuntimeDep, actor: ActorDep) -> DeliveryOut:
    with rt.uows(actor) as uow:
        delivery = webhooks.replay(uow, actor, delivery_id, rt.env)
    rt.webhook_sender.wake()
    return DeliveryOut.of(delivery)


_RESULT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["case_id", "action"],
                    "properties": {
                        "case_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        "action": {"type": "string", "enum": ["accept", "return", "handle"]},
                        "note": {"type": "string"},
                        "reason": {"type": "string"},
                        "photos": {
                            "type": "array",
                            "maxItems": webhooks.MAX_PHOTOS,
                            "items": {
                                "type": "object",
                                "required": ["data"],
                                "properties": {
                                    "filename": {"type": "string"},
                                    "data": {"type": "string", "format": "byte"},
                                },
                            },
                        },
                    },
                }
            }
        },
    }
}


@router.post(
    "/hooks/{subscription_id}/results",
    response_model=HookResultOut,
    responses=documented(400, 401, 404, 409, 413, 422),
    openapi_extra=_RESULT_BODY,
    summary="A department's system posts a handling result (signed; see docs/webhooks.md)",
)
async def post_result(
    subscription_id: IdPath,
    request: Request,
    rt: RuntimeDep,
    x_pingan_delivery: Annotated[str | None, Header()] = None,
    x_pingan_timestamp: Annotated[str | None, Header()] = None,
    x_pingan_signature: Annotated[str | None, Header()] = None,
) -> HookResultOut:
    body = await request.body()
    return await run_in_threadpool(
        _apply_result,
        rt,
        subscription_id,
        x_pingan_delivery,
        x_pingan_timestamp,
        x_pingan_signature,
        body,
    )


def _apply_result(
    rt: Runtime,
    subscription_id: int,
    delivery_id: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
) -> HookResultOut:
    try:
        sub, actor = webhooks.authenticate(
            rt.uows,
            rt.env,
            subscription_id,
            delivery_id,
            timestamp,
            signature,
            body,
            rt.settings.webhook_replay_window_s,
        )
    except SignatureRejected as exc:
        raise ApiError(401, exc.code, **exc.params) from None
    assert delivery_id is not None
    result = webhooks.receive(
        rt.uows,
        rt.env,
        sub,
        actor,
        delivery_id,
        body,
        MediaStore(rt.settings.media_dir).put,
        rt.settings.max_upload_bytes,
        PhotoCleaner(rt.settings.max_image_pixels),
    )
    return HookResultOut(
        case_id=result.case.id,
        state=result.case.state.value,
        version=result.case.version,
        delivery_id=result.delivery_id,
    )
