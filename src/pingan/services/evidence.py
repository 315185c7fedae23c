"""Photo evidence: uploads are checked by their bytes (not their name or declared type), re-encoded
without metadata, stored by content, and belong to the uploader until an action attaches them to a
case."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pingan.domain.access import Actor, Role
from pingan.domain.errors import Forbidden, InvalidInput
from pingan.services.ports import Env, UnitOfWork

SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
VIDEO_SIGNATURES = ((b"\x1a\x45\xdf\xa3", "video/webm"),)


def sniff(data: bytes) -> str | None:
    """A photo's real type from its first bytes."""
    for magic, kind in SIGNATURES:
        if data.startswith(magic):
            return kind
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def sniff_video(data: bytes) -> str | None:
    """A recording's real type from its first bytes (WebM, or MP4 by its `ftyp` box)."""
    for magic, kind in VIDEO_SIGNATURES:
        if data.startswith(magic):
            return kind
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "video/mp4"
    return None


class CleanedImage(Protocol):
    """What a photo cleaner hands back: the re-encoded bytes and their real type."""

    @property
    def data(self) -> bytes: ...

    @property
    def content_type(self) -> str: ...


EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "video/webm": ".webm",
    "video/mp4": ".mp4",
}


@dataclass(frozen=True, slots=True)
class Uploaded:
    id: int
    sha256: str
    content_type: str
    size: int


def safe_filename(name: str | None, content_type: str | None = None) -> str:
    """Keep only the last path component and printable characters, for display only. Given the
    real type, the name ends in that type's extension and no other dot remains, so
    `photo.jpg.php` becomes `photo_jpg.jpg` and no server can mistake it for a script."""
    base = (name or "photo").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*\x00')
    if content_type in EXTENSIONS:
        ext = EXTENSIONS[content_type]
        stem = cleaned.rsplit(".", 1)[0] if "." in cleaned else cleaned
        stem = stem.replace(".", "_").strip("_ ") or "photo"
        return stem[: 200 - len(ext)] + ext
    cleaned = cleaned[:200].strip(". ")
    return cleaned or "photo"


def upload(
    uow: UnitOfWork,
    actor: Actor,
    data: bytes,
    filename: str | None,
    env: Env,
    store: Callable[[bytes], tuple[str, str]],
    max_bytes: int,
    *,
    clean: Callable[[bytes], CleanedImage],
) -> Uploaded:
    """Store a re-encoded copy of an uploaded photo; the upload itself is never kept, so its
    metadata (GPS position included) cannot be published."""
    if actor.role in (Role.AUDITOR,):
        raise Forbidden("access.forbidden")
    if len(data) > max_bytes:
        raise InvalidInput("attachment.too_large", max_bytes=max_bytes)
    kind = sniff(data)
    if kind is None:
        raise InvalidInput("attachment.bad_type")
    photo = clean(data)
    sha, key = store(photo.data)
    attachment_id = uow.attachments.add(
        sha256=sha,
        content_type=photo.content_type,
        size=len(photo.data),
        filename=safe_filename(filename, photo.content_type),
        storage_key=key,
        uploaded_by=actor.user_id,
        created_at=env.now(),
    )
    uow.commit()
    return Uploaded(int(attachment_id), sha, photo.content_type, len(photo.data))
