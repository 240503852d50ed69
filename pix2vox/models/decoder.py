"""Per-view decoder: a 2×2×2 feature grid up-sampled to a 32³ coarse volume."""

from __future__ import annotations

import torch
from torch import nn


class _GridConvTranspose3d(nn.ConvTranspose3d):
    """``ConvTranspose3d(kernel 4, stride 2, padding 1)`` on a 2³ grid, computed as one matrix product.

    On a 2³ input every (input cell, kernel offset) pair lands in a distinct place of the 6³
    uncropped output, so the layer is a plain product ``(N·8, C_in) @ (C_in, C_out·4³)``
    followed by eight block additions. CPUs run that product far faster than the generic
    transposed-convolution kernel (the layer holds most of the decoder's arithmetic). The
    parameters, their names and the result are those of ``nn.ConvTranspose3d``.
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=False)

    def forward(self, grid: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        if grid.shape[-3:] != (2, 2, 2):
            return super().forward(grid)
        n, c_in = grid.shape[:2]
        c_out = self.out_channels
        cells = grid.reshape(n, c_in, 8).transpose(1, 2)  # (N, 8, C_in), cell index = 4i + 2j + k
        blocks = (cells @ self.weight.reshape(c_in, c_out * 64)).view(n, 2, 2, 2, c_out, 4, 4, 4)
        out = grid.new_zeros(n, c_out, 6, 6, 6)
        for i in (0, 1):
            for j in (0, 1):
                for k in (0, 1):
                    out[:, :, 2 * i : 2 * i + 4, 2 * j : 2 * j + 4, 2 * k : 2 * k + 4] += blocks[:, i, j, k]
        return out[:, :, 1:5, 1:5, 1:5]


def _up_block(in_channels: int, out_channels: int, first: bool) -> nn.Sequential:
    conv: nn.Module
    if first:
        conv = _GridConvTranspose3d(in_channels, out_channels)
    else:
        conv = nn.ConvTranspose3d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=False)
    return nn.Sequential(conv, nn.BatchNorm3d(out_channels), nn.ReLU())


class Decoder(nn.Module):
    """Decodes each view's features into a coarse volume.

    Args:
        in_channels: channels of the 2×2×2 grid that each view's features are reshaped to.
        channels: output channels of ``layer1``–``layer4``.
    """

    def __init__(self, in_channels: int, channels: tuple[int, int, int, int]):
        super().__init__()
        self.in_channels = in_channels
        widths = (in_channels, *channels)
        self.layer1, self.layer2, self.layer3, self.layer4 = (
            _up_block(widths[i], widths[i + 1], first=i == 0) for i in range(4)
        )
        self.layer5 = nn.Sequential(nn.ConvTranspose3d(channels[-1], 1, kernel_size=1, bias=False), nn.Sigmoid())

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode views.

        Args:
            features: ``(N, C, h, w)`` encoder output with ``C·h·w == 8·in_channels``.

        Returns:
            ``raw_features`` ``(N, 9, 32, 32, 32)`` (last hidden layer and the volume, for the
            fusion) and ``volumes`` ``(N, 32, 32, 32)`` in [0, 1].
        """
        # The flat (C, h, w) features are reinterpreted as a grid, exactly as the original does.
        grid = features.reshape(features.shape[0], self.in_channels, 2, 2, 2)
        hidden = self.layer4(self.layer3(self.layer2(self.layer1(grid))))
        volume = self.layer5(hidden)
        return torch.cat((hidden, volume), dim=1), volume.squeeze(1)
