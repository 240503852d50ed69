"""NumPy ``.npy`` / ``.npz`` files holding probability volumes."""

from __future__ import annotations

import logging
import os
import zipfile
from pathlib import Path

import numpy as np

from pix2vox.atomic import atomic_write
from pix2vox.errors import VolumeError

__all__ = ["read_array", "write_npy", "write_npz"]

logger = logging.getLogger(__name__)


def write_npy(path: str | os.PathLike[str], probabilities: np.ndarray) -> Path:
    """Write probabilities as a ``.npy`` file (float32), atomically.

    Args:
        path: Target file; its folder must exist.
        probabilities: ``(D, D, D)`` float in [0, 1], indexed ``[x, y, z]``.

    Returns:
        ``path`` as a :class:`pathlib.Path`.
    """
    with atomic_write(path) as stream:
        np.save(stream, np.asarray(probabilities, dtype=np.float32), allow_pickle=False)
    return Path(path)


def write_npz(path: str | os.PathLike[str], probabilities: np.ndarray, *, threshold: float) -> Path:
    """Write a compressed ``.npz`` archive, atomically.

    The archive holds ``probabilities`` (``(D, D, D)`` float32), ``occupancy``
    (``(D, D, D)`` bool, ``probabilities >= threshold``) and ``threshold``
    (0-d float64).

    Args:
        path: Target file; its folder must exist.
        probabilities: ``(D, D, D)`` float in [0, 1], indexed ``[x, y, z]``.
        threshold: The occupancy threshold to record.

    Returns:
        ``path`` as a :class:`pathlib.Path`.
    """
    volume = np.asarray(probabilities, dtype=np.float32)
    with atomic_write(path) as stream:
        np.savez_compressed(
            stream,
            probabilities=volume,
            occupancy=volume >= threshold,
            threshold=np.float64(threshold),
        )
    return Path(path)


def read_array(path: str | os.PathLike[str]) -> tuple[np.ndarray, float | None]:
    """Read a volume from ``.npy`` or ``.npz``.

    Args:
        path: A ``.npy`` file holding one array, or an ``.npz`` archive with
            ``probabilities`` (preferred) or ``occupancy``, and optionally
            ``threshold``.

    Returns:
        ``(volume, threshold)``: the stored array as-is (not yet checked for
        shape or range) and the recorded threshold, or ``None`` if none was
        stored.

    Raises:
        VolumeError: (a ``ValueError``) naming the file, if it is not a NumPy file, holds pickled
            objects, or an archive lacks both arrays.
        OSError: The file cannot be opened.
    """
    name = os.fspath(path)
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, EOFError, zipfile.BadZipFile) as error:
        raise VolumeError(f"{name}: not a readable NumPy file ({error})") from None
    if isinstance(loaded, np.ndarray):
        return loaded, None
    with loaded:
        key = next((k for k in ("probabilities", "occupancy") if k in loaded.files), None)
        if key is None:
            raise VolumeError(
                f"{name}: archive has no 'probabilities' or 'occupancy' array (found {loaded.files})"
            )
        try:
            volume = loaded[key]
            threshold = float(loaded["threshold"]) if "threshold" in loaded.files else None
        except (ValueError, EOFError, zipfile.BadZipFile, TypeError) as error:
            raise VolumeError(f"{name}: damaged archive ({error})") from None
    return volume, threshold
