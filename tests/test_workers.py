"""Work shared among threads: cutting a batch into groups, running them side by side."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from pix2vox.cpu.workers import run_side_by_side, split_evenly


def _threads_of_a_new_thread() -> int:
    seen = []
    thread = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    return seen[0]


def test_split_evenly_cuts_consecutive_parts_of_about_equal_views() -> None:
    def cuts(counts: list[int], parts: int) -> list[tuple[int, int]]:
        return [(part.start, part.stop) for part in split_evenly(counts, parts)]

    assert cuts([5] * 8, 2) == [(0, 4), (4, 8)]
    assert cuts([5] * 8, 3) == [(0, 3), (3, 5), (5, 8)]
    assert cuts([9, 1], 2) == cuts([1, 9], 2) == [(0, 1), (1, 2)]
    assert cuts([1, 1, 1, 1, 10], 3) == [(0, 4), (4, 5)]  # the large object cannot be shared
    assert cuts([5], 4) == [(0, 1)]
    assert cuts([2, 2, 2], 8) == [(0, 1), (1, 2), (2, 3)]
    rng = np.random.default_rng(0)
    for _ in range(200):
        counts = rng.integers(1, 9, size=rng.integers(1, 12)).tolist()
        parts = int(rng.integers(1, 6))
        slices = cuts(counts, parts)
        assert 1 <= len(slices) <= parts and slices[0][0] == 0 and slices[-1][1] == len(counts)
        assert all(start < stop == next_start for (start, stop), (next_start, _) in zip(slices, slices[1:] + [(len(counts), 0)]))


@pytest.fixture
def four_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(4)
    yield
    torch.set_num_threads(before)


def test_tasks_run_on_threads_of_their_own_with_a_share_of_the_threads(four_threads) -> None:
    together = threading.Barrier(2, timeout=30)  # breaks unless both tasks run at once

    def task(index: int):
        together.wait()
        return index, threading.get_ident(), torch.get_num_threads()

    results = run_side_by_side([lambda i=i: task(i) for i in range(2)])
    assert [index for index, _, _ in results] == [0, 1]  # in order
    assert results[0][1] != results[1][1] and threading.get_ident() not in (results[0][1], results[1][1])
    assert [threads for _, _, threads in results] == [2, 2]
    assert run_side_by_side([torch.get_num_threads] * 8) == [1] * 8
    # The caller's setting holds, for this thread and for threads started later.
    assert torch.get_num_threads() == _threads_of_a_new_thread() == 4


def test_a_failing_task_raises_and_the_setting_is_restored(four_threads) -> None:
    def fail() -> None:
        raise OSError("unreadable image")

    with pytest.raises(OSError, match="unreadable image"):
        run_side_by_side([lambda: 1, fail])
    assert torch.get_num_threads() == _threads_of_a_new_thread() == 4
