"""The outcome of a reconstruction, with conversions to occupancy grids, meshes and files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    import trimesh


@dataclass(frozen=True)
class Result:
    """One object's reconstruction.

    Axes are those of the original outputs: ``probabilities[x, y, z]`` as
    ``binvox_rw.read_as_3d_array`` gives ShapeNetVox32 grids (y up).

    Attributes:
        probabilities: ``(32, 32, 32)`` float32 occupancy probabilities in [0, 1].
        threshold: default threshold of the checkpoint that made it.
        coarse: ``(V, 32, 32, 32)`` float32 per-view decoded volumes (with ``details=True``).
        fusion_weights: ``(V, 32, 32, 32)`` float32 per-view fusion weights, summing to 1 over
            the views at every voxel (with ``details=True``).
    """

    probabilities: np.ndarray
    threshold: float
    coarse: np.ndarray | None = None
    fusion_weights: np.ndarray | None = None

    def occupancy(self, threshold: float | None = None) -> np.ndarray:
        """``(32, 32, 32)`` bool grid: ``probabilities >= threshold`` (default: the checkpoint's)."""
        return self.probabilities >= (self.threshold if threshold is None else threshold)

    def to_mesh(
        self,
        method: Literal["marching_cubes", "voxels"] = "marching_cubes",
        *,
        threshold: float | None = None,
        smooth: bool = False,
    ) -> trimesh.Trimesh:
        """A mesh of the shape in the unit cube (see :func:`pix2vox.geometry.volume_to_mesh`)."""
        from .geometry import volume_to_mesh

        level = self.threshold if threshold is None else threshold
        return volume_to_mesh(self.probabilities, threshold=level, method=method, smooth=smooth)

    def save(
        self,
        path: str | os.PathLike,
        *,
        threshold: float | None = None,
        method: Literal["marching_cubes", "voxels"] = "marching_cubes",
        smooth: bool = False,
    ) -> Path:
        """Write the result; the format follows the suffix (see :func:`pix2vox.exchange.save_volume`)."""
        from .exchange import save_volume

        level = self.threshold if threshold is None else threshold
        return save_volume(path, self.probabilities, threshold=level, method=method, smooth=smooth).path
