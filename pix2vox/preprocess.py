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
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Literal, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from .config import PreprocessConfig
from .errors import ImageError
from .foreground import Foreground, MaskSource, Segmenter, find_foreground, grabcut_available, load_mask

logger = logging.getLogger(__name__)

MAX_PIXELS = 40_000_000
"""The default limit on an image read from a file (width × height), checked from its header before
decoding. Pass ``max_pixels=`` to :func:`load_image` or :func:`preprocess`, or set
``Reconstructor.max_pixels`` (``None``: no limit; ``pix2vox-export --max-pixels``)."""

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

Mode = Literal["official", "auto"]
MODES: tuple[str, ...] = ("official", "auto")


# ----------------------------------------------------------------------------------------------
# Reading


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


# ----------------------------------------------------------------------------------------------
# Official transforms


def _linear_resize_matrix(src: int, dst: int) -> np.ndarray:
    """``(dst, src)`` float32 matrix of OpenCV's ``INTER_LINEAR`` along one axis.

    Source positions and their fractional parts are computed in double precision and only the
    two weights rounded to float32, as OpenCV does for float images, so a matrix product gives
    its results up to float rounding.
    """
    scale = src / dst
    pos = (np.arange(dst, dtype=np.float64) + 0.5) * scale - 0.5
    left = np.floor(pos).astype(np.int64)
    frac = (pos - left).astype(np.float32)
    frac[left < 0] = 0
    left[left < 0] = 0
    beyond = left >= src - 1
    frac[beyond] = 0
    left[beyond] = src - 1
    matrix = np.zeros((dst, src), dtype=np.float32)
    rows = np.arange(dst)
    matrix[rows, left] = np.float32(1) - frac
    np.add.at(matrix, (rows, np.minimum(left + 1, src - 1)), frac)
    return matrix


def resize_linear(image: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize with OpenCV's ``INTER_LINEAR`` arithmetic (no antialiasing).

    Args:
        image: ``(C, H, W)`` float32.
        size: output side.

    Returns:
        ``(C, size, size)`` float32; horizontal pass first, then vertical, like OpenCV.
    """
    h, w = image.shape[-2:]
    cols = torch.from_numpy(_linear_resize_matrix(w, size)).to(image.device)
    rows = torch.from_numpy(_linear_resize_matrix(h, size)).to(image.device)
    return rows @ (image @ cols.T)


def normalise(rgb: torch.Tensor, config: PreprocessConfig) -> torch.Tensor:
    """Normalise ``(3, H, W)`` RGB in [0, 1] with the config's mean/std and put the channels in its order."""
    mean = torch.tensor(config.mean, dtype=rgb.dtype, device=rgb.device)[:, None, None]
    std = torch.tensor(config.std, dtype=rgb.dtype, device=rgb.device)[:, None, None]
    out = (rgb - mean) / std
    return out.flip(0) if config.channel_order == "bgr" else out


def _upload(image: np.ndarray, device: torch.device | None) -> torch.Tensor:
    """``(H, W, C)`` array → ``(C, H, W)`` tensor on ``device`` (through pinned memory for CUDA)."""
    tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
    if device is None or device.type == "cpu":
        return tensor
    if device.type == "cuda":
        tensor = tensor.pin_memory()
    return tensor.to(device, non_blocking=True)


def official_transform(image: np.ndarray, config: PreprocessConfig, device: torch.device | None = None) -> torch.Tensor:
    """The authors' test-time transform of one view.

    Args:
        image: ``(H, W, 3|4)`` float32 RGB(A) in [0, 1] (see :func:`load_image`).
        config: the checkpoint's preprocessing.
        device: where to compute (default: CPU).

    Returns:
        ``(3, image_size, image_size)`` float32.
    """
    h, w = image.shape[:2]
    crop = config.crop_size
    if h > crop and w > crop:
        top, left = (h - crop) // 2, (w - crop) // 2
        image = image[top : top + crop, left : left + crop]
    return _resize_and_paint(image, config, device)


def _resize_and_paint(image: np.ndarray, config: PreprocessConfig, device: torch.device | None) -> torch.Tensor:
    """The official transform after its crop: resize all channels, paint alpha-0 pixels grey, normalise."""
    chw = resize_linear(_upload(image, device), config.image_size)
    rgb = chw[:3]
    if chw.shape[0] == 4:
        rgb = torch.where(chw[3:] == 0, torch.tensor(config.background, dtype=rgb.dtype, device=rgb.device), rgb)
    return normalise(rgb, config)


# ----------------------------------------------------------------------------------------------
# Auto transforms


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


def network_picture(view: torch.Tensor, config: PreprocessConfig) -> np.ndarray:
    """A preprocessed ``(3, S, S)`` view (one of :func:`preprocess`'s) back to an ``(S, S, 3)`` uint8 RGB picture."""
    array = view.detach().float().cpu().numpy()
    if config.channel_order == "bgr":
        array = array[::-1]
    array = array * np.asarray(config.std)[:, None, None] + np.asarray(config.mean)[:, None, None]
    return (np.clip(array, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(1, 2, 0)


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
