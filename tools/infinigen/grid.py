"""A picture grid of a ``MESHES`` folder: one row per category, each model in the pose
``pix2vox-dataset`` gives it, seen from the front-left and above, with its factory underneath.

Runs with our Python (it uses ``pix2vox.meshes``), not Infinigen's::

    python tools/infinigen/grid.py meshes/ docs/images/infinigen.png --per-category 4
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from pix2vox.meshes.builder import find_models
from pix2vox.meshes.load import FRONTS, load_mesh, turn_about_y
from pix2vox.meshes.raster import rasterize
from pix2vox.synth.render import Camera

sys.path.insert(0, str(Path(__file__).resolve().parent))
import postprocess  # noqa: E402  (beside this file)

LABEL_WIDTH = 70
CAPTION = 12
FOV = 25.0


def view_of(corners: np.ndarray, azimuth: float, elevation: float) -> Camera:
    """A camera at ``azimuth``/``elevation`` whose view cone holds the sphere around ``corners``."""
    radius = float(np.linalg.norm(corners.max(axis=0) - corners.min(axis=0))) / 2
    return Camera(azimuth, elevation, radius / math.sin(math.radians(FOV / 2)) * 1.02, FOV)


def render(path: Path, size: int, *, front: str = "+z", azimuth: float = 50.0, elevation: float = 20.0) -> Image.Image:
    """One model on white, ``size`` pixels square (azimuth 90° looks straight at the front)."""
    mesh = load_mesh(path, turn_about_y(FRONTS[front]))
    points = mesh.triangles.reshape(-1, 3)
    rgba = rasterize(mesh, view_of(points, azimuth, elevation), size, supersample=2)
    image = Image.new("RGB", (size, size), "white")
    image.paste(Image.fromarray(rgba, "RGBA"), mask=Image.fromarray(rgba[..., 3]))
    return image


def grid(meshes: str | Path, *, per_category: int = 4, size: int = 96, blocks: int = 1,
         categories: Sequence[str] | None = None) -> Image.Image:
    """The first ``per_category`` models of each category (sorted by name), one row per category;
    the rows are laid out in ``blocks`` side-by-side columns."""
    models = find_models(meshes)
    names = list(categories or dict.fromkeys(m.category for m in models))
    rows = math.ceil(len(names) / blocks)
    block_width = LABEL_WIDTH + per_category * size + 8
    picture = Image.new("RGB", (blocks * block_width, rows * (size + CAPTION)), "white")
    draw = ImageDraw.Draw(picture)
    for number, category in enumerate(names):
        top, left0 = (number % rows) * (size + CAPTION), (number // rows) * block_width
        draw.text((left0 + 4, top + size // 2 - 6), category, fill="black")
        for column, model in enumerate([m for m in models if m.category == category][:per_category]):
            left = left0 + LABEL_WIDTH + column * size
            picture.paste(render(model.path, size), (left, top))
            draw.text((left + 2, top + size), postprocess.short_name(str(model.meta.get("factory", model.name)))[:18], fill="dimgray")
    return picture


def main(argv: Sequence[str] | None = None) -> int:
    """Writes the grid as a palette PNG (small enough to commit)."""
    parser = argparse.ArgumentParser(prog="grid.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("meshes", help="MESHES folder")
    parser.add_argument("out", help="PNG to write")
    parser.add_argument("--per-category", type=int, default=4, help="models per row (default: 4)")
    parser.add_argument("--size", type=int, default=96, help="side of each picture in pixels (default: 96)")
    parser.add_argument("--blocks", type=int, default=1, help="side-by-side columns of rows (default: 1)")
    parser.add_argument("--categories", help="comma-separated rows (default: every category folder)")
    args = parser.parse_args(argv)
    picture = grid(args.meshes, per_category=args.per_category, size=args.size, blocks=args.blocks,
                   categories=args.categories.split(",") if args.categories else None)
    buffer = io.BytesIO()
    picture.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(buffer, "PNG", optimize=True)
    Path(args.out).write_bytes(buffer.getvalue())
    print(json.dumps({"out": args.out, "bytes": len(buffer.getvalue()), "size": picture.size}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
