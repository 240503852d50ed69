"""Per-view decoder: a 2×2×2 feature grid up-sampled to a 32³ coarse volume."""

from __future__ import annotations

import functools
import itertools

import torch
from torch import nn

from .fast_decoder import FastDecoder, raw_features
from .folding import cached_copy
from .onednn import linear


@functools.lru_cache(maxsize=None)
def _fold_matrix(device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """``(8·64, 64)`` 0/1 matrix taking (input cell, kernel tap) products to the cropped 4³ output."""
    fold = torch.zeros(8, 64, 64, dtype=dtype)
    for cell, (i, j, k) in enumerate(itertools.product(range(2), repeat=3)):
        for tap, (a, b, c) in enumerate(itertools.product(range(4), repeat=3)):
            x, y, z = 2 * i + a - 1, 2 * j + b - 1, 2 * k + c - 1  # stride 2, padding 1
            if 0 <= x < 4 and 0 <= y < 4 and 0 <= z < 4:
                fold[cell, tap, 16 * x + 4 * y + z] = 1
    return fold.reshape(512, 64).to(device)


class _GridConvTranspose3d(nn.ConvTranspose3d):
    """``ConvTranspose3d(kernel 4, stride 2, padding 1)`` on a 2³ grid, as two matrix products.

    The layer holds most of the decoder's arithmetic, and CPUs run it far faster as a plain
    product ``(N·8, C_in) @ (C_in, C_out·4³)`` — every (input cell, kernel tap) pair — followed
    by a fixed 0/1 product that adds those pairs into the cropped 4³ output, than with the
    generic transposed-convolution kernel. Parameters, their names and results are those of
    ``nn.ConvTranspose3d``.
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=False)

    def forward(self, grid: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        if grid.shape[-3:] != (2, 2, 2):
            return super().forward(grid)
        n, c_in = grid.shape[:2]
        c_out = self.out_channels
        cells = grid.reshape(n, c_in, 8).transpose(1, 2).reshape(n * 8, c_in)
        taps = linear(cells, self.weight.reshape(c_in, c_out * 64).t())  # (N·8, C_out·64)
        taps = taps.view(n, 8, c_out, 64).transpose(1, 2).reshape(n * c_out, 8 * 64)
        return torch.mm(taps, _fold_matrix(grid.device, grid.dtype)).view(n, c_out, 4, 4, 4)


def _up_block(in_channels: int, out_channels: int, first: bool) -> nn.Sequential:
    conv: nn.Module
    if first:
        conv = _GridConvTranspose3d(in_channels, out_channels)
    else:
        conv = nn.ConvTranspose3d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=False)
    return nn.Sequential(conv, nn.BatchNorm3d(out_channels), nn.ReLU())


class Decoder(nn.Module):
    """Decodes each view's features into a coarse volume.

    On CPUs, in eval mode without autograd, views go through a
    :class:`~pix2vox.models.fast_decoder.FastDecoder` made from the current weights on first use
    (and again when a weight changes): about as much memory as the decoder again, 290 MB for
    Pix2Vox-A and 220 MB for Pix2Vox++/A, 10–15 MB for the F variants.

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
        # (weights' identity, inference copy): a tuple, so that it is no registered submodule.
        self._fast: tuple[tuple, FastDecoder] | None = None

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode views.

        Args:
            features: ``(N, C, h, w)`` encoder output with ``C·h·w == 8·in_channels``.

        Returns:
            ``raw_features`` ``(N, 9, 32, 32, 32)`` (last hidden layer and the volume, for the
            fusion) and ``volumes`` ``(N, 32, 32, 32)`` in [0, 1].
        """
        if not (self.training or torch.is_grad_enabled() or torch.compiler.is_compiling()) and features.device.type == "cpu":
            return self._inference_copy()(features)
        # The flat (C, h, w) features are reinterpreted as a grid, exactly as the original does.
        grid = features.reshape(features.shape[0], self.in_channels, 2, 2, 2)
        # Channels-last 3D makes the remaining (small-channel, large-volume) layers much faster on CPU.
        hidden = self.layer1(grid).contiguous(memory_format=torch.channels_last_3d)
        hidden = self.layer4(self.layer3(self.layer2(hidden)))
        volume = self.layer5(hidden)
        if torch.is_grad_enabled():
            return torch.cat((hidden, volume), dim=1), volume.squeeze(1)
        return raw_features(hidden, volume), volume.squeeze(1)

    def _inference_copy(self) -> FastDecoder:
        """:class:`FastDecoder` of the current weights, made on first use and when a weight changes."""
        return cached_copy(self, "_fast", lambda: FastDecoder(self))
