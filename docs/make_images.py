"""Regenerate the pictures of the documentation (``docs/images/*.png``) from generated data.

Run from the repository root: ``python docs/make_images.py``. Needs matplotlib.

The pictures show ground truth from ``pix2vox.synth`` and a hand-made fusion example, not a
network's output, so that they do not depend on any checkpoint. ``pose.png`` shows the canonical
pose (ShapeNet's: y up, the front facing +x) on a generated chair, car and aeroplane.
"""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pix2vox import Result, viz  # noqa: E402
from pix2vox.atomic import write_bytes_atomic  # noqa: E402
from pix2vox.synth import SynthConfig, generate_object  # noqa: E402

IMAGES = ROOT / "docs" / "images"
# The pose picture: which objects, and the caption under each.
POSE_OBJECTS = (
    ("chair", "chair: backrest at low x"),
    ("car", "car: bonnet at high x"),
    ("aeroplane", "aeroplane: nose at high x"),
)
POSE_ELEVATION, POSE_AZIMUTH = 25.0, 60.0  # from the front right: +x and +z towards the viewer


def screen_axes(elevation: float, azimuth: float) -> np.ndarray:
    """``(2, 3)``: the picture's right and up directions in array axes, as ``viz`` draws them."""
    el, az = np.radians(elevation), np.radians(azimuth)
    back = np.array([np.cos(el) * np.sin(az), np.sin(el), np.cos(el) * np.cos(az)])
    right = np.array([np.cos(az), 0.0, -np.sin(az)])
    return np.stack([right, np.cross(back, right)])


def pose_figure(path: Path, pixels: int = 200, dpi: int = 100) -> Path:
    """The axes, then one panel per object of :data:`POSE_OBJECTS`, all from the same side.

    The objects are the first of their category that ``pix2vox-synth --seed 0`` generates, drawn
    with ``viz``; the first panel's arrows are the array axes, projected like the voxels.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = len(POSE_OBJECTS) + 1
    figure = Figure(figsize=(panels * pixels / dpi, (pixels + 30) / dpi), dpi=dpi, facecolor="white")
    FigureCanvasAgg(figure)
    bottom = 30 / (pixels + 30)

    ax = figure.add_axes((0, bottom, 1 / panels, 1 - bottom))
    ax.set_axis_off()
    ax.set_xlim(0, pixels)
    ax.set_ylim(pixels, 0)  # rows grow downwards, like the images'
    origin = np.array([0.5, 0.55]) * pixels
    screen = screen_axes(POSE_ELEVATION, POSE_AZIMUTH)
    for axis, label in enumerate(("x: front", "y: up", "z")):
        tip = origin + screen[:, axis] * np.array([1.0, -1.0]) * 0.32 * pixels
        ax.annotate("", xy=tip, xytext=origin, arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5})
        ax.text(*(origin + 1.3 * (tip - origin)), label, fontsize=10, ha="center", va="center")
    ax.text(0.5, -0.02, "array axes [x, y, z]", transform=ax.transAxes, ha="center", va="top", fontsize=10)

    for column, (category, caption) in enumerate(POSE_OBJECTS, start=1):
        voxels = generate_object(0, category, category, seed=0, config=SynthConfig(views=1, size=16)).voxels
        image = viz.render_surface(
            *viz.voxel_faces(voxels), colour=viz.VOXEL_COLOUR, elevation=POSE_ELEVATION, azimuth=POSE_AZIMUTH,
            pixels=pixels, outline="faces",
        )
        ax = figure.add_axes((column / panels, bottom, 1 / panels, 1 - bottom))
        ax.imshow(image, interpolation="antialiased")
        ax.set_axis_off()
        ax.text(0.5, -0.02, caption, transform=ax.transAxes, ha="center", va="top", fontsize=10)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return write_bytes_atomic(path, buffer.getvalue())


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
    """Regenerates every picture."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    chair = generate_object(0, "chair", "chair", seed=0, config=SynthConfig(views=3))
    views = list(chair.images)
    viz.preview(chair.voxels, IMAGES / "preview.png", views=views, azimuths=[v.azimuth for v in chair.views],
                panel_size=2.0, dpi=80)
    result = hand_made_fusion(chair.voxels, views=3, seed=0)
    viz.fusion_figure(result, IMAGES / "fusion.png", views=views, panel_size=2.0, dpi=80)
    pose_figure(IMAGES / "pose.png")
    logging.getLogger("make_images").info("wrote preview.png, fusion.png and pose.png in %s", IMAGES)


if __name__ == "__main__":
    main()
