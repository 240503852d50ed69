"""tools/learning_curve.py: the procedural subsets it trains on, and one small curve end to end."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from pix2vox.synth.dataset import SynthConfig, generate_dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import learning_curve  # noqa: E402


def _dataset(root: Path, categories: list[str], seed: int) -> Path:
    """Four objects per category, split 2 / 1 / 1."""
    config = SynthConfig(views=3, size=64, splits=(0.5, 0.25, 0.25))
    generate_dataset(root, 4 * len(categories), seed=seed, categories=categories, config=config, progress=False)
    return root


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A base dataset (chairs, tables) and a procedural one (sofas, lamps)."""
    data = tmp_path_factory.mktemp("data")
    return _dataset(data / "base", ["chair", "table"], 1), _dataset(data / "procedural", ["sofa", "lamp"], 2)


def test_subset_keeps_its_share_of_each_category_and_every_test_model(roots, tmp_path: Path) -> None:
    procedural = [roots[1]]
    entries = json.loads((roots[1] / "ShapeNet.json").read_text())
    total = sum(len(e["train"]) for e in entries)
    subset = learning_curve.procedural_subset(procedural, 3, tmp_path / "three")
    picked = json.loads((subset / "ShapeNet.json").read_text())
    assert total == 4 and [len(e["train"]) for e in picked] == [2, 1]  # 3 of 4: 1.5 each, the remainder to the first
    for full, part in zip(entries, picked):
        assert set(part["train"]) <= set(full["train"])
        assert part["val"] == full["val"] and part["test"] == full["test"]
    model = picked[0]["test"][0]
    assert (subset / "ShapeNetVox32" / picked[0]["taxonomy_id"] / model / "model.binvox").is_file()  # through the links
    everything = learning_curve.procedural_subset(procedural, None, tmp_path / "all")
    assert json.loads((everything / "ShapeNet.json").read_text()) == entries


def test_categories_may_not_repeat_across_procedural_roots(roots, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is also in"):
        learning_curve.procedural_subset([roots[1], roots[1]], None, tmp_path / "twice")


@pytest.mark.slow
def test_a_small_curve_end_to_end_and_resumed(roots, tmp_path: Path, capsys) -> None:
    base, procedural = roots
    args = ["--base", str(base), "--procedural", str(procedural), "--sizes", "0", "all", "--init", "scratch",
            "--samples", "8", "--epoch-size", "4", "--batch-size", "4", "--val-limit", "2", "--categories", "chair",
            "--out", str(tmp_path / "curve"), "-q"]
    assert learning_curve.main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| arm | procedural train models | samples | base IoU | chair | procedural IoU |")
    assert lines[2].startswith("| 0-scratch | 0 | 8 |") and lines[3].startswith("| all-scratch | ")
    assert lines[4].startswith("| mean-shape baseline |")
    figures = json.loads((tmp_path / "curve" / "all-scratch" / "figures.json").read_text())
    assert figures["procedural_train"] > 0 and 0 <= figures["procedural"]["overall"]["iou_1"] <= 1
    mtime = (tmp_path / "curve" / "0-scratch" / "figures.json").stat().st_mtime_ns
    assert learning_curve.main(args) == 0  # finished arms are not run again
    assert (tmp_path / "curve" / "0-scratch" / "figures.json").stat().st_mtime_ns == mtime
    capsys.readouterr()
    assert learning_curve.main(args[:4] + ["--sizes", "0", "--init", str(tmp_path / "curve" / "all-scratch" / "model")]
                               + args[9:]) == 0  # a second command adds its arm to the table
    rows = [line.split(" | ")[0] for line in capsys.readouterr().out.splitlines()[2:5]]
    assert rows == ["| 0-finetune", "| 0-scratch", "| all-scratch"]


def test_base_share_lists_the_base_dataset_enough_times() -> None:
    """--base-share: the base keeps about its share of the training objects as the procedural ones grow."""
    assert learning_curve.base_repeats(None, 605, 1870) == 1
    assert learning_curve.base_repeats(0.5, 605, 0) == 1  # no procedural models: the base alone
    assert learning_curve.base_repeats(0.5, 605, 1870) == 3  # 1815 of 3685: 49 %
    assert learning_curve.base_repeats(0.5, 605, 300) == 1
    assert learning_curve.base_repeats(0.75, 100, 1000) == 30
    assert learning_curve.arm_name(None, "x", 3) == "all-finetune-base3x" and learning_curve.arm_name(0, None) == "0-scratch"
