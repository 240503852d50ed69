"""Build a ShapeNet-layout dataset (the layout of :mod:`pix2vox.synth`) from a folder of meshes.

Input: ``MESHES/<category>/<model>.<ext>``, or ``MESHES/<category>/<model>/<file>.<ext>`` (a
folder holding one mesh file, with its materials and textures beside it, and optionally a
``meta.json``: ``{"name", "creator", "license", "source", "rotation"}``; ``rotation`` is a 3×3
row-major turn applied to the vertices first, e.g. a catalogue's own model rotation).

Pose: the files are taken to be y up with their front towards ``front`` (default ``+z``, the
convention of glTF and of Sweet Home 3D); every model is turned about y so that its front faces
+x, ShapeNet's canonical pose. It is then centred on its bounding box and scaled to a longest side
of 1, the frame of the procedural objects.

Output: ``ROOT/ShapeNet.json`` (written last), ``ROOT/ShapeNetRendering/<taxonomy>/<model>/
rendering/NN.png`` with ``renderings.txt`` and ``rendering_metadata.txt``,
``ROOT/ShapeNetVox32/<taxonomy>/<model>/model.binvox``, and ``ROOT/models.json`` (per model: its
category, source file, name, creator and licence, for attributions). Everything is a function of
the seed and the model's path, so the same seed gives identical files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from pix2vox.datasets.taxonomy import Taxonomy, random_splits, taxonomy_entry
from pix2vox.exchange.binvox import encode_binvox
from pix2vox.jobs import run_jobs
from pix2vox.loading.layout import write_files
from pix2vox.meshes.categories import taxonomy_id
from pix2vox.meshes.load import FRONTS, MESH_SUFFIXES, MeshError, TexturedMesh, load_mesh, turn_about_y
from pix2vox.meshes.raster import Lighting, rasterize
from pix2vox.meshes.voxelize import voxelize_mesh
from pix2vox.synth.dataset import RENDERING_DIR, TAXONOMY_FILE, VOXEL_DIR, SynthConfig, rendering_files, sample_cameras

__all__ = ["FRONTS", "MeshDatasetConfig", "MeshModel", "build_dataset", "find_models"]

logger = logging.getLogger(__name__)

MODELS_FILE = "models.json"
META_FILE = "meta.json"
SETTINGS_FILE = "build.json"
"""``ROOT/build.json``: the seed and settings of a build, so that it can be resumed (see :func:`build_dataset`)."""



@dataclasses.dataclass(frozen=True)
class MeshDatasetConfig(SynthConfig):
    """Generation settings: those of :class:`~pix2vox.synth.dataset.SynthConfig` and

    Attributes:
        supersample: Anti-aliasing samples per pixel along each axis.
        randomize: Domain randomisation: per view, random lights (direction, intensity,
            ambient) and a random tint and brightness of each material, so that a network learns
            shape rather than one renderer's look. (Backgrounds stay transparent; ``pix2vox-train``
            composites random backgrounds behind them.)
        front: Which way the files' fronts face (a key of :data:`FRONTS`).
    """

    supersample: int = 2
    randomize: bool = False
    front: str = "+z"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.supersample < 1:
            raise ValueError(f"supersample must be at least 1, got {self.supersample}")
        if self.front not in FRONTS:
            raise ValueError(f"front must be one of {', '.join(FRONTS)}, got {self.front!r}")


@dataclasses.dataclass(frozen=True)
class MeshModel:
    """One input model.

    Attributes:
        category: Category name (the folder name).
        name: Model name (file stem or folder name).
        path: The mesh file.
        meta: ``meta.json`` content (may be empty).
    """

    category: str
    name: str
    path: Path
    meta: dict

    @property
    def model_id(self) -> str:
        """32 hex digits from ``category/name``, stable across runs and machines."""
        return hashlib.md5(f"{self.category}/{self.name}".encode()).hexdigest()


def _mesh_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in MESH_SUFFIXES)


def find_models(root: str | os.PathLike[str]) -> list[MeshModel]:
    """Lists the models under ``root`` (see the module docstring), sorted by category and name.

    A model folder without exactly one mesh file is skipped with a warning.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
        MeshError: A ``meta.json`` is not valid JSON.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder of category folders")
    models = []
    for category in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in _mesh_files(category):
            models.append(MeshModel(category.name, path.stem, path, {}))
        for folder in sorted(p for p in category.iterdir() if p.is_dir()):
            files = _mesh_files(folder)
            if len(files) != 1:
                logger.warning("%s: skipped, %d mesh files (a model folder holds one)", folder, len(files))
                continue
            meta_path = folder / META_FILE
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
            except (ValueError, UnicodeDecodeError) as error:
                raise MeshError(f"{meta_path}: not a JSON object ({error})") from None
            models.append(MeshModel(category.name, folder.name, files[0], meta))
    return models


def _model_rng(seed: int, model_id: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, int(model_id[:15], 16))))


def _random_lighting(rng: np.random.Generator) -> Lighting:
    count = int(rng.integers(1, 4))
    directions = rng.normal(size=(count, 3))
    directions[:, 1] = np.abs(directions[:, 1]) + 0.3  # from above
    directions[:, 2] = np.abs(directions[:, 2]) + 0.2  # and in front
    intensities = rng.uniform(0.3, 0.9, size=count) / math.sqrt(count)
    return Lighting(float(rng.uniform(0.2, 0.5)), tuple(map(tuple, directions)), tuple(intensities))


def _random_tint(mesh: TexturedMesh, rng: np.random.Generator) -> TexturedMesh:
    tint = rng.uniform(0.7, 1.3, size=(len(mesh.colors), 3)) * rng.uniform(0.7, 1.2, size=(len(mesh.colors), 1))
    return dataclasses.replace(mesh, colors=np.clip(mesh.colors * tint, 0.0, 1.0).astype(np.float32))


def _writer(data: bytes):
    return lambda path: path.write_bytes(data)


def _rotation(model: MeshModel, config: MeshDatasetConfig) -> NDArray[np.float64]:
    rotation = np.asarray(model.meta.get("rotation", np.eye(3)), float).reshape(3, 3)
    return turn_about_y(FRONTS[config.front]) @ rotation


def build_model(root: Path, model: MeshModel, tax_id: str, seed: int, config: MeshDatasetConfig) -> None:
    """Loads, voxelises, renders and writes one model (each folder all or nothing).

    Raises:
        MeshError: The mesh cannot be used.
    """
    mesh = load_mesh(model.path, _rotation(model, config))
    voxels = voxelize_mesh(mesh.triangles, config.resolution)
    rng = _model_rng(seed, model.model_id)
    points = mesh.triangles.reshape(-1, 3)
    box_corners = np.array(np.meshgrid(*zip(points.min(axis=0), points.max(axis=0)), indexing="ij")).reshape(3, -1).T
    cameras = sample_cameras(box_corners, rng, config)
    images = []
    for camera in cameras:
        shown, lighting = mesh, Lighting()
        if config.randomize:
            shown, lighting = _random_tint(mesh, rng), _random_lighting(rng)
        images.append(rasterize(shown, camera, config.size, lighting=lighting, supersample=config.supersample))
    files = {name: _writer(data) for name, data in rendering_files(images, cameras).items()}
    payload = encode_binvox(voxels, translate=(-0.5, -0.5, -0.5), scale=1.0)
    write_files(root / VOXEL_DIR / tax_id / model.model_id, {"model.binvox": _writer(payload)})
    write_files(root / RENDERING_DIR / tax_id / model.model_id / "rendering", files)


def _job(args: tuple) -> tuple[int, str | None]:
    index, root, model, tax_id, seed, config = args
    import torch

    torch.set_num_threads(1)
    try:
        build_model(root, model, tax_id, seed, config)
    except MeshError as error:
        return index, str(error)
    return index, None


def _check_settings(root: Path, seed: int, config: MeshDatasetConfig) -> None:
    """Record the build's settings in ``root/build.json``, or check them against those recorded."""
    settings = {"seed": seed, "config": json.loads(json.dumps(dataclasses.asdict(config)))}
    path = root / SETTINGS_FILE
    if path.is_file():
        recorded = json.loads(path.read_text())
        if recorded != settings:
            changed = sorted(k for k in {**recorded.get("config", {}), **settings["config"]}
                             if recorded.get("config", {}).get(k) != settings["config"].get(k))
            if recorded.get("seed") != seed:
                changed.insert(0, "seed")
            raise ValueError(f"{root}: built before with other settings ({', '.join(changed)}); "
                             "build into another folder, or remove this one")
        return
    write_files(root, {SETTINGS_FILE: _writer((json.dumps(settings, indent=2, sort_keys=True) + "\n").encode())})


def _complete(root: Path, model: MeshModel, tax_id: str) -> bool:
    """Whether ``model``'s voxels and renderings are all there (renderings are written last, together)."""
    return ((root / VOXEL_DIR / tax_id / model.model_id / "model.binvox").is_file()
            and (root / RENDERING_DIR / tax_id / model.model_id / "rendering" / "rendering_metadata.txt").is_file())


def _splits(models: Sequence[MeshModel], seed: int, fractions: tuple[float, float, float]) -> dict[str, dict[str, list[str]]]:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    result = {}
    for category in dict.fromkeys(m.category for m in models):
        ids = sorted(m.model_id for m in models if m.category == category)
        result[category] = random_splits(ids, rng, fractions)
    return result


def build_dataset(
    meshes: str | os.PathLike[str],
    root: str | os.PathLike[str],
    *,
    seed: int = 0,
    config: MeshDatasetConfig = MeshDatasetConfig(),
    workers: int = 1,
    progress: bool = True,
) -> tuple[Path, list[str]]:
    """Builds the dataset of every model under ``meshes`` into ``root``.

    Models are split train/val/test by ``config.splits`` within each category, by model, at random
    with ``seed`` (``(0, 0, 1)`` puts every model in the test split). A model whose mesh cannot be
    used is skipped: one warning line names it, and it appears in no split.

    A build resumes: ``root/build.json`` records the seed and settings first, and a later build
    into the same ``root`` with the same ones leaves the models whose voxels and renderings are
    complete as they are (each model's renderings are written all or nothing, after its voxels),
    builds the others and writes ``ShapeNet.json`` and ``models.json`` anew. Since the output is a
    function of the seed, the result is the same as one uninterrupted build.

    Args:
        meshes: Folder of category folders.
        root: Output folder, created if missing; files of the same names are replaced.
        seed: Seed of everything random.
        config: Generation settings.
        workers: Worker processes (1: in this process). The output does not depend on it.
        progress: Show a progress bar.

    Returns:
        ``(path of ShapeNet.json, messages of the skipped models)``.

    Raises:
        FileNotFoundError: ``meshes`` is not a folder.
        ValueError: No models found, bad settings, or ``root`` built with other settings.
    """
    models = find_models(meshes)
    if not models:
        raise ValueError(f"{meshes}: no mesh files found (expected <category>/<model>.{{{','.join(s[1:] for s in MESH_SUFFIXES)}}})")
    if workers < 1:
        raise ValueError(f"the number of workers must be at least 1, got {workers}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    _check_settings(root, seed, config)
    ids = {category: taxonomy_id(category) for category in dict.fromkeys(m.category for m in models)}
    jobs = [(i, root, m, ids[m.category], seed, config) for i, m in enumerate(models) if not _complete(root, m, ids[m.category])]
    if len(jobs) < len(models):
        logger.info("%s: %d of %d models already built with these settings; building the other %d",
                    root, len(models) - len(jobs), len(models), len(jobs))
    skipped: dict[int, str] = {}
    bar = tqdm(run_jobs(_job, jobs, workers), total=len(jobs), disable=None if progress else True, unit="model")
    for index, message in bar:
        if message is not None:
            skipped[index] = message
            logger.warning("skipped: %s", message)
    built = [m for i, m in enumerate(models) if i not in skipped]
    splits = _splits(built, seed, config.splits)
    entries = [taxonomy_entry(Taxonomy(ids[c], c, s)) for c, s in splits.items()]
    records = {
        m.model_id: {"category": m.category, "taxonomy_id": ids[m.category], "source": str(m.path.relative_to(meshes)),
                     **{k: m.meta[k] for k in ("name", "creator", "license", "source_catalogue") if k in m.meta}}
        for m in built
    }
    write_files(root, {MODELS_FILE: _writer((json.dumps(records, indent=2, sort_keys=True) + "\n").encode())})
    write_files(root, {TAXONOMY_FILE: _writer((json.dumps(entries, indent=2) + "\n").encode())})
    logger.info("built %d of %d models (%d skipped) in %d categories under %s",
                len(built), len(models), len(skipped), len(splits), root)
    return root / TAXONOMY_FILE, list(skipped.values())
