"""References our batched path is tested and benchmarked against (not part of the package).

- :func:`per_view_forward`: the networks run in the authors' execution order, one view at a time;
- :func:`opencv_official`: the authors' test-time image transforms, with OpenCV.

``benchmarks/benchmark.py`` imports this file as its baseline.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from pix2vox.models import Pix2Vox


@torch.no_grad()
def per_view_forward(model: Pix2Vox, views: torch.Tensor) -> torch.Tensor:
    """The network run in the authors' execution order: one view at a time, batch size 1.

    Each object alone; each view alone through the encoder's and decoder's layers in contiguous
    (NCHW / NCDHW) memory, every module as written (batch norms after their convolutions, the
    generic transposed convolution, no Winograd); the fusion scores view by view, stacked,
    soft-maxed over the views and blended; then the refiner.

    Args:
        model: the plain network (eval mode).
        views: ``(B, V, 3, 224, 224)`` preprocessed views.

    Returns:
        ``(B, 32, 32, 32)`` occupancy probabilities.
    """
    encoder, decoder = model.encoder, model.decoder
    outputs = []
    for obj in views:
        coarse, scores = [], []
        for view in obj:
            features = encoder.layer3(encoder.layer2(encoder.layer1(encoder.stem(view[None].contiguous()))))
            hidden = decoder.layer1(features.contiguous().view(1, decoder.in_channels, 2, 2, 2))
            hidden = decoder.layer4(decoder.layer3(decoder.layer2(hidden)))
            volume = decoder.layer5(hidden)
            coarse.append(volume[:, 0])
            scores.append(model.merger(torch.cat((hidden, volume), dim=1)))
        weights = torch.softmax(torch.stack(scores, dim=1), dim=1)
        fused = (torch.stack(coarse, dim=1) * weights).sum(dim=1).clamp(0, 1)
        outputs.append(model.refiner(fused) if model.refiner is not None else fused)
    return torch.cat(outputs)


def opencv_official(path: str | os.PathLike) -> torch.Tensor:
    """The authors' test-time transforms as ``docs/architecture.md`` ("Preprocessing") describes them.

    OpenCV reading (BGR[A], float32 / 255), central 128 crop of larger images, ``cv2.resize``
    to 224, float64 background and normalisation. The reference our ``official`` mode is tested
    against, and the baseline preprocessing of the benchmark. Needs ``opencv-python-headless``.

    Returns:
        ``(3, 224, 224)`` float32, BGR.
    """
    import cv2

    image = cv2.imread(os.fspath(path), cv2.IMREAD_UNCHANGED).astype(np.float32) / 255.0
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=2)
    h, w = image.shape[:2]
    if h > 128 and w > 128:
        left, top = (w - 128) // 2, (h - 128) // 2
        image = image[top : top + 128, left : left + 128]
    image = cv2.resize(image, (224, 224)).astype(np.float64)
    if image.shape[2] == 4:
        mask = (image[..., 3:] == 0).astype(np.float64)
        image = mask * (240 / 255) + (1 - mask) * image[..., :3]
    image = (image - 0.5) / 0.5
    return torch.from_numpy(image.transpose(2, 0, 1).copy()).float()
