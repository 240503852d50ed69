"""The one triangle rasteriser (numpy): which triangle is nearest at each pixel.

Used by the previews (:func:`pix2vox.viz.render_surface`, orthographic) and by the dataset
renderer (:func:`pix2vox.meshes.raster.rasterize`, perspective, textured). Pixel ``(row, col)``
is sampled at its centre ``(col + 0.5, row + 0.5)`` in screen coordinates; a sample is inside a
triangle when its three barycentric weights are ≥ 0 (edges shared by two triangles are covered
by one of them, the nearer; on a tie the lower index).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["nearest_triangles"]


_CHUNK = 1 << 21  # pixel centres tested at a time (bounds the memory of large pictures)


def _boxes(corners: NDArray[np.float64], size: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """First and one-past-last pixel (column, row) of each triangle's screen bounding box."""
    low = np.ceil(corners.min(axis=1) - 0.5).astype(np.intp).clip(0, size)
    high = (np.floor(corners.max(axis=1) - 0.5).astype(np.intp) + 1).clip(0, size)
    return low, np.maximum(high, low)


def _covered(screen: NDArray[np.float64], area: NDArray[np.float64], low: NDArray[np.intp], high: NDArray[np.intp],
             triangles: NDArray[np.intp], size: int) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """``(pixel, triangle, weights)`` of every pixel centre inside one of ``triangles``."""
    width, height = (high[triangles] - low[triangles]).T
    count = width * height
    triangle = np.repeat(triangles, count)
    local = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    step = np.maximum(np.repeat(width, count), 1)
    cols, rows = low[triangle, 0] + local % step, low[triangle, 1] + local // step
    px, py = cols + 0.5, rows + 0.5
    s = screen[triangle]
    w1 = ((px - s[:, 0, 0]) * (s[:, 2, 1] - s[:, 0, 1]) - (s[:, 2, 0] - s[:, 0, 0]) * (py - s[:, 0, 1])) / area[triangle]
    w2 = ((s[:, 1, 0] - s[:, 0, 0]) * (py - s[:, 0, 1]) - (px - s[:, 0, 0]) * (s[:, 1, 1] - s[:, 0, 1])) / area[triangle]
    w0 = 1.0 - w1 - w2
    inside = (w0 >= -1e-9) & (w1 >= -1e-9) & (w2 >= -1e-9)
    return (rows * size + cols)[inside], triangle[inside], np.stack([w0[inside], w1[inside], w2[inside]], axis=1)


def nearest_triangles(screen: NDArray[np.floating], nearness: NDArray[np.floating], size: int
                      ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """Depth-buffered coverage of triangles on a ``size × size`` image.

    Args:
        screen: ``(T, 3, 2)`` corner positions in pixels (column, row).
        nearness: ``(T, 3)`` a value at each corner that grows towards the viewer and is linear
            in screen space (depth for an orthographic camera, 1 / distance for a perspective one).
        size: image side in pixels.

    Returns:
        ``(pixel, triangle, weights)`` for every covered pixel: its flat index ``row * size + col``,
        the nearest triangle there, and that triangle's ``(3,)`` screen-space barycentric weights.
    """
    screen = np.asarray(screen, np.float64).reshape(-1, 3, 2)
    (x0, y0), (x1, y1), (x2, y2) = screen[:, 0].T, screen[:, 1].T, screen[:, 2].T
    area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
    low, high = _boxes(screen, size)
    usable = np.flatnonzero(np.abs(area) > 1e-12)
    samples = np.prod(high[usable] - low[usable], axis=1)
    # Triangles in groups of about _CHUNK pixel centres (a triangle larger than that is a group alone).
    group = np.cumsum(samples) // _CHUNK
    parts = [_covered(screen, area, low, high, usable[group == g], size) for g in np.unique(group)]
    pixel = np.concatenate([p for p, _, _ in parts]) if parts else np.zeros(0, np.intp)
    triangle = np.concatenate([t for _, t, _ in parts]) if parts else np.zeros(0, np.intp)
    weights = np.concatenate([w for _, _, w in parts]) if parts else np.zeros((0, 3))
    near = (weights * np.asarray(nearness, np.float64)[triangle]).sum(axis=1)
    order = np.lexsort((triangle, -near, pixel))  # per pixel: the nearest first, then the lower index
    pixel, first = np.unique(pixel[order], return_index=True)
    keep = order[first]
    return pixel, triangle[keep], weights[keep]
