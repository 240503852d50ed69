"""Held-out renderings turned into the pictures people take: shared by ``framing.py`` and ``composites.py``.

The renderings come from a test split built with ``pix2vox-dataset`` (see docs/preprocessing.md,
"How auto was measured"); their alpha channel is the true mask of the object. Nothing here is part
of the package.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from pix2vox.datasets.shapenet import ShapeNetDataset

PHOTOS = ("BytheWater", "ColdRipple", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey", "Kite", "OneStandsOut", "Path", "summer_1am")
"""Photographs among Debian's ``plasma-workspace-wallpapers`` (KDE Visual Design Group, GPL-2+)."""

FITTING_PHOTOS = ("Autumn", "ColorfulCups", "Flow", "Shell", "Volna", "SafeLanding", "PastelHills", "Canopee",
                  "Cascade", "Kokkini", "Opal", "IceCold", "Honeywave", "MilkyWay")
"""Other pictures of the same package (photographs and abstract ones), for fitting ``grabcut_weights.py``:
none of them is among :data:`PHOTOS`."""

WALLPAPERS = Path("/usr/share/wallpapers")


@dataclass(frozen=True)
class HeldOutView:
    """One test rendering and its object's ground truth."""

    path: Path
    truth: np.ndarray | None  # None where only the mask is measured
    category: str

    def rgba(self) -> Image.Image:
        with Image.open(self.path) as image:
            return image.convert("RGBA")


def held_out_views(root: str | Path, count: int) -> list[HeldOutView]:
    """The first rendering of ``count`` test models spread evenly over the split (sorted by category and id)."""
    samples = list(ShapeNetDataset(root, "test", n_views=1))
    step = max(1, len(samples) // count)
    return [HeldOutView(Path(s.view_paths[0]), s.load_volume(), s.taxonomy_name) for s in samples[::step][:count]]


def other_views(root: str | Path, skip: int, count: int, rng: np.random.Generator) -> list[HeldOutView]:
    """``count`` random renderings (any view) of the test models that :func:`held_out_views` with
    ``skip`` views does not pick from (those after the first ``skip`` models when ``skip`` ≥ half of them)."""
    samples = list(ShapeNetDataset(root, "test", n_views=1))
    step = max(1, len(samples) // skip)
    used = set(range(0, len(samples), step)[:skip])
    others = [s for i, s in enumerate(samples) if i not in used]
    picked = []
    for _ in range(count):
        sample = others[rng.integers(len(others))]
        renderings = sorted(Path(sample.view_paths[0]).parent.glob("*.png"))
        picked.append(HeldOutView(renderings[rng.integers(len(renderings))], None, sample.taxonomy_name))
    return picked


def object_box(alpha: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(alpha > 127)
    return ys.min(), xs.min(), ys.max() + 1, xs.max() + 1


def place(rgba: Image.Image, canvas: tuple[int, int], fill: float, centre: tuple[float, float]) -> Image.Image:
    """The object of ``rgba`` scaled so that its longer side spans ``fill`` of the canvas's shorter
    side, its box centred at ``centre`` (fractions of width and height), on a transparent canvas."""
    top, left, bottom, right = object_box(np.asarray(rgba)[..., 3])
    cut = rgba.crop((left, top, right, bottom))
    scale = fill * min(canvas) / max(cut.size)
    size = (max(1, round(cut.width * scale)), max(1, round(cut.height * scale)))
    cut = _premultiplied_resize(cut, size)
    out = Image.new("RGBA", canvas, (0, 0, 0, 0))
    x = round(centre[0] * canvas[0] - size[0] / 2)
    y = round(centre[1] * canvas[1] - size[1] / 2)
    out.paste(cut, (x, y))
    return out


def _premultiplied_resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    return image.convert("RGBa").resize(size, Image.LANCZOS).convert("RGBA")


def flatten(rgba: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """``rgba`` composited onto an opaque colour (an RGB picture)."""
    back = Image.new("RGBA", rgba.size, (*colour, 255))
    back.alpha_composite(rgba)
    return back.convert("RGB")


def as_jpeg(image: Image.Image, quality: int = 90) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    out = Image.open(io.BytesIO(buffer.getvalue()))
    out.load()
    return out


def photo_backgrounds(names: tuple[str, ...] = PHOTOS) -> list[Path]:
    """The wallpapers ``names``: the file named ``640x480.jpg`` where there is one (in the Debian
    package it is a 2560×1600 picture, of which ``make_composite`` crops a 640×480 part), else the
    first (``apt-get install plasma-workspace-wallpapers``)."""
    paths = []
    for name in names:
        folder = WALLPAPERS / name / "contents" / "images"
        small = folder / "640x480.jpg"
        paths.append(small if small.is_file() else next(iter(sorted(folder.glob("*.*"))), small))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"missing backgrounds (apt-get install plasma-workspace-wallpapers): {', '.join(missing)}")
    return paths


@dataclass(frozen=True)
class Composite:
    """A held-out object pasted onto a photograph."""

    view: HeldOutView
    picture: np.ndarray  # (480, 640, 3) uint8 RGB
    plain: np.ndarray  # the same object, same place, on white
    alpha: np.ndarray  # (480, 640) true mask, float in [0, 1]
    background: str


def make_composite(view: HeldOutView, background: Path, rng: np.random.Generator, size=(640, 480)) -> Composite:
    """Paste ``view``'s object onto a random crop of ``background`` at a random place, scale and brightness."""
    with Image.open(background) as image:
        photo = image.convert("RGB")
    zoom = rng.uniform(1.0, 1.6)
    big = photo.resize((round(photo.width * zoom), round(photo.height * zoom)), Image.BICUBIC)
    x0, y0 = rng.integers(0, big.width - size[0] + 1), rng.integers(0, big.height - size[1] + 1)
    photo = big.crop((x0, y0, x0 + size[0], y0 + size[1]))
    brightness = rng.uniform(0.6, 1.3)
    photo = Image.fromarray(np.clip(np.asarray(photo, np.float32) * brightness, 0, 255).astype(np.uint8))
    fill = rng.uniform(0.35, 0.85)
    rgba = view.rgba()
    top, left, bottom, right = object_box(np.asarray(rgba)[..., 3])
    aspect = (right - left) / (bottom - top)
    half_w = fill * min(size) / 2 * min(1.0, aspect) / size[0]
    half_h = fill * min(size) / 2 * min(1.0, 1 / aspect) / size[1]
    centre = (rng.uniform(half_w + 0.02, 1 - half_w - 0.02), rng.uniform(half_h + 0.02, 1 - half_h - 0.02))
    placed = place(rgba, size, fill, centre)
    light = rng.uniform(0.8, 1.15)
    array = np.asarray(placed).astype(np.float32)
    array[..., :3] = np.clip(array[..., :3] * light, 0, 255)
    placed = Image.fromarray(array.astype(np.uint8), "RGBA")
    back = photo.convert("RGBA")
    back.alpha_composite(placed)
    picture = np.asarray(as_jpeg(back.convert("RGB")))
    plain = np.asarray(as_jpeg(flatten(placed, (255, 255, 255))))
    return Composite(view, picture, plain, np.asarray(placed)[..., 3].astype(np.float32) / 255, background.parts[-4])


def save_json(path: str | Path, data: dict) -> None:
    Path(path).write_text(json.dumps(data, indent=2) + "\n")
