"""Photo evidence: uploads are checked by their bytes (not their name or declared type), stored by
content, and belong to the uploader until an action attaches them to a case."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pingan.domain.access import Actor, Role
from pingan.domain.errors import Forbidden, InvalidInput
from pingan.services.ports import Env, UnitOfWork

SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff(data: bytes) -> str | None:
    for magic, kind in SIGNATURES:
        if data.startswith(magic):
            return kind
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True, slots=True)
class Uploaded:
    id: int
    sha256: str
    content_type: str
    size: int


def safe_filename(name: str | None) -> str:
    """Keep only the last path component and printable characters, for display only."""
    base = (name or "photo").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*\x00')
    return cleaned[:200] or "photo"


def upload(
    uow: UnitOfWork,
    actor: Actor,
    data: bytes,
    filename: str | None,
    env: Env,
    store: Callable[[bytes], tuple[str, str]],
    max_bytes: int,
) -> Uploaded:
    if actor.role in (Role.AUDITOR,):
        raise Forbidden("access.forbidden")
    if len(data) > max_bytes:
        raise InvalidInput("attachment.too_large", max_bytes=max_bytes)
    kind = sniff(data)
    if kind is None:
        raise InvalidInput("attachment.bad_type")
    sha, key = store(data)
    attachment_id = uow.attachments.add(
        sha256=sha,
        content_type=kind,
        size=len(data),
        filename=safe_filename(filename),
        storage_key=key,
        uploaded_by=actor.user_id,
        created_at=env.now(),
    )
    uow.commit()
    return Uploaded(int(attachment_id), sha, kind, len(data))
