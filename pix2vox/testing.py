"""Helpers for tests, examples and benchmarks: random weights in the authors' checkpoint layout,
generated renderings.

The authors' checkpoints cannot be downloaded everywhere; these files have the same layout
(one ``<component>_state_dict`` per module, ``module.`` prefixes, a pickled numpy scalar) and
well-conditioned random values, so that outputs are spread over (0, 1) rather than all 0.5.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .loading.checkpoint import COMPONENTS
from .models import ARCHITECTURES, Pix2Vox


def random_model(name: str, seed: int = 0) -> Pix2Vox:
    """A network with random, well-conditioned weights (in eval mode).

    Convolutions get He-normal weights; batch-norm statistics are then measured on random
    images in training mode (so every layer's output is normalised) and their affine parameters
    perturbed. The result depends only on ``name`` and ``seed``.
    """
    generator = torch.Generator().manual_seed(seed)
    model = Pix2Vox(ARCHITECTURES[name])
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Conv3d, nn.ConvTranspose3d, nn.Linear)):
            fan_in = module.weight[0].numel() if not isinstance(module, nn.ConvTranspose3d) else module.weight.shape[0] * module.weight[0, 0].numel() / 8
            with torch.no_grad():
                module.weight.normal_(0, (2.0 / max(fan_in, 1)) ** 0.5, generator=generator)
                if module.bias is not None:
                    module.bias.normal_(0, 0.1, generator=generator)
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.momentum = None  # cumulative average: one pass gives the batch statistics
    images = torch.rand(4, 3, 224, 224, generator=generator) * 2 - 1
    model.train()
    with torch.no_grad():
        model.reconstruct(images, [2, 2])
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.momentum = 0.1
            with torch.no_grad():
                module.weight.uniform_(0.6, 1.4, generator=generator)
                module.bias.normal_(0, 0.2, generator=generator)
    return model.eval()


def original_layout(model: Pix2Vox, *, epoch: int = 250, best_iou: float = 0.661) -> dict:
    """The dictionary the authors' training code saves for ``model``."""
    content: dict = {"epoch_idx": epoch, "best_iou": np.float64(best_iou), "best_epoch": epoch - 1}
    for component in COMPONENTS:
        module = getattr(model, component)
        if module is not None:
            content[f"{component}_state_dict"] = {f"module.{k}": v.clone() for k, v in module.state_dict().items()}
    return content


def save_random_original_checkpoint(
    path: str | os.PathLike,
    name: str,
    seed: int = 0,
    *,
    legacy_format: bool = False,
    with_num_batches_tracked: bool = True,
) -> Path:
    """Write random weights for model ``name`` as one of the authors' ``.pth`` files.

    Args:
        path: file to write.
        name: one of ``pix2vox-f``, ``pix2vox-a``, ``pix2voxpp-f``, ``pix2voxpp-a``.
        seed: random seed.
        legacy_format: use PyTorch's pre-1.6 (non-zip) serialisation, as the 2019 files may.
        with_num_batches_tracked: keep the batch-norm counters (PyTorch < 0.4.1 had none).
    """
    content = original_layout(random_model(name, seed))
    if not with_num_batches_tracked:
        for key, state in content.items():
            if key.endswith("_state_dict"):
                content[key] = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    path = Path(path)
    torch.save(content, path, _use_new_zipfile_serialization=not legacy_format)
    return path


def make_rendering(seed: int, size: int = 137) -> np.ndarray:
    """A ShapeNet-like RGBA rendering: a shaded blob on a transparent background, soft edges.

    Returns:
        ``(size, size, 4)`` uint8 RGBA; fully transparent pixels are black.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    cy, cx, ry, rx = rng.uniform(0.4, 0.6), rng.uniform(0.4, 0.6), rng.uniform(0.2, 0.35), rng.uniform(0.2, 0.35)
    d = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2
    alpha = np.clip((1 - d) * 8, 0, 1)
    colour = rng.uniform(0.2, 0.9, 3)
    shade = 0.6 + 0.4 * (1 - yy)[..., None]
    rgb = np.clip(colour * shade + rng.normal(0, 0.03, (size, size, 3)), 0, 1)
    rgb[alpha == 0] = 0
    return (np.dstack([rgb, alpha]) * 255).round().astype(np.uint8)
