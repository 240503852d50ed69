"""tools/dataset_sheet.py: renderings beside voxels, per category, of complete models only."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from pix2vox.synth.dataset import SynthConfig, generate_dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import dataset_sheet  # noqa: E402


def test_sheet_shows_each_complete_model_beside_its_voxels(tmp_path: Path) -> None:
    root = tmp_path / "data"
    generate_dataset(root, 6, seed=3, categories=["chair", "table"], config=SynthConfig(views=2, size=64), progress=False)
    chairs = sorted((root / "ShapeNetRendering" / "03001627").iterdir())
    (chairs[0] / "rendering" / "rendering_metadata.txt").unlink()  # a model whose renderings are not complete yet
    assert dataset_sheet.complete_models(root, "03001627") == [c.name for c in chairs[1:]]

    out = tmp_path / "sheet.png"
    dataset_sheet.main([str(root), str(out), "--per-category", "3", "--categories", "chair,table"])
    tile, label = dataset_sheet.TILE, dataset_sheet.LABEL_WIDTH
    sheet = np.asarray(Image.open(out).convert("L"))
    assert sheet.shape == (2 * tile, label + 2 * tile * 3)
    drawn = sheet < 250
    for row in range(2):
        for column in range(6):  # rendering, voxels, rendering, voxels, ...
            cell = drawn[row * tile:(row + 1) * tile, label + column * tile:label + (column + 1) * tile]
            complete = row == 1 or column < 4  # two complete chairs, three tables
            assert cell.mean() > 0.02 if complete else not cell.any(), (row, column)
