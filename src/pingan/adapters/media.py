"""Content-addressed file storage for photos: the name on disk is the SHA-256 of the bytes, so no
client-chosen name ever reaches the file system, and the same photo is stored once."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


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
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as fh:
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
