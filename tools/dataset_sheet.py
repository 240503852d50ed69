"""A picture sheet of a built dataset: one row per category, each model's first rendering beside its
voxels seen from the same direction, so that renderings and ground truth can be looked at before
training on them.

Reads the ``ShapeNetRendering/`` and ``ShapeNetVox32/`` folders that ``pix2vox-dataset`` writes, also
while a build is still running (models whose renderings are complete), and names the categories
from ``--categories`` (the names given to ``pix2vox-dataset``); others are shown by their ids::

    python tools/dataset_sheet.py data/ig_rest sheet.png --per-category 4 \\
        --categories bathtub,bed,bookshelf,bottle,bowl,cabinet,dishwasher,display,faucet,lamp,microwave,mug,sink,stove,toilet,vase
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from pix2vox.exchange.binvox import read_binvox
from pix2vox.meshes.categories import taxonomy_id
from pix2vox.viz import render_surface, voxel_faces

LABEL_WIDTH = 80
TILE = 96


def voxel_picture(path: Path, azimuth: float, elevation: float, size: int) -> Image.Image:
    """The voxels of a ``model.binvox`` seen from a rendering's camera direction, on white."""
    occupancy = read_binvox(path).occupancy
    quads, normals = voxel_faces(occupancy)
    rgba = render_surface(quads, normals, elevation=elevation, azimuth=azimuth, pixels=size)
    rgb = rgba[..., :3] * rgba[..., 3:] + (1 - rgba[..., 3:])
    return Image.fromarray((rgb * 255 + 0.5).astype(np.uint8))


def rendering_picture(path: Path, size: int) -> Image.Image:
    """A rendering (RGBA) on white, at ``size`` pixels."""
    with Image.open(path) as image:
        rgba = image.convert("RGBA").resize((size, size), Image.Resampling.LANCZOS)
    white = Image.new("RGBA", rgba.size, "white")
    return Image.alpha_composite(white, rgba).convert("RGB")


def complete_models(root: Path, taxonomy: str) -> list[str]:
    """Model ids of a category with both voxels and a complete ``rendering/`` folder, sorted."""
    renderings = root / "ShapeNetRendering" / taxonomy
    if not renderings.is_dir():
        return []
    return sorted(
        model.name for model in renderings.iterdir()
        if (model / "rendering" / "rendering_metadata.txt").is_file()
        and (root / "ShapeNetVox32" / taxonomy / model.name / "model.binvox").is_file()
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="a dataset built by pix2vox-dataset")
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("--per-category", type=int, default=4, help="models per row (default 4)")
    parser.add_argument("--categories", default="", help="comma-separated category names, to label the rows")
    args = parser.parse_args(argv)
    names = {taxonomy_id(name): name for name in filter(None, args.categories.split(","))}
    taxonomies = sorted(p.name for p in (args.root / "ShapeNetRendering").iterdir() if p.is_dir())
    rows = [(t, complete_models(args.root, t)[: args.per_category]) for t in taxonomies]
    rows = [(t, models) for t, models in rows if models]
    if not rows:
        raise SystemExit(f"{args.root}: no complete model yet")
    sheet = Image.new("RGB", (LABEL_WIDTH + 2 * TILE * args.per_category, TILE * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for row, (taxonomy, models) in enumerate(rows):
        draw.text((4, row * TILE + TILE // 2 - 6), names.get(taxonomy, taxonomy), fill="black")
        for column, model in enumerate(models):
            x, y = LABEL_WIDTH + 2 * TILE * column, row * TILE
            folder = args.root / "ShapeNetRendering" / taxonomy / model / "rendering"
            azimuth, elevation = (float(v) for v in (folder / "rendering_metadata.txt").read_text().split()[:2])
            sheet.paste(rendering_picture(folder / "00.png", TILE), (x, y))
            sheet.paste(voxel_picture(args.root / "ShapeNetVox32" / taxonomy / model / "model.binvox", azimuth, elevation, TILE),
                        (x + TILE, y))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    print(f"wrote {args.out}: {len(rows)} categories, {sum(len(m) for _, m in rows)} models")


if __name__ == "__main__":
    main()
