"""Model cards and the committed weights/ folders."""

from __future__ import annotations

import subprocess
from pathlib import Path

from huggingface_hub import ModelCard

from pix2vox import (
    get_record,
)
from pix2vox.cli.convert import main as convert_main
from pix2vox.loading.convert import write_cards
from pix2vox.loading.model_card import model_card
from pix2vox.models import ARCHITECTURES
from pix2vox.loading.registry import ModelRecord

from ..conftest import VARIANTS
from .conftest import ROOT

# ------------------------------------------------------------------------------------------------
# Model cards and the committed weights/ folders


def test_model_card_content() -> None:
    card = model_card(get_record("pix2voxpp-a"))
    data = ModelCard(card).data.to_dict()
    assert data["library_name"] == "pix2vox" and data["pipeline_tag"] == "image-to-3d" and data["license"] == "mit"
    assert {"pix2vox", "3d-reconstruction", "shapenet"} <= set(data["tags"])
    for needed in ("@inproceedings{xie2019pix2vox", "@article{xie2020pix2voxpp", "ShapeNet", 'Reconstructor("pix2voxpp-a")',
                   "pix2vox/pix2voxpp-a-shapenet", "| IoU | 0.670 | 0.695", "Pix2Vox++-A-ShapeNet.pth", "96.3 M parameters"):
        assert needed in card, needed
    assert data["datasets"] == ["ShapeNet/ShapeNetCore"]
    [entry] = data["model-index"]
    assert entry["name"] == "pix2voxpp-a"
    [result] = entry["results"]
    assert result["task"]["type"] == "image-to-3d" and result["dataset"]["type"] == "ShapeNet/ShapeNetCore"
    assert result["dataset"]["split"] == "test" and result["source"]["url"] == "https://arxiv.org/abs/2006.12250"
    assert [(m["type"], m["name"], m["value"]) for m in result["metrics"]][:2] == [("iou", "IoU, 1 view", 0.670), ("iou", "IoU, 2 views", 0.695)]
    assert [m["value"] for m in result["metrics"]] == [v for _, v in sorted(get_record("pix2voxpp-a").reported_iou.items())]
    assert ModelCard(card).data.eval_results[0].metric_value == 0.670  # huggingface_hub parses the results widget
    for link in ("[arXiv:2006.12250](https://arxiv.org/abs/2006.12250)", "[arXiv:1901.11153](https://arxiv.org/abs/1901.11153)"):
        assert link in card
    pix2vox_a = ModelCard(model_card(get_record("pix2vox-a"))).data.to_dict()
    assert pix2vox_a["model-index"][0]["results"][0]["source"]["url"] == "https://arxiv.org/abs/1901.11153"
    no_table = model_card(get_record("pix2voxpp-f"))
    assert "no per-view IoU table" in no_table and "model-index" not in ModelCard(no_table).data.to_dict()
    custom = model_card(ModelRecord(name="my-model", architecture=ARCHITECTURES["pix2vox-a"], license="unknown"))
    assert ModelCard(custom).data.license == "unknown" and "from_pretrained" in custom
    assert "datasets" not in ModelCard(custom).data.to_dict()  # not trained on ShapeNet: no dataset claimed


def test_committed_weights_folders_are_generated(tmp_path: Path) -> None:
    committed = ROOT / "weights"
    write_cards(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(VARIANTS)
    for name in VARIANTS:
        for file in ("config.json", "README.md"):
            assert (committed / name / file).read_text() == (tmp_path / name / file).read_text(), (
                f"weights/{name}/{file} is stale: run `python -m pix2vox.cli.convert --write-cards weights`"
            )
    assert not list(committed.rglob("*.safetensors")) or all(
        subprocess.run(["git", "check-ignore", "-q", str(p)], cwd=ROOT).returncode == 0 for p in committed.rglob("*.safetensors")
    )
    assert (committed / "README.md").is_file()


def test_write_cards_cli(tmp_path: Path, capsys) -> None:
    assert convert_main(["--write-cards", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(VARIANTS)
    assert convert_main(["--write-cards", str(tmp_path), "--model", "pix2voxpp-a"]) == 2


