"""Context-aware fusion: per-view score maps, a softmax across each object's views, a weighted sum.

Layer shapes: ``docs/architecture.md``, "Fusion".
"""

from __future__ import annotations

import torch
from torch import nn

LEAKY_SLOPE = 0.2
"""Negative slope of the LeakyReLU in the fusion and refiner blocks."""


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Conv3d (kernel 3, padding 1: same size) → BatchNorm3d → LeakyReLU(0.2)."""
    return nn.Sequential(
        nn.Conv3d(in_channels, out_channels, kernel_size=3, padding=1),
        nn.BatchNorm3d(out_channels),
        nn.LeakyReLU(LEAKY_SLOPE),
    )


def fuse_views(coarse: torch.Tensor, scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The context-aware fusion of objects with the same number of views.

    Args:
        coarse: ``(B, V, 32, 32, 32)`` coarse volumes, ``V`` views per object.
        scores: ``(B, V, 32, 32, 32)`` unnormalised scores (the merger's output); ``-inf`` scores
            get zero weight.

    Returns:
        ``fused`` ``(B, 32, 32, 32)`` clamped to [0, 1], and ``fusion_weights``
        ``(B, V, 32, 32, 32)``: the softmax of the scores over the views.
    """
    fusion_weights = torch.softmax(scores, dim=1)
    return (coarse * fusion_weights).sum(dim=1).clamp(0, 1), fusion_weights


def fuse(coarse: torch.Tensor, scores: torch.Tensor, view_counts: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax the scores over each object's views and blend the coarse volumes with them.

    Args:
        coarse: ``(N, 32, 32, 32)`` coarse volumes of all views, objects one after another.
        scores: ``(N, 32, 32, 32)`` unnormalised scores (the merger's output), same order.
        view_counts: views per object, summing to ``N``.

    Returns:
        ``fused`` ``(B, 32, 32, 32)`` clamped to [0, 1], and ``fusion_weights``
        ``(N, 32, 32, 32)`` (the softmax, summing to one over each object's views).
    """
    if len(set(view_counts)) == 1:
        b, v = len(view_counts), view_counts[0]
        fused, fusion_weights = fuse_views(coarse.view(b, v, *coarse.shape[1:]), scores.view(b, v, *scores.shape[1:]))
        return fused, fusion_weights.view_as(scores)
    # Ragged objects: pad to the largest view count with -inf scores, which get zero weight.
    b, v_max = len(view_counts), max(view_counts)
    counts = torch.tensor(view_counts, device=scores.device)
    valid = torch.arange(v_max, device=scores.device) < counts[:, None]  # (B, V_max)
    padded_scores = scores.new_full((b, v_max, *scores.shape[1:]), float("-inf"))
    padded_coarse = coarse.new_zeros((b, v_max, *coarse.shape[1:]))
    padded_scores[valid] = scores
    padded_coarse[valid] = coarse
    fused, fusion_weights = fuse_views(padded_coarse, padded_scores)
    return fused, fusion_weights[valid]


class Pix2VoxMerger(nn.Module):
    """Pix2Vox fusion scores: five 3D conv blocks, 9→16→8→4→2→1 channels."""

    def __init__(self) -> None:
        super().__init__()
        widths = (9, 16, 8, 4, 2, 1)
        self.layer1, self.layer2, self.layer3, self.layer4, self.layer5 = (
            conv_block(widths[i], widths[i + 1]) for i in range(5)
        )

    def forward(self, raw_features: torch.Tensor) -> torch.Tensor:
        """Score each view: ``(N, 9, 32, 32, 32)`` → ``(N, 32, 32, 32)``."""
        x = self.layer3(self.layer2(self.layer1(raw_features)))
        return self.layer5(self.layer4(x)).squeeze(1)


class Pix2VoxPlusPlusMerger(nn.Module):
    """Pix2Vox++ fusion scores: four 9-channel blocks whose outputs are concatenated (36→9→1)."""

    def __init__(self) -> None:
        super().__init__()
        self.layer1, self.layer2, self.layer3, self.layer4 = (conv_block(9, 9) for _ in range(4))
        self.layer5 = conv_block(36, 9)
        self.layer6 = conv_block(9, 1)

    def forward(self, raw_features: torch.Tensor) -> torch.Tensor:
        """Score each view: ``(N, 9, 32, 32, 32)`` → ``(N, 32, 32, 32)``."""
        w1 = self.layer1(raw_features)
        w2 = self.layer2(w1)
        w3 = self.layer3(w2)
        w4 = self.layer4(w3)
        return self.layer6(self.layer5(torch.cat((w1, w2, w3, w4), dim=1))).squeeze(1)
