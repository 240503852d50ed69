"""Separating the object from its background: the matte that ``auto`` preprocessing crops and composites by.

Where the matte of a view comes from, in order (:func:`find_foreground`):

* ``"mask"``: a mask the user gave (array, image file, ``PIL.Image``), used as it is;
* ``"alpha"``: the view's own alpha channel, when some pixels are transparent (a cut-out, a rendering);
* ``"plain"``: a plain background, the colour of most of the image border: the background is what
  is within :data:`PLAIN_TOLERANCE` of that colour and connected to the border (so the parts of an
  object that happen to have the background's colour stay in when the object surrounds them);
  regions touching the border are dropped as scenery when the largest region does not touch it;
* ``"segmenter"``: a callable the user gave (image → mask), e.g. a segmentation network;
* ``"grabcut"``: OpenCV's GrabCut (``pip install "pix2vox[photo]"``), started several times from the
  image border as background and, as probable foreground, pixels that stand apart from the border
  (:mod:`pix2vox.saliency`) or differ from the border's colours, the best result chosen by
  :data:`CHOICE_WEIGHTS` (see :func:`grabcut_matte`);
* ``"none"``: nothing could be separated (cluttered picture without the extra): the whole picture.

No network is involved, and OpenCV is imported only for ``"grabcut"``.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Union

import numpy as np
from PIL import Image
from scipy import ndimage

from .errors import ImageError
from .saliency import boundary_saliency

logger = logging.getLogger(__name__)

__all__ = ["CHOICE_WEIGHTS", "PLAIN_TOLERANCE", "Foreground", "MaskSource", "Segmenter", "find_foreground", "grabcut_available",
           "grabcut_matte", "load_mask", "plain_matte"]

Segmenter = Callable[[np.ndarray], np.ndarray]
"""``segmenter(rgb)``: ``(H, W, 3)`` float32 RGB in [0, 1] → ``(H, W)`` mask (bool, or float in [0, 1])."""

MaskSource = Union[str, os.PathLike, Image.Image, np.ndarray]
"""A mask: an image file, a ``PIL.Image`` or an ``(H, W)`` array; nonzero (or above 0.5 for floats in [0, 1]: kept as a soft edge) is the object."""

Source = Literal["mask", "alpha", "plain", "segmenter", "grabcut", "none"]

PLAIN_TOLERANCE = 0.08
"""Largest colour difference (any channel, in [0, 1]) from the background colour that is still background."""

PLAIN_BORDER = 0.9
"""Share of the border pixels that must be within :data:`PLAIN_TOLERANCE` of its median for a plain background."""

PLAIN_STRICT_BORDER = 0.97
"""With GrabCut at hand, a background counts as plain only when this share of the border is within
half of :data:`PLAIN_TOLERANCE`; less even ones are left to GrabCut."""

GRABCUT_SIDE = 128
"""GrabCut's first pass runs on the picture shrunk so that its longer side is this many pixels."""

MAX_STARTS = 6
"""At most this many of :func:`_starts` (the first distinct ones) are run, which bounds the time per picture."""

REFINE_SIDE = 192
"""Its second pass, on the box around the object, at most this many pixels along the longer side."""

_DARK = 0.25  # a background darker than this (every channel) gets a tighter tolerance
_ALIKE = 0.2  # share of object pixels near the background colour above which the matte is doubtful
_LARGE_RECTANGLE = 0.5  # share of the picture above which a second rectangle start is not run
_REFINE_MARGIN = 0.3  # the second pass's box: the first mask's, grown by this share of its longer side
_REFINE_REACH = 0.15  # how far (share of that box's longer side) the second pass may grow the first mask
_REFINE_PIXELS = 30_000  # a second-pass box of more pixels than this (about 192 × 156) gets one GrabCut iteration, not two
_APART = 40  # least boundary saliency (of 255) of the pixels a start takes as the object apart from the border


@dataclass(frozen=True)
class Foreground:
    """The object's matte in one view.

    Attributes:
        alpha: ``(H, W)`` float32 in [0, 1], 1 on the object; ``None`` for source ``"none"``.
        source: where it came from (see the module docstring).
        background: the plain background colour (RGB in [0, 1]) for source ``"plain"``, else ``None``.
    """

    alpha: np.ndarray | None
    source: Source
    background: np.ndarray | None = None


def grabcut_available() -> bool:
    """Whether OpenCV is installed, for the ``"grabcut"`` step (``pip install "pix2vox[photo]"``)."""
    return importlib.util.find_spec("cv2") is not None


def _border(rgb: np.ndarray) -> np.ndarray:
    return np.concatenate([rgb[0], rgb[-1], rgb[1:-1, 0], rgb[1:-1, -1]])


def _border_labels(labels: np.ndarray) -> np.ndarray:
    """The region labels (of ``ndimage.label``) that reach the picture's border, 0 left out."""
    touching = np.unique(_border(labels[..., None])[:, 0])
    return touching[touching > 0]


def plain_matte(rgb: np.ndarray, *, strict: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
    """The matte of an object on a plain background, or ``None`` when the background is not plain.

    Args:
        rgb: ``(H, W, 3)`` float32 in [0, 1].
        strict: also require :data:`PLAIN_STRICT_BORDER` of the border within half the tolerance
            (a backdrop, a wall, a sheet of paper; not a misty or cloudy photograph).

    Returns:
        ``(alpha, colour)``: ``(H, W)`` float32 alpha (1 on the object, 0 on the background, soft
        where the colour is between), and the background's RGB colour.
    """
    border = _border(rgb)
    colour = np.median(border, axis=0).astype(np.float32)
    deviation = np.abs(border - colour).max(axis=1)
    if np.mean(deviation < PLAIN_TOLERANCE) < PLAIN_BORDER:
        return None
    if strict and np.mean(deviation < PLAIN_TOLERANCE / 2) < PLAIN_STRICT_BORDER:
        return None
    # On a dark background (an RGBA cut-out opened with .convert("RGB") is on black) the shadows of
    # the object are close to it: a tighter tolerance, as far as the background's own noise allows.
    # Light ones keep the full tolerance, which JPEG's ringing around the object needs.
    tolerance = PLAIN_TOLERANCE
    if colour.max() < _DARK:
        tolerance = float(np.clip(8 * np.median(deviation), PLAIN_TOLERANCE / 3, PLAIN_TOLERANCE))
    distance = np.abs(rgb - colour).max(axis=2)
    near = distance < tolerance
    labels, _ = ndimage.label(near)
    background = np.isin(labels, _border_labels(labels))
    # Soft edge: background pixels next to the object take alpha from their colour difference.
    ramp = np.clip(distance / tolerance, 0, 1).astype(np.float32)
    alpha = np.where(background, np.where(ramp > 0.5, (ramp - 0.5) * 2, 0), 1).astype(np.float32)
    return _without_edge_scenery(alpha), colour


def _without_edge_scenery(alpha: np.ndarray) -> np.ndarray:
    """``alpha`` without the regions that touch the picture's border, when its largest region does not:
    on a plain background those are scenery cut by the frame (a stand, a pole, a neighbour's corner),
    not parts of the object in the middle."""
    labels, count = ndimage.label(alpha > 0.5)
    if count < 2:
        return alpha
    largest = int(np.argmax(np.bincount(labels.ravel())[1:])) + 1
    edge = _border_labels(labels)
    if largest in edge or not len(edge):
        return alpha
    return np.where(np.isin(labels, edge), 0, alpha).astype(np.float32)


def grabcut_matte(rgb: np.ndarray, *, iterations: int = 3) -> np.ndarray:
    """The object of a photo on a cluttered background, by OpenCV's GrabCut (needs ``pix2vox[photo]``).

    Two passes. First on the picture shrunk to :data:`GRABCUT_SIDE`, GrabCut runs from several
    starts (:func:`_starts`): a border strip is certain background and, as probable foreground, the
    pixels that stand apart from the border by :func:`pix2vox.saliency.boundary_saliency` (regions of
    alike colours that barely reach the border), then those whose colour is least like the border's
    (a boundary-contrast saliency) at three levels, within the box of all of them or of one of their
    three largest blobs (or, twice, every pixel of such a box). Each result is reduced to its main
    region, and the one :data:`CHOICE_WEIGHTS` rates highest wins (features of its outline, interior,
    shape and of how well GrabCut's colour models tell it from the rest). Then GrabCut runs again on
    a wider box around it, at up to :data:`REFINE_SIDE` pixels, started from that mask, for sharper
    edges, thin parts and nearby parts the first pass lost. OpenCV's random generator is seeded
    (``cv2.setRNGSeed(0)``) first, so that a picture always gives the same mask. Where GrabCut keeps
    nothing from any start, the largest region of salient pixels is refined instead, if it holds at
    least half of them.

    Args:
        rgb: ``(H, W, 3)`` float32 RGB in [0, 1].
        iterations: GrabCut iterations of the first pass.

    Returns:
        ``(H, W)`` float32 alpha in [0, 1]; all zeros when nothing stands out.

    Raises:
        ImageError: OpenCV is not installed.
    """
    try:
        import cv2
    except ImportError:
        raise ImageError('separating an object from a cluttered background needs OpenCV: pip install "pix2vox[photo]"') from None
    h, w = rgb.shape[:2]
    picture = (rgb * 255 + 0.5).astype(np.uint8)
    scale = min(1.0, GRABCUT_SIDE / max(h, w))
    small = cv2.resize(picture, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA)
    cv2.setRNGSeed(0)  # k-means inside (ours and GrabCut's) draws from OpenCV's generator: the same picture, the same mask
    candidates, salient = _candidates(small, iterations)
    if candidates:
        weights = np.array(list(CHOICE_WEIGHTS.values()))
        fore = max(candidates, key=lambda c: float(c[0] @ weights))[1]
    else:  # GrabCut kept nothing from any start (a small object, colours like the background's)
        labels, count = ndimage.label(salient)
        sizes = np.bincount(labels.ravel())[1:]
        if not count or sizes.max() < max(16, sizes.sum() / 2):
            return np.zeros((h, w), np.float32)  # nothing stands out as one region: no object
        fore = ndimage.binary_fill_holes(labels == np.argmax(sizes) + 1)
    return _refine(picture, cv2.resize(fore.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) > 0.5)


CHOICE_WEIGHTS = {
    "log_outline": -1.16, "log_interior": 0.4577, "colour": -0.153, "log_area": 0.6913, "solidity": 0.5797,
    "centre": 0.9544, "saliency_recall": 2.094, "saliency_precision": -0.5695, "extent": -2.376,
    "fit_inside": 1.093, "fit_outside": 0.3001, "agree_inside": 12.24, "agree_outside": 20.63,
}
"""How :func:`grabcut_matte` rates a candidate mask: the score is the sum of each feature times its
weight (see :func:`_features`; the largest score wins). Fitted by ``benchmarks/grabcut_weights.py``
(a softmax over each picture's candidates, aimed at the one closest to the true mask) on 600
composites of other photographs and other objects than those ``benchmarks/composites.py`` measures on."""


def _candidates(small: np.ndarray, iterations: int) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """GrabCut from each of :func:`_starts` on ``small`` (uint8 RGB): ``(features, mask)`` of each
    distinct result, and the salient pixels."""
    import cv2

    gradient = _gradient(small)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    bgr = np.ascontiguousarray(small[..., ::-1])
    terms = _colour_terms(bgr)
    starts, salient = _starts(lab)
    results: list[tuple[np.ndarray, np.ndarray]] = []
    seen: list[np.ndarray] = []
    for start in starts:
        if len(seen) == MAX_STARTS:
            break
        probable = start == cv2.GC_PR_FGD
        if not probable.any() or any((probable & other).sum() > 0.9 * (probable | other).sum() for other in seen):
            continue  # nothing to start from, or nearly the start of a candidate already made
        seen.append(probable)
        fore, background, foreground = _grabcut(bgr, start, iterations)
        fore = _main_region(fore)
        features = _features(fore, gradient, lab, salient, terms, background, foreground)
        if features is not None:
            results.append((features, fore))
    return results, salient


def _features(fore: np.ndarray, gradient: np.ndarray, lab: np.ndarray, salient: np.ndarray, terms: np.ndarray,
              background: np.ndarray, foreground: np.ndarray) -> np.ndarray | None:
    """The features of a candidate mask, in the order of :data:`CHOICE_WEIGHTS`; ``None`` for a mask
    too small to be an object, or one that covers the whole picture.

    ``log_outline``, ``log_interior``: log mean gradient along the outline and inside, over the
    picture's; ``colour``: Lab distance between the mask and a ring around it (/50); ``log_area``:
    log share of the picture; ``solidity``: area over its convex hull's; ``centre``: distance of
    its centroid from the picture's centre (in widths and heights);
    ``saliency_recall``/``precision``: overlap with the salient pixels;
    ``extent``: its box's longer side over the picture's shorter side; ``fit_inside``/``outside``:
    mean log-likelihood ratio (/10) of GrabCut's foreground and background colour models over the
    pixels inside and outside; ``agree_inside``/``outside``: share of those pixels that the colour
    models alone would put on the same side.
    """
    import cv2

    if fore.sum() < 16:
        return None
    ring = ndimage.binary_dilation(fore, iterations=4) & ~fore
    if not ring.any():
        return None
    h, w = fore.shape
    outline = fore & ~ndimage.binary_erosion(fore)
    inner = ndimage.binary_erosion(fore, iterations=2)
    mean_gradient = gradient.mean() + 1e-6
    contours, _ = cv2.findContours(fore.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull = max(1.0, cv2.contourArea(cv2.convexHull(np.concatenate(contours))))
    ys, xs = np.nonzero(fore)
    ratio = np.clip(_log_likelihood(terms, foreground) - _log_likelihood(terms, background), -20, 20)
    inside, outside = ratio[fore], ratio[~fore]
    return np.array([
        np.log(gradient[outline].mean() / mean_gradient + 1e-3),
        np.log((gradient[inner].mean() if inner.any() else mean_gradient) / mean_gradient + 1e-3),
        np.linalg.norm(lab[fore].mean(0) - lab[ring].mean(0)) / 50,
        np.log(fore.mean()),
        min(1.0, fore.sum() / hull),
        np.hypot(ys.mean() / h - 0.5, xs.mean() / w - 0.5),
        (fore & salient).sum() / max(1, salient.sum()),
        (fore & salient).sum() / fore.sum(),
        max(ys.max() - ys.min(), xs.max() - xs.min()) / min(h, w),
        inside.mean() / 10,
        -outside.mean() / 10 if outside.size else 0.0,
        np.mean(inside > 0),
        np.mean(outside < 0) if outside.size else 0.0,
    ])


def _grabcut(bgr: np.ndarray, start: np.ndarray, iterations: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GrabCut on ``bgr`` (uint8) from the labels ``start``: the foreground (bool) and its background
    and foreground colour models."""
    import cv2

    mask, background, foreground = start.copy(), np.zeros((1, 65)), np.zeros((1, 65))
    cv2.grabCut(bgr, mask, None, background, foreground, iterations, cv2.GC_INIT_WITH_MASK)
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), background, foreground


def _colour_terms(bgr: np.ndarray) -> np.ndarray:
    """``(H, W, 10)``: each pixel's colour ``x`` as the terms of a quadratic form in it (the six of
    ``x xᵀ``, the three of ``x``, 1), so that :func:`_log_likelihood` is one matrix product."""
    x = bgr.astype(np.float64)
    b, g, r = x[..., 0], x[..., 1], x[..., 2]
    return np.stack([b * b, g * g, r * r, 2 * b * g, 2 * b * r, 2 * g * r, b, g, r, np.ones_like(b)], axis=-1)


def _log_likelihood(terms: np.ndarray, model: np.ndarray, components: int = 5) -> np.ndarray:
    """Per-pixel log-likelihood of the colours (their :func:`_colour_terms`) under one of GrabCut's
    colour models (OpenCV's layout: ``components`` weights, then the means, then the 3×3 covariances)."""
    k = components
    weights, means = model[0, :k], model[0, k:4 * k].reshape(k, 3)
    covariances = model[0, 4 * k:].reshape(k, 3, 3) + np.eye(3) * 1e-3
    used = np.flatnonzero(weights > 0)
    coefficients = np.empty((10, len(used)))
    for column, i in enumerate(used):
        # log(w) - (log det C + (x - m)ᵀ C⁻¹ (x - m)) / 2, expanded into the terms of x
        a, m = np.linalg.inv(covariances[i]), means[i]
        coefficients[:, column] = -0.5 * np.array([
            a[0, 0], a[1, 1], a[2, 2], a[0, 1], a[0, 2], a[1, 2], *(-2 * a @ m),
            m @ a @ m + np.log(np.linalg.det(covariances[i])) - 2 * np.log(weights[i])])
    per_component = terms @ coefficients
    top = per_component.max(axis=-1, keepdims=True)
    return (top + np.log(np.exp(per_component - top).sum(axis=-1, keepdims=True)))[..., 0]


def _refine(picture: np.ndarray, fore: np.ndarray, iterations: int = 2) -> np.ndarray:
    """Second GrabCut pass on the box around ``fore`` (full-size bool), at up to :data:`REFINE_SIDE` pixels.

    The box is the first mask's grown by ``_REFINE_MARGIN``; within ``_REFINE_REACH`` of the first
    mask the pass may add to it, with colour models of the box alone, so that parts the first pass
    lost because the rest of the picture has their colours (the sides of a box below its bright top,
    dark legs) come back; farther out is certain background. On a box of more than
    ``_REFINE_PIXELS`` (after shrinking) it runs one GrabCut iteration, not ``iterations``: max-flow
    on a large textured box is GrabCut's slowest step, and this bounds the time per picture."""
    import cv2

    h, w = fore.shape
    ys, xs = np.nonzero(fore)
    grow = max(4, round(_REFINE_MARGIN * max(ys.max() - ys.min(), xs.max() - xs.min())))
    top, bottom = max(0, ys.min() - grow), min(h, ys.max() + 1 + grow)
    left, right = max(0, xs.min() - grow), min(w, xs.max() + 1 + grow)
    crop_h, crop_w = bottom - top, right - left
    scale = min(1.0, REFINE_SIDE / max(crop_h, crop_w))
    size = (max(8, round(crop_w * scale)), max(8, round(crop_h * scale)))
    crop = cv2.resize(picture[top:bottom, left:right], size, interpolation=cv2.INTER_AREA)
    first = cv2.resize(fore[top:bottom, left:right].astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    ring = max(2, round(_REFINE_REACH * max(size)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring + 1, 2 * ring + 1))
    near = cv2.dilate(first.astype(np.uint8), kernel).astype(bool)
    mask = np.full(first.shape, cv2.GC_BGD, np.uint8)
    mask[near] = cv2.GC_PR_BGD
    mask[first] = cv2.GC_PR_FGD
    if size[0] * size[1] > _REFINE_PIXELS:
        iterations = min(iterations, 1)
    refined = _main_region(_grabcut(np.ascontiguousarray(crop[..., ::-1]), mask, iterations)[0])
    if refined.sum() < 16:  # the second pass lost the object: keep the first
        refined = first
    soft = cv2.resize(refined.astype(np.float32), (crop_w, crop_h), interpolation=cv2.INTER_LINEAR)
    alpha = np.zeros((h, w), np.float32)
    alpha[top:bottom, left:right] = np.clip(soft, 0, 1)
    return alpha


def _gradient(small: np.ndarray) -> np.ndarray:
    import cv2

    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))


def _starts(lab: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """GrabCut's starts on a picture (Lab, float32), and its salient pixels at the middle level.

    First, the pixels above Otsu's threshold (and :data:`_APART`) of the boundary-connectivity
    saliency (:func:`pix2vox.saliency.boundary_saliency`), within the box of most of them: it keeps
    parts of the object whose colours also occur in the background, away from the object.
    Then a pixel's saliency is its Lab distance to the nearest of a few clusters of the border strip's
    colours; the middle level is Otsu's threshold of it (at least 12), the others 0.6 and 1.5 times
    that. For each level: the salient pixels in the box of most of them, and in the box of each of
    their three largest blobs; at the middle level also every pixel of the first two of those boxes
    (GrabCut's classic rectangle), for objects whose parts are partly as dull as the background; only
    the first when both cover more than :data:`_LARGE_RECTANGLE` of the picture (they then start
    GrabCut almost alike, and such starts are its slowest runs).
    """
    import cv2

    h, w = lab.shape[:2]
    lab = cv2.GaussianBlur(lab, (0, 0), 1.0)
    strip = max(1, round(0.03 * max(h, w)))
    border = np.concatenate([lab[:strip].reshape(-1, 3), lab[-strip:].reshape(-1, 3),
                             lab[:, :strip].reshape(-1, 3), lab[:, -strip:].reshape(-1, 3)])
    clusters = min(8, len(border))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    _, _, centres = cv2.kmeans(border, clusters, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    distance = np.min(np.linalg.norm(lab.reshape(-1, 1, 3) - centres[None], axis=2), axis=1).reshape(h, w)
    otsu, _ = cv2.threshold(np.clip(distance * 2, 0, 255).astype(np.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    middle = max(otsu, 24) / 2
    starts = []
    connected = boundary_saliency(lab)
    threshold, _ = cv2.threshold((connected * 255).astype(np.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    apart = connected * 255 > max(threshold, _APART)
    if apart.any():
        starts.append(_start(apart, _box_of_most(apart), strip))
    for level in (middle, 0.6 * middle, 1.5 * middle):
        salient = distance > level
        if not salient.any():
            continue
        boxes = [_box_of_most(salient)]
        labels, count = ndimage.label(salient)
        if count > 1:
            sizes = np.bincount(labels.ravel())[1:]
            for index in np.argsort(-sizes)[:3]:
                if sizes[index] < 20:
                    break
                ys, xs = np.nonzero(labels == index + 1)
                boxes.append((ys.min(), ys.max(), xs.min(), xs.max()))
        starts.append(_start(salient, boxes[0], strip))
        if level == middle:  # the whole box, not only its salient pixels: parts of the object as dull as the background
            rectangles = [_start(np.ones_like(salient), box, strip) for box in boxes[:2]]
            if all((r == cv2.GC_PR_FGD).mean() > _LARGE_RECTANGLE for r in rectangles):
                rectangles = rectangles[:1]  # two boxes over most of the picture start GrabCut alike, at its slowest
            starts.extend(rectangles)
        starts.extend(_start(salient, box, strip) for box in boxes[1:])
    return starts, distance > middle


def _box_of_most(mask: np.ndarray) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` of the box of most of ``mask``'s pixels (2nd to 98th percentile
    of their rows and columns), so that a few stray ones do not stretch it."""
    ys, xs = np.nonzero(mask)
    (top, bottom), (left, right) = np.percentile(ys, (2, 98)).astype(int), np.percentile(xs, (2, 98)).astype(int)
    return int(top), int(bottom), int(left), int(right)


def _start(salient: np.ndarray, box: tuple[int, int, int, int], strip: int) -> np.ndarray:
    """GrabCut labels: salient pixels in ``box`` (grown by an eighth) probable foreground, the rest
    probable background, a border strip certain background."""
    import cv2

    h, w = salient.shape
    mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    mask[:strip], mask[-strip:], mask[:, :strip], mask[:, -strip:] = cv2.GC_BGD, cv2.GC_BGD, cv2.GC_BGD, cv2.GC_BGD
    top, bottom, left, right = (int(v) for v in box)
    grow_y, grow_x = max(2, (bottom - top) // 8), max(2, (right - left) // 8)
    top, bottom = max(strip, top - grow_y), min(h - strip, bottom + grow_y + 1)
    left, right = max(strip, left - grow_x), min(w - strip, right + grow_x + 1)
    if bottom > top and right > left:
        inside = np.zeros_like(salient)
        inside[top:bottom, left:right] = True
        mask[salient & inside] = cv2.GC_PR_FGD
    return mask


def _main_region(mask: np.ndarray) -> np.ndarray:
    """The largest connected region of ``mask`` and those at least a fifth its size.

    Holes are left open: where GrabCut finds background inside the object, it is mostly an opening
    through it (between a chair's legs or slats, inside a frame), which the network must see as
    background (filling them cost about 0.001 reconstruction IoU on each draw of the composites
    benchmark)."""
    labels, count = ndimage.label(mask)
    if count == 0:
        return mask
    sizes = np.bincount(labels.ravel())[1:]
    return np.isin(labels, np.flatnonzero(sizes >= sizes.max() / 5) + 1)


def _plain(rgb: np.ndarray, plain: tuple[np.ndarray, np.ndarray], name: str) -> Foreground:
    alpha, colour = plain
    inside = alpha > 0.5
    if not inside.any():
        return Foreground(None, "none")
    # Parts of the object as dark (or light) as the background are cut away with it: say so.
    alike = np.abs(rgb[inside] - colour).max(axis=1) < 2 * PLAIN_TOLERANCE
    if alike.mean() > _ALIKE:
        logger.warning("%s: much of the object is close to the colour of its plain background, so parts of it may be "
                       "taken for background (a background unlike the object, or an RGBA cut-out, works best)", name)
    return Foreground(alpha, "plain", colour)


def load_mask(mask: MaskSource, shape: tuple[int, int], name: str) -> np.ndarray:
    """A user's mask as ``(H, W)`` float32 alpha in [0, 1], checked against its view.

    Args:
        mask: an image file (its alpha channel when it has one, else its grey level), a
            ``PIL.Image``, or an ``(H, W)`` array: bool, integer (nonzero is the object) or
            float in [0, 1] (a soft matte).
        shape: ``(H, W)`` of the view it belongs to.
        name: the view's name, for messages.

    Raises:
        ImageError: unreadable, of another size than the view, or empty.
    """
    label = f"{name}: mask {os.fspath(mask)}" if isinstance(mask, (str, os.PathLike)) else f"{name}: mask"
    if isinstance(mask, (str, os.PathLike)):
        if not Path(mask).is_file():
            raise ImageError(f"{label}: no such file")
        try:
            with Image.open(mask) as image:
                image.load()
                array = _mask_of_image(image)
        except (OSError, ValueError, SyntaxError) as error:
            raise ImageError(f"{label}: not a readable image ({error})") from None
    elif isinstance(mask, Image.Image):
        array = _mask_of_image(mask)
    elif isinstance(mask, np.ndarray):
        array = mask
    else:
        raise ImageError(f"{label}: expected an image file, PIL image or (H, W) array, not {type(mask).__name__}")
    array = np.squeeze(np.asarray(array))
    if array.ndim != 2:
        raise ImageError(f"{label}: expected an (H, W) mask, got shape {np.asarray(mask).shape}")
    if array.shape != tuple(shape):
        raise ImageError(f"{label}: {array.shape[1]}×{array.shape[0]} pixels, but the view is {shape[1]}×{shape[0]}")
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
            raise ImageError(f"{label}: float masks must lie in [0, 1]")
        alpha = array.astype(np.float32)
    else:
        alpha = (array != 0).astype(np.float32)
    if not (alpha > 0.5).any():
        raise ImageError(f"{label}: empty (no pixel marks the object)")
    return alpha


def _mask_of_image(image: Image.Image) -> np.ndarray:
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        values = np.asarray(image.convert("RGBA"))[..., 3]
        if values.min() < 255:
            return values.astype(np.float32) / 255
    if image.mode == "1":
        return np.asarray(image, dtype=bool)
    return np.asarray(image.convert("L"), dtype=np.float32) / 255


def find_foreground(
    image: np.ndarray,
    *,
    mask: MaskSource | None = None,
    segmenter: Segmenter | None = None,
    name: str = "<image>",
    grabcut: bool | None = None,
) -> Foreground:
    """The object's matte in one view, from the first source that applies (see the module docstring).

    Args:
        image: ``(H, W, 3|4)`` float32 RGB(A) in [0, 1] (see :func:`pix2vox.preprocess.load_image`).
        mask: the user's mask for this view, used as given.
        segmenter: ``segmenter(rgb) -> mask`` for views that are neither cut-outs nor on a plain background.
        name: the view's name, for messages.
        grabcut: use GrabCut for cluttered views (default: when OpenCV is installed).

    Raises:
        ImageError: a bad user mask, or a segmenter whose output is not a mask of the view's size.
    """
    shape = image.shape[:2]
    if mask is not None:
        return Foreground(load_mask(mask, shape, name), "mask")
    if image.shape[2] == 4 and image[..., 3].min() < 1:
        return Foreground(image[..., 3].copy(), "alpha")
    rgb = image[..., :3]
    use_grabcut = grabcut if grabcut is not None else grabcut_available()
    careful = segmenter is not None or use_grabcut  # something better than a loose plain background is at hand
    plain = plain_matte(rgb, strict=careful)
    if plain is not None:
        return _plain(rgb, plain, name)
    if segmenter is not None:
        try:
            result = segmenter(np.ascontiguousarray(rgb))
        except Exception as error:  # the user's code: name it, keep its message
            raise ImageError(f"{name}: the segmenter failed ({type(error).__name__}: {error})") from error
        return Foreground(load_mask(np.asarray(result), shape, f"{name} (segmenter output)"), "segmenter")
    if use_grabcut:
        alpha = grabcut_matte(rgb)
        if (alpha > 0.5).any():
            return Foreground(alpha, "grabcut")
    if careful and (plain := plain_matte(rgb)) is not None:  # uneven, but nothing better was found
        return _plain(rgb, plain, name)
    return Foreground(None, "none")
