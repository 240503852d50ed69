"""Refiner of the A variants: a 3D encoder–decoder with skip connections and a fully connected bottleneck.

Layer shapes: ``docs/architecture.md``, "Refiner".
"""

from __future__ import annotations

import torch
from torch import nn

from .merger import LEAKY_SLOPE


def _down(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(in_channels, out_channels, kernel_size=4, padding=2),
        nn.BatchNorm3d(out_channels),
        nn.LeakyReLU(LEAKY_SLOPE),
        nn.MaxPool3d(kernel_size=2),
    )


def _up(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose3d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=False),
        nn.BatchNorm3d(out_channels),
        nn.ReLU(),
    )


class Refiner(nn.Module):
    """Refines a fused 32³ volume (same parameter names as the authors' ``Refiner``)."""

    def __init__(self) -> None:
        super().__init__()
        self.layer1 = _down(1, 32)
        self.layer2 = _down(32, 64)
        self.layer3 = _down(64, 128)
        self.layer4 = nn.Sequential(nn.Linear(8192, 2048), nn.ReLU())
        self.layer5 = nn.Sequential(nn.Linear(2048, 8192), nn.ReLU())
        self.layer6 = _up(128, 64)
        self.layer7 = _up(64, 32)
        self.layer8 = nn.Sequential(
            nn.ConvTranspose3d(32, 1, kernel_size=4, stride=2, padding=1, bias=False), nn.Sigmoid()
        )

    def forward(self, volumes: torch.Tensor) -> torch.Tensor:
        """Refine volumes: ``(B, 32, 32, 32)`` in [0, 1] → ``(B, 32, 32, 32)`` in [0, 1]."""
        v32 = volumes.unsqueeze(1)
        v16 = self.layer1(v32)
        v8 = self.layer2(v16)
        v4 = self.layer3(v8)
        bottleneck = self.layer5(self.layer4(v4.flatten(1)))
        v4 = v4 + bottleneck.view_as(v4)
        v8 = v8 + self.layer6(v4)
        v16 = v16 + self.layer7(v8)
        return ((v32 + self.layer8(v16)) * 0.5).squeeze(1)
