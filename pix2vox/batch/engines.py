"""The two engines of a batch job (in this process, or on Ray Data) and the job around them."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pix2vox.batch.inputs import ObjectViews, objects_table
from pix2vox.batch.worker import FAILED, OK, ObjectReconstructor, Outputs, result_schema
from pix2vox.config import MAX_PIXELS
from pix2vox.loading.registry import DEFAULT_MODEL

if TYPE_CHECKING:
    import pyarrow as pa
    import ray.data

__all__ = ["RESULTS_NAME", "BatchSummary", "ray_session", "reconstruct_dataset", "reconstruct_local", "run_batch"]

logger = logging.getLogger(__name__)

RESULTS_NAME = "results.parquet"
Engine = Literal["local", "ray"]


def _outputs(outputs: str | os.PathLike[str] | Outputs, output_format: str, threshold: float | None) -> Outputs:
    if isinstance(outputs, Outputs):
        return outputs
    if outputs in ("occupancy", "probabilities"):
        return Outputs(kind=outputs, threshold=threshold)  # type: ignore[arg-type]
    return Outputs(kind="files", folder=os.fspath(outputs), file_format=output_format, threshold=threshold)


def reconstruct_dataset(
    ds: ray.data.Dataset,
    *,
    model: str = DEFAULT_MODEL,
    weights: str | os.PathLike[str] | None = None,
    preprocess: str = "auto",
    batch_size: int = 8,
    concurrency: int = 1,
    num_cpus: float = 1,
    num_gpus: float = 0,
    outputs: str | os.PathLike[str] | Outputs = "occupancy",
    output_format: str = "obj",
    threshold: float | None = None,
) -> ray.data.Dataset:
    """Reconstruct every object of a Ray dataset, one :class:`~pix2vox.Reconstructor` per actor.

    Lazy, like every Ray Data transform: nothing runs until the result is consumed
    (``write_parquet``, ``iter_batches``, ``take_all``, …). Actors that die are restarted and
    their batches retried by Ray, so no object is lost; files are written all or nothing under
    their final names, so a retried object replaces its own file, never adds one.

    Args:
        ds: one row per object: ``object_id`` (string) and ``views`` (list of local paths or
            URIs that pyarrow or fsspec read: ``s3://``, ``gs://``, ``file://``, …); see
            :func:`pix2vox.batch.objects_table`.
        model: registered model name.
        weights: a checkpoint file or folder that every node can read; default: the registered
            one, fetched here once when it is not cached (actors on other nodes fetch it into their
            own node's cache, one per node, under a file lock).
        preprocess: ``"auto"`` or ``"official"``.
        batch_size: objects per network pass (and per Ray batch).
        concurrency: number of actors.
        num_cpus: CPUs per actor; PyTorch in each actor uses that many threads.
        num_gpus: GPUs per actor; with any, the actors run the network on CUDA.
        outputs: ``"occupancy"`` (bit-packed grid per row), ``"probabilities"`` (float32 bytes
            per row), or a folder: one file per object, ``<folder>/<object_id>.<output_format>``,
            on a file system every node shares.
        output_format: format of the files, one of :data:`pix2vox.formats.SUPPORTED_FORMATS`.
        threshold: occupancy threshold; default: the checkpoint's.

    Returns:
        One row per object, the columns of :func:`pix2vox.batch.result_schema`.
    """
    import ray.data

    from pix2vox.loading.hub import resolve_weights
    from pix2vox.loading.registry import get_record, list_models

    spec = _outputs(outputs, output_format, threshold)
    if weights is None and model in list_models():  # fetched once here, not by every actor at once
        resolve_weights(get_record(model))
    return ds.map_batches(
        ObjectReconstructor,
        fn_constructor_kwargs=dict(
            model=model,
            weights=None if weights is None else os.fspath(weights),
            preprocess=preprocess,
            device="cuda" if num_gpus else "cpu",
            threads=max(1, int(num_cpus)),
            batch_size=batch_size,
            outputs=spec,
        ),
        batch_size=batch_size,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=concurrency),
        num_cpus=num_cpus,
        num_gpus=num_gpus,
    )


def reconstruct_local(
    objects: Sequence[ObjectViews],
    *,
    model: str = DEFAULT_MODEL,
    weights: str | os.PathLike[str] | None = None,
    preprocess: str = "auto",
    device: str = "auto",
    batch_size: int = 8,
    workers: int | None = None,
    outputs: str | os.PathLike[str] | Outputs = "occupancy",
    output_format: str = "obj",
    threshold: float | None = None,
    progress: bool = True,
    max_pixels: int | None = MAX_PIXELS,
    desc: str = "pix2vox-batch",
) -> Iterator[pa.Table]:
    """The pipeline of :func:`reconstruct_dataset`, run in this process without Ray.

    Takes the same arguments, except ``device`` (``"auto"``, ``"cpu"``, ``"cuda"``, …) and
    ``workers`` (CPU threads running objects side by side, see
    :attr:`pix2vox.Reconstructor.workers`) in place of the Ray resources; ``max_pixels`` is the
    largest image decoded (``None``: no limit) and ``desc`` the progress bar's label. It runs a
    batch only when the previous table has been taken, so a caller that stops taking them stops it.

    Yields:
        Tables of result rows, one per batch of ``batch_size`` objects, in the objects' order.
    """
    from tqdm.auto import tqdm

    worker = ObjectReconstructor(
        model=model, weights=None if weights is None else os.fspath(weights), preprocess=preprocess, device=device,
        batch_size=batch_size, outputs=_outputs(outputs, output_format, threshold), max_pixels=max_pixels,
    )
    worker.reconstructor.workers = workers
    with tqdm(total=len(objects), unit="object", desc=desc, disable=None if progress else True) as bar:
        for start in range(0, len(objects), batch_size):
            chunk = objects[start : start + batch_size]
            yield worker(objects_table(chunk))
            bar.update(len(chunk))


@dataclass
class BatchSummary:
    """What :func:`run_batch` did.

    Attributes:
        objects: objects in the input.
        failed: object ids that failed (their messages are in ``results.parquet``).
        skipped: objects already complete (``resume``), not run again.
        seconds: wall-clock time of the reconstruction (without starting Ray).
        results: the ``results.parquet`` written.
    """

    objects: int
    failed: list[str] = field(default_factory=list)
    skipped: int = 0
    seconds: float = 0.0
    results: Path | None = None

    @property
    def rate(self) -> float:
        """Objects reconstructed per second (skipped ones not counted)."""
        ran = self.objects - self.skipped
        return ran / self.seconds if self.seconds > 0 else 0.0

    def describe(self) -> str:
        """One line: objects, failures, skipped, throughput, and where the results are."""
        skipped = f", {self.skipped} already complete" if self.skipped else ""
        rate = f"; {self.rate:.2f} objects/s" if self.objects > self.skipped else ""  # no rate for work skipped
        return (
            f"{self.objects} objects: {self.objects - len(self.failed) - self.skipped} reconstructed, "
            f"{len(self.failed)} failed{skipped}{rate}; results in {self.results}"
        )


def _previous_rows(results: Path, done: set[str], spec: Outputs) -> dict[str, dict[str, Any]]:
    """The rows of an earlier ``results.parquet`` for the complete objects (an unreadable file gives none)."""
    import pyarrow as pa
    import pyarrow.parquet

    if not results.is_file():
        return {}
    try:
        table = pyarrow.parquet.read_table(results)
        table = table.select(result_schema(spec).names).cast(result_schema(spec))
    except (pa.ArrowException, KeyError, ValueError, OSError) as error:
        logger.warning("%s: not reused (%s)", results, error)
        return {}
    return {row["object_id"]: row for row in table.to_pylist() if row["object_id"] in done and row["status"] == OK}


def _complete_rows(objects: Sequence[ObjectViews], spec: Outputs) -> list[dict[str, Any]]:
    """Result rows of the objects whose file exists, from the previous results where they have one."""
    done = [item.object_id for item in objects if spec.target(item.object_id).is_file()]
    previous = _previous_rows(Path(spec.folder or ".") / RESULTS_NAME, set(done), spec)
    empty = {name: None for name in result_schema(spec).names}
    return [
        (previous.get(object_id) or empty | {"object_id": object_id, "status": OK}) | {"path": spec.target(object_id).name}
        for object_id in done
    ]


def _paths_beside_results(table: pa.Table, folder: Path) -> pa.Table:
    """``table`` with its ``path`` column relative to ``folder``, where ``results.parquet`` is (so
    the results stay right when the folder is moved, or read from another working folder)."""
    import pyarrow as pa

    index = table.schema.get_field_index("path")
    if index < 0:
        return table
    paths = [None if p is None else os.path.relpath(p, folder) for p in table.column(index).to_pylist()]
    return table.set_column(index, "path", pa.array(paths, pa.string()))


@contextlib.contextmanager
def ray_session(address: str | None = None, *, progress: bool = True) -> Iterator[None]:
    """Connect to the Ray cluster at ``address``, or start a local instance, unless Ray already runs.

    A session started here is shut down on leaving. ``progress`` shows Ray Data's progress bars
    and the actors' log lines.
    """
    import ray
    import ray.data

    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=progress)
    ray.data.DataContext.get_current().enable_progress_bars = progress
    # Not its execution plans, log paths and "progress bars disabled" notices.
    logging.getLogger("ray.data").setLevel(logging.WARNING if progress else logging.ERROR)
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def _ray_tables(objects: Sequence[ObjectViews], *, workers: int, gpus_per_worker: float, **options: Any) -> Iterator[pa.Table]:
    import ray.data

    table = objects_table(objects)
    # A block per batch, and batches small enough that every actor gets work from the start.
    size = max(1, min(options.pop("batch_size"), math.ceil(table.num_rows / workers)))
    blocks = [table.slice(start, size) for start in range(0, table.num_rows, size)]
    ds = reconstruct_dataset(ray.data.from_arrow(blocks), concurrency=workers, num_gpus=gpus_per_worker, batch_size=size, **options)
    yield from ds.iter_batches(batch_size=None, batch_format="pyarrow")


def run_batch(
    objects: Sequence[ObjectViews],
    out: str | os.PathLike[str],
    *,
    engine: Engine = "local",
    output_format: str = "obj",
    model: str = DEFAULT_MODEL,
    weights: str | os.PathLike[str] | None = None,
    preprocess: str = "auto",
    threshold: float | None = None,
    method: Literal["marching_cubes", "voxels"] = "marching_cubes",
    device: str = "auto",
    address: str | None = None,
    workers: int | None = None,
    gpus_per_worker: float = 0,
    batch_size: int = 8,
    resume: bool = False,
    progress: bool = True,
) -> BatchSummary:
    """Reconstruct ``objects`` into one file each in ``out``, and their rows into ``out/results.parquet``
    (its ``path`` column relative to ``out``, where the file is).

    Args:
        objects: the objects (see :func:`pix2vox.batch.read_objects`).
        out: output folder (created if missing).
        engine: ``"local"`` (this process) or ``"ray"`` (Ray Data: a local Ray instance, or the
            cluster at ``address``).
        output_format: format of the files.
        model: registered model name.
        weights: a checkpoint file or folder (for Ray, one every node can read); default: the registered one.
        preprocess: ``"auto"`` or ``"official"``.
        threshold: occupancy threshold; default: the checkpoint's.
        method: mesh surface for mesh formats.
        device: the local engine's device.
        address: a Ray cluster (``ray://host:10001``, ``auto``); default: start a local instance.
        workers: local engine: CPU threads side by side (default: one per PyTorch thread);
            Ray: actors (default 1), each with one CPU (and ``gpus_per_worker`` GPUs).
        gpus_per_worker: Ray: GPUs per actor.
        batch_size: objects per network pass.
        resume: skip objects whose file already exists (files are written all or nothing, so an
            existing file is complete); their rows come from the previous ``results.parquet``.
        progress: show progress bars.

    Returns:
        A :class:`BatchSummary`; every failure is also a ``failed`` row of the results.
    """
    import pyarrow.parquet

    from pix2vox import Reconstructor
    from pix2vox.atomic import StagedFiles

    if engine not in ("local", "ray"):
        raise ValueError(f"unknown engine {engine!r}; use 'local' or 'ray'")
    folder = Path(out)
    spec = Outputs(kind="files", folder=str(folder), file_format=output_format, threshold=threshold, method=method)
    kept = _complete_rows(objects, spec) if resume else []
    done = {row["object_id"] for row in kept}
    todo = [item for item in objects if item.object_id not in done]
    summary = BatchSummary(objects=len(objects), skipped=len(kept), results=folder / RESULTS_NAME)
    options: dict[str, Any] = dict(model=model, weights=weights, preprocess=preprocess, batch_size=batch_size, outputs=spec)
    if engine == "ray" and todo:  # a bad model or checkpoint is reported here, not by every actor
        Reconstructor(model, weights=weights, device="cpu", preprocess=preprocess)
    folder.mkdir(parents=True, exist_ok=True)
    schema = result_schema(spec)
    with contextlib.ExitStack() as stack:
        if engine == "ray" and todo:
            stack.enter_context(ray_session(address, progress=progress))
        files = stack.enter_context(StagedFiles())
        writer = stack.enter_context(pyarrow.parquet.ParquetWriter(files.stage(summary.results), schema))
        if kept:
            writer.write_table(pyarrow.Table.from_pylist(kept, schema=schema))
        start = time.perf_counter()
        if not todo:
            tables: Iterator[pa.Table] = iter(())
        elif engine == "local":
            tables = reconstruct_local(todo, device=device, workers=workers, progress=progress, **options)
        else:
            tables = _ray_tables(todo, workers=workers or 1, gpus_per_worker=gpus_per_worker, **options)
        for table in tables:
            writer.write_table(_paths_beside_results(table.cast(schema), folder))
            summary.failed.extend(
                row["object_id"] for row in table.select(["object_id", "status"]).to_pylist() if row["status"] == FAILED
            )
        summary.seconds = time.perf_counter() - start
    return summary
