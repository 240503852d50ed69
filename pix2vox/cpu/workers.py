"""Independent pieces of CPU work run side by side, each on a thread with its share of PyTorch's threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence, TypeVar

import numpy as np
import torch

_T = TypeVar("_T")


def split_evenly(counts: Sequence[int], parts: int) -> list[slice]:
    """Cut a run of objects with ``counts`` views each into at most ``parts`` consecutive, non-empty
    slices holding about equal numbers of views (each cut at the object boundary nearest its share)."""
    before = np.cumsum(counts)[:-1]  # views before each possible cut
    bounds = [0]
    for part in range(1, min(parts, len(counts))):
        nearest = int(np.abs(before - sum(counts) * part / parts).argmin()) + 1
        cut = max(nearest, bounds[-1] + 1)
        if cut >= len(counts):
            break
        bounds.append(cut)
    bounds.append(len(counts))
    return [slice(start, stop) for start, stop in zip(bounds, bounds[1:])]


def run_side_by_side(tasks: Sequence[Callable[[], _T]]) -> list[_T]:
    """Run each task on a thread of its own and return their results in order.

    Each thread gets ``torch.get_num_threads() // len(tasks)`` (at least one) PyTorch threads.
    The setting is per thread, but threads started later take theirs from the last one made
    anywhere, so the caller's is made again at the end. Autograd modes are per thread too: a
    task that needs ``torch.inference_mode`` enters it itself.
    """
    threads = torch.get_num_threads()
    share = max(1, threads // len(tasks))

    def run(task: Callable[[], _T]) -> _T:
        torch.set_num_threads(share)
        return task()

    try:
        with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
            return list(pool.map(run, tasks))
    finally:
        torch.set_num_threads(threads)
