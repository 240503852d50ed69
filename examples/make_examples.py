"""Regenerate ``examples/chair/`` and ``examples/aeroplane/`` from ``pix2vox-synth``.

Run from the repository root: ``python examples/make_examples.py``.

The examples are two objects of the held-out dataset

    pix2vox-synth --out heldout --objects 260 --seed 1 --views 8

(the chair ``01e8e0ca5fc784558ae93c6bd32c85bb``, views 00-04, and the aeroplane
``1e6ecbeaa08812bd136d82eb1a2f7cf3``, views 00-02), with their ``model.binvox``. This script builds
only those two objects, byte for byte as that command writes them, instead of all 260.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pix2vox.synth import CATEGORIES, SynthConfig, generate_object  # noqa: E402
from pix2vox.synth.dataset import RENDERING_DIR, VOXEL_DIR, plan_objects, write_object  # noqa: E402

logger = logging.getLogger("make_examples")

EXAMPLES = ROOT / "examples"
SEED, OBJECTS, CONFIG = 1, 260, SynthConfig(views=8)
# Folder name -> (category, model id, number of views kept).
CHOSEN = {
    "chair": ("chair", "01e8e0ca5fc784558ae93c6bd32c85bb", 5),
    "aeroplane": ("aeroplane", "1e6ecbeaa08812bd136d82eb1a2f7cf3", 3),
}


def make_example(folder: Path, category: str, model_id: str, views: int, scratch: Path) -> None:
    """Writes the object's first ``views`` renderings and its voxels into ``folder``.

    Args:
        folder: Output folder, created if missing; its PNGs and ``model.binvox`` are replaced.
        category: Category name of the object.
        model_id: The object's model id in the held-out dataset.
        views: How many renderings to keep (``00.png`` ...).
        scratch: An empty folder for the dataset layout ``write_object`` writes.

    Raises:
        LookupError: The plan of the held-out dataset has no such object.
    """
    plan = {mid: (index, cat) for index, cat, mid in plan_objects(OBJECTS, SEED, list(CATEGORIES))}
    if plan.get(model_id, (None, None))[1] != category:
        raise LookupError(f"no {category} {model_id} in the dataset of seed {SEED}")
    index = plan[model_id][0]
    write_object(scratch, generate_object(index, category, model_id, SEED, CONFIG))
    taxonomy = CATEGORIES[category].taxonomy_id
    rendering = scratch / RENDERING_DIR / taxonomy / model_id / "rendering"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    for v in range(views):
        (folder / f"{v:02d}.png").write_bytes((rendering / f"{v:02d}.png").read_bytes())
    (folder / "model.binvox").write_bytes((scratch / VOXEL_DIR / taxonomy / model_id / "model.binvox").read_bytes())
    logger.info("%s: object %d of seed %d, %d views, into %s", category, index, SEED, views, folder)


def main() -> None:
    """Regenerates every example folder."""
    import tempfile

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name, (category, model_id, views) in CHOSEN.items():
        with tempfile.TemporaryDirectory() as scratch:
            make_example(EXAMPLES / name, category, model_id, views, Path(scratch))


if __name__ == "__main__":
    main()
