"""Generate a procedural dataset in the ShapeNet layout Pix2Vox reads.

Layout under ``root`` (the same as ShapeNetRendering + ShapeNetVox32 + Pix2Vox's ``ShapeNet.json``)::

    ShapeNet.json                                         taxonomies with train/val/test model ids
    ShapeNetRendering/<taxonomy_id>/<model_id>/rendering/00.png ... NN.png
    ShapeNetRendering/<taxonomy_id>/<model_id>/rendering/renderings.txt
    ShapeNetRendering/<taxonomy_id>/<model_id>/rendering/rendering_metadata.txt
    ShapeNetVox32/<taxonomy_id>/<model_id>/model.binvox

Renderings are ``size x size`` RGBA PNGs (transparent background). ``rendering_metadata.txt`` has
one line per view, ``azimuth elevation 0 distance fov`` (degrees; the distance in units of the
voxel grid's side), describing the camera of :mod:`pix2vox.synth.render`. Voxels are solid,
indexed ``[x, y, z]`` (y up); the binvox header carries ``translate -0.5 -0.5 -0.5`` and
``scale 1``, the world frame of the cameras. Objects are in ShapeNet's canonical pose, in the
voxels and the renderings alike: y up, the front facing +x (a chair's backrest at low x, a car's
bonnet and an aeroplane's nose at high x).

Everything is a function of ``(seed, object index)``: the same seed gives byte-identical files,
whatever the number of workers.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from tqdm import tqdm

from pix2vox.datasets.taxonomy import Taxonomy, random_splits, taxonomy_entry
from pix2vox.atomic import write_bytes_atomic
from pix2vox.exchange.binvox import encode_binvox
from pix2vox.jobs import run_jobs
from pix2vox.synth.solids import Part, voxelize
from pix2vox.synth.render import Camera, project, render
from pix2vox.synth.shapes import CATEGORIES, make_shape

__all__ = [
    "SynthConfig",
    "SynthObject",
    "generate_dataset",
    "generate_object",
    "plan_objects",
    "rendering_files",
    "sample_cameras",
]

logger = logging.getLogger(__name__)

TAXONOMY_FILE = "ShapeNet.json"
RENDERING_DIR = "ShapeNetRendering"
VOXEL_DIR = "ShapeNetVox32"


@dataclasses.dataclass(frozen=True)
class SynthConfig:
    """Generation settings.

    Attributes:
        views: Renderings per object.
        size: Image side in pixels (ShapeNetRendering: 137).
        fov: Camera field of view in degrees (ShapeNetRendering: 25).
        elevation: Range of the uniformly drawn camera elevation, degrees.
        fill: Range of the size of the square, centred in the image, that the object's parts'
            bounding boxes project into, as a fraction of the image side; each view's camera
            distance is set so that they touch its border (the object itself, being inside its
            boxes, never leaves the square).
        resolution: Voxel grid size.
        splits: Train, val and test fractions per category.
    """

    views: int = 24
    size: int = 137
    fov: float = 25.0
    elevation: tuple[float, float] = (25.0, 30.0)
    fill: tuple[float, float] = (0.75, 0.85)
    resolution: int = 32
    splits: tuple[float, float, float] = (0.8, 0.1, 0.1)

    def __post_init__(self) -> None:
        if self.views < 1 or self.views > 100:
            raise ValueError(f"views must be between 1 and 100, got {self.views}")
        if self.size < 8:
            raise ValueError(f"image size must be at least 8, got {self.size}")
        if not 0.0 < self.fov < 180.0:
            raise ValueError(f"fov must be between 0 and 180 degrees, got {self.fov}")
        if not 0.0 < self.fill[0] <= self.fill[1] < 1.0:
            raise ValueError(f"fill must be a range inside (0, 1), got {self.fill}")
        if len(self.splits) != 3 or min(self.splits) < 0 or not math.isclose(sum(self.splits), 1.0):
            raise ValueError(f"splits must be three non-negative fractions summing to 1, got {self.splits}")


@dataclasses.dataclass(frozen=True)
class SynthObject:
    """One generated object.

    Attributes:
        index: Position in the dataset plan.
        category: Category name (a key of :data:`~pix2vox.synth.shapes.CATEGORIES`).
        model_id: 32 hex digits, like ShapeNet model ids.
        parts: The normalised parts.
        voxels: ``(D, D, D)`` bool occupancy, ``[x, y, z]``, y up, the front facing +x.
        cameras: The camera of each rendering, as written to the metadata.
        images: ``(V, size, size, 4)`` uint8 RGBA renderings.
    """

    index: int
    category: str
    model_id: str
    parts: list[Part]
    voxels: NDArray[np.bool_]
    cameras: list[Camera]
    images: NDArray[np.uint8]


def _object_rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, index)))


def plan_objects(
    n_objects: int, seed: int, categories: Sequence[str]
) -> list[tuple[int, str, str]]:
    """Assigns categories round-robin and draws model ids.

    Returns:
        ``(index, category, model_id)`` for each object.
    """
    plan = []
    for index in range(n_objects):
        rng = _object_rng(seed, index)
        plan.append((index, categories[index % len(categories)], rng.bytes(16).hex()))
    return plan


def _part_corners(parts: Sequence[Part]) -> NDArray[np.float64]:
    """``(8 * P, 3)`` corners of the parts' local bounding boxes (``rho <= 1``)."""
    signs = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1], indexing="ij")).reshape(3, -1).T
    return np.concatenate([p.center + (signs * p.half) @ p.rotation.T for p in parts])


def _fit_distance(corners: NDArray[np.float64], camera: Camera, size: int, fill: float) -> float:
    """Camera distance at which the corners project into the central ``fill * size`` square,
    touching its border."""
    distance = camera.distance
    for _ in range(4):
        pixels = project(corners, dataclasses.replace(camera, distance=distance), size)
        extent = 2.0 * float(np.max(np.abs(pixels - size / 2.0)))
        # Extent is close to inversely proportional to distance; the iteration fixes the rest.
        distance = max(distance * extent / (fill * size), 1.5)
    return distance


def sample_cameras(
    corners: NDArray[np.float64], rng: np.random.Generator, config: SynthConfig
) -> list[Camera]:
    """Draws ``config.views`` cameras: azimuth over the full circle, elevation and fill from
    ``config``, each view's distance fitted so that ``(N, 3)`` corners fill its square."""
    cameras = []
    for _ in range(config.views):
        azimuth = rng.uniform(0.0, 360.0)
        elevation = rng.uniform(*config.elevation)
        fill = rng.uniform(*config.fill)
        guess = Camera(azimuth, elevation, 3.0, config.fov)
        distance = _fit_distance(corners, guess, config.size, fill)
        # Round to what the metadata file holds, so that files describe the images exactly.
        cameras.append(Camera(round(azimuth, 4), round(elevation, 4), round(distance, 4), config.fov))
    return cameras


def generate_object(
    index: int, category: str, model_id: str, seed: int, config: SynthConfig = SynthConfig()
) -> SynthObject:
    """Builds, voxelises and renders object ``index`` of the dataset with ``seed``.

    Args:
        index: Object index (selects the random stream together with ``seed``).
        category: Category name.
        model_id: Model id from :func:`plan_objects`.
        seed: Dataset seed.
        config: Generation settings.

    Returns:
        The object with its voxels and renderings.
    """
    rng = _object_rng(seed, index)
    rng.bytes(16)  # The model id's draw, so that geometry never reuses it.
    parts = make_shape(category, rng)
    voxels = voxelize(parts, config.resolution)
    cameras = sample_cameras(_part_corners(parts), rng, config)
    images = render(parts, cameras, config.size)
    return SynthObject(index, category, model_id, parts, voxels, cameras, images)


def _png(image: NDArray[np.uint8]) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image, mode="RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def rendering_files(images: Sequence[NDArray[np.uint8]], cameras: Sequence[Camera]) -> dict[str, bytes]:
    """The files of a ``rendering/`` folder: ``NN.png`` per image, ``renderings.txt`` and
    ``rendering_metadata.txt`` (``azimuth elevation 0 distance fov`` per view)."""
    names = [f"{i:02d}.png" for i in range(len(cameras))]
    files = {name: _png(image) for name, image in zip(names, images)}
    files["renderings.txt"] = "".join(f"{n}\n" for n in names).encode()
    lines = [f"{v.azimuth:.4f} {v.elevation:.4f} 0 {v.distance:.4f} {v.fov:g}\n" for v in cameras]
    files["rendering_metadata.txt"] = "".join(lines).encode()
    return files


def write_object(root: Path, obj: SynthObject) -> None:
    """Writes one object's renderings, metadata and voxels under ``root`` (atomically per file)."""
    taxonomy_id = CATEGORIES[obj.category].taxonomy_id
    render_dir = root / RENDERING_DIR / taxonomy_id / obj.model_id / "rendering"
    voxel_dir = root / VOXEL_DIR / taxonomy_id / obj.model_id
    render_dir.mkdir(parents=True, exist_ok=True)
    voxel_dir.mkdir(parents=True, exist_ok=True)
    for name, data in rendering_files(obj.images, obj.cameras).items():
        write_bytes_atomic(render_dir / name, data)
    payload = encode_binvox(obj.voxels, translate=(-0.5, -0.5, -0.5), scale=1.0)
    write_bytes_atomic(voxel_dir / "model.binvox", payload)


def _make_and_write(job: tuple[Path, int, str, str, int, SynthConfig]) -> tuple[int, str, str]:
    root, index, category, model_id, seed, config = job
    write_object(root, generate_object(index, category, model_id, seed, config))
    return index, category, model_id


def _taxonomies(
    plan: Sequence[tuple[int, str, str]], seed: int, config: SynthConfig
) -> list[dict]:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    entries = []
    for name in dict.fromkeys(category for _, category, _ in plan):
        ids = [model_id for _, category, model_id in plan if category == name]
        splits = random_splits(ids, rng, config.splits)
        entries.append(taxonomy_entry(Taxonomy(CATEGORIES[name].taxonomy_id, name, splits)))
    return entries


def generate_dataset(
    root: str | os.PathLike[str],
    n_objects: int,
    *,
    seed: int = 0,
    categories: Sequence[str] | None = None,
    config: SynthConfig = SynthConfig(),
    workers: int = 1,
    progress: bool = True,
) -> Path:
    """Generates ``n_objects`` objects and their taxonomy file under ``root``.

    Categories are assigned round-robin in the given order, so every category gets
    ``n_objects / len(categories)`` objects (within one). Each category's models are split
    train/val/test by ``config.splits`` (see :func:`pix2vox.datasets.taxonomy.split_counts`), at
    random with ``seed``.

    Args:
        root: Output folder, created if missing; existing files of the same names are replaced.
        n_objects: Number of objects, at least 1.
        seed: Seed of everything random.
        categories: Category names (default: all of :data:`~pix2vox.synth.shapes.CATEGORIES`).
        config: Generation settings.
        workers: Worker processes (1: generate in this process).
        progress: Show a tqdm progress bar.

    Returns:
        Path of the written taxonomy JSON (``root/ShapeNet.json``), written last.

    Raises:
        ValueError: Bad counts or unknown categories.
    """
    names = list(CATEGORIES) if categories is None else list(dict.fromkeys(categories))
    unknown = [c for c in names if c not in CATEGORIES]
    if unknown:
        raise ValueError(f"unknown categories {unknown}; known: {', '.join(CATEGORIES)}")
    if not names:
        raise ValueError("no categories given")
    if n_objects < 1:
        raise ValueError(f"the number of objects must be at least 1, got {n_objects}")
    if workers < 1:
        raise ValueError(f"the number of workers must be at least 1, got {workers}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    plan = plan_objects(n_objects, seed, names)
    jobs = [(root, index, category, model_id, seed, config) for index, category, model_id in plan]
    for _ in tqdm(run_jobs(_make_and_write, jobs, workers, chunksize=4), total=len(jobs), disable=None if progress else True, unit="obj"):
        pass
    path = root / TAXONOMY_FILE
    write_bytes_atomic(path, (json.dumps(_taxonomies(plan, seed, config), indent=2) + "\n").encode())
    logger.info("wrote %d objects of %d categories under %s", n_objects, len(names), root)
    return path
