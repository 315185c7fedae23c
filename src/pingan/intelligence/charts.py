"""PNG charts of evaluation results (matplotlib, Agg backend, no display needed).

Chinese labels need a CJK font; the first one found under /usr/share/fonts (WenQuanYi, Noto CJK,
Source Han) is used. Without one, non-ASCII labels are drawn as their rank numbers (#1, #2, ...)
and the caller gets the legend to print or store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
FONT_HINTS = ("wqy", "notosanscjk", "notoserifcjk", "sourcehan", "droidsansfallback", "simhei")


def _cjk_font() -> str | None:
    for base in FONT_DIRS:
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            name = path.name.lower().replace("-", "").replace("_", "")
            if path.suffix.lower() in (".ttc", ".ttf", ".otf") and any(
                h in name for h in FONT_HINTS
            ):
                return str(path)
    return None


def _pyplot() -> tuple[Any, bool]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    font = _cjk_font()
    if font:
        font_manager.fontManager.addfont(font)
        plt.rcParams["font.sans-serif"] = [
            font_manager.FontProperties(fname=font).get_name(),
            "DejaVu Sans",
        ]
    plt.rcParams["axes.unicode_minus"] = False
    return plt, font is not None


def confusion_chart(
    truth: Sequence[str],
    predicted: Sequence[str],
    out: Path,
    title: str,
    top: int = 20,
    names: dict[str, str] | None = None,
) -> dict[str, str]:
    """Row-normalised confusion matrix of the `top` most frequent true classes (others pooled as
    'other'), ticked with `names` where given. Returns the tick legend used when labels had to be
    numbered."""
    plt, has_cjk = _pyplot()
    common = [label for label, _ in Counter(truth).most_common(top)]
    labels = [*common, "other"] if len(set(truth) | set(predicted)) > len(common) else common
    pos = {label: i for i, label in enumerate(common)}
    other = len(common)
    m = np.zeros((len(labels), len(labels)))
    for t, p in zip(truth, predicted, strict=True):
        m[pos.get(t, other), pos.get(p, other)] += 1
    rows = m.sum(axis=1, keepdims=True)
    rows[rows == 0] = 1
    m = m / rows
    legend: dict[str, str] = {}
    ticks = []
    shown = [(names or {}).get(label, label) for label in labels]
    for i, name in enumerate(shown):
        if has_cjk or name.isascii():
            ticks.append(name[:24])
        else:
            ticks.append(f"#{i + 1}")
            legend[f"#{i + 1}"] = name
    size = max(6.0, 0.42 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(m, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), ticks, rotation=70, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), ticks, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if m[i, j] >= 0.05:
                colour = "white" if m[i, j] > 0.6 else "black"
                ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=6, color=colour)
    fig.colorbar(image, ax=ax, fraction=0.04)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return legend


def curve_chart(
    points: Sequence[tuple[float, float, float]],
    chosen: tuple[float, float, float] | None,
    out: Path,
    title: str,
) -> None:
    """Precision/recall curve from (threshold, precision, recall) points, marking the threshold
    in use."""
    plt, _ = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.plot([r for _, _, r in points], [p for _, p, _ in points], marker=".", lw=1)
    if chosen is not None:
        ax.scatter([chosen[2]], [chosen[1]], color="red", zorder=3)
        ax.annotate(f"threshold {chosen[0]:.2f}", (chosen[2], chosen[1]), fontsize=8)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
