"""Turning a complaint's free text into the terms a linear model weighs.

Two kinds of term, so that the model copes with both languages and with words jieba does not know:
jieba words (`w:垃圾`, `w:rubbish`) and character bigrams of the cleaned text (`c:垃圾`). Text is
NFKC-normalised first, so full-width letters and digits read like their ASCII forms.

jieba's dictionary ships inside the package and is loaded once, lazily and quietly; nothing is
downloaded.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
import warnings
from collections.abc import Callable

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_WORD = re.compile(r"\w", re.UNICODE)
_lock = threading.Lock()
_cut: Callable[[str], list[str]] | None = None


def _segmenter() -> Callable[[str], list[str]]:
    global _cut
    if _cut is None:
        with _lock:
            if _cut is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)  # old regex escapes
                    import jieba

                jieba.setLogLevel(logging.ERROR)
                jieba.initialize()

                def cut(text: str) -> list[str]:
                    return list(jieba.lcut(text, HMM=True))

                _cut = cut
    return _cut


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def terms(text: str) -> list[str]:
    """The feature terms of one text: words, then character bigrams (repeats kept for counts)."""
    clean = normalise(text)
    out = ["w:" + w for w in _segmenter()(clean) if _WORD.search(w)]
    squeezed = _NOISE.sub("", clean)
    out.extend("c:" + squeezed[i : i + 2] for i in range(len(squeezed) - 1))
    if len(squeezed) == 1:
        out.append("c:" + squeezed)
    return out
