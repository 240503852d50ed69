"""Where the object probably is in a photo, without a network: saliency by boundary connectivity.

The idea (Zhu, Liang, Wei and Sun, "Saliency Optimization from Robust Background Detection", CVPR
2014): the picture is cut into superpixels; a region of similar colours that reaches far along the
picture's border is background, one that barely touches it is the object, however much its colours
resemble the background's elsewhere (the tan side of a box in a brown forest). Used by
:mod:`pix2vox.foreground` as one of GrabCut's starts; scikit-image and SciPy only.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

__all__ = ["boundary_saliency"]

SUPERPIXELS = 150
"""About this many SLIC superpixels per picture."""

_COLOUR_SIGMA = 10.0  # Lab distance along a path at which two regions stop counting as one
_SPACE_SIGMA = 0.25  # distance (in picture sizes) over which contrast with other regions counts
_SMOOTH_SIGMA = 10.0  # Lab distance below which neighbouring superpixels are pulled to the same saliency


def boundary_saliency(lab: np.ndarray) -> np.ndarray:
    """Per-pixel saliency in [0, 1] of a small picture (``(H, W, 3)`` float32 Lab, OpenCV's 8-bit scale).

    Each superpixel's *boundary connectivity* is the length of border its region of alike colours
    (geodesic colour distance over neighbouring superpixels, the border's superpixels joined at no
    cost) reaches, over the square root of that region's area; it gives the probability of being
    background. Contrast with the other superpixels, weighted by their background probability and
    their nearness, gives the foreground term. The saliency minimises the squared distance to 0 on
    background, to 1 on foreground, and between alike neighbours (a small linear system).
    """
    from skimage.segmentation import slic

    h, w = lab.shape[:2]
    segments = slic(lab, n_segments=SUPERPIXELS, compactness=10, start_label=0, convert2lab=False, channel_axis=-1)
    labels = segments.ravel()
    n = int(labels.max()) + 1
    counts = np.maximum(np.bincount(labels, minlength=n), 1).astype(np.float64)
    colours = np.stack([np.bincount(labels, lab[..., k].ravel(), minlength=n) for k in range(3)], axis=1) / counts[:, None]
    ys, xs = np.mgrid[:h, :w]
    centres = np.stack([np.bincount(labels, (ys / h).ravel(), minlength=n),
                        np.bincount(labels, (xs / w).ravel(), minlength=n)], axis=1) / counts[:, None]

    first = np.concatenate([segments[:, :-1].ravel(), segments[:-1].ravel()])
    second = np.concatenate([segments[:, 1:].ravel(), segments[1:].ravel()])
    apart = first != second
    neighbours = np.unique(np.sort(np.stack([first[apart], second[apart]], axis=1), axis=1), axis=0)
    border = np.unique(np.concatenate([segments[0], segments[-1], segments[:, 0], segments[:, -1]]))
    joined = np.array([(a, b) for a in border for b in border if a < b], dtype=np.int64).reshape(-1, 2)
    edges = np.concatenate([neighbours, joined])
    lengths = np.linalg.norm(colours[edges[:, 0]] - colours[edges[:, 1]], axis=1)
    lengths[len(neighbours):] = 0
    graph = coo_matrix((np.maximum(lengths, 1e-3), (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    geodesic = dijkstra(graph, directed=False)

    alike = np.exp(-geodesic**2 / (2 * _COLOUR_SIGMA**2))
    connectivity = alike[:, border].sum(axis=1) / np.sqrt(alike.sum(axis=1))
    background = 1 - np.exp(-connectivity**2 / 2)
    colour_distance = np.linalg.norm(colours[:, None] - colours[None], axis=2)
    nearness = np.exp(-np.linalg.norm(centres[:, None] - centres[None], axis=2) ** 2 / (2 * _SPACE_SIGMA**2))
    contrast = (colour_distance * nearness * background[None]).sum(axis=1)
    contrast /= contrast.max() + 1e-6

    adjacent = np.zeros((n, n))
    adjacent[neighbours[:, 0], neighbours[:, 1]] = adjacent[neighbours[:, 1], neighbours[:, 0]] = 1
    smooth = adjacent * (np.exp(-colour_distance**2 / (2 * _SMOOTH_SIGMA**2)) + 0.1)
    system = np.diag(background + contrast + smooth.sum(axis=1) + 1e-6) - smooth
    saliency = np.clip(np.linalg.solve(system, contrast), 0, 1)
    return saliency[segments].astype(np.float32)
