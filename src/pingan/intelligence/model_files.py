"""Storing a `TextModel` as arrays (`.npz`, loaded with allow_pickle=False) plus JSON metadata.

`classifier.json` names the arrays file it belongs to, and is replaced last and atomically, so a
reader sees either the old model or the new one, never half of each. Loading never unpickles.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pingan.intelligence.classifier import Head, TextModel

META = "classifier.json"
FORMAT = "pingan-text-linear/1"


@dataclass(frozen=True)
class StoredModel:
    model: TextModel
    meta: dict[str, Any]


def save(directory: Path, model: TextModel, meta: dict[str, Any]) -> Path:
    """Write the model under `directory`; returns the metadata file's path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = str(meta.get("trained_at", "")).replace(":", "").replace("-", "").replace("+", "")
    arrays_name = f"classifier-{stamp or 'model'}-{os.getpid()}.npz"
    arrays: dict[str, Any] = {
        "vocabulary": np.asarray(model.vocabulary, dtype=np.str_),
        "idf": model.idf,
    }
    heads: dict[str, Any] = {}
    for name, head in model.heads.items():
        arrays[f"{name}.coef_t"] = head.coef_t
        arrays[f"{name}.intercept"] = head.intercept
        heads[name] = {"labels": list(head.labels), "link": head.link}
    with open(directory / arrays_name, "wb") as f:
        np.savez_compressed(f, **arrays)
        f.flush()
        os.fsync(f.fileno())
    document = {**meta, "format": FORMAT, "arrays": arrays_name, "heads": heads}
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".classifier-", suffix=".json")
    os.chmod(tmp, 0o644)  # readable by a server running as another user, like the arrays
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(document, f, ensure_ascii=False, indent=1)
    target = directory / META
    previous = _arrays_name(target)
    os.replace(tmp, target)
    if previous and previous != arrays_name:
        (directory / previous).unlink(missing_ok=True)
    return target


def _arrays_name(meta_path: Path) -> str | None:
    try:
        name = json.loads(meta_path.read_text(encoding="utf-8")).get("arrays")
    except (OSError, ValueError):
        return None
    return str(name) if isinstance(name, str) and "/" not in name else None


def load(directory: Path) -> StoredModel | None:
    """The stored model, or None if none was trained; a damaged file raises ValueError."""
    meta_path = directory / META
    if not meta_path.exists():
        return None
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ValueError(f"unknown model format {meta.get('format')!r}")
    arrays_name = str(meta["arrays"])
    if "/" in arrays_name or "\\" in arrays_name:
        raise ValueError("bad arrays file name")
    with np.load(directory / arrays_name, allow_pickle=False) as npz:
        vocabulary = tuple(str(t) for t in npz["vocabulary"].tolist())
        idf = npz["idf"].astype(np.float32)
        heads = {
            name: Head(
                tuple(spec["labels"]),
                npz[f"{name}.coef_t"].astype(np.float32),
                npz[f"{name}.intercept"].astype(np.float32),
                spec["link"],
            )
            for name, spec in meta["heads"].items()
        }
    return StoredModel(TextModel(vocabulary, idf, heads), meta)


class ModelHolder:
    """The serving copy of the model, reloaded when `classifier.json` changes on disk."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._stored: StoredModel | None = None
        self._stamp: tuple[float, int] | None = None
        self._lock = threading.Lock()

    def current(self) -> StoredModel | None:
        try:
            st = (self.directory / META).stat()
            stamp: tuple[float, int] | None = (st.st_mtime, st.st_size)
        except OSError:
            stamp = None
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self._stored = load(self.directory) if stamp is not None else None
                    self._stamp = stamp
        return self._stored
