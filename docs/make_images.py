"""Regenerate the pictures of the documentation (``docs/images/*.png``) from generated data.

Run from the repository root: ``python docs/make_images.py``. Needs matplotlib.

The pictures show ground truth from ``pix2vox.synth`` and a hand-made fusion example, not a
network's output, so that they do not depend on any checkpoint.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pix2vox import Result, viz  # noqa: E402
from pix2vox.synth import SynthConfig, generate_object  # noqa: E402

IMAGES = ROOT / "docs" / "images"


def hand_made_fusion(truth: np.ndarray, views: int, seed: int) -> Result:
    """Coarse volumes that each miss a different block of the true shape, fused like Pix2Vox does.

    Scores favour the views that see a voxel as occupied, so the softmax over views gives each
    voxel mostly to the views that got it right, and the blend recovers the whole shape.
    """
    rng = np.random.default_rng(seed)
    coarse = []
    for v in range(views):
        volume = truth.astype(np.float32) * rng.uniform(0.75, 0.95, truth.shape)
        x0, z0 = 16 * (v % 2), 16 * (v // 2 % 2)
        volume[x0 : x0 + 16, :, z0 : z0 + 16] *= 0.1  # the part this view does not see
        coarse.append(np.clip(volume + rng.uniform(0, 0.05, truth.shape), 0, 1))
    coarse = np.stack(coarse)
    scores = np.exp(6 * coarse)
    weights = (scores / scores.sum(axis=0)).astype(np.float32)
    fused = np.clip((coarse * weights).sum(axis=0), 0, 1).astype(np.float32)
    return Result(fused, threshold=0.3, coarse=coarse, fusion_weights=weights)


def main() -> None:
    chair = generate_object(0, "chair", "chair", seed=0, config=SynthConfig(views=3))
    views = list(chair.images)
    viz.preview(chair.voxels, IMAGES / "preview.png", views=views, azimuths=[v.azimuth for v in chair.views],
                panel_size=2.0, dpi=80)
    result = hand_made_fusion(chair.voxels, views=3, seed=0)
    viz.fusion_figure(result, IMAGES / "fusion.png", views=views, panel_size=2.0, dpi=80)


if __name__ == "__main__":
    main()
