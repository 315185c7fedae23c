"""Content-addressed file storage for photos, and the photo cleaner that runs before it.

The name on disk is the SHA-256 of the bytes, so no client-chosen name ever reaches the file
system, and the same photo is stored once. What is stored is never the uploaded file itself but a
re-encoding of its pixels: nothing the camera or an attacker put beside them (EXIF with the GPS
position, XMP, ICC profiles, comments, trailing bytes) survives to be published.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from pingan.domain.errors import InvalidInput


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> tuple[str, str]:
        """Store bytes durably; returns (sha256, storage key)."""
        digest = hashlib.sha256(data).hexdigest()
        key = f"{digest[:2]}/{digest}"
        path = self.root / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")  # one per writer
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        return digest, key

    def path(self, key: str) -> Path:
        candidate = (self.root / key).resolve()
        if self.root.resolve() not in candidate.parents:
            raise ValueError("storage key outside the media root")
        return candidate


FORMATS: dict[str, str] = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True, slots=True)
class CleanPhoto:
    data: bytes
    content_type: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class PhotoCleaner:
    """Decode an upload by its content (never its name), refuse it when it is not a JPEG, PNG or
    WebP image or has more than `max_pixels` pixels — judged from the header, before a single row
    is decoded, so a decompression bomb costs nothing — and re-encode it with the camera's
    orientation applied and no metadata."""

    max_pixels: int

    def __call__(self, data: bytes) -> CleanPhoto:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                return self._clean(data)
        except InvalidInput:
            raise
        except Image.DecompressionBombError as exc:
            raise InvalidInput("attachment.too_many_pixels", max_pixels=self.max_pixels) from exc
        except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError) as exc:
            # Pillow reports a corrupt, truncated or unsupported file through any of these.
            raise InvalidInput("attachment.bad_type") from exc

    def _clean(self, data: bytes) -> CleanPhoto:
        with Image.open(io.BytesIO(data), formats=tuple(FORMATS)) as probe:
            width, height = probe.size
            if width * height > self.max_pixels:
                raise InvalidInput("attachment.too_many_pixels", max_pixels=self.max_pixels)
            probe.verify()
        with Image.open(io.BytesIO(data), formats=tuple(FORMATS)) as img:
            fmt = img.format or ""
            img.load()
            upright = ImageOps.exif_transpose(img) or img
            pixels = _plain_mode(upright, fmt)
            bare = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
        out = io.BytesIO()
        if fmt == "JPEG":
            bare.save(out, "JPEG", quality=90)
        elif fmt == "WEBP":
            bare.save(out, "WEBP", quality=90)
        else:
            bare.save(out, "PNG")
        return CleanPhoto(out.getvalue(), FORMATS.get(fmt, "image/png"), bare.width, bare.height)


def _plain_mode(img: Image.Image, fmt: str) -> Image.Image:
    """A mode every encoder writes without a palette or profile to carry along."""
    alpha = "A" in img.getbands() or "transparency" in img.info
    if fmt == "JPEG":
        return img if img.mode in ("L", "RGB") else img.convert("RGB")
    if alpha:
        return img if img.mode == "RGBA" else img.convert("RGBA")
    return img if img.mode in ("L", "RGB") else img.convert("RGB")
