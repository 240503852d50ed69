"""Regenerate ``golden.json``: outputs of each variant on fixed random weights and images.

Run from the repository root after a deliberate change of numerics:

    python -m tests.golden.make_golden

The file holds, per variant, the mean and a fixed sample of voxels of the probabilities for
one object seen from one view and one seen from three views.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from pix2vox import Reconstructor
from pix2vox.testing import make_rendering, save_random_original_checkpoint
from tests.conftest import VARIANTS

GOLDEN = Path(__file__).with_name("golden.json")
SAMPLE = np.random.default_rng(1234).integers(0, 32, size=(64, 3))
"""Voxel indices stored in the golden file."""


def golden_outputs(name: str, checkpoint: Path, images: list[Path]) -> dict:
    """What the golden file stores for one variant."""
    rec = Reconstructor(name, weights=checkpoint, device="cpu", preprocess="official")
    single, multi = rec.predict_batch([[images[0]], images[1:4]])
    out = {}
    for key, result in (("1-view", single), ("3-view", multi)):
        p = result.probabilities
        out[key] = {"mean": float(p.mean()), "sample": [float(p[tuple(i)]) for i in SAMPLE]}
    return out


def write_images(folder: Path) -> list[Path]:
    """The four PNG renderings the golden outputs are computed from."""
    paths = []
    for seed in range(4):
        path = folder / f"{seed:02d}.png"
        Image.fromarray(make_rendering(100 + seed), "RGBA").save(path)
        paths.append(path)
    return paths


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        images = write_images(folder)
        golden = {
            name: golden_outputs(name, save_random_original_checkpoint(folder / f"{name}.pth", name, seed=0), images)
            for name in VARIANTS
        }
    GOLDEN.write_text(json.dumps(golden, indent=1) + "\n")
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
