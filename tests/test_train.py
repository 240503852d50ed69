"""Training: the package stays out of inference, transforms match the test ones, a tiny run works."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from pix2vox import Reconstructor
from pix2vox.preprocess import PreprocessConfig, official_transform
from pix2vox.synth.dataset import SynthConfig, generate_dataset
from pix2vox.train import Augmentation, TrainConfig, train, train_transform
from pix2vox.cli.train import main
from pix2vox.train.loop import HISTORY_NAME, MODEL_DIR, STATE_NAME, split_samples

from .conftest import make_rendering


@pytest.mark.slow
def test_import_pix2vox_does_not_import_training():
    code = "import sys, pix2vox, pix2vox.reconstructor; print(any(m.startswith('pix2vox.train') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_train_transform_without_augmentation_is_the_official_transform():
    image = make_rendering(1).astype(np.float32) / 255
    config = PreprocessConfig()
    rng = np.random.default_rng(0)
    assert torch.equal(train_transform(image, config, Augmentation.none(), rng), official_transform(image, config))


def test_train_transform_paints_random_background_behind_transparent_pixels():
    image = make_rendering(2).astype(np.float32) / 255
    config = PreprocessConfig()
    plain = official_transform(image, config)
    background = plain == (config.background - 0.5) / 0.5
    augmentation = Augmentation(random_crop=False, background=(225, 255), jitter=0.0, permute_channels=False)
    out = train_transform(image, config, augmentation, np.random.default_rng(3))
    assert out.shape == (3, 224, 224) and torch.isfinite(out).all()
    assert torch.equal(out[~background], plain[~background])  # object pixels untouched
    colours = ((out + 1) / 2 * 255).round()[background.expand_as(out)]
    assert colours.min() >= 225 and colours.max() <= 255
    jittered = train_transform(image, config, Augmentation(), np.random.default_rng(4))
    assert jittered.shape == (3, 224, 224) and jittered.abs().max() <= 1 + 1e-6


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four generated objects, all in train, two also in val."""
    root = tmp_path_factory.mktemp("synth")
    generate_dataset(root, 4, seed=3, config=SynthConfig(views=2), progress=False)
    taxonomy = root / "ShapeNet.json"
    entries = json.loads(taxonomy.read_text())
    for i, entry in enumerate(entries):
        ids = entry["train"] + entry["val"] + entry["test"]
        entry["train"], entry["val"], entry["test"] = ids, ids if i < 2 else [], []
    taxonomy.write_text(json.dumps(entries))
    return root


@pytest.mark.slow
def test_tiny_training_run_writes_a_loadable_folder_and_resumes(tiny_dataset: Path, tmp_path: Path):
    config = TrainConfig(
        data=str(tiny_dataset), out=str(tmp_path / "run"), model="pix2voxpp-f", name="tiny", epochs=1,
        multiview_epochs=1, multiview_views=2, batch_size=2, train_limit=2, val_limit=1, milestones=(1,),
    )
    folder = train(config, progress=False)
    history = json.loads((tmp_path / "run" / HISTORY_NAME).read_text())["epochs"]
    assert [h["stage"] for h in history] == ["single-view", "multi-view"]
    assert all(np.isfinite(h["loss"]) for h in history)
    assert history[1]["lr"] == pytest.approx(5e-4)  # halved after the milestone
    assert "val_iou_2" in history[1]
    assert folder == tmp_path / "run" / MODEL_DIR
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors"]

    resumed = train(TrainConfig(**{**config.to_dict(), "multiview_epochs": 2}), resume=tmp_path / "run", progress=False)
    history = json.loads((tmp_path / "run" / HISTORY_NAME).read_text())["epochs"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    state = torch.load(tmp_path / "run" / STATE_NAME, map_location="cpu", weights_only=True)
    assert state["epoch"] == 2

    rec = Reconstructor.from_pretrained(resumed, device="cpu", preprocess="official")
    assert rec.name == "tiny" and rec.threshold == 0.3
    views = sorted((tiny_dataset / "ShapeNetRendering").glob("*/*/rendering/*.png"))[:2]
    probabilities = rec.predict(views).probabilities
    assert probabilities.shape == (32, 32, 32) and np.isfinite(probabilities).all()


def test_several_roots_are_joined_each_with_its_own_split(tiny_dataset: Path, tmp_path: Path):
    other = tmp_path / "other"
    generate_dataset(other, 3, seed=5, config=SynthConfig(views=2), progress=False)
    entries = json.loads((other / "ShapeNet.json").read_text())
    for entry in entries:  # every object in train
        entry["train"], entry["val"], entry["test"] = entry["train"] + entry["val"] + entry["test"], [], []
    (other / "ShapeNet.json").write_text(json.dumps(entries))
    ids = lambda samples: [(s.taxonomy_id, s.model_id) for s in samples]  # noqa: E731
    joined = split_samples([tiny_dataset, other], "train")
    assert ids(joined) == ids(split_samples(tiny_dataset, "train")) + ids(split_samples(other, "train"))
    assert len(split_samples(tiny_dataset, "train")) == 4 and len(joined) == 7
    assert len(split_samples([tiny_dataset, other], "train", limit=3)) == 3
    assert main(["--data", str(tiny_dataset), str(other), "--out", str(tmp_path / "run"), "--epochs", "1",
                 "--multiview-epochs", "0", "--multiview-views", "2", "--batch-size", "2", "--train-limit", "2", "--val-limit", "1", "-q"]) == 0
    assert (tmp_path / "run" / MODEL_DIR / "model.safetensors").is_file()


def test_fusion_only_stage_leaves_encoder_and_decoder_exactly_as_they_were(tiny_dataset: Path, tmp_path: Path):
    config = TrainConfig(
        data=str(tiny_dataset), out=str(tmp_path / "run"), model="pix2voxpp-f", epochs=1, multiview_epochs=0,
        multiview_views=2, batch_size=2, train_limit=2, val_limit=1, augment=False,
    )
    train(config, progress=False)
    before = torch.load(tmp_path / "run" / STATE_NAME, map_location="cpu", weights_only=True)["weights"]
    fusion_stage = TrainConfig(**{**config.to_dict(), "multiview_epochs": 1, "multiview_train": "fusion"})
    train(fusion_stage, resume=tmp_path / "run", progress=False)
    after = torch.load(tmp_path / "run" / STATE_NAME, map_location="cpu", weights_only=True)["weights"]
    frozen = [k for k in before if k.startswith(("encoder.", "decoder."))]
    assert frozen and all(torch.equal(before[k], after[k]) for k in frozen)  # batch-norm statistics included
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("merger."))


def test_bfloat16_runs_the_network_in_autocast_and_gives_float32_volumes():
    from pix2vox.config import ARCHITECTURES
    from pix2vox.models import Pix2Vox
    from pix2vox.train.loop import _forward, init_weights

    torch.manual_seed(0)
    model = Pix2Vox(ARCHITECTURES["pix2voxpp-f"]).eval()  # the smallest; bfloat16 is emulated on most CPUs
    init_weights(model)
    views = torch.rand(1, 1, 3, 224, 224)
    with torch.no_grad():
        exact, _ = _forward(model, views)
        fused, refined = _forward(model, views, "bfloat16")
    assert fused.dtype == torch.float32 and refined is None  # the loss sees float32
    assert 0 < (fused - exact).abs().mean() < 0.01
    assert (fused - exact).abs().max() < 0.2  # bfloat16 keeps 8 bits of mantissa
    with pytest.raises(ValueError, match="dtype"):
        TrainConfig(data="x", out="y", dtype="float16")


@pytest.mark.slow
def test_bfloat16_training_keeps_float32_weights(tiny_dataset: Path, tmp_path: Path):
    config = TrainConfig(data=str(tiny_dataset), out=str(tmp_path / "run"), epochs=1, multiview_epochs=0,
                         multiview_views=2, batch_size=2, train_limit=2, val_limit=1, dtype="bfloat16")
    train(config, progress=False)
    state = torch.load(tmp_path / "run" / STATE_NAME, map_location="cpu", weights_only=True)
    assert {w.dtype for w in state["weights"].values() if w.is_floating_point()} == {torch.float32}
    assert json.loads(state["config"])["dtype"] == "bfloat16"
    assert np.isfinite(json.loads((tmp_path / "run" / HISTORY_NAME).read_text())["epochs"][0]["loss"])


def test_cli_reports_usage_errors(capsys: pytest.CaptureFixture[str]):
    assert main(["--out", "x"]) == 2
    assert "pix2vox-train: error:" in capsys.readouterr().err
    assert main(["--data", "nowhere", "--out", "x", "--epochs", "0", "--multiview-epochs", "0"]) == 2
