"""The network as ONNX sees it: one module, ``(batch, views, 3, 224, 224)`` in, three tensors out.

Like segment-anything's ``SamOnnxModel``, it wraps a built :class:`pix2vox.models.Pix2Vox` and
reuses its parts (encoder, decoder, merger, refiner and :func:`pix2vox.models.merger.fuse_views`);
the networks never import it. :func:`pix2vox.onnx.export_network` exports it.
"""

from __future__ import annotations

import torch
from torch import nn

from .models import Pix2Vox
from .models.merger import fuse_views

__all__ = ["Pix2VoxOnnxModel"]


class Pix2VoxOnnxModel(nn.Module):
    """``(B, V, 3, 224, 224)`` views → volumes, coarse volumes, fusion weights; ``B`` and ``V`` dynamic.

    The fusion runs for every ``V`` (for one view its softmax is exactly 1, the identity), so
    that one graph serves all view counts.

    Args:
        network: the plain network (not :mod:`pix2vox.cpu`'s optimised copy).
    """

    def __init__(self, network: Pix2Vox):
        super().__init__()
        self.network = network

    def forward(self, views: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns ``volumes`` ``(B, 32, 32, 32)``, ``coarse`` and ``fusion_weights`` ``(B, V, 32, 32, 32)``."""
        b, v = views.shape[0], views.shape[1]
        net = self.network
        raw_features, coarse = net.decoder(net.encoder(views.flatten(0, 1)))
        scores = net.merger(raw_features)
        coarse = coarse.reshape(b, v, *coarse.shape[1:])
        volumes, fusion_weights = fuse_views(coarse, scores.reshape(b, v, *scores.shape[1:]))
        if net.refiner is not None:
            volumes = net.refiner(volumes)
        return volumes, coarse, fusion_weights
