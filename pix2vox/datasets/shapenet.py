"""ShapeNet in the layout Pix2Vox uses: ShapeNetRendering + ShapeNetVox32 + a taxonomy JSON.

Files::

    <rendering_root>/<taxonomy_id>/<model_id>/rendering/00.png ... 23.png   (137x137 RGBA)
    <voxel_root>/<taxonomy_id>/<model_id>/model.binvox                      (32^3)
    <taxonomy_json>                                   (see :mod:`pix2vox.datasets.taxonomy`)

By default all three live under one root as ``ShapeNetRendering/``, ``ShapeNetVox32/`` and
``ShapeNet.json`` (the layout ``pix2vox-synth`` writes).

View selection: ``"first"`` takes views ``00 .. n_views-1`` like the official test script;
``"random"`` draws ``n_views`` distinct views per model from a generator seeded by
``(seed, taxonomy_id, model_id)``, so a sample's views depend on the seed only, not on the order
samples are read in.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal, overload

import numpy as np
from numpy.typing import NDArray

from pix2vox.errors import DatasetError
from pix2vox.datasets.missing import MissingFile, warn_missing
from pix2vox.datasets.taxonomy import SPLITS, Taxonomy, load_taxonomies
from pix2vox.exchange.binvox import read_binvox

__all__ = ["ShapeNetDataset", "ShapeNetSample"]

logger = logging.getLogger(__name__)

ViewSelection = Literal["first", "random"]
_VIEW_NAME = re.compile(r"^(\d+)\.png$")


@dataclasses.dataclass(frozen=True)
class ShapeNetSample:
    """One test (or train/val) object.

    Attributes:
        taxonomy_id: ShapeNet synset id, e.g. ``"03001627"``.
        taxonomy_name: E.g. ``"chair"``.
        model_id: ShapeNet model id.
        view_paths: The selected renderings, in selection order.
        voxel_path: The ground-truth ``model.binvox``.
    """

    taxonomy_id: str
    taxonomy_name: str
    model_id: str
    view_paths: tuple[Path, ...]
    voxel_path: Path

    def load_volume(self) -> NDArray[np.bool_]:
        """Reads the ground truth (nothing is read before this is called).

        Returns:
            ``(32, 32, 32)`` bool indexed ``[x, y, z]`` (y up), as
            ``binvox_rw.read_as_3d_array(fix_coords=True)`` gives it.
        """
        return read_binvox(self.voxel_path).occupancy


class ShapeNetDataset(Sequence[ShapeNetSample]):
    """The models of one split, with their selected views and ground truth.

    Samples are ordered like the taxonomy file (taxonomies, then model ids in file order). Models
    whose voxel file or renderings are missing, or that have fewer than ``n_views`` renderings,
    are left out, logged as a warning and listed in :attr:`missing`.

    Args:
        root: Folder holding ``ShapeNetRendering/``, ``ShapeNetVox32/`` and ``ShapeNet.json``;
            optional when the three paths below are all given.
        split: ``"train"``, ``"val"`` or ``"test"``.
        taxonomy_json: Taxonomy file (default ``root/ShapeNet.json``).
        rendering_root: Default ``root/ShapeNetRendering``.
        voxel_root: Default ``root/ShapeNetVox32``.
        n_views: Views per sample.
        view_selection: ``"first"`` or ``"random"`` (see the module docstring).
        seed: Seed of the ``"random"`` selection.
        taxonomies: Keep only these categories (ids or names); default all.

    Raises:
        DatasetError: (a ``ValueError``) Bad arguments or a malformed taxonomy file.
        FileNotFoundError: The taxonomy file does not exist.
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        split: str = "test",
        *,
        taxonomy_json: str | os.PathLike[str] | None = None,
        rendering_root: str | os.PathLike[str] | None = None,
        voxel_root: str | os.PathLike[str] | None = None,
        n_views: int = 1,
        view_selection: ViewSelection = "first",
        seed: int = 0,
        taxonomies: Sequence[str] | None = None,
    ) -> None:
        if split not in SPLITS:
            raise DatasetError(f"split must be one of {SPLITS}, got {split!r}")
        if view_selection not in ("first", "random"):
            raise DatasetError(f"view_selection must be 'first' or 'random', got {view_selection!r}")
        if n_views < 1:
            raise DatasetError(f"n_views must be at least 1, got {n_views}")
        if root is None and None in (taxonomy_json, rendering_root, voxel_root):
            raise DatasetError("give root, or all of taxonomy_json, rendering_root and voxel_root")
        base = Path(root) if root is not None else Path()
        self.split = split
        self.n_views = n_views
        self.view_selection = view_selection
        self.seed = seed
        self.taxonomy_json = Path(taxonomy_json) if taxonomy_json else base / "ShapeNet.json"
        self.rendering_root = Path(rendering_root) if rendering_root else base / "ShapeNetRendering"
        self.voxel_root = Path(voxel_root) if voxel_root else base / "ShapeNetVox32"
        self.taxonomies = self._select(load_taxonomies(self.taxonomy_json), taxonomies)
        self.missing: list[MissingFile] = []
        self._samples = [s for t in self.taxonomies for s in self._index(t)]
        warn_missing(logger, self.missing, len(self._samples), f"ShapeNet {split}")

    @staticmethod
    def _select(found: list[Taxonomy], wanted: Sequence[str] | None) -> list[Taxonomy]:
        if wanted is None:
            return found
        keys = {t.taxonomy_id for t in found} | {t.taxonomy_name for t in found}
        unknown = [w for w in wanted if w not in keys]
        if unknown:
            raise DatasetError(f"unknown taxonomies {unknown}")
        return [t for t in found if t.taxonomy_id in wanted or t.taxonomy_name in wanted]

    def _leave_out(self, taxonomy: Taxonomy, model_id: str, path: Path, reason: str) -> None:
        self.missing.append(MissingFile(taxonomy.taxonomy_id, model_id, path, reason))

    def _index(self, taxonomy: Taxonomy) -> Iterator[ShapeNetSample]:
        for model_id in taxonomy.splits[self.split]:
            voxel_path = self.voxel_root / taxonomy.taxonomy_id / model_id / "model.binvox"
            views_dir = self.rendering_root / taxonomy.taxonomy_id / model_id / "rendering"
            if not voxel_path.is_file():
                self._leave_out(taxonomy, model_id, voxel_path, "no voxel file")
                continue
            views = view_files(views_dir)
            if len(views) < self.n_views:
                reason = f"{len(views)} renderings, {self.n_views} needed"
                self._leave_out(taxonomy, model_id, views_dir, reason)
                continue
            chosen = self._choose(taxonomy.taxonomy_id, model_id, len(views))
            yield ShapeNetSample(taxonomy.taxonomy_id, taxonomy.taxonomy_name, model_id,
                                 tuple(views[i] for i in chosen), voxel_path)

    def _choose(self, taxonomy_id: str, model_id: str, available: int) -> list[int]:
        if self.view_selection == "first":
            return list(range(self.n_views))
        key = zlib.crc32(f"{taxonomy_id}/{model_id}".encode())
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, key]))
        return sorted(int(i) for i in rng.choice(available, size=self.n_views, replace=False))

    def __len__(self) -> int:
        return len(self._samples)

    @overload
    def __getitem__(self, index: int) -> ShapeNetSample: ...
    @overload
    def __getitem__(self, index: slice) -> list[ShapeNetSample]: ...

    def __getitem__(self, index: int | slice) -> ShapeNetSample | list[ShapeNetSample]:
        return self._samples[index]

    def __repr__(self) -> str:
        return (f"ShapeNetDataset(split={self.split!r}, samples={len(self)}, "
                f"taxonomies={len(self.taxonomies)}, n_views={self.n_views}, "
                f"view_selection={self.view_selection!r}, missing={len(self.missing)})")


def _numbered(name: str) -> int | None:
    match = _VIEW_NAME.match(name)
    return int(match.group(1)) if match else None


def view_files(folder: Path) -> list[Path]:
    """The ``NN.png`` files of a rendering folder, in numeric order (empty if no folder)."""
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    numbered = sorted((n, name) for name in names if (n := _numbered(name)) is not None)
    return [folder / name for _, name in numbered]
