"""Photo uploads and downloads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from pingan.adapters.media import MediaStore, PhotoCleaner
from pingan.api.deps import ActorDep, RuntimeDep
from pingan.api.errors import documented
from pingan.api.schemas import AttachmentOut, IdPath
from pingan.domain.errors import InvalidInput, NotFound
from pingan.services.evidence import upload

router = APIRouter(prefix="/api/v1", tags=["attachments"], responses=documented(401, 422))


@router.post(
    "/attachments",
    response_model=AttachmentOut,
    status_code=201,
    responses={
        **documented(400),  # a malformed multipart body
        413: {"description": "Too large"},
        422: {"description": "Not a JPEG/PNG/WebP image, or more pixels than allowed"},
    },
    summary="Upload a photo; pass its id in photo_ids when reporting or acting",
)
async def post_attachment(
    rt: RuntimeDep, actor: ActorDep, file: Annotated[UploadFile, File()]
) -> AttachmentOut:
    limit = rt.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput("attachment.too_large", max_bytes=limit)
    store = MediaStore(rt.settings.media_dir)

    def run() -> AttachmentOut:
        with rt.uows(actor) as uow:
            up = upload(
                uow,
                actor,
                data,
                file.filename,
                rt.env,
                store.put,
                limit,
                clean=PhotoCleaner(rt.settings.max_image_pixels),
            )
        return AttachmentOut(id=up.id, sha256=up.sha256, content_type=up.content_type, size=up.size)

    return await run_in_threadpool(run)


@router.get(
    "/attachments/{attachment_id}",
    response_class=FileResponse,
    responses={404: {"description": "No such photo you may see"}},
)
def get_attachment(attachment_id: IdPath, rt: RuntimeDep, actor: ActorDep) -> FileResponse:
    with rt.uows(actor, readonly=True) as uow:
        att = uow.attachments.get(attachment_id)
        visible = att is not None and (
            att.uploaded_by == actor.user_id
            or (att.case_id is not None and uow.cases.get(att.case_id) is not None)
        )
    if not visible or att is None:
        raise NotFound("not_found")
    path = MediaStore(rt.settings.media_dir).path(att.storage_key)
    return FileResponse(
        path, media_type=att.content_type, headers={"Cache-Control": "private, max-age=86400"}
    )
