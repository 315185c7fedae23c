"""A text classifier that is trained with scikit-learn but served with numpy alone.

Training fits TF-IDF over `tokens.terms` and one linear model per target (category, department)
with logistic loss, so scores become probabilities. The fitted state is kept as plain arrays — the
vocabulary, the idf weights and each target's coefficients — which is all prediction needs and
can be stored without pickle (see `model_files`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from pingan.intelligence.tokens import terms

if TYPE_CHECKING:  # scipy is loaded on first use: the API starts faster without it
    from scipy import sparse

F32 = npt.NDArray[np.float32]
Link = Literal["ovr", "softmax"]
Progress = Callable[[str], None]

MAX_FEATURES = 60_000


@dataclass(frozen=True)
class Head:
    """One target's linear model: scores = x · coef_t + intercept, then the link gives
    probabilities (`ovr`: normalised one-vs-rest sigmoids; `softmax` for two or one label)."""

    labels: tuple[str, ...]
    coef_t: F32  # (n_features, n_labels)
    intercept: F32  # (n_labels,)
    link: Link

    def probabilities(self, scores: F32) -> F32:
        if self.link == "softmax":
            z = scores - scores.max(axis=1, keepdims=True)
            e = np.exp(z)
            out: F32 = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
            return out
        p = 1.0 / (1.0 + np.exp(-np.clip(scores, -30, 30)))
        total = p.sum(axis=1, keepdims=True)
        total[total == 0] = 1.0
        normalised: F32 = (p / total).astype(np.float32)
        return normalised


@dataclass(frozen=True)
class Ranked:
    label: str
    confidence: float


@dataclass(frozen=True)
class TextModel:
    """The vocabulary with idf weights, and a head per target (e.g. 'category', 'department')."""

    vocabulary: tuple[str, ...]
    idf: F32
    heads: dict[str, Head]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.vocabulary)})

    def features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Sublinear tf × idf, l2-normalised rows: the same transform scikit-learn fitted."""
        from scipy import sparse

        indptr = [0]
        indices: list[int] = []
        values: list[float] = []
        index = self._index
        for text in texts:
            counts = Counter(index[t] for t in terms(text) if t in index)
            row = [(i, (1.0 + math.log(c)) * float(self.idf[i])) for i, c in counts.items()]
            norm = math.sqrt(sum(v * v for _, v in row)) or 1.0
            indices.extend(i for i, _ in row)
            values.extend(v / norm for _, v in row)
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.asarray(values, np.float32), np.asarray(indices, np.int64), indptr),
            shape=(len(texts), len(self.vocabulary)),
        )

    def probabilities(self, head: str, x: sparse.csr_matrix) -> F32:
        h = self.heads[head]
        scores = np.asarray(x @ h.coef_t, dtype=np.float32) + h.intercept
        return h.probabilities(scores)

    def rank(self, head: str, text: str, k: int = 3) -> list[Ranked]:
        """The k likeliest labels of one text, best first."""
        return self.top(head, self.features([text]), k)

    def top(self, head: str, x: sparse.csr_matrix, k: int = 3) -> list[Ranked]:
        """The k likeliest labels of the first row of features `x` (computed once per text)."""
        h = self.heads[head]
        p = self.probabilities(head, x)[0]
        order = np.argsort(-p, kind="stable")[:k]
        return [Ranked(h.labels[i], round(float(p[i]), 4)) for i in order]


def _head(clf: object, labels: Sequence[str], n_features: int) -> Head:
    coef = np.asarray(clf.coef_, dtype=np.float32)  # type: ignore[attr-defined]
    intercept = np.asarray(clf.intercept_, dtype=np.float32)  # type: ignore[attr-defined]
    if len(labels) == 2:
        coef = np.vstack([np.zeros((1, n_features), np.float32), coef])
        intercept = np.concatenate([np.zeros(1, np.float32), intercept])
        return Head(tuple(labels), np.ascontiguousarray(coef.T), intercept, "softmax")
    return Head(tuple(labels), np.ascontiguousarray(coef.T), intercept, "ovr")


def _constant(label: str, n_features: int) -> Head:
    return Head((label,), np.zeros((n_features, 1), np.float32), np.zeros(1, np.float32), "softmax")


def train(
    texts: Sequence[str],
    targets: Mapping[str, Sequence[str | None]],
    *,
    seed: int = 0,
    max_features: int = MAX_FEATURES,
    progress: Progress | None = None,
) -> TextModel:
    """Fit the vocabulary on `texts` and one head per target (a label per text; a head learns only
    from the texts whose label is not None, e.g. department from dispatched cases)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier

    say = progress or (lambda _step: None)
    say("features")
    vectorizer = TfidfVectorizer(
        analyzer=terms,
        min_df=2 if len(texts) >= 200 else 1,
        max_features=max_features,
        sublinear_tf=True,
        dtype=np.float32,
    )
    x = vectorizer.fit_transform(texts)
    vocabulary = tuple(vectorizer.get_feature_names_out().tolist())
    heads: dict[str, Head] = {}
    for name, labels in targets.items():
        say(name)
        if len(labels) != len(texts):
            raise ValueError(f"{name}: {len(labels)} labels for {len(texts)} texts")
        rows = [i for i, label in enumerate(labels) if label is not None]
        known = [str(labels[i]) for i in rows]
        classes = sorted(set(known))
        if not classes:
            continue
        if len(classes) == 1:
            heads[name] = _constant(classes[0], len(vocabulary))
            continue
        clf = SGDClassifier(
            loss="log_loss",
            alpha=_alpha(len(texts)),
            max_iter=30,
            tol=1e-4,
            random_state=seed,
            n_jobs=2,
        )
        clf.fit(x if len(rows) == len(labels) else x[rows], known)
        heads[name] = _head(clf, [str(c) for c in clf.classes_], len(vocabulary))
    return TextModel(vocabulary, np.asarray(vectorizer.idf_, np.float32), heads)


def _alpha(n: int) -> float:
    """Less regularisation as evidence grows (1e-4 for hundreds of texts, 1e-6 for a million)."""
    return float(min(1e-4, max(1e-6, 0.05 / max(n, 1))))
