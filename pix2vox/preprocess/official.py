"""The authors' test-time transform (``"official"`` mode), and the network's input back to a picture.

Read as float in [0, 1]; if both sides exceed ``crop_size``, keep the central ``crop_size`` square;
bilinear resize with OpenCV's arithmetic to ``image_size``; after the resize, pixels whose alpha is
exactly 0 become the grey ``background`` (partly transparent pixels keep their colour); normalise
with ``mean``/``std``; channels in BGR order (the authors read images with OpenCV).
"""

from __future__ import annotations

import numpy as np
import torch

from ..config import PreprocessConfig

__all__ = ["network_picture", "normalise", "official_transform", "resize_linear"]


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


def network_picture(view: torch.Tensor, config: PreprocessConfig) -> np.ndarray:
    """A preprocessed ``(3, S, S)`` view (one of :func:`preprocess`'s) back to an ``(S, S, 3)`` uint8 RGB picture."""
    array = view.detach().float().cpu().numpy()
    if config.channel_order == "bgr":
        array = array[::-1]
    array = array * np.asarray(config.std)[:, None, None] + np.asarray(config.mean)[:, None, None]
    return (np.clip(array, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(1, 2, 0)
