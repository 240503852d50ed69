"""Held-out results for model cards: mean-shape baselines, the picture rule, the report and its CLI."""

import json

import numpy as np
import pytest

from pix2vox.cli.heldout import main
from pix2vox.datasets import ShapeNetDataset
from pix2vox.evaluate import EvaluationReport, SampleScore
from pix2vox.heldout import HeldoutResults, mean_shape_baselines, median_objects
from pix2vox.metrics import iou
from pix2vox.synth import SynthConfig, generate_dataset


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("heldout")
    generate_dataset(root, 12, seed=4, categories=["chair", "sofa"], config=SynthConfig(views=3), progress=False)
    return root


def test_mean_shape_baseline_is_the_best_thresholded_training_average(data):
    baselines = mean_shape_baselines(data)
    assert set(baselines) == {"03001627", "04256520"}
    for taxonomy, (threshold, score) in baselines.items():
        train = [s.load_volume() for s in ShapeNetDataset(data, "train") if s.taxonomy_id == taxonomy]
        test = [s.load_volume() for s in ShapeNetDataset(data, "test") if s.taxonomy_id == taxonomy]
        mean = np.mean(train, axis=0)
        candidates = np.round(np.arange(0.05, 1.0, 0.05), 2)
        expected = [np.mean([iou(mean, t, (c,))[0] for t in test]) for c in candidates]
        assert score == pytest.approx(max(expected))
        assert threshold == pytest.approx(candidates[int(np.argmax(expected))])


def report(views, scores):
    samples = tuple(SampleScore(t, n, m, ("00.png",) * views, (s,), 0.5) for (t, n, m), s in scores)
    return EvaluationReport("x", "test", views, "first", 0, (0.3,), 0.3, 0.01, "mesh", samples)


def test_median_objects_and_improved_share():
    ids = [("1", "chair", f"c{i}") for i in range(5)] + [("2", "lamp", f"l{i}") for i in range(2)]
    one = report(1, zip(ids, [0.5, 0.1, 0.9, 0.3, 0.7, 0.4, 0.2]))
    five = report(5, zip(ids, [0.6, 0.1, 0.95, 0.2, 0.8, 0.5, 0.3]))
    results = HeldoutResults(0.3, {1: one, 5: five}, one, {"1": (0.3, 0.2)}, min_test=5)
    # chair (5 models) first, then lamp; the lower middle of the sorted one-view IoUs.
    assert median_objects(results, 2) == [("1", "c0"), ("2", "l1")]
    assert results.improved_share() == pytest.approx(5 / 7)  # all but c1 (equal) and c3 (worse)
    table = results.to_markdown()
    assert "| chair | 5 | 0.500 | 0.530 | 0.200 (0.3) |" in table
    assert "lamp" not in table.split("| category")[1]  # fewer than min_test models
    assert "5 views beat 1 view on 71 % of the models." in table
    one_only = HeldoutResults(0.3, {1: one}, one, {"1": (0.3, 0.2)}, min_test=5)
    assert one_only.improved_share() is None  # nothing to compare one view with
    assert "beat" not in one_only.to_markdown()


@pytest.mark.slow
def test_cli_writes_report_and_pictures(data, original_checkpoint, tmp_path, capsys):
    weights = original_checkpoint("pix2voxpp-f")
    out = tmp_path / "out"
    assert main(["--model", "pix2voxpp-f", "--weights", str(weights), "--data", str(data), "--out", str(out),
                 "--views", "1", "3", "--min-test", "1", "--pictures", "2", "-q"]) == 0
    summary = json.loads((out / "heldout.json").read_text())
    n_test = len(list(ShapeNetDataset(data, "test")))
    assert summary["overall"]["n"] == n_test
    assert {row["taxonomy_name"] for row in summary["categories"]} == {"chair", "sofa"}
    assert 0.0 <= summary["overall"]["iou_3"] <= 1.0 and len(summary["samples"]["3"]) == n_test
    assert "mean-shape baseline" in (out / "heldout.md").read_text()
    assert sorted(p.name for p in (out / "pictures").iterdir()) == ["chair.png", "sofa.png"]
