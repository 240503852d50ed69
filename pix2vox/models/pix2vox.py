"""The whole network: encoder → decoder → context-aware fusion → (refiner).

:meth:`Pix2Vox.reconstruct` is the one forward pass: inference, training, evaluation and the
tests all run it. ``pix2vox.cpu.optimize`` swaps faster parts in, keeping this method.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
from torch import nn

from ..config import Architecture
from .decoder import Decoder
from .encoder import Encoder
from .merger import Pix2VoxMerger, Pix2VoxPlusPlusMerger, fuse
from .refiner import Refiner

INPUT_SIZE = 224
"""Side of the square input images: the decoder's reshape only works for 224×224 views."""


class Reconstruction(NamedTuple):
    """Outputs of :meth:`Pix2Vox.reconstruct`.

    Attributes:
        volumes: ``(B, 32, 32, 32)`` final occupancy probabilities, one per object.
        fused: ``(B, 32, 32, 32)`` the fusion's output, before the refiner (``volumes`` itself
            without one); training adds its loss to that of ``volumes``.
        coarse: ``(N, 32, 32, 32)`` each view's decoded volume, objects one after another.
        fusion_weights: ``(N, 32, 32, 32)`` each view's fusion weight (softmax of its scores
            over the object's views; all ones for single-view objects).
    """

    volumes: torch.Tensor
    fused: torch.Tensor
    coarse: torch.Tensor
    fusion_weights: torch.Tensor


class Pix2Vox(nn.Module):
    """Pix2Vox / Pix2Vox++ network.

    Views of all objects are folded into one batch for the encoder, decoder and fusion scores,
    so there is no Python loop over views or objects, and each object's result does not depend
    on the other objects in the batch nor on the order of its views. Shapes along the way are
    listed in ``docs/architecture.md``.

    Args:
        architecture: the variant to build (see :data:`pix2vox.models.ARCHITECTURES`).
    """

    def __init__(self, architecture: Architecture):
        super().__init__()
        self.architecture = architecture
        self.encoder = Encoder(architecture.backbone, architecture.head, architecture.activation)
        self.decoder = Decoder(architecture.decoder_in_channels, architecture.decoder_channels)
        self.merger = Pix2VoxMerger() if architecture.fusion == "pix2vox" else Pix2VoxPlusPlusMerger()
        self.refiner = Refiner() if architecture.refiner else None

    def forward(self, views: torch.Tensor) -> torch.Tensor:
        """Reconstruct objects that all have the same number of views.

        Args:
            views: ``(B, V, 3, 224, 224)`` float32 preprocessed views (see :mod:`pix2vox.preprocess`).

        Returns:
            ``(B, 32, 32, 32)`` occupancy probabilities in [0, 1].
        """
        if views.dim() != 5:
            raise ValueError(f"expected views of shape (B, V, 3, 224, 224), got {tuple(views.shape)}")
        b, v = views.shape[:2]
        return self.reconstruct(views.flatten(0, 1), [v] * b).volumes

    def reconstruct(
        self, views: torch.Tensor, view_counts: Sequence[int], *, encoder_batch: int | None = None
    ) -> Reconstruction:
        """Reconstruct objects with any numbers of views.

        Args:
            views: ``(N, 3, 224, 224)`` float32 preprocessed views, each object's views one after another.
            view_counts: number of views of each object (each ≥ 1, summing to ``N``).
            encoder_batch: encode at most this many views at once (``None``: all). On CPUs a few
                views at a time keep the 224×224 activations in cache and run faster; results
                do not depend on it.

        Returns:
            The final and fused volumes with the per-view coarse volumes and fusion weights.
        """
        counts = [int(c) for c in view_counts]
        if views.dim() != 4 or views.shape[1:] != (3, INPUT_SIZE, INPUT_SIZE):
            raise ValueError(f"expected views of shape (N, 3, {INPUT_SIZE}, {INPUT_SIZE}), got {tuple(views.shape)}")
        if not counts or min(counts) < 1 or sum(counts) != views.shape[0]:
            raise ValueError(f"view_counts {counts} do not describe {views.shape[0]} views")
        chunks = views.split(encoder_batch) if encoder_batch else (views,)
        features = torch.cat([self.encoder(chunk) for chunk in chunks]) if len(chunks) > 1 else self.encoder(views)
        raw_features, coarse = self.decoder(features)
        if max(counts) == 1:
            # A softmax over one view is exactly 1: the fusion is the identity.
            fused, fusion_weights = coarse, torch.ones_like(coarse)
        else:
            fused, fusion_weights = fuse(coarse, self.merger(raw_features), counts)
        volumes = self.refiner(fused) if self.refiner is not None else fused
        return Reconstruction(volumes=volumes, fused=fused, coarse=coarse, fusion_weights=fusion_weights)
