"""Held-out evaluation of the text classifier: a stratified split, top-k accuracy, and per-class
precision, recall and F1, for whatever labels the data has."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pingan.intelligence.classifier import F32, Progress, TextModel, train


def split(labels: Sequence[str], test_size: float, seed: int) -> tuple[list[int], list[int]]:
    """Train and test row indices, stratified by label. A class too small to be in both parts
    (one example) stays in training, so the test part only holds classes the model has seen."""
    if not 0.0 < test_size < 1.0:
        raise ValueError("test_size must be between 0 and 1")
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    train_idx: list[int] = []
    test_idx: list[int] = []
    for label in sorted(by_label):
        rows = np.array(by_label[label])
        rng.shuffle(rows)
        n_test = round(len(rows) * test_size) if len(rows) >= 2 else 0
        n_test = min(max(n_test, 1 if len(rows) >= 2 else 0), len(rows) - 1)
        test_idx.extend(rows[:n_test].tolist())
        train_idx.extend(rows[n_test:].tolist())
    return sorted(train_idx), sorted(test_idx)


@dataclass(frozen=True)
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class HeadReport:
    """How one target did on the held-out rows."""

    target: str
    top1: float
    top3: float
    macro_f1: float
    classes: list[ClassScore]
    truth: list[str] = field(repr=False)
    predicted: list[str] = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "top1_accuracy": round(self.top1, 4),
            "top3_accuracy": round(self.top3, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_class": [vars(c) for c in self.classes],
        }


def score_head(target: str, labels: tuple[str, ...], p: F32, truth: Sequence[str]) -> HeadReport:
    order = np.argsort(-p, axis=1, kind="stable")[:, :3]
    index = {label: i for i, label in enumerate(labels)}
    truth_idx = np.array([index.get(t, -1) for t in truth])
    top1 = float(np.mean(order[:, 0] == truth_idx)) if len(truth) else 0.0
    top3 = float(np.mean((order == truth_idx[:, None]).any(axis=1))) if len(truth) else 0.0
    predicted = [labels[i] for i in order[:, 0]]
    support = Counter(truth)
    hits = Counter(t for t, q in zip(truth, predicted, strict=True) if t == q)
    said = Counter(predicted)
    classes = []
    for label in sorted(set(support) | set(said), key=lambda x: (-support[x], x)):
        prec = hits[label] / said[label] if said[label] else 0.0
        rec = hits[label] / support[label] if support[label] else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        classes.append(
            ClassScore(label, round(prec, 4), round(rec, 4), round(f1, 4), support[label])
        )
    seen = [c for c in classes if c.support]
    macro = sum(c.f1 for c in seen) / len(seen) if seen else 0.0
    return HeadReport(target, top1, top3, macro, classes, list(truth), predicted)


@dataclass(frozen=True)
class Evaluation:
    heads: list[HeadReport]
    n_train: int
    n_test: int
    n_features: int
    train_seconds: float
    predict_seconds: float
    model: TextModel = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "n_train": self.n_train,
            "n_test": self.n_test,
            "n_features": self.n_features,
            "train_seconds": round(self.train_seconds, 2),
            "predict_seconds": round(self.predict_seconds, 2),
            "targets": {h.target: h.as_dict() for h in self.heads},
        }


def evaluate(
    texts: Sequence[str],
    targets: Mapping[str, Sequence[str | None]],
    *,
    test_size: float = 0.2,
    seed: int = 0,
    progress: Progress | None = None,
) -> Evaluation:
    """Split by the first target's labels, train on one part, score every target on the other."""
    first = [str(label) for label in next(iter(targets.values()))]
    train_idx, test_idx = split(first, test_size, seed)
    if not test_idx:
        raise ValueError("too few rows to hold any out")
    started = time.perf_counter()
    model = train(
        [texts[i] for i in train_idx],
        {k: [v[i] for i in train_idx] for k, v in targets.items()},
        seed=seed,
        progress=progress,
    )
    trained = time.perf_counter()
    if progress:
        progress("predict")
    x = model.features([texts[i] for i in test_idx])
    heads = []
    for name, labels in targets.items():
        if name not in model.heads:
            continue
        rows = [k for k, i in enumerate(test_idx) if labels[i] is not None]
        p = model.probabilities(name, x[rows] if len(rows) < len(test_idx) else x)
        truth = [str(labels[test_idx[k]]) for k in rows]
        heads.append(score_head(name, model.heads[name].labels, p, truth))
    done = time.perf_counter()
    return Evaluation(
        heads,
        len(train_idx),
        len(test_idx),
        len(model.vocabulary),
        trained - started,
        done - trained,
        model,
    )
