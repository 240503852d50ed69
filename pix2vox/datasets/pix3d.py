"""Pix3D: real photos with a bounding box, paired with voxelised IKEA models.

Annotations come from Pix3D's ``pix3d.json`` (a list of objects with, among others, ``img``
(``"img/chair/0001.png"``), ``category``, ``img_size`` ``[width, height]``, ``bbox``
``[x0, y0, x1, y1]`` in pixels, ``model`` (``"model/chair/IKEA_X/model.obj"``), ``voxel``,
``truncated`` and ``occluded``). Pix3D ships its voxels as 128^3 ``.mat`` files; like the original
Pix2Vox code, this reader expects 32^3 binvox files the user made (e.g. with the binvox tool) next to
the models, by default ``<model folder>/model.binvox``.

Splits: either a split file in Pix2Vox's taxonomy format (``Pix3D.json``: per category, lists of
image ids such as ``"0011"``), or our own split (:func:`make_split`), which splits each category's
*models* (not images, so that no model appears in two splits) at random with a seed and, by
default, drops truncated and occluded images, as Pix2Vox's test list does.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import overload

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from pix2vox.errors import DatasetError
from pix2vox.datasets.missing import MissingFile, warn_missing
from pix2vox.datasets.taxonomy import SPLITS, Taxonomy, load_taxonomies, split_counts
from pix2vox.exchange.binvox import read_binvox

__all__ = ["Pix3DDataset", "Pix3DSample", "load_annotations", "make_split"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Pix3DSample:
    """One annotated photo.

    Attributes:
        category: E.g. ``"chair"``.
        image_id: File stem of the image, e.g. ``"0011"``.
        image_path: The photo.
        bbox: ``(x0, y0, x1, y1)`` object box in pixels of an ``img_size`` image, inclusive.
        img_size: ``(width, height)`` of the annotated image.
        model: The annotation's model path (identifies the 3D model).
        voxel_path: The 32^3 ground truth binvox.
    """

    category: str
    image_id: str
    image_path: Path
    bbox: tuple[int, int, int, int]
    img_size: tuple[int, int]
    model: str
    voxel_path: Path

    def load_image(self, *, crop: bool = True) -> NDArray[np.uint8]:
        """Reads the photo, cropped to its bounding box by default.

        The box is rescaled if the decoded image size differs from ``img_size``; grayscale and
        palette images become RGB, RGBA stays RGBA.

        Returns:
            ``(H, W, 3)`` or ``(H, W, 4)`` uint8.
        """
        with Image.open(self.image_path) as image:
            image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "PA") else "RGB")
            if crop:
                sx, sy = image.width / self.img_size[0], image.height / self.img_size[1]
                x0, y0, x1, y1 = self.bbox
                box = (int(x0 * sx), int(y0 * sy), int(x1 * sx) + 1, int(y1 * sy) + 1)
                image = image.crop((max(box[0], 0), max(box[1], 0),
                                    min(box[2], image.width), min(box[3], image.height)))
            return np.asarray(image)

    def load_volume(self) -> NDArray[np.bool_]:
        """Reads the ground truth: ``(32, 32, 32)`` bool indexed ``[x, y, z]`` (y up)."""
        return read_binvox(self.voxel_path).occupancy


def load_annotations(path: str | os.PathLike[str]) -> list[dict]:
    """Reads ``pix3d.json``; raises :class:`~pix2vox.errors.DatasetError` (naming the file) if it is not a list of
    annotations with ``img``, ``category``, ``img_size``, ``bbox`` and ``model``."""
    path = Path(path)
    try:
        annotations = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DatasetError(f"{path}: not valid JSON ({error})") from None
    needed = {"img", "category", "img_size", "bbox", "model"}
    if not isinstance(annotations, list) or not all(
        isinstance(a, dict) and needed <= set(a) for a in annotations
    ):
        raise DatasetError(f"{path}: expected a list of annotations with keys {sorted(needed)}")
    return annotations


def _image_id(annotation: dict) -> str:
    return Path(annotation["img"]).stem


def make_split(
    annotations: Sequence[dict],
    *,
    seed: int = 0,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    skip_truncated_occluded: bool = True,
) -> list[Taxonomy]:
    """Our own split of Pix3D, by model, in Pix2Vox's taxonomy format.

    Per category (sorted by name), the distinct models are sorted, shuffled with
    ``numpy.random.default_rng(seed)`` and cut by ``fractions`` (see
    :func:`~pix2vox.datasets.taxonomy.split_counts`); each image goes to its model's split.

    Returns:
        One :class:`~pix2vox.datasets.taxonomy.Taxonomy` per category, ids = names, holding
        image ids; write it with :func:`~pix2vox.datasets.taxonomy.taxonomy_entry`.
    """
    rng = np.random.default_rng(seed)
    kept = [a for a in annotations
            if not (skip_truncated_occluded and (a.get("truncated") or a.get("occluded")))]
    taxonomies = []
    for category in sorted({a["category"] for a in kept}):
        mine = [a for a in kept if a["category"] == category]
        models = sorted({a["model"] for a in mine})
        order = [models[i] for i in rng.permutation(len(models))]
        n_train, n_val, _ = split_counts(len(models), fractions)
        bounds = {"train": (0, n_train), "val": (n_train, n_train + n_val),
                  "test": (n_train + n_val, len(models))}
        split_of = {m: s for s, (lo, hi) in bounds.items() for m in order[lo:hi]}
        splits = {s: sorted(_image_id(a) for a in mine if split_of[a["model"]] == s) for s in SPLITS}
        taxonomies.append(Taxonomy(category, category, splits))
    return taxonomies


class Pix3DDataset(Sequence[Pix3DSample]):
    """The images of one Pix3D split, ordered by category then image id.

    Images whose photo or voxel file is missing are left out, logged as a warning and listed in
    :attr:`missing`.

    Args:
        root: Pix3D folder (holding ``pix3d.json``, ``img/`` and ``model/``).
        split: ``"train"``, ``"val"`` or ``"test"``.
        annotations: Annotation file (default ``root/pix3d.json``).
        split_json: A Pix2Vox-format split file; default: :func:`make_split` with ``seed``.
        seed: Seed of our own split.
        categories: Keep only these categories; default all.
        voxel_name: File name of the binvox ground truth inside each model's folder.

    Raises:
        DatasetError: (a ``ValueError``) Bad arguments or malformed JSON files.
        FileNotFoundError: An annotation or split file does not exist.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "test",
        *,
        annotations: str | os.PathLike[str] | None = None,
        split_json: str | os.PathLike[str] | None = None,
        seed: int = 0,
        categories: Sequence[str] | None = None,
        voxel_name: str = "model.binvox",
    ) -> None:
        if split not in SPLITS:
            raise DatasetError(f"split must be one of {SPLITS}, got {split!r}")
        self.root = Path(root)
        self.split = split
        found = load_annotations(annotations or self.root / "pix3d.json")
        taxonomies = load_taxonomies(split_json) if split_json else make_split(found, seed=seed)
        wanted = {(t.taxonomy_name, image_id) for t in taxonomies for image_id in t.splits[split]}
        self.missing: list[MissingFile] = []
        self._samples: list[Pix3DSample] = []
        for ann in sorted(found, key=lambda a: (a["category"], _image_id(a))):
            if (ann["category"], _image_id(ann)) not in wanted:
                continue
            if categories is not None and ann["category"] not in categories:
                continue
            sample = self._sample(ann, voxel_name)
            for path, reason in ((sample.image_path, "no image"), (sample.voxel_path, "no voxel file")):
                if not path.is_file():
                    self.missing.append(MissingFile(sample.category, sample.image_id, path, reason))
                    break
            else:
                self._samples.append(sample)
        warn_missing(logger, self.missing, len(self._samples), f"Pix3D {split}")

    def _sample(self, ann: dict, voxel_name: str) -> Pix3DSample:
        model_dir = Path(ann.get("voxel") or ann["model"]).parent
        x0, y0, x1, y1 = (int(v) for v in ann["bbox"])
        width, height = (int(v) for v in ann["img_size"])
        return Pix3DSample(
            ann["category"], _image_id(ann), self.root / ann["img"], (x0, y0, x1, y1),
            (width, height), ann["model"], self.root / model_dir / voxel_name,
        )

    def __len__(self) -> int:
        return len(self._samples)

    @overload
    def __getitem__(self, index: int) -> Pix3DSample: ...
    @overload
    def __getitem__(self, index: slice) -> list[Pix3DSample]: ...

    def __getitem__(self, index: int | slice) -> Pix3DSample | list[Pix3DSample]:
        return self._samples[index]

    def __repr__(self) -> str:
        return f"Pix3DDataset(split={self.split!r}, samples={len(self)}, missing={len(self.missing)})"
