"""The text classifier: learning from labelled texts, serving from stored arrays, and the
held-out evaluation that says how far to trust it."""

from __future__ import annotations

import json
import os
import random
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pingan.domain.errors import InvalidInput
from pingan.intelligence.classifier import train
from pingan.intelligence.datasets import read_labelled
from pingan.intelligence.evaluation import evaluate, score_head, split
from pingan.intelligence.model_files import META, ModelHolder, load, save
from pingan.intelligence.tokens import terms

PHRASES = {
    "E0102": [
        "路边垃圾堆积没人清理",
        "小区门口垃圾成堆发臭",
        "绿化带里扔满了垃圾袋",
        "垃圾乱倒在河边",
    ],
    "E0505": ["汽车停在人行道上挡路", "小区门口乱停车堵住消防通道", "私家车长期占用盲道停放"],
    "P0110": ["路灯坏了晚上一片漆黑", "这条路的路灯一直不亮", "路灯闪烁好几天了"],
    "E0602": ["楼下酒吧半夜噪音太大", "广场舞音响声音扰民", "隔壁装修噪声吵得睡不着"],
}
DEPARTMENT = {"E0102": "cgj", "E0505": "gaj", "P0110": "cgj", "E0602": "sthj"}


def corpus(n: int, seed: int = 1) -> tuple[list[str], list[str], list[str | None]]:
    rng = random.Random(seed)
    places = ["南湖区", "秀洲区新城街道", "建设街道", "嘉兴市", "", "中山路", "某小区"]
    texts, cats, depts = [], [], []
    for _ in range(n):
        code = rng.choice(list(PHRASES))
        texts.append(f"{rng.choice(places)}{rng.choice(PHRASES[code])}，请处理")
        cats.append(code)
        depts.append(DEPARTMENT[code])
    return texts, cats, depts


def test_terms_hold_words_and_character_bigrams_and_fold_full_width() -> None:
    found = terms("路灯坏了ＡＢ１")
    assert "w:路灯" in found
    assert "c:灯坏" in found
    assert "c:ab" in found  # full-width letters folded to ASCII, lower-cased


def test_model_ranks_the_right_category_first_for_new_wording() -> None:
    texts, cats, depts = corpus(300)
    model = train(texts, {"category": cats, "department": depts})
    ranked = model.rank("category", "晚上路灯不亮，很危险")
    assert ranked[0].label == "P0110"
    assert len(ranked) == 3
    assert ranked[0].confidence > ranked[1].confidence >= ranked[2].confidence
    assert model.rank("department", "汽车乱停挡住了人行道")[0].label == "gaj"


def test_probabilities_sum_to_one_for_two_and_many_labels() -> None:
    texts, cats, _ = corpus(120)
    two = ["a" if c == "E0102" else "b" for c in cats]
    model = train(texts, {"many": cats, "two": two})
    x = model.features(texts[:5])
    for head in ("many", "two"):
        assert np.allclose(model.probabilities(head, x).sum(axis=1), 1.0, atol=1e-5)


def test_head_learns_only_from_rows_with_a_label() -> None:
    texts, cats, depts = corpus(200)
    undispatched: list[str | None] = [d if i % 2 else None for i, d in enumerate(depts)]
    model = train(texts, {"category": cats, "department": undispatched})
    assert set(model.heads["department"].labels) == {"cgj", "gaj", "sthj"}


def test_a_stored_model_predicts_exactly_as_the_trained_one_and_holds_no_pickle(
    tmp_path: Path,
) -> None:
    texts, cats, depts = corpus(200)
    model = train(texts, {"category": cats, "department": depts})
    save(tmp_path, model, {"trained_at": "2026-11-29T08:00:00+00:00", "n_samples": 200})
    stored = load(tmp_path)
    assert stored is not None
    x_new = stored.model.features(["路灯不亮"])
    x_old = model.features(["路灯不亮"])
    assert np.allclose(
        stored.model.probabilities("category", x_new), model.probabilities("category", x_old)
    )
    arrays = json.loads((tmp_path / META).read_text("utf-8"))["arrays"]
    with zipfile.ZipFile(tmp_path / arrays) as z, np.load(tmp_path / arrays) as npz:
        assert all(name.endswith(".npy") for name in z.namelist())
        assert all(npz[name].dtype != object for name in npz.files)


def test_retraining_replaces_the_arrays_file_and_the_holder_reloads(tmp_path: Path) -> None:
    holder = ModelHolder(tmp_path)
    assert holder.current() is None
    texts, cats, _ = corpus(100)
    save(tmp_path, train(texts, {"category": cats}), {"trained_at": "2026-11-29T08:00:00+00:00"})
    first = holder.current()
    assert first is not None and first.meta["trained_at"].startswith("2026-11-29T08")
    save(tmp_path, train(texts, {"category": cats}), {"trained_at": "2026-11-29T09:00:00+00:00"})
    meta = tmp_path / META
    os.utime(meta, (meta.stat().st_atime, meta.stat().st_mtime + 5))
    second = holder.current()
    assert second is not None and second.meta["trained_at"].startswith("2026-11-29T09")
    assert len(list(tmp_path.glob("*.npz"))) == 1


def test_a_model_file_of_another_format_is_refused(tmp_path: Path) -> None:
    (tmp_path / META).write_text('{"format": "something-else"}', "utf-8")
    with pytest.raises(ValueError):
        load(tmp_path)


def test_split_is_stratified_and_keeps_a_single_example_class_in_training() -> None:
    labels = ["a"] * 50 + ["b"] * 10 + ["lonely"]
    train_idx, test_idx = split(labels, 0.2, seed=3)
    assert sorted(train_idx + test_idx) == list(range(len(labels)))
    assert [labels[i] for i in test_idx].count("a") == 10
    assert [labels[i] for i in test_idx].count("b") == 2
    assert labels.index("lonely") in train_idx


def test_top_k_accuracy_and_per_class_scores() -> None:
    labels = ("x", "y", "z", "w")
    p = np.array(
        [[0.7, 0.2, 0.1, 0.0], [0.5, 0.3, 0.15, 0.05], [0.1, 0.2, 0.3, 0.4]], dtype=np.float32
    )
    report = score_head("t", labels, p, ["x", "y", "x"])
    assert report.top1 == pytest.approx(1 / 3)
    assert report.top3 == pytest.approx(2 / 3)
    by = {c.label: c for c in report.classes}
    assert by["x"].precision == 0.5 and by["x"].recall == 0.5 and by["x"].support == 2
    assert by["y"].recall == 0.0


def test_evaluation_reports_both_targets_on_held_out_rows() -> None:
    texts, cats, depts = corpus(400)
    result = evaluate(texts, {"category": cats, "department": depts}, test_size=0.25, seed=0)
    assert 95 <= result.n_test <= 105  # a quarter of each class, rounded per class
    assert {h.target for h in result.heads} == {"category", "department"}
    assert all(h.top1 > 0.9 for h in result.heads)


def test_csv_in_gbk_with_chinese_headers_is_read_and_columns_found(tmp_path: Path) -> None:
    path = tmp_path / "hotline.csv"
    path.write_bytes(
        "工单编号,诉求内容,小类,承办单位\n1,路灯不亮,路灯,城管\n2,,路灯,城管\n".encode("gbk")
    )
    data = read_labelled(path)
    assert data.encoding == "gb18030"
    assert data.texts == ["路灯不亮"] and data.categories == ["路灯"]
    assert data.departments == ["城管"]
    assert data.skipped == 1


def test_csv_without_recognisable_columns_names_its_columns_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("a,b\n1,2\n", "utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_labelled(path)
    assert caught.value.code == "dataset.columns_unknown"
    assert caught.value.params["columns"] == "a, b"


def test_training_refuses_a_history_too_small_to_learn_from() -> None:
    from datetime import UTC, datetime

    from pingan.services.suggestions import History, train_on_history

    history = History(["路灯不亮"] * 5, ["P0110"] * 5, ["cgj"] * 5)
    with pytest.raises(InvalidInput) as caught:
        train_on_history(history, datetime.now(UTC))
    assert caught.value.code == "intake.too_little_history"
