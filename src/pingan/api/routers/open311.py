"""Open311 GeoReport v2 at /open311/v2/: parse the spec's parameters, render JSON or XML.

Every error raised under /open311/v2/ (Pingan's domain errors included) is answered in the spec's
shape, `[{"code": 400, "description": "..."}]` or `<errors><error>...`, in the format the URL asked
for (XML, the spec's required format, when it asked for none we know). What a client may see and do
is decided in services/open311.py; this module only translates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from pingan.adapters.media import MediaStore, PhotoCleaner
from pingan.api.deps import ActorDep, RuntimeDep
from pingan.api.errors import ApiError, documented
from pingan.api.open311_xml import render
from pingan.domain.access import Role
from pingan.domain.errors import DomainError, Forbidden, InvalidInput, NotFound
from pingan.domain.sla import CST, Urgency
from pingan.messages import message, pick_language
from pingan.services import open311
from pingan.services.evidence import upload

PREFIX = "/open311/v2"
FORMATS = ("xml", "json")
MEDIA_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}


def _lang(request: Request) -> str:
    """`locale` (zh-CN, en) wins over Accept-Language; Chinese by default."""
    return pick_language(
        request.query_params.get("locale") or request.headers.get("accept-language")
    )


def _format(request: Request) -> str:
    fmt = str(request.path_params.get("fmt", "")).lower()
    return fmt if fmt in FORMATS else "xml"


def respond(fmt: str, root: str, value: Any, status: int = 200) -> Response:
    if fmt == "json":
        body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    else:
        body = render(root, value)
    return Response(body, status, media_type=MEDIA_TYPES[fmt])


def error_response(request: Request, status: int, description: str) -> Response:
    return respond(
        _format(request), "errors", [{"code": status, "description": description}], status
    )


def _status(exc: DomainError) -> int:
    """The spec's codes: 404 for what does not exist, 403 for the api_key, 400 for the rest."""
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Forbidden):
        return 403
    return 400


class Open311Route(APIRoute):
    """Answers every failure of an Open311 endpoint in the spec's error format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except DomainError as exc:
                params = {k: v for k, v in exc.params.items() if isinstance(v, str | int | float)}
                text = message(exc.code, _lang(request), params)
                return error_response(request, _status(exc), text)
            except ApiError as exc:
                return error_response(request, exc.status, message(exc.code, _lang(request)))
            except RequestValidationError:
                return error_response(request, 400, message("request.invalid", _lang(request)))
            except StarletteHTTPException as exc:
                return error_response(request, exc.status_code, str(exc.detail))

        return guarded


_ERRORS = {
    "content": {
        "text/xml": {
            "example": "<errors><error><code>400</code><description>…</description>"
            "</error></errors>"
        },
        "application/json": {"example": [{"code": 400, "description": "…"}]},
    }
}


def _documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {400: "Bad or missing parameter", 403: "Missing or invalid api_key", 404: "Not found"}
    return {c: {"description": text[c], **_ERRORS} for c in codes}


georeport = APIRouter(prefix=PREFIX, tags=["open311"], route_class=Open311Route)


def _check_format(fmt: str) -> str:
    if fmt.lower() not in FORMATS:
        raise InvalidInput("open311.bad_format", format=fmt)
    return fmt.lower()


def _param(values: Any, name: str) -> str | None:
    """The spec's optional arguments: an empty value is the same as no value. Bytes that were
    not UTF-8 (decoded to U+FFFD) and NUL are refused rather than stored mangled or lost."""
    value = values.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    value = str(value).strip()
    if "\ufffd" in value:
        raise InvalidInput("request.bad_encoding")
    if "\x00" in value:
        raise InvalidInput("input.nul_text", name=name)
    return value or None


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _jurisdiction(rt: Any, jurisdiction_id: str | None) -> None:
    with rt.uows(readonly=True) as uow:
        open311.check_jurisdiction(uow, jurisdiction_id)


@georeport.get(
    "/services.{fmt}",
    summary="GET Service List",
    responses=_documented(400, 404),
    response_class=Response,
)
def get_services(fmt: str, request: Request, rt: RuntimeDep) -> Response:
    fmt = _check_format(fmt)
    _jurisdiction(rt, _param(request.query_params, "jurisdiction_id"))
    return respond(fmt, "services", open311.services(_lang(request)))


@georeport.get(
    "/services/{service_code}.{fmt}",
    summary="GET Service Definition",
    responses=_documented(400, 404),
    response_class=Response,
)
def get_service_definition(
    service_code: str, fmt: str, request: Request, rt: RuntimeDep
) -> Response:
    fmt = _check_format(fmt)
    _jurisdiction(rt, _param(request.query_params, "jurisdiction_id"))
    definition = open311.service_definition(service_code, _lang(request))
    return respond(fmt, "service_definition", definition)


def _float(form: FormData, name: str) -> float | None:
    value = _param(form, name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInput("open311.bad_number", name=name) from None


def _urgency(form: FormData) -> Urgency:
    value = _param(form, "attribute[urgency]") or _param(form, "attribute[urgency][]")
    if value is None:
        return Urgency.ROUTINE
    try:
        return Urgency(value)
    except ValueError:
        raise InvalidInput("open311.bad_attribute", code="urgency", value=value) from None


@georeport.post(
    "/requests.{fmt}",
    summary="POST Service Request",
    description=(
        "application/x-www-form-urlencoded, or multipart/form-data with a `media` image. "
        "first_name, last_name, email, phone and device_id are accepted and not stored."
    ),
    responses=_documented(400, 403, 404),
    response_class=Response,
)
async def post_request(fmt: str, request: Request, rt: RuntimeDep) -> Response:
    fmt = _check_format(fmt)
    lang = _lang(request)
    urlencoded = request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    )
    if urlencoded and not (await request.body()).isascii():
        # raw bytes would be read as Latin-1 and stored garbled: GBK, or anything not encoded
        raise InvalidInput("request.form_not_percent_encoded")
    form = await request.form()
    try:
        api_key = _param(form, "api_key") or _param(request.query_params, "api_key")
        jurisdiction_id = _param(form, "jurisdiction_id")
        service_code = _param(form, "service_code")
        media = form.get("media")
        data = (
            await media.read(rt.settings.max_upload_bytes + 1)
            if isinstance(media, UploadFile)
            else None
        )
        media_name = media.filename if isinstance(media, UploadFile) else None
        lat, lng = _float(form, "lat"), _float(form, "long")
        description = _param(form, "description") or ""
        address_string = _param(form, "address_string") or ""
        address_id = _param(form, "address_id") or ""
        urgency = _urgency(form)
        media_url = _param(form, "media_url")
        account_id = _param(form, "account_id")
    finally:
        await form.close()

    def run() -> dict[str, Any]:
        with rt.uows(readonly=True) as uow:
            actor = open311.actor_for_key(uow, api_key)
            open311.check_jurisdiction(uow, jurisdiction_id)
        if service_code is None:
            raise InvalidInput("open311.service_code_required")
        photo_ids: tuple[int, ...] = ()
        if data:
            if len(data) > rt.settings.max_upload_bytes:
                raise InvalidInput("attachment.too_large", max_bytes=rt.settings.max_upload_bytes)
            store = MediaStore(rt.settings.media_dir)
            with rt.uows(actor) as uow:
                up = upload(
                    uow,
                    actor,
                    data,
                    media_name,
                    rt.env,
                    store.put,
                    rt.settings.max_upload_bytes,
                    clean=PhotoCleaner(rt.settings.max_image_pixels),
                )
            photo_ids = (up.id,)
        sub = open311.Submission(
            service_code=service_code,
            description=description,
            lat=lat,
            long=lng,
            address_string=address_string,
            address_id=address_id,
            urgency=urgency,
            media_url=media_url,
            photo_ids=photo_ids,
        )
        reported, cat = open311.submit_request(rt.uows, actor, sub, rt.env)
        return {
            "service_request_id": reported.case.tracking_no,
            "service_notice": open311.service_notice(cat, reported.case.urgency, lang),
            "account_id": account_id,
        }

    created = await run_in_threadpool(run)
    return respond(fmt, "service_requests", [created])


def _when(value: str | None, name: str) -> datetime | None:
    """A W3C datetime; one without an offset is read as the city's time (UTC+8)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        raise InvalidInput("open311.bad_date", name=name, value=value) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=CST)


def _int(value: str | None, name: str, default: int) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidInput("open311.bad_number", name=name) from None


@georeport.get(
    "/requests.{fmt}",
    summary="GET Service Requests",
    description=(
        "Filters: service_request_id (comma list; overrides the rest), service_code, "
        "start_date/end_date (W3C; at most 90 days, the last 90 by default), status (open, "
        "closed). Pagination extension: page, page_size (at most 1000)."
    ),
    responses=_documented(400, 404),
    response_class=Response,
)
def get_requests(fmt: str, request: Request, rt: RuntimeDep) -> Response:
    fmt = _check_format(fmt)
    q = request.query_params
    query = open311.request_query(
        rt.env.now(),
        ids=_csv(_param(q, "service_request_id")),
        service_codes=_csv(_param(q, "service_code")),
        start=_when(_param(q, "start_date"), "start_date"),
        end=_when(_param(q, "end_date"), "end_date"),
        statuses=_csv(_param(q, "status")),
        page=_int(_param(q, "page"), "page", 1),
        page_size=_int(_param(q, "page_size"), "page_size", open311.MAX_RESULTS),
    )
    lang = _lang(request)
    with rt.uows(readonly=True) as uow:
        open311.check_jurisdiction(uow, _param(q, "jurisdiction_id"))
        records = open311.find_requests(uow, query)
    return respond(fmt, "service_requests", [open311.service_request(r, lang) for r in records])


@georeport.get(
    "/requests/{service_request_id}.{fmt}",
    summary="GET Service Request",
    responses=_documented(400, 404),
    response_class=Response,
)
def get_request(service_request_id: str, fmt: str, request: Request, rt: RuntimeDep) -> Response:
    fmt = _check_format(fmt)
    with rt.uows(readonly=True) as uow:
        open311.check_jurisdiction(uow, _param(request.query_params, "jurisdiction_id"))
        record = open311.find_request(uow, service_request_id)
    return respond(fmt, "service_requests", [open311.service_request(record, _lang(request))])


@georeport.get(
    "/tokens/{token}.{fmt}",
    summary="GET service_request_id from a token",
    description="Every Pingan service is `realtime`: POST returns the id and no token is issued.",
    responses=_documented(400, 404),
    response_class=Response,
)
def get_token(token: str, fmt: str, request: Request, rt: RuntimeDep) -> Response:
    _check_format(fmt)
    _jurisdiction(rt, _param(request.query_params, "jurisdiction_id"))
    raise NotFound("open311.unknown_token", token=token)


@georeport.api_route(
    "/{rest:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
def unknown_resource(rest: str) -> Response:
    """Anything else under /open311/v2/ is a 404 in the spec's format, not the /api/v1 shape."""
    raise NotFound("open311.unknown_resource", path=rest)


class KeyIn(BaseModel):
    app_name: Annotated[str, Field(min_length=1, max_length=128)]


class KeyOut(BaseModel):
    app_name: str
    api_key: str = Field(description="Shown once; Pingan keeps only its SHA-256")


keys = APIRouter(prefix="/api/v1", tags=["open311"], responses=documented(401, 422))


@keys.post(
    "/open311-keys",
    response_model=KeyOut,
    status_code=201,
    responses=documented(400, 403),
    summary="Issue an Open311 api_key for an app (administrators)",
)
def create_key(body: KeyIn, rt: RuntimeDep, actor: ActorDep) -> KeyOut:
    if actor.role is not Role.ADMIN:
        raise Forbidden("access.forbidden")
    with rt.uows(actor) as uow:
        key = open311.create_api_key(uow, body.app_name, rt.env.now())
    return KeyOut(app_name=body.app_name.strip(), api_key=key)


router = APIRouter()
router.include_router(keys)
router.include_router(georeport)
