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
from pathlib import Path

import numpy as np

from pix2vox.exchange.arrays import read_array, write_npy, write_npz
from pix2vox.exchange.binvox import BinvoxError, BinvoxGrid, read_binvox, write_binvox
from pix2vox.exchange.mesh import MESH_FORMATS, write_mesh
from pix2vox.geometry import MeshMethod, check_threshold, check_volume, volume_to_mesh

__all__ = [
    "SUPPORTED_FORMATS",
    "VOLUME_FORMATS",
    "BinvoxError",
    "BinvoxGrid",
    "load_threshold",
    "load_volume",
    "read_binvox",
    "save_volume",
    "write_binvox",
]

logger = logging.getLogger(__name__)

#: Every format :func:`save_volume` writes (names = suffixes without the dot).
SUPPORTED_FORMATS: tuple[str, ...] = ("binvox", *MESH_FORMATS, "npy", "npz")
#: The formats :func:`load_volume` reads back.
VOLUME_FORMATS: tuple[str, ...] = ("binvox", "npy", "npz")


def _format_of(path: Path, file_format: str | None, choices: tuple[str, ...]) -> str:
    name = (file_format or path.suffix.lstrip(".")).lower()
    if name not in choices:
        what = f"format {name!r}" if name else "no file suffix"
        raise ValueError(
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
) -> Path:
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
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        ValueError: Unknown format (the message lists the supported ones), a
            bad volume or threshold, or a mesh format when no voxel reaches
            the threshold (there is no surface to write).
        OSError: The file cannot be written. No partial file is left behind.
    """
    target = Path(path)
    kind = _format_of(target, file_format, SUPPORTED_FORMATS)
    volume = check_volume(probabilities, name=str(target))
    threshold = check_threshold(threshold)
    if kind == "binvox":
        write_binvox(target, volume >= threshold)
    elif kind == "npy":
        write_npy(target, volume)
    elif kind == "npz":
        write_npz(target, volume, threshold=threshold)
    else:
        if not (volume >= threshold).any():
            raise ValueError(
                f"{target}: nothing to mesh, no voxel reaches the threshold {threshold:g} "
                f"(highest probability {float(volume.max()):.3g}); lower the threshold "
                "or save as .binvox, .npy or .npz"
            )
        mesh = volume_to_mesh(volume, threshold=threshold, method=method, smooth=smooth)
        write_mesh(target, mesh, file_format=kind)
    logger.info("saved %s", target)
    return target


def load_volume(path: str | os.PathLike[str]) -> np.ndarray:
    """Load a volume saved as ``.binvox``, ``.npy`` or ``.npz``.

    Args:
        path: A binvox file (occupancy becomes 0.0 / 1.0), a ``.npy`` holding
            probabilities or occupancy, or an ``.npz`` as written by
            :func:`save_volume` (``probabilities``, else ``occupancy``).

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
        volume: np.ndarray = read_binvox(source).occupancy
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
