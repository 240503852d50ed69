"""``"auto"`` framing: the object re-framed as the central square of a training rendering.

The object's matte (:func:`pix2vox.foreground.find_foreground`) gives its box; the view is cropped
and padded so that the box spans ``object_fill`` of the side, a little below the centre as in the
training renderings (:data:`FRAME_SHIFT`), and that square goes through the official transform.
Cut-outs already framed like the training renderings go through the official transform as they are.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..config import PreprocessConfig
from ..foreground import Foreground, find_foreground
from .official import _resize_and_paint

__all__ = ["FRAME_SHIFT", "RENDERING_SIZE", "auto_transform", "frame_object"]


def _object_box(alpha: np.ndarray) -> np.ndarray | None:
    """Bounding box ``(top, left, bottom, right)`` of the object in an ``(H, W)`` matte, or ``None`` when empty."""
    mask = alpha > 0.5
    if not mask.any():
        mask = alpha > 0.05
        if not mask.any():
            return None
    ys, xs = np.nonzero(mask)
    return np.array([ys.min(), xs.min(), ys.max() + 1, xs.max() + 1])


RENDERING_SIZE = 137
"""Side of the ShapeNet renderings (3D-R2N2's) that ``crop_size`` is cut from."""

_RENDERING_FILL = (0.45, 0.98)

FRAME_SHIFT = 0.02
"""In the training renderings the object's box sits this fraction of the crop below its centre
(the camera looks down, and the renderings centre the 3D box, not its picture); ``auto`` frames the
same way (measured by ``benchmarks/framing.py``)."""


def _rendering_frame(image: np.ndarray, box: np.ndarray | None, config: PreprocessConfig) -> tuple[int, int, int] | None:
    """``(top, left, side)`` of the central square that ``official`` would keep, when the view is
    a square RGBA rendering framed like ShapeNet's: a transparent background and the object inside
    that square, its longer side spanning 45-98 % of it. Otherwise ``None``.

    Such renderings (ShapeNet's, ``pix2vox-synth``'s, ``pix2vox-dataset``'s) are what the
    checkpoints were trained on; re-cropping them to ``object_fill`` would change their framing.
    """
    h, w = image.shape[:2]
    if box is None or h != w or image.shape[2] != 4 or image[..., 3].min() >= 1:
        return None
    side = int(round(h * config.crop_size / RENDERING_SIZE))
    y0 = x0 = (h - side) // 2
    top, left, bottom, right = (int(v) for v in box)
    inside = top >= y0 and left >= x0 and bottom <= y0 + side and right <= x0 + side
    fill = max(bottom - top, right - left) / side
    return (y0, x0, side) if inside and _RENDERING_FILL[0] <= fill <= _RENDERING_FILL[1] else None


def frame_object(image: np.ndarray, alpha: np.ndarray | None, config: PreprocessConfig) -> np.ndarray:
    """Re-frame a view as the central ``crop_size`` square of a training rendering.

    The square around the object is chosen so that the object's longer side spans
    ``object_fill`` of it, its box :data:`FRAME_SHIFT` below the centre; it is resampled to
    ``crop_size`` pixels with antialiasing (premultiplied), and given a rendering's edges: alpha in
    quarter steps (the renderings' 2×2 supersampling) and black, fully transparent pixels around
    the object, which the official resize blends into a thin dark outline, as in training.

    Args:
        image: ``(H, W, 3|4)`` float32 RGB(A) in [0, 1].
        alpha: ``(H, W)`` matte of the object, or ``None``: the whole picture is the object.
        config: the checkpoint's preprocessing.

    Returns:
        ``(crop_size, crop_size, 4)`` float32 RGBA in [0, 1].
    """
    h, w = image.shape[:2]
    if alpha is None:
        alpha = np.ones((h, w), np.float32)
        box = np.array([0, 0, h, w])
        side = max(h, w)
    else:
        box = _object_box(alpha)
        if box is None:
            box = np.array([0, 0, h, w])
        side = int(np.ceil(max(box[2] - box[0], box[3] - box[1]) / config.object_fill))
    top, left, bottom, right = (int(v) for v in box)
    cy, cx = (top + bottom) / 2 - FRAME_SHIFT * side, (left + right) / 2
    y0, x0 = int(round(cy - side / 2)), int(round(cx - side / 2))
    canvas = np.zeros((side, side, 4), np.float32)
    sy0, sx0, sy1, sx1 = max(y0, 0), max(x0, 0), min(y0 + side, h), min(x0 + side, w)
    if sy1 > sy0 and sx1 > sx0:
        part = alpha[sy0:sy1, sx0:sx1, None]
        canvas[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = np.concatenate([image[sy0:sy1, sx0:sx1, :3] * part, part], 2)
    crop = config.crop_size
    tensor = torch.from_numpy(canvas.transpose(2, 0, 1))[None]
    mode = "area" if side >= crop else "bilinear"
    resized = F.interpolate(tensor, size=(crop, crop), mode=mode, **({} if mode == "area" else {"align_corners": False}))[0]
    premultiplied, soft = resized[:3], resized[3:].clamp(0, 1)
    coverage = soft if mode == "area" else (2 * soft - 0.5).clamp(0, 1)  # enlarged: the edge where it was, not spread out
    quarter = torch.round(coverage * 4) / 4
    rgb = torch.where(quarter > 0, (premultiplied / soft.clamp_min(1e-6)).clamp(0, 1), torch.zeros_like(premultiplied))
    return torch.cat([rgb, quarter]).permute(1, 2, 0).numpy()


def auto_transform(
    image: np.ndarray,
    config: PreprocessConfig,
    device: torch.device | None = None,
    *,
    foreground: Foreground | None = None,
) -> torch.Tensor:
    """Find the object, frame it like a training rendering, then apply the official transform.

    A square RGBA rendering already framed like ShapeNet's goes through the official transform of
    its central square as it is (see :func:`_rendering_frame`). Other views are re-framed by
    :func:`frame_object` around the object's matte (:func:`pix2vox.foreground.find_foreground`),
    so that what the network sees matches its training renderings in framing, resolution, edges
    and background.

    Args:
        image: ``(H, W, 3|4)`` float32 RGB(A) in [0, 1] (see :func:`load_image`).
        config: the checkpoint's preprocessing.
        device: where to resize (default: CPU).
        foreground: the object's matte (default: found from the view alone).

    Returns:
        ``(3, image_size, image_size)`` float32.
    """
    if foreground is None:
        foreground = find_foreground(image)
    if foreground.source == "alpha":
        frame = _rendering_frame(image, _object_box(image[..., 3]), config)
        if frame is not None:  # already framed like the training renderings: the official transform
            y0, x0, side = frame
            return _resize_and_paint(image[y0 : y0 + side, x0 : x0 + side], config, device)
    return _resize_and_paint(frame_object(image, foreground.alpha, config), config, device)
