"""Per-view decoder: a 2×2×2 feature grid up-sampled to a 32³ coarse volume.

Layer shapes: ``docs/architecture.md``, "Decoder".
"""

from __future__ import annotations

import torch
from torch import nn


def _up_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """ConvTranspose3d (kernel 4, stride 2, padding 1: doubles the side) → BatchNorm3d → ReLU."""
    return nn.Sequential(
        nn.ConvTranspose3d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=False),
        nn.BatchNorm3d(out_channels),
        nn.ReLU(),
    )


class Decoder(nn.Module):
    """Decodes each view's features into a coarse volume: 2³ → 4³ → 8³ → 16³ → 32³.

    Args:
        in_channels: channels of the 2×2×2 grid that each view's features are reshaped to.
        channels: output channels of ``layer1``–``layer4``.
    """

    def __init__(self, in_channels: int, channels: tuple[int, int, int, int]):
        super().__init__()
        self.in_channels = in_channels
        widths = (in_channels, *channels)
        self.layer1, self.layer2, self.layer3, self.layer4 = (_up_block(widths[i], widths[i + 1]) for i in range(4))
        self.layer5 = nn.Sequential(nn.ConvTranspose3d(channels[-1], 1, kernel_size=1, bias=False), nn.Sigmoid())

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode views.

        Args:
            features: ``(N, C, h, w)`` encoder output with ``C·h·w == 8·in_channels``.

        Returns:
            ``raw_features`` ``(N, 9, 32, 32, 32)`` (the last hidden layer's 8 channels and the
            volume, which the fusion scores) and ``coarse`` ``(N, 32, 32, 32)`` in [0, 1].
        """
        # The flat (C, h, w) features are reinterpreted as a grid, exactly as the original does.
        grid = features.reshape(features.shape[0], self.in_channels, 2, 2, 2)
        # Channels-last 3D memory: the same numbers, the small-channel layers much faster on CPUs.
        hidden = self.layer1(grid).contiguous(memory_format=torch.channels_last_3d)
        hidden = self.layer4(self.layer3(self.layer2(hidden)))
        volume = self.layer5(hidden)
        return torch.cat((hidden, volume), dim=1), volume.squeeze(1)
