"""Generate a labelled English complaint CSV (text, category, department) to show that
`pingan evaluate intake` does not depend on Pingan's own category codes or on Chinese.

The texts are composed from phrase lists, so they are easier than real complaints; to keep the
task from being trivial, classes share vocabulary (lights vs. traffic lights, noise from
construction vs. from neighbours), some texts are vague, and a share of labels is deliberately
wrong (`--noise`). Usage: python -m bench.complaint_texts --rows 5000 --out FILE.csv
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

# class: (department, subjects, problems)
CLASSES: dict[str, tuple[str, list[str], list[str]]] = {
    "pothole": (
        "roads",
        ["pothole", "hole in the road", "broken asphalt", "sunken road surface", "crater"],
        ["is getting bigger", "damaged my tyre", "nearly threw a cyclist", "has been there weeks"],
    ),
    "streetlight_out": (
        "public works",
        ["street light", "lamp post", "street lamp", "light on the corner"],
        ["is out", "keeps flickering", "has been dark for days", "does not come on at night"],
    ),
    "traffic_signal": (
        "transport",
        ["traffic light", "pedestrian signal", "crossing light", "signal at the junction"],
        ["is stuck on red", "is out", "keeps flickering", "changes too fast to cross"],
    ),
    "noise_construction": (
        "environment",
        ["building site", "construction crew", "pile driver", "workers next door"],
        ["are drilling after midnight", "make noise at 6 am", "work all night", "are too loud"],
    ),
    "noise_neighbour": (
        "police",
        ["neighbours", "the flat upstairs", "a bar downstairs", "people next door"],
        ["play loud music all night", "shout every evening", "are too loud", "party until 3 am"],
    ),
    "illegal_dumping": (
        "sanitation",
        ["pile of rubbish", "old mattress", "builders' waste", "bags of trash", "fridge"],
        ["dumped on the pavement", "left by the river", "blocking the alley", "smells terrible"],
    ),
    "overflowing_bin": (
        "sanitation",
        ["litter bin", "rubbish bin", "recycling bin", "bin at the bus stop"],
        ["is overflowing", "has not been emptied", "smells terrible", "is attracting rats"],
    ),
    "illegal_parking": (
        "police",
        ["car", "van", "delivery truck", "lorry"],
        [
            "parked on the pavement",
            "blocking my driveway",
            "parked on the crossing",
            "double parked",
        ],
    ),
    "water_leak": (
        "water",
        ["water main", "pipe", "hydrant", "water"],
        ["is leaking", "burst this morning", "is flooding the street", "pours out of the road"],
    ),
    "fallen_tree": (
        "parks",
        ["tree", "large branch", "street tree", "old oak"],
        ["fell across the road", "is about to fall", "blocks the footpath", "hit a parked car"],
    ),
    "food_safety": (
        "market regulation",
        ["restaurant", "food stall", "takeaway", "bakery"],
        ["made us sick", "sells expired food", "has rats in the kitchen", "is dirty"],
    ),
    "fraud": (
        "police",
        ["phone call", "text message", "website", "man at the door"],
        [
            "asked for my bank code",
            "pretended to be the bank",
            "sold fake investments",
            "is a scam",
        ],
    ),
}
PLACES = [
    "on Main Street", "near the school", "outside number 12", "by the park gate",
    "at the market", "on the river road", "behind the station", "in our estate", "",
]  # fmt: skip
OPENERS = ["", "Hello, ", "Please help: ", "Urgent - ", "I want to report that ", "Again! "]
CLOSERS = ["", " Please fix it.", " This is dangerous.", " Nobody has come yet.", " Thanks."]
VAGUE = [
    "something is wrong here",
    "it is a mess again",
    "please send someone",
    "same as last week",
]


def generate(rows: int, seed: int, noise: float, vague: float) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    names = list(CLASSES)
    weights = [rng.uniform(0.3, 3.0) for _ in names]  # imbalanced, like real hotlines
    out = []
    for _ in range(rows):
        label = rng.choices(names, weights)[0]
        dept, subjects, problems = CLASSES[label]
        if rng.random() < vague:
            body = f"{rng.choice(VAGUE)} {rng.choice(PLACES)}".strip()
        else:
            body = f"the {rng.choice(subjects)} {rng.choice(PLACES)} {rng.choice(problems)}"
        text = f"{rng.choice(OPENERS)}{' '.join(body.split())}.{rng.choice(CLOSERS)}"
        if rng.random() < noise:
            label = rng.choice(names)
            dept = CLASSES[label][0]
        out.append((text, label, dept))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.complaint_texts")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--noise", type=float, default=0.03, help="share of wrong labels")
    parser.add_argument("--vague", type=float, default=0.05, help="share of vague texts")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["complaint", "type", "agency"])
        writer.writerows(generate(args.rows, args.seed, args.noise, args.vague))
    print(f"{args.rows} rows written to {args.out}")


if __name__ == "__main__":
    main()
