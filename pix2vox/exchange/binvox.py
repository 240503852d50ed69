"""Read and write binvox voxel files, written from the format's public spec.

Spec: https://www.patrickmin.com/binvox/binvox.html. A file is an ASCII header
(``#binvox 1``, ``dim D D D``, optional ``translate tx ty tz`` and ``scale s``,
then ``data``) followed by run-length pairs of bytes ``(value, count)``. In the
data stream y runs fastest, then z, then x, so a C-order reshape of the decoded
stream has axes ``(x, z, y)``.

Arrays in this package are indexed ``[x, y, z]`` (y up), the same as the
ShapeNetVox32 ground truth that Pix2Vox was trained on, so the reader swaps the
last two axes after decoding and the writer swaps them back before encoding.
The voxel ``[i, j, k]`` has its centre at ``((i + .5) / D, (j + .5) / D,
(k + .5) / D)`` in the unit cube, and at ``translate + scale * centre`` in the
model's coordinates.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from pix2vox.atomic import atomic_write
from pix2vox.errors import BinvoxError

__all__ = ["BinvoxError", "BinvoxGrid", "read_binvox", "write_binvox", "encode_binvox"]

logger = logging.getLogger(__name__)

#: Largest grid side the reader accepts by default (512^3 voxels take 128 MiB as bools);
#: ``read_binvox(..., max_dim=None)`` lifts the limit.
MAX_DIM = 512
_MAX_RUN = 255
_MAX_HEADER_LINES = 64
_MAX_HEADER_LINE_BYTES = 1024


@dataclass(frozen=True)
class BinvoxGrid:
    """The content of a binvox file.

    Attributes:
        occupancy: ``(D, D, D)`` bool, indexed ``[x, y, z]`` (y up), as
            ``binvox_rw.read_as_3d_array(fix_coords=True)`` returns it.
        translate: Model-space position of the grid's corner.
        scale: Model-space edge length of the whole grid.
    """

    occupancy: np.ndarray
    translate: tuple[float, float, float] = (0.0, 0.0, 0.0)
    scale: float = 1.0


def _source_name(source: str | os.PathLike[str] | BinaryIO) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return str(getattr(source, "name", "<binvox stream>"))


def _parse_numbers(name: str, key: str, fields: list[str], count: int, kind: type) -> list:
    if len(fields) != count:
        raise BinvoxError(f"{name}: header line {key!r} needs {count} value(s), got {fields}")
    try:
        values = [kind(field) for field in fields]
    except ValueError:
        raise BinvoxError(f"{name}: header line {key!r} has a non-number in {fields}") from None
    if not all(math.isfinite(value) for value in values):
        raise BinvoxError(f"{name}: header line {key!r} has a non-finite number in {fields}")
    return values


def _read_header(stream: BinaryIO, name: str, max_dim: int | None) -> tuple[int, tuple[float, float, float], float]:
    """Read the header up to and including ``data``; returns (dim, translate, scale)."""
    magic = stream.readline(_MAX_HEADER_LINE_BYTES)
    parts = magic.split()
    if len(parts) != 2 or parts[0] != b"#binvox" or parts[1] not in (b"1", b"2"):
        raise BinvoxError(f"{name}: not a binvox file (first line is {magic[:40]!r})")
    fields: dict[str, list[str]] = {}
    for _ in range(_MAX_HEADER_LINES):
        raw = stream.readline(_MAX_HEADER_LINE_BYTES)
        if not raw:
            break
        try:
            words = raw.decode("ascii").split()
        except UnicodeDecodeError:
            raise BinvoxError(f"{name}: binary bytes in the header before 'data'") from None
        if not words or words[0].startswith("#"):
            continue
        key = words[0].lower()
        if key == "data":
            return _check_header(name, fields, max_dim)
        if key not in ("dim", "translate", "scale"):
            logger.warning("%s: ignoring unknown binvox header line %r", name, raw.strip())
            continue
        fields[key] = words[1:]
    raise BinvoxError(f"{name}: header ends without a 'data' line (truncated or not binvox)")


def _check_header(
    name: str, fields: dict[str, list[str]], max_dim: int | None
) -> tuple[int, tuple[float, float, float], float]:
    if "dim" not in fields:
        raise BinvoxError(f"{name}: header has no 'dim' line")
    dims = _parse_numbers(name, "dim", fields["dim"], 3, int)
    if len(set(dims)) != 1 or dims[0] < 1:
        raise BinvoxError(f"{name}: bad dims {dims}: expected three equal positive sizes")
    if max_dim is not None and dims[0] > max_dim:
        raise BinvoxError(
            f"{name}: a {dims[0]}^3 grid is larger than the limit of {max_dim}^3 voxels "
            "(read_binvox(max_dim=None), or pix2vox-export --max-binvox-dim 0, lifts it)"
        )
    translate = (0.0, 0.0, 0.0)
    if "translate" in fields:
        tx, ty, tz = _parse_numbers(name, "translate", fields["translate"], 3, float)
        translate = (tx, ty, tz)
    scale = 1.0
    if "scale" in fields:
        (scale,) = _parse_numbers(name, "scale", fields["scale"], 1, float)
        if scale <= 0:
            raise BinvoxError(f"{name}: scale must be positive, got {scale!r}")
    return dims[0], translate, scale


def _decode_runs(payload: bytes, dim: int, name: str) -> np.ndarray:
    """Expand ``(value, count)`` pairs into a flat bool array of ``dim**3`` voxels."""
    expected = dim**3
    if len(payload) % 2:
        raise BinvoxError(f"{name}: truncated data (odd number of run-length bytes)")
    pairs = np.frombuffer(payload, dtype=np.uint8).reshape(-1, 2)
    counts = pairs[:, 1].astype(np.int64)
    total = int(counts.sum())
    if total < expected:
        raise BinvoxError(f"{name}: truncated data: {total} of {expected} voxels present")
    if total > expected:
        raise BinvoxError(f"{name}: data holds {total} voxels, more than dim {dim}^3 = {expected}")
    # Version 2 stores per-voxel values up to 255; any non-zero value is occupied.
    # Zero counts (written by some buggy encoders) expand to nothing and are harmless.
    return np.repeat(pairs[:, 0] > 0, counts)


def read_binvox(source: str | os.PathLike[str] | BinaryIO, *, max_dim: int | None = MAX_DIM) -> BinvoxGrid:
    """Read a binvox file.

    The header may contain comment lines (``#...``), its lines in any order,
    and may omit ``translate`` (default ``(0, 0, 0)``) and ``scale`` (default
    1). ``#binvox 2`` files are accepted; any non-zero value is occupied.

    Args:
        source: Path, or binary file object positioned at the file's start.
        max_dim: largest grid side accepted, checked from the header before any data is
            read (default :data:`MAX_DIM`, 512); ``None`` for no limit.

    Returns:
        The grid: ``occupancy`` is ``(D, D, D)`` bool indexed ``[x, y, z]``.

    Raises:
        BinvoxError: (a ``ValueError``) naming the file, for garbage, a bad or
            missing header, non-cubic dims or a grid over ``max_dim``, a non-finite or
            non-positive ``translate``/``scale``, or truncated data.
        OSError: The file cannot be opened.
    """
    name = _source_name(source)
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as stream:
            return _read_stream(stream, name, max_dim)
    return _read_stream(source, name, max_dim)


def _read_stream(stream: BinaryIO, name: str, max_dim: int | None) -> BinvoxGrid:
    dim, translate, scale = _read_header(stream, name, max_dim)
    # At most two bytes per voxel: a longer payload is not this grid's.
    payload = stream.read(2 * dim**3 + 1)
    flat = _decode_runs(payload, dim, name)
    # Stream order is (x, z, y); swap to (x, y, z).
    occupancy = np.ascontiguousarray(flat.reshape(dim, dim, dim).transpose(0, 2, 1))
    return BinvoxGrid(occupancy=occupancy, translate=translate, scale=scale)


def _as_occupancy(occupancy: np.ndarray) -> np.ndarray:
    array = np.asarray(occupancy)
    if array.ndim != 3 or len(set(array.shape)) != 1 or array.shape[0] == 0:
        raise ValueError(f"occupancy must be a non-empty (D, D, D) array, got shape {array.shape}")
    if array.dtype == np.bool_:
        return array
    if not np.isin(array, (0, 1)).all():
        raise ValueError(
            "occupancy must be boolean (or only 0 and 1); threshold probabilities first"
        )
    return array.astype(bool)


def _encode_runs(flat: np.ndarray) -> bytes:
    """Run-length encode a flat bool array as binvox ``(value, count)`` byte pairs."""
    starts = np.concatenate(([0], np.flatnonzero(flat[1:] != flat[:-1]) + 1))
    lengths = np.diff(np.append(starts, flat.size))
    values = flat[starts].astype(np.uint8)
    # Counts are one byte (1..255): split longer runs into full 255-runs plus a
    # remainder, never emitting a zero count.
    pieces = -(-lengths // _MAX_RUN)
    counts = np.full(int(pieces.sum()), _MAX_RUN, dtype=np.int64)
    last_piece = np.cumsum(pieces) - 1
    counts[last_piece] = lengths - _MAX_RUN * (pieces - 1)
    pairs = np.empty((counts.size, 2), dtype=np.uint8)
    pairs[:, 0] = np.repeat(values, pieces)
    pairs[:, 1] = counts
    return pairs.tobytes()


def _format_number(value: float) -> str:
    # repr round-trips every float exactly and stays readable for 0.0 / 1.0.
    return repr(float(value))


def encode_binvox(
    occupancy: np.ndarray,
    *,
    translate: tuple[float, float, float] = (0.0, 0.0, 0.0),
    scale: float = 1.0,
) -> bytes:
    """Encode a grid as the bytes of a binvox (version 1) file.

    Args:
        occupancy: ``(D, D, D)`` bool (or 0/1) indexed ``[x, y, z]``.
        translate: Model-space position of the grid's corner.
        scale: Model-space edge length of the whole grid (positive).

    Returns:
        The complete file: header ``#binvox 1``, ``dim``, ``translate``,
        ``scale``, ``data`` (no comment lines), then the run-length data in
        spec order with counts in 1..255.

    Raises:
        ValueError: Wrong shape, non-binary values or a non-positive scale.
    """
    grid = _as_occupancy(occupancy)
    if len(translate) != 3 or not np.isfinite(translate).all():
        raise ValueError(f"translate must be three finite numbers, got {translate!r}")
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    dim = grid.shape[0]
    header = (
        "#binvox 1\n"
        f"dim {dim} {dim} {dim}\n"
        f"translate {' '.join(_format_number(t) for t in translate)}\n"
        f"scale {_format_number(scale)}\n"
        "data\n"
    )
    flat = np.ascontiguousarray(grid.transpose(0, 2, 1)).ravel()
    return header.encode("ascii") + _encode_runs(flat)


def write_binvox(
    path: str | os.PathLike[str] | BinaryIO,
    occupancy: np.ndarray,
    *,
    translate: tuple[float, float, float] = (0.0, 0.0, 0.0),
    scale: float = 1.0,
) -> None:
    """Write a binvox file that binvox_rw, trimesh and viewvox can read.

    A path is written atomically: on any error no file is left behind.

    Args:
        path: Target path, or a binary file object to write into.
        occupancy: ``(D, D, D)`` bool (or 0/1) indexed ``[x, y, z]`` (y up).
        translate: Model-space position of the grid's corner.
        scale: Model-space edge length of the whole grid (positive).

    Raises:
        ValueError: Wrong shape, non-binary values or a non-positive scale.
        OSError: The file cannot be written.
    """
    data = encode_binvox(occupancy, translate=translate, scale=scale)
    if isinstance(path, (str, os.PathLike)):
        with atomic_write(path) as stream:
            stream.write(data)
        logger.debug("wrote %s (%d bytes)", Path(path), len(data))
    else:
        path.write(data)

