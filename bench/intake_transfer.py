"""How the classifier trained on one labelled CSV does on texts written differently: train on
FILE (e.g. the demo history from `pingan export training-data`), test on the report texts of a
pairs file (examples/duplicate-pairs.csv, whose phrasings were written separately from the demo's).

Usage: python -m bench.intake_transfer --train demo.csv --pairs examples/duplicate-pairs.csv
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from pingan.intelligence.classifier import train
from pingan.intelligence.datasets import read_labelled
from pingan.intelligence.evaluation import score_head


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.intake_transfer")
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--text", default=None, help="text column of the training file")
    parser.add_argument("--pairs", type=Path, required=True)
    args = parser.parse_args()
    data = read_labelled(args.train, text=args.text)
    model = train(data.texts, {"category": data.categories})
    seen: dict[str, str] = {}
    with args.pairs.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            for side in "ab":
                seen[row[f"text_{side}"]] = row[f"category_{side}"]
    texts = list(seen)
    truth = [seen[t] for t in texts]
    head = model.heads["category"]
    result = score_head(
        "category", head.labels, model.probabilities("category", model.features(texts)), truth
    )
    major_hits = sum(p[:3] == t[:3] for p, t in zip(result.predicted, truth, strict=True))
    print(
        json.dumps(
            {
                "train_rows": len(data.texts),
                "test_texts": len(texts),
                "category_top1": round(result.top1, 4),
                "category_top3": round(result.top3, 4),
                "major_of_top1_correct": round(major_hits / len(truth), 4),
                "per_class_recall": {c.label: c.recall for c in result.classes if c.support},
            },
            ensure_ascii=False,
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
