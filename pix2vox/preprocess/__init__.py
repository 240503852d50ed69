"""Turning pictures into the network's input.

Two modes share one configuration (:class:`PreprocessConfig`, stored with each checkpoint):

* ``"official"`` reproduces the authors' test-time transforms on ShapeNet renderings: read as
  float in [0, 1]; if both sides exceed ``crop_size``, keep the central ``crop_size`` square;
  bilinear resize (OpenCV's arithmetic) to ``image_size``; after the resize, pixels whose alpha
  is exactly 0 become the grey ``background`` (partly transparent pixels keep their colour);
  normalise with ``mean``/``std``; channels in BGR order (the authors read images with OpenCV).
* ``"auto"`` is for other pictures: the object is found (a user's mask, the alpha channel, a
  plain background, a user's segmenter, or GrabCut with ``pix2vox[photo]``; see
  :mod:`pix2vox.foreground`), re-framed as the central square of a training rendering in which
  it spans ``object_fill`` of the side (:func:`frame_object`), and that square goes through the
  official transform, so that everything around the object becomes the grey background.

Views may be file paths, the bytes of an image file (:class:`EncodedImage`), ``PIL.Image``
objects, numpy arrays ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)`` (RGB(A), uint8, uint16 or float
in [0, 1]), or tensors ``(C, H, W)`` with C in {1, 3, 4} (RGB(A), uint8 or float in [0, 1]).

The steps live in :mod:`~pix2vox.preprocess.decode` (reading views), :mod:`~pix2vox.preprocess.official`
(the authors' transform) and :mod:`~pix2vox.preprocess.framing` (``auto``'s framing); their public
names are also importable from here.
"""

from __future__ import annotations

import logging
import os
from typing import Iterable, Literal, Sequence

import numpy as np
import torch
from PIL import Image

from ..config import PreprocessConfig
from ..errors import ImageError
from ..foreground import Foreground, MaskSource, Segmenter, find_foreground, grabcut_available, load_mask
from .decode import DECODE_SIDE, MAX_PIXELS, EncodedImage, View, _name, has_object, load_image
from .framing import FRAME_SHIFT, RENDERING_SIZE, auto_transform, frame_object
from .official import network_picture, normalise, official_transform, resize_linear

__all__ = [
    "DECODE_SIDE", "FRAME_SHIFT", "MAX_PIXELS", "MODES", "RENDERING_SIZE", "EncodedImage", "Mode", "PreprocessConfig",
    "View", "auto_transform", "frame_object", "has_object", "is_single_view", "load_image", "network_picture",
    "normalise", "official_transform", "preprocess", "resize_linear",
]

logger = logging.getLogger(__name__)

Mode = Literal["official", "auto"]
MODES: tuple[str, ...] = ("official", "auto")


def _per_view(masks: MaskSource | Sequence[MaskSource | None] | None, count: int) -> list[MaskSource | None]:
    if masks is None:
        return [None] * count
    if isinstance(masks, (str, os.PathLike, Image.Image, np.ndarray)):
        masks = [masks]
    masks = list(masks)
    if len(masks) != count:
        raise ImageError(f"{len(masks)} mask{'s' if len(masks) != 1 else ''} for {count} view{'s' if count != 1 else ''}: "
                         "give one mask per view (None for a view without one)")
    return masks


def _warn_no_object(image: np.ndarray, foreground: Foreground, name: str) -> None:
    if not has_object(image):
        logger.warning("%s: no object found (the view is blank, uniform or fully transparent); "
                       "its reconstruction is a guess", name)
    elif foreground.source == "none":
        step = ("GrabCut found nothing either" if grabcut_available()
                else 'install "pix2vox[photo]" to cut the object out of its background')
        logger.warning("%s: no object found: no transparency and no plain background around the object (a cluttered "
                       "photo?), so the whole picture is used; %s; pass mask=/--mask, or an RGBA cut-out with a "
                       "transparent background", name, step)


def is_single_view(views: object) -> bool:
    """The one rule telling one view from several: a path, an image, an array, a tensor or an
    :class:`EncodedImage` is one view; any other iterable holds several."""
    return isinstance(views, (str, os.PathLike, Image.Image, np.ndarray, torch.Tensor, EncodedImage)) or not isinstance(views, Iterable)


def preprocess(
    views: View | Iterable[View],
    config: PreprocessConfig,
    mode: Mode = "auto",
    *,
    device: str | torch.device | None = None,
    masks: MaskSource | Sequence[MaskSource | None] | None = None,
    segmenter: Segmenter | None = None,
    foregrounds: list[Foreground] | None = None,
    max_pixels: int | None = MAX_PIXELS,
) -> torch.Tensor:
    """Preprocess the views of one object.

    Images are decoded on the CPU; resizing and normalisation run on ``device``.

    Args:
        views: one view or a sequence of views (see the module docstring for accepted types).
        config: the checkpoint's preprocessing.
        mode: ``"official"`` or ``"auto"``.
        device: where to compute and return the result (default: CPU).
        masks: one mask per view (``None`` for a view without), each an ``(H, W)`` array, an
            image file or a ``PIL.Image`` of the view's size; the object is where it is nonzero.
            In ``official`` mode a mask replaces the view's alpha channel.
        segmenter: ``auto`` mode: ``segmenter(rgb) -> mask`` for views that are neither cut-outs
            nor on a plain background (instead of GrabCut).
        foregrounds: a list that receives each view's :class:`~pix2vox.foreground.Foreground`
            (``auto`` mode), to see which path each view took.
        max_pixels: largest image file (width × height) decoded; ``None``: no limit.

    Returns:
        ``(V, 3, image_size, image_size)`` float32, exactly what the network sees.

    Raises:
        ImageError: a view or mask cannot be read, a mask has another size than its view or is
            empty, the number of masks differs from the number of views, or no views were given.
        ValueError: unknown mode.
    """
    if mode not in MODES:
        raise ValueError(f"unknown preprocess mode {mode!r}; expected one of {', '.join(MODES)}")
    views = [views] if is_single_view(views) else list(views)
    if not views:
        raise ImageError("no views given: an object needs at least one image")
    view_masks = _per_view(masks, len(views))
    exif = config.exif_transpose and mode == "auto"
    target = torch.device(device) if device is not None else None
    tensors = []
    for view, mask in zip(views, view_masks):
        name = _name(view)
        image = load_image(view, exif_transpose=exif, max_pixels=max_pixels)
        if mode == "official":
            if mask is not None:
                image = np.concatenate([image[..., :3], load_mask(mask, image.shape[:2], name)[..., None]], 2)
            elif not has_object(image):
                _warn_no_object(image, Foreground(None, "none"), name)
            tensors.append(official_transform(image, config, target))
            continue
        foreground = find_foreground(image, mask=mask, segmenter=segmenter, name=name)
        _warn_no_object(image, foreground, name)
        if foregrounds is not None:
            foregrounds.append(foreground)
        tensors.append(auto_transform(image, config, target, foreground=foreground))
    return torch.stack(tensors)
