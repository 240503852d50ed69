"""Reading views: files, bytes, ``PIL`` images, arrays and tensors → ``(H, W, 3|4)`` float32 in [0, 1].

Files are checked against a pixel limit from their header before decoding (``max_pixels``, a
parameter, default :data:`MAX_PIXELS`) and large ones are shrunk while decoding
(:data:`DECODE_SIDE`); every problem is an :class:`~pix2vox.errors.ImageError` naming the view.
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from ..config import MAX_PIXELS
from ..errors import ImageError

logger = logging.getLogger(__name__)

__all__ = ["DECODE_SIDE", "MAX_PIXELS", "EncodedImage", "View", "has_object", "load_image"]

DECODE_SIDE = 1024
"""Files are shrunk while decoding by whole factors, keeping the longer side at least this long:
JPEGs through ``Image.draft``, others with ``Image.reduce``. Smaller images are read as they are."""

_BLANK_TOLERANCE = 0.08  # colour difference that separates an object from a plain background


@dataclass(frozen=True)
class EncodedImage:
    """A view given as the bytes of an image file (fetched from object storage, a database, …).

    Read exactly as the file would be, with the same limits and checks; ``name`` (e.g. its URI)
    names the image in warnings and error messages.
    """

    data: bytes
    name: str


View = Union[str, os.PathLike, Image.Image, np.ndarray, torch.Tensor, EncodedImage]
"""Anything accepted as one view."""


def _name(view: Any) -> str:
    if isinstance(view, EncodedImage):
        return view.name
    return os.fspath(view) if isinstance(view, (str, os.PathLike)) else f"<{type(view).__name__}>"


def _pil_to_array(image: Image.Image, *, exif_transpose: bool) -> np.ndarray:
    if exif_transpose:
        image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        gray = np.asarray(image, dtype=np.float32)
        return gray / (65535.0 if mode.startswith("I;16") or gray.max() > 255 else 255.0)
    if mode == "F":
        return np.asarray(image, dtype=np.float32)
    if mode in ("1", "L"):
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    has_alpha = mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    image = image.convert("RGBA" if has_alpha else "RGB")
    return np.asarray(image, dtype=np.float32) / 255.0


def _array_to_float(array: np.ndarray, name: str) -> np.ndarray:
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float32)
    raise ImageError(f"{name}: unsupported array dtype {array.dtype} (use uint8, uint16 or float in [0, 1])")


def _open_file(source: Path | io.BytesIO, name: str, exif_transpose: bool, max_pixels: int | None) -> np.ndarray:
    """Decode an image file (or its bytes), refusing it from its header when it has more than ``max_pixels``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit applies
            with Image.open(source) as image:
                width, height = image.size
                if max_pixels is not None and width * height > max_pixels:
                    raise ImageError(
                        f"{name}: {width}×{height} pixels is more than the limit of {max_pixels:,} "
                        "(max_pixels=, pix2vox-export --max-pixels); shrink the image"
                    )
                if getattr(image, "n_frames", 1) > 1:
                    logger.warning("%s: has %d frames; only the first is used as a view", name, image.n_frames)
                return _pil_to_array(_decode_reduced(image), exif_transpose=exif_transpose)
    except Image.DecompressionBombError as error:
        raise ImageError(f"{name}: too many pixels ({error})") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        if isinstance(error, ImageError):
            raise
        # PIL's messages repeat the path; the file is named once, at the start.
        detail = str(error).replace(f"'{name}'", "").replace(name, "").replace(" file ", " file").strip() or type(error).__name__
        if isinstance(error, UnidentifiedImageError):
            detail = "not an image format that Pillow reads"
        raise ImageError(f"{name}: not a readable image ({detail})") from None


def _decode_reduced(image: Image.Image) -> Image.Image:
    """Decode ``image``, shrunk by a whole factor while its longer side stays at least :data:`DECODE_SIDE`."""
    factor = max(image.size) // DECODE_SIDE
    if factor < 2:
        image.load()
        return image
    if image.format == "JPEG":  # decodes at 1/2, 1/4 or 1/8 scale directly
        image.draft(image.mode, (image.width // factor, image.height // factor))
    image.load()
    factor = max(image.size) // DECODE_SIDE
    if factor >= 2 and image.mode in ("L", "LA", "RGB", "RGBA", "I", "F"):
        # Keeps the EXIF orientation tag, which reduce() would drop.
        exif = image.getexif()
        image = image.reduce(factor)
        image.info["exif"] = exif.tobytes()
    return image


def load_image(view: View, *, exif_transpose: bool = True, max_pixels: int | None = MAX_PIXELS) -> np.ndarray:
    """Read one view as a float image.

    Files with more than ``max_pixels`` pixels are refused from their header; large files
    are shrunk while decoding (see :data:`DECODE_SIDE`). Of a file with several frames (an
    animated GIF, a multi-page TIFF) the first is used, with a logged warning naming the file.

    Args:
        view: a path, :class:`EncodedImage`, ``PIL.Image``, numpy array (HWC, RGB(A)) or
            tensor (CHW, RGB(A)).
            Float arrays and tensors must lie in [0, 1] (divide 0–255 data by 255, or pass uint8).
        exif_transpose: apply the EXIF orientation of files and PIL images.
        max_pixels: largest file (width × height) decoded; ``None``: no limit.

    Returns:
        ``(H, W, C)`` float32 in [0, 1], C = 3 (RGB) or 4 (RGBA); greyscale is repeated to RGB.

    Raises:
        ImageError: the file is missing, not an image, corrupt or too large, or the array has a
            bad shape or values outside [0, 1].
    """
    name = _name(view)
    if isinstance(view, (str, os.PathLike)):
        path = Path(view)
        if not path.is_file():
            raise ImageError(f"{name}: no such file")
        array = _open_file(path, name, exif_transpose, max_pixels)
    elif isinstance(view, EncodedImage):
        array = _open_file(io.BytesIO(view.data), name, exif_transpose, max_pixels)
    elif isinstance(view, Image.Image):
        array = _pil_to_array(view, exif_transpose=exif_transpose)
    elif isinstance(view, torch.Tensor):
        tensor = view.detach().cpu()
        if tensor.dim() == 2:
            tensor = tensor[None]
        if tensor.dim() != 3 or tensor.shape[0] not in (1, 3, 4):
            raise ImageError(f"{name}: expected a (C, H, W) tensor with C in 1, 3, 4; got {tuple(view.shape)}")
        array = _array_to_float(tensor.permute(1, 2, 0).numpy(), name)
    elif isinstance(view, np.ndarray):
        array = _array_to_float(view, name)
    else:
        raise ImageError(f"{name}: not an image (expected a path, PIL image, array or tensor)")
    return _checked(array, name)


def _checked(array: np.ndarray, name: str) -> np.ndarray:
    """A decoded view as ``(H, W, 3 or 4)`` float32 in [0, 1], or an ImageError naming it."""
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4) or min(array.shape[:2]) < 1:
        raise ImageError(f"{name}: expected an (H, W[, C]) image with 1–4 channels, got shape {array.shape}")
    channels = array.shape[2]
    if channels in (1, 2):  # greyscale [+ alpha]
        array = np.concatenate([np.repeat(array[..., :1], 3, axis=2), array[..., 1:]], axis=2)
    if not np.isfinite(array).all():
        raise ImageError(f"{name}: image contains NaN or infinite values")
    low, high = float(array.min()), float(array.max())
    if low < 0 or high > 1:
        raise ImageError(
            f"{name}: values range over [{low:.4g}, {high:.4g}]; float images must lie in [0, 1] "
            "(divide 0–255 data by 255, or pass uint8)"
        )
    return np.ascontiguousarray(array, dtype=np.float32)


def has_object(image: np.ndarray) -> bool:
    """Whether anything stands out in a view from :func:`load_image`.

    False for a fully transparent image, or one whose visible pixels are all of one colour
    (blank, uniform, a single pixel): no object can be found in it.
    """
    if image.shape[2] == 4:
        visible = image[..., 3] > 0.05
        if not visible.any():
            return False
        if image[..., 3].min() < 1:
            return True  # a silhouette against transparency
    rgb = image[..., :3].reshape(-1, 3)
    return bool((rgb.max(axis=0) - rgb.min(axis=0)).max() > _BLANK_TOLERANCE)
