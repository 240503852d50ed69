"""Regenerate ``examples/chair/`` and ``examples/sofa/``: held-out models of the furniture dataset.

Run from the repository root, on a machine with Debian's ``sweethome3d-furniture`` package:
``python examples/make_examples.py``.

The examples are two models of the **test split** of the dataset that ``pix2voxpp-f-furniture`` was
trained on (never seen in training or validation), rendered and voxelised exactly as that dataset
(see the checkpoint's model card):

    pix2vox-sweethome3d meshes/
    pix2vox-dataset meshes/ --out furniture --views 12 --split 0.75,0.05,0.2 --randomize --seed 0

This script imports only the BlendSwap CC0 catalogue and builds only the two models, byte for
byte as that command writes them, and keeps their first views and their ``model.binvox``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pix2vox.meshes.builder import MeshDatasetConfig, build_model, find_models  # noqa: E402
from pix2vox.meshes.categories import taxonomy_id  # noqa: E402
from pix2vox.meshes.sweethome3d import DEFAULT_FOLDER, import_catalogues  # noqa: E402
from pix2vox.synth.dataset import RENDERING_DIR, VOXEL_DIR  # noqa: E402

EXAMPLES = ROOT / "examples"
CATALOGUE = DEFAULT_FOLDER / "BlendSwap-CC-0.sh3f"
SEED, CONFIG = 0, MeshDatasetConfig(views=12, splits=(0.75, 0.05, 0.2), randomize=True)
# Folder name -> (category, model folder made by pix2vox-sweethome3d, views kept).
CHOSEN = {
    "chair": ("chair", "BlendSwap-CC-0-125-osaka-chair", 5),
    "sofa": ("sofa", "BlendSwap-CC-0-140-winchester-sofa", 3),
}


def make_examples(out: Path = EXAMPLES) -> None:
    """Writes ``out/<name>/00.png ...`` and ``out/<name>/model.binvox`` for every chosen model."""
    with tempfile.TemporaryDirectory() as scratch:
        meshes, built = Path(scratch) / "meshes", Path(scratch) / "built"
        import_catalogues(meshes, [CATALOGUE])
        models = {(m.category, m.name): m for m in find_models(meshes)}
        for name, (category, folder, views) in CHOSEN.items():
            model = models[(category, folder)]
            build_model(built, model, taxonomy_id(category), SEED, CONFIG)
            target = out / name
            target.mkdir(parents=True, exist_ok=True)
            rendering = built / RENDERING_DIR / taxonomy_id(category) / model.model_id / "rendering"
            for i in range(views):
                shutil.copyfile(rendering / f"{i:02d}.png", target / f"{i:02d}.png")
            shutil.copyfile(built / VOXEL_DIR / taxonomy_id(category) / model.model_id / "model.binvox",
                            target / "model.binvox")


if __name__ == "__main__":
    make_examples()
