"""How ``auto`` preprocessing frames pictures that are not renderings: one-view IoU against ``official``.

Each held-out rendering (RGBA, ShapeNet-framed) is re-framed as a photo would be: flattened onto
opaque white (as a JPEG), grey, coloured or black backgrounds, padded, scaled, moved off centre.
Every case goes through ``auto``; the reference is the same rendering through the ``official``
transform, the one the checkpoint was trained with. Prints a Markdown table.

    python benchmarks/framing.py --data /path/to/furniture_test --views 48

``--data``: a ShapeNet-layout dataset whose test split holds held-out models (see
docs/preprocessing.md, "How auto was measured", for the commands that build it).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from photo_cases import as_jpeg, flatten, held_out_views, place

from pix2vox import Reconstructor
from pix2vox.metrics import iou
from pix2vox.preprocess import preprocess

# name -> how a rendering becomes the picture (PIL RGBA rendering -> PIL picture)
CASES = {
    "RGBA rendering 137×137 (auto = official)": lambda r: r,
    "RGBA, padded to 200×137": lambda r: _pad(r, (200, 137)),
    "white, JPEG, as rendered (137×137)": lambda r: as_jpeg(flatten(r, (255, 255, 255))),
    "grey 240, PNG, as rendered": lambda r: flatten(r, (240, 240, 240)),
    "RGBA → `.convert(\"RGB\")` (black background)": lambda r: r.convert("RGB"),
    "white, JPEG, 640×480, object 60 %, centred": lambda r: as_jpeg(flatten(place(r, (640, 480), 0.6, (0.5, 0.5)), (255, 255, 255))),
    "white, JPEG, 640×480, object 30 %, off centre": lambda r: as_jpeg(flatten(place(r, (640, 480), 0.3, (0.3, 0.65)), (255, 255, 255))),
    "white, JPEG, 480×640, object 95 %": lambda r: as_jpeg(flatten(place(r, (480, 640), 0.95, (0.5, 0.5)), (255, 255, 255))),
    "beige (235, 225, 205), 800×600, object 50 %": lambda r: flatten(place(r, (800, 600), 0.5, (0.6, 0.45)), (235, 225, 205)),
    "blue (70, 110, 160), 640×480, object 60 %": lambda r: flatten(place(r, (640, 480), 0.6, (0.5, 0.5)), (70, 110, 160)),
    "black, 640×480, object 60 %": lambda r: flatten(place(r, (640, 480), 0.6, (0.5, 0.5)), (0, 0, 0)),
}


def _pad(rendering, size):
    from PIL import Image

    canvas = Image.new("RGBA", size, (0, 0, 0, 0))
    canvas.paste(rendering, ((size[0] - rendering.width) // 2, (size[1] - rendering.height) // 2))
    return canvas


def _training_framing(views, crop: int) -> tuple[np.ndarray, np.ndarray]:
    """Per rendering: the object's longer side and its box centre's offset below the centre, as fractions of the official crop."""
    fills, shifts = [], []
    for view in views:
        alpha = np.asarray(view.rgba())[..., 3]
        top = (alpha.shape[0] - crop) // 2
        ys, xs = np.nonzero(alpha > 127)
        fills.append(max(ys.max() + 1 - ys.min(), xs.max() + 1 - xs.min()) / crop)
        shifts.append(((ys.min() + ys.max() + 1) / 2 - (top + crop / 2)) / crop)
    return np.array(fills), np.array(shifts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="ShapeNet-layout dataset with held-out test models")
    parser.add_argument("--views", type=int, default=48, help="test models, one view each (default: 48)")
    parser.add_argument("--model", default="pix2voxpp-f-furniture")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    torch.set_num_threads(2)
    rec = Reconstructor(args.model, device="cpu")
    config = rec.preprocess_config
    views = held_out_views(args.data, args.views)

    def scores(tensors):
        results = rec.predict_batch(tensors, preprocessed=True, batch_size=16, progress=False)
        return np.array([iou(r.probabilities, v.truth, (rec.threshold,))[0] for r, v in zip(results, views)])

    start = time.perf_counter()
    official = scores([preprocess(v.path, config, "official") for v in views])
    rows = []
    for name, make in CASES.items():
        tensors = [preprocess(np.asarray(make(v.rgba())), config, "auto") for v in views]
        rows.append((name, scores(tensors)))
    print(f"{len(views)} held-out test views (the first rendering of {len(views)} test models), model {rec.name}, "
          f"IoU at its threshold {rec.threshold}.\n")
    print(f"`official` on the RGBA renderings: mean one-view IoU **{official.mean():.3f}**.\n")
    print("| picture given to `auto` | mean IoU | minus official | views within 0.05 of official |")
    print("|---|---|---|---|")
    for name, values in rows:
        close = np.mean(np.abs(values - official) <= 0.05)
        print(f"| {name} | {values.mean():.3f} | {values.mean() - official.mean():+.3f} | {close:.0%} |")
    worst = max(abs(values.mean() - official.mean()) for _, values in rows)
    fills, shifts = _training_framing(views, config.crop_size)
    print(f"\nIn the official crop of these renderings the object's longer side spans a median {np.median(fills):.3f} "
          f"of it (object_fill: {config.object_fill}), and its box centre sits a median {np.median(shifts):.3f} of the "
          f"crop below the crop's centre (FRAME_SHIFT).")
    print(f"\nLargest gap between a case's mean and official: {worst:.3f} ({time.perf_counter() - start:.0f} s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
