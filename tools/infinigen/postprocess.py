"""Infinigen meshes → the ``MESHES/<category>/<model>/`` folders that ``pix2vox-dataset`` reads.

Pure numpy and the standard library, with no import from ``pix2vox``: the generator
(``generate.py``) and its Blender workers (``worker.py``) run with the Infinigen environment's Python
(numpy < 2, no torch) and load this file from beside them; our tests import it without Blender.

- :data:`CATEGORIES`: each category (a ShapeNet name where ShapeNet has it) and the Infinigen
  factories that make it, used in turn;
- :func:`plan`: the deterministic jobs of a run (category, factory, seed, folder name);
- :func:`to_file_frame`, :func:`normalise`: Infinigen's pose (z up, front +x, metres) → the files'
  (y up, front +z, centred on the bounding box, metres);
- :func:`check`: why a mesh is unusable (no faces, non-finite, absurd or flat bounding box);
- :data:`SETTINGS`: factory attributes overridden (mugs with handles, mattresses without cloth);
- :func:`decimate`: vertex clustering down to a triangle budget;
- :func:`canonical`: an order of vertices, faces and materials that does not depend on Blender's;
- :func:`finish_model`: all of the above for one generated mesh;
- :func:`write_model`: ``model.obj`` + ``model.mtl`` (one diffuse colour per material) +
  ``meta.json``, written to a temporary folder and renamed, so a folder is all or nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "BED", "CATEGORIES", "Job", "LICENSE", "LICENSE_NOTE", "META_FILE", "MeshData", "SETTINGS",
    "asset_seed", "bounds", "canonical", "check", "decimate", "factory_slug", "finish_model", "is_done",
    "leftovers", "linear_to_srgb", "meta_record", "normalise", "obj_text", "plan", "reason_kind",
    "short_name", "to_file_frame", "write_model",
]

META_FILE = "meta.json"
MESH_FILE = "model.obj"
PARTIAL = ".partial-"
"""Marks a model folder being written (``.<name>.partial-<pid>``); removed by the generator."""

LICENSE = "BSD-3-Clause"
LICENSE_NOTE = (
    "Generated procedurally by Infinigen (Princeton Vision & Learning Lab, BSD-3-Clause): "
    "geometry and colours come from Infinigen's code and a random seed; no third-party art "
    "(scanned or hand-made models, textures) is used or shipped."
)

BED = "BedFrameFactory+MattressFactory"
"""A bed: a frame with a mattress laid on it (Infinigen's own ``BedFactory`` adds bedding by cloth
simulation, 140–170 s and 1.8 GB per asset)."""

CATEGORIES: dict[str, tuple[str, ...]] = {
    "chair": ("ChairFactory", "OfficeChairFactory", "BarChairFactory", "ArmChairFactory"),
    "sofa": ("SofaFactory",),
    "table": ("TableDiningFactory", "CoffeeTableFactory", "SideTableFactory", "TableCocktailFactory",
              "SimpleDeskFactory", "SidetableDeskFactory"),
    "bed": (BED,),
    "lamp": ("DeskLampFactory", "FloorLampFactory", "LampFactory"),
    "cabinet": ("SingleCabinetFactory", "KitchenCabinetFactory", "TVStandFactory"),
    "bookshelf": ("LargeShelfFactory", "CellShelfFactory"),
    "display": ("TVFactory", "MonitorFactory"),
    "bathtub": ("BathtubFactory",),
    "toilet": ("ToiletFactory",),
    "sink": ("BathroomSinkFactory", "StandingSinkFactory"),
    "bottle": ("BottleFactory",),
    "bowl": ("BowlFactory",),
    "mug": ("CupFactory",),
    "vase": ("VaseFactory",),
    "microwave": ("MicrowaveFactory",),
    "dishwasher": ("DishwasherFactory",),
    "stove": ("OvenFactory",),
    "faucet": ("TapFactory",),
}
"""Category → Infinigen factories (classes of ``infinigen.assets.objects``); a category's models
use its factories in turn. ``a+b`` is an asset made of both (:data:`BED`)."""

SETTINGS: dict[str, dict[str, object]] = {
    "CupFactory": {"has_guard": True},  # a mug has a handle (Infinigen: 40 % of cups have none)
    "MattressFactory": {"type": "coiled"},  # "wrapped" runs a cloth simulation: 25 s, not 0.2 s
}
"""Attributes set on a factory after it is built (its random choices overridden)."""

DECIMALS = 6
"""Coordinates are rounded to micrometres."""

MIN_SIZE_M = 0.01
MAX_SIZE_M = 10.0
"""Bounding boxes outside these (longest side, metres) are absurd: one BedFrame seed had stray
vertices kilometres away."""


@dataclasses.dataclass(frozen=True)
class Job:
    """One model to make.

    Attributes:
        category: Category (a key of :data:`CATEGORIES`).
        index: The model's number within the category in this run.
        factory: Factory name (``a+b`` for a composite).
        seed: Infinigen's seed of the asset, in ``[0, 2**31)``.
    """

    category: str
    index: int
    factory: str
    seed: int

    @property
    def name(self) -> str:
        """The model folder's name: factory and seed, so the same name always holds the same mesh."""
        return f"{factory_slug(self.factory)}-{self.seed:010d}"


def factory_slug(factory: str) -> str:
    """``"OfficeChairFactory"`` → ``"office_chair"``; a composite is named by its first part."""
    first = factory.split("+")[0].removesuffix("Factory")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", first).lower()


def short_name(factory: str) -> str:
    """``"BedFrameFactory+MattressFactory"`` → ``"BedFrame+Mattress"``."""
    return "+".join(part.removesuffix("Factory") for part in factory.split("+"))


def asset_seed(base_seed: int, category: str, index: int) -> int:
    """Seed of model ``index`` of ``category``: a hash of the three, the same on every machine."""
    digest = hashlib.sha256(f"{base_seed}/{category}/{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def plan(categories: Sequence[str], per_category: int, base_seed: int, *, start: int = 0) -> list[Job]:
    """The jobs of a run: models ``start .. start + per_category - 1`` of each category.

    Model ``i`` of a category uses the category's factories in turn (``i mod n``) and the seed
    :func:`asset_seed` ``(base_seed, category, i)``: the same arguments give the same jobs.

    Raises:
        ValueError: An unknown category, or a negative count or start.
    """
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise ValueError(f"unknown categories {', '.join(unknown)} (known: {', '.join(CATEGORIES)})")
    if per_category < 0 or start < 0:
        raise ValueError(f"per_category and start must be non-negative, got {per_category}, {start}")
    jobs = []
    for category in categories:
        factories = CATEGORIES[category]
        for index in range(start, start + per_category):
            jobs.append(Job(category, index, factories[index % len(factories)], asset_seed(base_seed, category, index)))
    return jobs


@dataclasses.dataclass
class MeshData:
    """An indexed triangle mesh with one material per face.

    Attributes:
        vertices: ``(V, 3)`` float64 positions.
        faces: ``(F, 3)`` int64 vertex indices.
        material: ``(F,)`` int64 index into ``colors``.
        colors: One sRGB colour ``(r, g, b)`` in [0, 1] per material, ``None`` where the material
            has no base colour to read (written as grey).
    """

    vertices: np.ndarray
    faces: np.ndarray
    material: np.ndarray
    colors: list[tuple[float, float, float] | None]


def to_file_frame(vertices: np.ndarray) -> np.ndarray:
    """Infinigen's frame (z up, front +x) → the files' (y up, front +z, glTF's convention and
    ``pix2vox-dataset``'s default ``--front``): ``(x, y, z) → (y, z, x)``, a proper rotation.

    Args:
        vertices: ``(N, 3)`` positions.
    """
    return np.asarray(vertices, np.float64)[:, [1, 2, 0]]


def bounds(vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` corners of the bounding box of ``(N, 3)`` positions."""
    return vertices.min(axis=0), vertices.max(axis=0)


def normalise(vertices: np.ndarray) -> np.ndarray:
    """Centres ``(N, 3)`` positions on their bounding box (the height origins of Infinigen's
    factories differ: chairs centred, tables on the floor), keeping metres."""
    low, high = bounds(vertices)
    return vertices - (low + high) / 2.0


def check(mesh: MeshData) -> str | None:
    """Why ``mesh`` is unusable, in a few words (the first word names the kind), or ``None``."""
    if len(mesh.faces) == 0:
        return "no faces"
    if not np.isfinite(mesh.vertices).all():
        return "non-finite vertices"
    extent = np.subtract(*bounds(mesh.vertices)[::-1])
    size = " × ".join(f"{v:.3g}" for v in extent)
    if not MIN_SIZE_M <= extent.max() <= MAX_SIZE_M:
        return f"absurd bounding box {size} m (longest side outside {MIN_SIZE_M}–{MAX_SIZE_M} m)"
    if np.sort(extent)[1] <= 1e-6 * extent.max():
        return f"flat bounding box {size} m"
    return None


def reason_kind(reason: str) -> str:
    """The kind of a :func:`check` reason, for counting: its words before any number or colon."""
    return re.split(r"[\d(:]", reason, maxsplit=1)[0].strip() or reason


def decimate(mesh: MeshData, max_faces: int) -> MeshData:
    """Vertex clustering until at most ``max_faces`` faces remain, or the cells reach 1/64 of the
    longest side (twice the voxel grid's resolution: coarser would lose thin legs).

    Vertices are merged within cubic cells of ``longest side / 2**k`` (``k`` from 10 down to 6) at
    their mean; faces that collapse or repeat are dropped. Materials follow their faces.
    """
    if len(mesh.faces) <= max_faces:
        return mesh
    low, high = bounds(mesh.vertices)
    longest = float((high - low).max())
    for k in range(10, 5, -1):
        cell = np.floor((mesh.vertices - low) / (longest / 2**k)).astype(np.int64)
        _, inverse = np.unique(cell, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        counts = np.bincount(inverse)
        vertices = np.stack([np.bincount(inverse, weights=mesh.vertices[:, d]) for d in range(3)], axis=1) / counts[:, None]
        vertices = np.round(vertices, DECIMALS)  # the sums' rounding depends on the vertices' order
        faces = inverse[mesh.faces]
        keep = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
        faces, material = faces[keep], mesh.material[keep]
        _, unique = np.unique(np.sort(faces, axis=1), axis=0, return_index=True)
        unique = np.sort(unique)
        faces, material = faces[unique], material[unique]
        if len(faces) <= max_faces or k == 6:
            used = np.unique(faces)
            remap = np.full(len(vertices), -1, np.int64)
            remap[used] = np.arange(len(used))
            return MeshData(vertices[used], remap[faces], material, list(mesh.colors))
    raise AssertionError("unreachable")


def canonical(mesh: MeshData) -> MeshData:
    """The same surface in an order that does not depend on the order of its parts.

    Blender lists an asset's objects in an order that can differ between runs; so that the same seed
    writes the same bytes, identical positions are merged, vertices sorted, materials of the same
    colour merged and sorted, each face's corners rotated (winding kept) to start at its lowest
    vertex, and faces sorted by material and corners.
    """
    vertices, inverse = np.unique(mesh.vertices, axis=0, return_inverse=True)
    faces = inverse.reshape(-1)[mesh.faces]
    keep = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    faces, material = faces[keep], mesh.material[keep]
    no_colour = (-1.0, -1.0, -1.0)  # sorts first
    keys = [_color(mesh, m) or no_colour for m in range(max(len(mesh.colors), int(material.max(initial=-1)) + 1))]
    order = sorted(set(keys))
    material = np.array([order.index(k) for k in keys], np.int64)[material] if keys else material
    first = np.argmin(faces, axis=1)[:, None]
    faces = np.take_along_axis(faces, (first + np.arange(3)) % 3, axis=1)
    rows = np.lexsort((faces[:, 2], faces[:, 1], faces[:, 0], material))
    return MeshData(vertices, faces[rows], material[rows], [None if k == no_colour else k for k in order])


def linear_to_srgb(rgb: Sequence[float]) -> tuple[float, float, float]:
    """Blender's scene-linear colour → sRGB in [0, 1] (the values an MTL file holds)."""
    c = np.clip(np.asarray(rgb, np.float64)[:3], 0.0, 1.0)
    s = np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)
    return tuple(round(float(v), 4) for v in s)  # type: ignore[return-value]


GREY = (0.6, 0.6, 0.6)
"""The colour of a material whose base colour cannot be read (fully procedural shaders)."""


def _color(mesh: MeshData, material: int) -> tuple[float, float, float] | None:
    return mesh.colors[material] if material < len(mesh.colors) else None


def obj_text(mesh: MeshData, mtl_name: str) -> tuple[str, str]:
    """``(OBJ, MTL)`` texts: one ``usemtl`` group per material that has faces, in material order."""
    lines = [f"mtllib {mtl_name}", *(f"v {x:.5f} {y:.5f} {z:.5f}" for x, y, z in mesh.vertices)]
    mtl = []
    order = np.argsort(mesh.material, kind="stable")
    faces, material = mesh.faces[order] + 1, mesh.material[order]
    for m in np.unique(material):
        color = _color(mesh, m) or GREY
        mtl += [f"newmtl m{m}", "Kd {:.4f} {:.4f} {:.4f}".format(*color), ""]
        lines.append(f"usemtl m{m}")
        lines += (f"f {a} {b} {c}" for a, b, c in faces[material == m])
    return "\n".join(lines) + "\n", "\n".join(mtl)


def meta_record(job: Job, mesh: MeshData, *, version: str, triangles_made: int, seconds: float, base_seed: int) -> dict:
    """The ``meta.json`` of a model: what ``pix2vox-dataset`` reads (name, creator, license) and how
    it was made (generator, version, factory, seed), its frame and its size."""
    extent = np.subtract(*bounds(mesh.vertices)[::-1])
    return {
        "name": f"{job.factory} seed {job.seed}",
        "creator": "Infinigen (procedural)",
        "license": LICENSE,
        "license_note": LICENSE_NOTE,
        "generator": "infinigen",
        "generator_version": version,
        "factory": job.factory,
        "seed": job.seed,
        "settings": {f: SETTINGS[f] for f in job.factory.split("+") if f in SETTINGS},
        "category": job.category,
        "base_seed": base_seed,
        "index": job.index,
        "frame": {"up": "+y", "front": "+z", "units": "m", "origin": "bounding box centre"},
        "size_m": [round(float(v), 4) for v in extent],
        "triangles": len(mesh.faces),
        "triangles_generated": int(triangles_made),
        "materials_without_colour": sum(1 for m in np.unique(mesh.material) if _color(mesh, m) is None),
        "seconds": round(seconds, 3),
    }


def write_model(folder: str | os.PathLike[str], mesh: MeshData, meta: dict) -> Path:
    """Writes ``model.obj``, ``model.mtl`` and ``meta.json`` into ``folder``, all or nothing: into
    ``.<name>.partial-<pid>`` beside it, then one rename (``meta.json`` marks a finished model).

    Returns:
        ``folder``.
    """
    folder = Path(folder)
    temporary = folder.with_name(f".{folder.name}{PARTIAL}{os.getpid()}")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    obj, mtl = obj_text(mesh, "model.mtl")
    (temporary / MESH_FILE).write_text(obj, encoding="utf-8")
    (temporary / "model.mtl").write_text(mtl, encoding="utf-8")
    (temporary / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    temporary.rename(folder)
    return folder


def is_done(out: Path, job: Job) -> bool:
    """Whether ``job``'s folder is finished (its ``meta.json`` exists)."""
    return (out / job.category / job.name / META_FILE).is_file()


def leftovers(out: Path) -> Iterator[Path]:
    """Partial model folders under ``out`` (from a killed worker)."""
    if out.is_dir():
        for category in out.iterdir():
            if category.is_dir():
                yield from (p for p in category.iterdir() if p.is_dir() and PARTIAL in p.name)


def finish_model(job: Job, mesh: MeshData, folder: str | os.PathLike[str], *, version: str, max_triangles: int,
                 base_seed: int, seconds: float) -> str | None:
    """Checks, decimates, poses and writes one generated mesh (in Infinigen's frame).

    Returns:
        ``None`` when the folder was written, else why the mesh was skipped (:func:`check`).
    """
    # Blender's coordinates of the same seed can differ in the last bits between runs; rounded to a
    # micrometre they do not, so the decimation's cells and the files are the same every time.
    mesh = dataclasses.replace(mesh, vertices=np.round(mesh.vertices, DECIMALS))
    reason = check(mesh)
    if reason is not None:
        return reason
    made = len(mesh.faces)
    mesh = decimate(mesh, max_triangles)
    mesh = canonical(dataclasses.replace(mesh, vertices=normalise(to_file_frame(mesh.vertices))))
    meta = meta_record(job, mesh, version=version, triangles_made=made, seconds=seconds, base_seed=base_seed)
    write_model(folder, mesh, meta)
    return None
