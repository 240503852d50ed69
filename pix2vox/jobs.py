"""The job runner of the dataset builders (``pix2vox-synth``, ``pix2vox-dataset``): one function
applied to many jobs, in this process or in a pool of worker processes."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

Job = TypeVar("Job")
Outcome = TypeVar("Outcome")


def run_jobs(function: Callable[[Job], Outcome], jobs: Iterable[Job], workers: int, *,
             chunksize: int = 1) -> Iterator[Outcome]:
    """``function(job)`` for each job, yielded in the order of ``jobs``.

    Args:
        function: a module-level function (worker processes import it by name).
        jobs: its arguments, one per call (picklable).
        workers: worker processes; 1 runs every job in this process (no pickling, no start-up).
        chunksize: jobs handed to a worker at a time (more for many small jobs).
    """
    if workers <= 1:
        yield from map(function, jobs)
        return
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(function, jobs, chunksize=chunksize)
