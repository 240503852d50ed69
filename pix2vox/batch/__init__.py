"""Batch reconstruction of many objects, in one process or on Ray Data (``pip install 'pix2vox[ray]'``).

Inputs are objects with their views (:class:`ObjectViews`), read from a folder of per-object
folders or a CSV/Parquet manifest (:func:`read_objects`). Outputs are one row per object
(:func:`result_schema`: ``ok`` or ``failed`` with the message, voxel count, seconds, and the
output), and with :func:`run_batch` one file per object plus ``results.parquet``.

>>> import ray.data                                                     # doctest: +SKIP
>>> from pix2vox.batch import objects_table, read_objects, reconstruct_dataset
>>> ds = ray.data.from_arrow(objects_table(read_objects("manifest.csv")))  # doctest: +SKIP
>>> reconstruct_dataset(ds, concurrency=4).write_parquet("s3://bucket/results")  # doctest: +SKIP

Ray is imported only by :func:`reconstruct_dataset` and the ``ray`` engine; the rest needs
pyarrow (also part of the ``ray`` extra).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "RESULTS_NAME": "engines",
    "BatchSummary": "engines",
    "ray_session": "engines",
    "reconstruct_dataset": "engines",
    "reconstruct_local": "engines",
    "run_batch": "engines",
    "ObjectViews": "inputs",
    "object_folders": "inputs",
    "objects_table": "inputs",
    "read_objects": "inputs",
    "ObjectReconstructor": "worker",
    "Outputs": "worker",
    "result_schema": "worker",
    "unpack_occupancy": "worker",
    "unpack_probabilities": "worker",
}

if TYPE_CHECKING:
    from pix2vox.batch.engines import RESULTS_NAME, BatchSummary, ray_session, reconstruct_dataset, reconstruct_local, run_batch
    from pix2vox.batch.inputs import ObjectViews, object_folders, objects_table, read_objects
    from pix2vox.batch.worker import ObjectReconstructor, Outputs, result_schema, unpack_occupancy, unpack_probabilities

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:  # imported on first use: the inputs need neither PyTorch nor Ray
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
