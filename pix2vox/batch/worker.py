"""The work of one batch-job worker: a :class:`Reconstructor` loaded once, applied to tables of objects.

Both engines use :class:`ObjectReconstructor`: the local engine calls it in this process,
Ray Data builds one per actor. It takes a table of objects (``object_id``, ``views``) and
returns one result row per object (:func:`result_schema`); a broken view or object becomes a
``failed`` row naming the file and the problem, never an exception.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from pix2vox.batch.inputs import is_uri
from pix2vox.config import MAX_PIXELS
from pix2vox.errors import Pix2VoxError
from pix2vox.formats import SUPPORTED_FORMATS

if TYPE_CHECKING:
    import pyarrow as pa
    import torch

    from pix2vox import Reconstructor
    from pix2vox.preprocess import EncodedImage

__all__ = ["ObjectReconstructor", "Outputs", "read_view", "result_schema", "unpack_occupancy", "unpack_probabilities"]

logger = logging.getLogger(__name__)

OK, FAILED = "ok", "failed"
GRID = 32


@dataclass(frozen=True)
class Outputs:
    """What each result row carries.

    Attributes:
        kind: ``"occupancy"`` (the grid at the threshold, bit-packed: 4,096 bytes),
            ``"probabilities"`` (float32 little-endian, 131,072 bytes) or ``"files"`` (one file per
            object in ``folder``, the row holds its path).
        folder: the output folder (``kind="files"``).
        file_format: the files' format, one of :data:`pix2vox.formats.SUPPORTED_FORMATS`.
        threshold: occupancy threshold; ``None``: the checkpoint's.
        method: mesh surface, ``"marching_cubes"`` or ``"voxels"``.
        smooth: Taubin-smooth the marching-cubes surface (mesh formats).
    """

    kind: Literal["occupancy", "probabilities", "files"] = "occupancy"
    folder: str | None = None
    file_format: str = "obj"
    threshold: float | None = None
    method: Literal["marching_cubes", "voxels"] = "marching_cubes"
    smooth: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("occupancy", "probabilities", "files"):
            raise ValueError(f"outputs must be 'occupancy', 'probabilities' or a folder, not {self.kind!r}")
        if (self.kind == "files") != (self.folder is not None):
            raise ValueError("a folder is needed exactly when the outputs are files")
        if self.file_format not in SUPPORTED_FORMATS:
            raise ValueError(f"unknown format {self.file_format!r}; use one of {', '.join(SUPPORTED_FORMATS)}")

    def target(self, object_id: str) -> Path:
        """The output file of an object (``kind="files"``)."""
        assert self.folder is not None
        return Path(self.folder) / f"{object_id}.{self.file_format}"

    @property
    def column(self) -> str:
        """The result column holding the output: ``path``, ``occupancy`` or ``probabilities``."""
        return "path" if self.kind == "files" else self.kind


def result_schema(outputs: Outputs) -> pa.Schema:
    """The columns of the result rows (and of ``results.parquet``).

    ``object_id``; ``status`` (``"ok"`` or ``"failed"``); ``error`` (the message, null when ok);
    ``occupied`` (voxels at or above the threshold); ``threshold``; ``seconds`` (the object's
    reading, share of the network pass, and writing); then ``path``, ``occupancy`` or
    ``probabilities`` (see :class:`Outputs`). Numbers and outputs are null for failed objects.
    """
    import pyarrow as pa

    output = pa.field(outputs.column, pa.string() if outputs.kind == "files" else pa.binary())
    return pa.schema(
        [
            pa.field("object_id", pa.string()),
            pa.field("status", pa.string()),
            pa.field("error", pa.string()),
            pa.field("occupied", pa.int64()),
            pa.field("threshold", pa.float64()),
            pa.field("seconds", pa.float64()),
            output,
        ]
    )


def unpack_occupancy(packed: bytes) -> np.ndarray:
    """The ``(32, 32, 32)`` boolean grid of an ``occupancy`` value, indexed ``[x, y, z]``."""
    return np.unpackbits(np.frombuffer(packed, dtype=np.uint8))[: GRID**3].astype(bool).reshape(GRID, GRID, GRID)


def unpack_probabilities(packed: bytes) -> np.ndarray:
    """The ``(32, 32, 32)`` float32 probabilities of a ``probabilities`` value, indexed ``[x, y, z]``."""
    return np.frombuffer(packed, dtype="<f4").astype(np.float32).reshape(GRID, GRID, GRID)


def read_view(view: str) -> str | EncodedImage:
    """A view as the reconstructor reads it: a local path as it is, a URI's bytes fetched.

    URIs are read through pyarrow's file systems (``s3://``, ``gs://``, ``hdfs://``,
    ``file://``), other schemes through fsspec.

    Raises:
        ImageError: the file behind a URI is missing or cannot be fetched; the message names it.
    """
    from pix2vox.errors import ImageError
    from pix2vox.preprocess import EncodedImage

    if not is_uri(view):
        return view
    try:
        return EncodedImage(_fetch(view), view)
    except FileNotFoundError:
        raise ImageError(f"{view}: no such file") from None
    except Exception as error:  # noqa: BLE001 - storage errors of any library become one message
        raise ImageError(f"{view}: cannot be read ({type(error).__name__}: {error})") from None


def _fetch(uri: str) -> bytes:
    import pyarrow
    import pyarrow.fs

    try:
        filesystem, path = pyarrow.fs.FileSystem.from_uri(uri)
    except pyarrow.ArrowInvalid:  # a scheme pyarrow does not know: http(s), az, …
        import fsspec

        with fsspec.open(uri, "rb") as stream:
            return stream.read()
    with filesystem.open_input_stream(path) as stream:
        return stream.read()


class ObjectReconstructor:
    """Reconstruct tables of objects with one :class:`Reconstructor`, loaded when this is built.

    Args:
        model: registered model name.
        weights: local checkpoint (file or folder), else the registered one.
        preprocess: ``"auto"`` or ``"official"``.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, …
        threads: PyTorch threads of this worker (``None``: leave PyTorch's setting).
        batch_size: objects per network pass.
        outputs: what the rows carry (:class:`Outputs`).
        max_pixels: largest image decoded (width × height; ``None``: no limit), see
            :attr:`pix2vox.Reconstructor.max_pixels`.
    """

    def __init__(
        self,
        *,
        model: str,
        weights: str | None = None,
        preprocess: str = "auto",
        device: str = "auto",
        threads: int | None = None,
        batch_size: int = 8,
        outputs: Outputs = Outputs(),
        max_pixels: int | None = MAX_PIXELS,
    ) -> None:
        import torch

        from pix2vox import Reconstructor

        if threads is not None:
            torch.set_num_threads(threads)
        self.reconstructor: Reconstructor = Reconstructor(model, weights=weights, device=device, preprocess=preprocess)
        self.reconstructor.max_pixels = max_pixels
        self.batch_size = batch_size
        self.outputs = outputs
        self.threshold = self.reconstructor.threshold if outputs.threshold is None else outputs.threshold
        self.schema = result_schema(outputs)
        logger.debug("worker %d ready: %s on %s", os.getpid(), self.reconstructor.name, self.reconstructor.device)

    def __call__(self, batch: pa.Table) -> pa.Table:
        """One result row per object of ``batch`` (columns ``object_id``, ``views``), in order."""
        import pyarrow as pa

        rows = [self._run(objects) for objects in _chunks(batch.to_pylist(), self.batch_size)]
        return pa.Table.from_pylist([row for chunk in rows for row in chunk], schema=self.schema)

    def _run(self, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        ready: list[tuple[int, torch.Tensor, float]] = []  # (row index, preprocessed views, seconds so far)
        for item in objects:
            start = time.perf_counter()
            rows.append(self._row(item["object_id"]))
            try:
                if not item["views"]:
                    raise _Failed(f"{item['object_id']}: no views")
                tensor = self.reconstructor.preprocess([read_view(view) for view in item["views"]])
                ready.append((len(rows) - 1, tensor, time.perf_counter() - start))
            except (Pix2VoxError, _Failed) as error:
                self._fail(rows[-1], error, time.perf_counter() - start)
        if not ready:
            return rows
        start = time.perf_counter()
        results = self.reconstructor.predict_batch([views for _, views, _ in ready], batch_size=len(ready),
                                                   progress=False, preprocessed=True)
        share = (time.perf_counter() - start) / len(ready)
        for (index, _, seconds), result in zip(ready, results):
            start = time.perf_counter()
            row = rows[index]
            try:
                self._fill(row, result.probabilities)
            except (Pix2VoxError, ValueError, OSError) as error:
                self._fail(row, error, 0.0)
            row["seconds"] = seconds + share + time.perf_counter() - start
        return rows

    def _row(self, object_id: str) -> dict[str, Any]:
        return {name: None for name in self.schema.names} | {"object_id": object_id, "status": OK}

    @staticmethod
    def _fail(row: dict[str, Any], error: BaseException, seconds: float) -> None:
        message = str(error)
        if isinstance(error, OSError) and error.filename is not None:
            message = f"{error.filename}: {error.strerror or error}"
        row.update(status=FAILED, error=message, seconds=seconds)
        logger.warning("%s: failed: %s", row["object_id"], message)

    def _fill(self, row: dict[str, Any], probabilities: np.ndarray) -> None:
        occupancy = probabilities >= self.threshold
        row.update(occupied=int(occupancy.sum()), threshold=self.threshold)
        if self.outputs.kind == "occupancy":
            row["occupancy"] = np.packbits(occupancy.reshape(-1)).tobytes()
        elif self.outputs.kind == "probabilities":
            row["probabilities"] = probabilities.astype("<f4").tobytes()
        else:
            row["path"] = str(self._write(row["object_id"], probabilities))

    def _write(self, object_id: str, probabilities: np.ndarray) -> Path:
        """Write an object's file; every writer of :mod:`pix2vox.exchange` is all or nothing, so a
        retried or resumed job never sees half a file."""
        from pix2vox.exchange import save_volume

        target = self.outputs.target(object_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        save_volume(target, probabilities, threshold=self.threshold, method=self.outputs.method,
                    smooth=self.outputs.smooth, file_format=self.outputs.file_format)
        return target


class _Failed(Exception):
    """An object that cannot be reconstructed (no views)."""


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
