"""Registry of named pretrained checkpoints: one frozen record per published checkpoint.

Nothing else in the library hard-codes where weights live, what they were trained with, or
what the papers report for them.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import ARCHITECTURES, Architecture, PreprocessConfig
from ..errors import UnknownModelError

PIX2VOX_PAPER = "Xie et al., Pix2Vox: Context-aware 3D Reconstruction from Single and Multi-view Images, ICCV 2019 (arXiv:1901.11153)"
PIX2VOXPP_PAPER = "Xie et al., Pix2Vox++: Multi-scale Context-aware 3D Object Reconstruction from Single and Multiple Images, IJCV 2020 (arXiv:2006.12250)"
SHAPENET = "ShapeNet, 13 categories, renderings and 32^3 voxels of 3D-R2N2 (Choy et al., 2016)"
PIX2VOX_PROJECT = "https://github.com/hzxie/Pix2Vox"
PIX2VOXPP_PROJECT = "https://gitlab.com/hzxie/Pix2Vox"
DEFAULT_MODEL = "pix2voxpp-f-furniture"
"""The checkpoint used when no model is named: shipped in the package, openly licensed."""

SHIPPED = Path(__file__).resolve().parents[1] / "checkpoints"
"""Folder of the checkpoints shipped inside the package (``pix2vox/checkpoints/<name>/``)."""


@dataclass(frozen=True)
class ModelRecord:
    """A registry record: where a checkpoint lives and everything known about it.

    Attributes:
        name: registry name, e.g. ``"pix2voxpp-a"``.
        architecture: the network variant.
        repo_id: Hugging Face Hub repository holding ``filename`` and ``config.json``.
        revision: Hub revision to download; pin a release to a full 40-hex commit hash.
        filename: weights file in the repository.
        sha256: expected SHA-256 of the weights file, checked after download when set.
        local_dir: folder shipped with the package holding the files (used before the Hub).
        preprocess: preprocessing the weights were trained with.
        threshold: default occupancy threshold.
        paper: citation of the method.
        reported_iou: ShapeNet test IoU reported by the paper, by number of views.
        num_params: number of parameters.
        license: licence of the weights.
        training_data: what the weights were trained on.
        original_file: name of the authors' released ``.pth`` file, if any; without ``weights=``
            and without a published Hub repository it is fetched from the authors' server on first
            use (:mod:`pix2vox.loading.authors`).
        original_size_mb: size of ``original_file`` as the authors state it, in MB (shown when fetching).
        project_page: where the authors publish their code and ``original_file``.
        published: whether ``repo_id`` is published on the Hub (tried first when it is).
    """

    name: str
    architecture: Architecture
    repo_id: str | None = None
    revision: str = "main"
    filename: str = "model.safetensors"
    sha256: str | None = None
    local_dir: Path | None = None
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    threshold: float = 0.3
    paper: str = ""
    reported_iou: dict[int, float] = field(default_factory=dict)
    num_params: int = 0
    license: str = "MIT"
    training_data: str = ""
    original_file: str | None = None
    original_size_mb: float | None = None
    project_page: str | None = None
    published: bool = True

    def __post_init__(self) -> None:
        # huggingface_hub only treats a full 40-hex hash as a commit; a short one would be looked
        # up as a branch name and fail far from here.
        if re.fullmatch(r"[0-9a-f]{7,39}", self.revision):
            raise ValueError(f"{self.name}: revision {self.revision!r} looks like a short commit hash; pin the full 40-hex hash")
        if self.sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}", self.sha256):
            raise ValueError(f"{self.name}: sha256 must be 64 lowercase hex digits, got {self.sha256!r}")

    @property
    def pinned(self) -> bool:
        """Whether ``revision`` is a full commit hash (immutable), not a branch or tag."""
        return re.fullmatch(r"[0-9a-f]{40}", self.revision) is not None

    def replace(self, **changes: Any) -> ModelRecord:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


_MULTIVIEW = (1, 2, 3, 4, 5, 8, 12, 16, 20)


def _iou(values: tuple[float, ...]) -> dict[int, float]:
    return dict(zip(_MULTIVIEW, values))


_REGISTRY: dict[str, ModelRecord] = {
    w.name: w
    for w in (
        ModelRecord(
            name="pix2vox-f",
            architecture=ARCHITECTURES["pix2vox-f"],
            repo_id="pix2vox/pix2vox-f-shapenet",
            paper=PIX2VOX_PAPER,
            reported_iou=_iou((0.634, 0.660, 0.668, 0.673, 0.676, 0.680, 0.682, 0.684, 0.684)),
            num_params=7_436_307,
            training_data=SHAPENET,
            original_file="Pix2Vox-F-ShapeNet.pth",
            original_size_mb=29.8,
            project_page=PIX2VOX_PROJECT,
            published=False,
        ),
        ModelRecord(
            name="pix2vox-a",
            architecture=ARCHITECTURES["pix2vox-a"],
            repo_id="pix2vox/pix2vox-a-shapenet",
            paper=PIX2VOX_PAPER,
            reported_iou=_iou((0.661, 0.686, 0.693, 0.697, 0.699, 0.702, 0.704, 0.705, 0.706)),
            num_params=114_244_467,
            training_data=SHAPENET,
            original_file="Pix2Vox-A-ShapeNet.pth",
            original_size_mb=457.0,
            project_page=PIX2VOX_PROJECT,
            published=False,
        ),
        ModelRecord(
            name="pix2voxpp-f",
            architecture=ARCHITECTURES["pix2voxpp-f"],
            repo_id="pix2vox/pix2voxpp-f-shapenet",
            paper=PIX2VOXPP_PAPER,
            num_params=4_843_245,
            training_data=SHAPENET,
            original_file="Pix2Vox++-F-ShapeNet.pth",
            original_size_mb=19.4,
            project_page=PIX2VOXPP_PROJECT,
            published=False,
        ),
        ModelRecord(
            name="pix2voxpp-a",
            architecture=ARCHITECTURES["pix2voxpp-a"],
            repo_id="pix2vox/pix2voxpp-a-shapenet",
            paper=PIX2VOXPP_PAPER,
            reported_iou=_iou((0.670, 0.695, 0.704, 0.708, 0.711, 0.715, 0.717, 0.718, 0.719)),
            num_params=96_329_421,
            training_data=SHAPENET,
            original_file="Pix2Vox++-A-ShapeNet.pth",
            original_size_mb=385.4,
            project_page=PIX2VOXPP_PROJECT,
            published=False,
        ),
        ModelRecord(
            name="pix2voxpp-f-furniture",
            architecture=ARCHITECTURES["pix2voxpp-f"],
            local_dir=SHIPPED / "pix2voxpp-f-furniture",
            # Its training renderings' objects span about three quarters of the 128-pixel crop.
            preprocess=PreprocessConfig(object_fill=0.75),
            paper=PIX2VOXPP_PAPER,
            num_params=4_843_245,
            threshold=0.3,
            license="CC-BY-3.0",
            training_data="820 artist-made 3D models of Debian's sweethome3d-furniture package (CC0 and CC-BY 3.0), "
            "rendered and voxelised by pix2vox-dataset; see pix2vox/checkpoints/pix2voxpp-f-furniture/README.md",
        ),
    )
}


def list_models() -> list[str]:
    """Names of all registered checkpoints, sorted."""
    return sorted(_REGISTRY)


def register(record: ModelRecord, *, overwrite: bool = False) -> ModelRecord:
    """Add a checkpoint to the registry, so that ``Reconstructor(record.name)`` finds it.

    For checkpoints of your own published in our layout (see :meth:`Reconstructor.save_pretrained`),
    e.g. ``register(get_record("pix2voxpp-a").replace(name="my-chairs", repo_id="me/chairs"))``.

    Raises:
        ValueError: the name is taken and ``overwrite`` is false.
    """
    if record.name in _REGISTRY and not overwrite:
        raise ValueError(f"{record.name!r} is already registered; pass overwrite=True to replace it")
    _REGISTRY[record.name] = record
    return record


def find_repo(repo_id: str) -> ModelRecord | None:
    """The registered checkpoint published in Hub repository ``repo_id``, if any."""
    return next((w for w in _REGISTRY.values() if w.repo_id == repo_id), None)


def get_record(name: str) -> ModelRecord:
    """The record of a registered checkpoint.

    Raises:
        UnknownModelError: ``name`` is not registered (the message lists the known names).
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownModelError(f"unknown model {name!r}; known models: {', '.join(list_models())}") from None
