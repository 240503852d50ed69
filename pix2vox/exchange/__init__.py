"""Save predictions as binvox grids, meshes or arrays, and load them back.

Every writer is atomic: the target file appears complete or not at all.

Formats, chosen by file suffix:

* ``.binvox``: occupancy (``probabilities >= threshold``), spec order, unit cube.
* ``.obj .ply .stl .glb .off``: a surface from :func:`pix2vox.geometry.volume_to_mesh`.
* ``.npy``: the float32 probabilities.
* ``.npz``: ``probabilities`` (float32), ``occupancy`` (bool) and ``threshold``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pix2vox.exchange.arrays import read_array, write_npy, write_npz
from pix2vox.exchange.binvox import MAX_DIM, BinvoxError, BinvoxGrid, read_binvox, write_binvox
from pix2vox.exchange.mesh import write_mesh
from pix2vox.errors import VolumeError
from pix2vox.formats import SUPPORTED_FORMATS, VOLUME_FORMATS
from pix2vox.geometry import MeshMethod, check_threshold, check_volume, volume_to_mesh

__all__ = [
    "SUPPORTED_FORMATS",
    "VOLUME_FORMATS",
    "BinvoxError",
    "BinvoxGrid",
    "SavedVolume",
    "load_threshold",
    "load_volume",
    "read_binvox",
    "save_volume",
    "write_binvox",
]

logger = logging.getLogger(__name__)



@dataclass(frozen=True)
class SavedVolume:
    """What :func:`save_volume` wrote.

    Attributes:
        path: the file.
        occupied: number of voxels at or above the threshold.
        vertices: vertices of the mesh (mesh formats; else ``None``).
        faces: triangles of the mesh (mesh formats; else ``None``).
    """

    path: Path
    occupied: int
    vertices: int | None = None
    faces: int | None = None

    def describe(self) -> str:
        """``"<path> (1234 vertices, 2464 faces)"`` for meshes, ``"<path> (5120 occupied voxels)"`` else."""
        if self.faces is not None:
            return f"{self.path} ({self.vertices} vertices, {self.faces} faces)"
        return f"{self.path} ({self.occupied} occupied voxels)"


def _format_of(path: Path, file_format: str | None, choices: tuple[str, ...]) -> str:
    name = (file_format or path.suffix.lstrip(".")).lower()
    if name not in choices:
        what = f"format {name!r}" if name else "no file suffix"
        raise VolumeError(
            f"{path}: unsupported {what}; use one of {', '.join('.' + c for c in choices)}"
        )
    return name


def save_volume(
    path: str | os.PathLike[str],
    probabilities: np.ndarray,
    *,
    threshold: float,
    method: MeshMethod = "marching_cubes",
    smooth: bool = False,
    file_format: str | None = None,
) -> SavedVolume:
    """Save a predicted volume in the format its file suffix names.

    Args:
        path: Target file; its folder must exist. An existing file is replaced.
        probabilities: ``(D, D, D)`` occupancy probabilities in [0, 1]
            (float32 preferred), indexed ``[x, y, z]`` with y up.
        threshold: Voxels with ``probabilities >= threshold`` are occupied;
            strictly between 0 and 1. Used by binvox, meshes and ``.npz``.
        method: Mesh formats only: ``"marching_cubes"`` or ``"voxels"``
            (see :func:`pix2vox.geometry.volume_to_mesh`).
        smooth: Mesh formats only: Taubin-smooth the marching-cubes surface.
        file_format: One of :data:`SUPPORTED_FORMATS` to override the suffix.

    Returns:
        What was written: its ``path`` (a :class:`pathlib.Path`), the occupied voxels and, for
        meshes, the vertex and face counts (:meth:`SavedVolume.describe` says it in words).

    Raises:
        VolumeError: (a ``ValueError``) Unknown format (the message lists the supported
            ones), a bad volume, or a mesh format when no voxel reaches the threshold
            (there is no surface to write).
        ValueError: A bad threshold.
        OSError: The file cannot be written. No partial file is left behind.
    """
    target = Path(path)
    kind = _format_of(target, file_format, SUPPORTED_FORMATS)
    volume = check_volume(probabilities, name=str(target))
    threshold = check_threshold(threshold)
    occupancy = volume >= threshold
    saved = SavedVolume(target, occupied=int(occupancy.sum()))
    if kind == "binvox":
        write_binvox(target, occupancy)
    elif kind == "npy":
        write_npy(target, volume)
    elif kind == "npz":
        write_npz(target, volume, threshold=threshold)
    else:
        if not saved.occupied:
            raise VolumeError(
                f"{target}: nothing to mesh, no voxel reaches the threshold {threshold:g} "
                f"(highest probability {float(volume.max()):.3g}); lower the threshold "
                "or save as .binvox, .npy or .npz"
            )
        mesh = volume_to_mesh(volume, threshold=threshold, method=method, smooth=smooth)
        write_mesh(target, mesh, file_format=kind)
        saved = SavedVolume(target, saved.occupied, vertices=len(mesh.vertices), faces=len(mesh.faces))
    logger.info("saved %s", saved.describe())
    return saved


def load_volume(path: str | os.PathLike[str], *, max_binvox_dim: int | None = MAX_DIM) -> np.ndarray:
    """Load a volume saved as ``.binvox``, ``.npy`` or ``.npz``.

    Args:
        path: A binvox file (occupancy becomes 0.0 / 1.0), a ``.npy`` holding
            probabilities or occupancy, or an ``.npz`` as written by
            :func:`save_volume` (``probabilities``, else ``occupancy``).
        max_binvox_dim: largest binvox grid side accepted, from the header (``None``: no
            limit; see :func:`read_binvox`).

    Returns:
        ``(D, D, D)`` float32 in [0, 1], indexed ``[x, y, z]``.

    Raises:
        ValueError: naming the file, for an unsupported suffix, a damaged file
            or a volume of the wrong shape or range.
        OSError: The file cannot be opened.
    """
    source = Path(path)
    kind = _format_of(source, None, VOLUME_FORMATS)
    if kind == "binvox":
        volume: np.ndarray = read_binvox(source, max_dim=max_binvox_dim).occupancy
    else:
        volume, _ = read_array(source)
    return check_volume(volume, name=str(source))


def load_threshold(path: str | os.PathLike[str]) -> float | None:
    """The threshold recorded in an ``.npz`` from :func:`save_volume`.

    Args:
        path: Any file :func:`load_volume` reads.

    Returns:
        The stored threshold, or ``None`` for ``.binvox`` / ``.npy`` files and
        archives without one.
    """
    source = Path(path)
    if _format_of(source, None, VOLUME_FORMATS) != "npz":
        return None
    return read_array(source)[1]
