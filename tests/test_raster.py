"""pix2vox.raster: the one z-buffer, shared by the previews and the dataset renderer."""

from __future__ import annotations

import numpy as np
import pytest

import pix2vox.raster
from pix2vox.raster import nearest_triangles


def _square(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """Two triangles covering the rectangle [x0, x1] × [y0, y1] (screen pixels)."""
    return np.array([[[x0, y0], [x1, y0], [x1, y1]], [[x0, y0], [x1, y1], [x0, y1]]], float)


def test_a_rectangle_covers_exactly_the_pixel_centres_inside_it() -> None:
    pixel, triangle, weights = nearest_triangles(_square(2, 3, 7, 5), np.zeros((2, 3)), 10)
    rows, cols = np.divmod(pixel, 10)
    assert sorted(set(rows)) == [3, 4] and sorted(set(cols)) == [2, 3, 4, 5, 6]  # centres 2.5 .. 6.5, 3.5 .. 4.5
    assert len(pixel) == 10 and set(triangle) <= {0, 1}
    np.testing.assert_allclose(weights.sum(axis=1), 1)
    s = _square(2, 3, 7, 5)[triangle]  # the weights give back each pixel's centre
    np.testing.assert_allclose((weights[..., None] * s).sum(axis=1), np.stack([cols + 0.5, rows + 0.5], 1), atol=1e-9)


def test_the_nearer_triangle_wins_where_two_overlap() -> None:
    screen = np.concatenate([_square(0, 0, 8, 8), _square(4, 0, 8, 8)])
    nearness = np.array([[1.0] * 3, [1.0] * 3, [2.0] * 3, [2.0] * 3])  # the right half is nearer
    pixel, triangle, _ = nearest_triangles(screen, nearness, 8)
    owner = np.full(64, -1)
    owner[pixel] = triangle
    owner = owner.reshape(8, 8)
    assert np.isin(owner[:, 4:], [2, 3]).all() and np.isin(owner[:, :4], [0, 1]).all()
    nearness[2:] = 0.5  # now behind
    pixel, triangle, _ = nearest_triangles(screen, nearness, 8)
    assert np.isin(triangle, [0, 1]).all() and len(pixel) == 64


def test_degenerate_and_offscreen_triangles_cover_nothing() -> None:
    screen = np.array([[[1, 1], [3, 3], [5, 5]], [[20, 20], [30, 20], [30, 30]]], float)
    pixel, triangle, weights = nearest_triangles(screen, np.zeros((2, 3)), 10)
    assert len(pixel) == len(triangle) == len(weights) == 0


def test_chunks_do_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    screen, nearness = rng.uniform(-5, 45, (60, 3, 2)), rng.uniform(0, 1, (60, 3))
    whole = nearest_triangles(screen, nearness, 40)
    monkeypatch.setattr(pix2vox.raster, "_CHUNK", 50)
    for a, b in zip(whole, nearest_triangles(screen, nearness, 40)):
        np.testing.assert_array_equal(a, b)
