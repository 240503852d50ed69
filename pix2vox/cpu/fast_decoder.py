"""An inference copy of the decoder for CPUs: a sparser first layer, batch norms folded.

The first layer, ``ConvTranspose3d(kernel 4, stride 2, padding 1)`` on a 2³ grid, pairs each of the
8 input cells with each of the 64 kernel taps, but only 216 of those 512 pairs land inside the
cropped 4³ output: along each axis, tap 0 reaches the output only from the second cell, tap 3 only
from the first, taps 1 and 2 from both. Grouping the taps by the cells they need gives 27 matrix
products that together do 216/512 of the work, whose results are added into place.
"""

from __future__ import annotations

import copy
import functools
import itertools

import torch
import torch.nn.functional as F
from torch import nn

from ..models.decoder import Decoder
from .folding import batch_norm_affine
from .onednn import linear

# Along one axis: (kernel taps, input cells whose products with them land in the 4-voxel output).
_AXIS_GROUPS = (((0,), (1,)), ((1, 2), (0, 1)), ((3,), (0,)))


@functools.lru_cache(maxsize=None)
def _tap_groups() -> list[tuple[list[int], list[int], torch.Tensor]]:
    """For each of the 27 groups: flat tap indices, flat cell indices, output positions ``(cells, taps)``."""
    groups = []
    for axes in itertools.product(_AXIS_GROUPS, repeat=3):
        taps = list(itertools.product(*(axis[0] for axis in axes)))
        cells = list(itertools.product(*(axis[1] for axis in axes)))
        positions = [
            [sum(4 ** (2 - d) * (2 * cell[d] + tap[d] - 1) for d in range(3)) for tap in taps] for cell in cells
        ]
        groups.append(
            (
                [16 * a + 4 * b + c for a, b, c in taps],
                [4 * i + 2 * j + k for i, j, k in cells],
                torch.tensor(positions),
            )
        )
    return groups


def raw_features(hidden: torch.Tensor, volume: torch.Tensor) -> torch.Tensor:
    """``cat((hidden, volume), dim=1)`` in channels-last memory.

    ``torch.cat`` alone returns NCDHW here, on which the fusion's 3D convolutions run about half
    as fast.
    """
    out = hidden.new_empty((hidden.shape[0], hidden.shape[1] + 1, *hidden.shape[2:]))
    out = out.contiguous(memory_format=torch.channels_last_3d)
    return torch.cat((hidden, volume), dim=1, out=out)


class FastDecoder(nn.Module):
    """A frozen copy of a :class:`~pix2vox.models.decoder.Decoder` in eval mode, for CPU inference.

    Holds its own weights (the first layer's regrouped by tap, every batch norm folded), so it
    costs about as much memory as the decoder again: 290 MB for Pix2Vox-A, 220 MB for
    Pix2Vox++/A, 10–15 MB for the F variants. Same inputs and outputs as
    :meth:`Decoder.forward`; results agree to float rounding. Run it without autograd.

    Args:
        decoder: the decoder to copy (its weights are read once, here).
    """

    def __init__(self, decoder: Decoder):
        super().__init__()
        conv, norm = decoder.layer1[0], decoder.layer1[1]
        dtype = conv.weight.dtype
        scale, shift = batch_norm_affine(norm)
        weight = conv.weight.detach().flatten(2)  # (C_in, C_out, 64), a view
        self.in_channels, self.out_channels = weight.shape[:2]
        # Per group: (taps·C_out, C_in) weights with the batch norm's scale, cell indices and
        # output positions. Built group by group: the weight can be hundreds of MB.
        self.groups = [
            (
                (weight[:, :, taps] * scale.to(dtype).view(1, -1, 1)).permute(2, 1, 0).reshape(-1, self.in_channels).contiguous(),
                torch.tensor(cells),
                positions,
            )
            for taps, cells, positions in _tap_groups()
        ]
        self.shift = shift.to(dtype)
        self.up = []
        for block in (decoder.layer2, decoder.layer3, decoder.layer4):
            scale, shift = batch_norm_affine(block[1])
            folded = block[0].weight.detach().double() * scale.view(1, -1, 1, 1, 1)
            self.up.append((folded.to(dtype), shift.to(dtype)))
        self.output = copy.deepcopy(decoder.layer5)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(N, C, h, w)`` features → ``raw_features`` ``(N, 9, 32, 32, 32)`` (channels-last) and
        ``coarse`` ``(N, 32, 32, 32)``, as :meth:`Decoder.forward`."""
        n = features.shape[0]
        cells = features.reshape(n, self.in_channels, 8).transpose(1, 2)  # (N, 8, C_in)
        out = features.new_zeros((n * 64, self.out_channels))  # rows: (view, output voxel)
        first_row = torch.arange(n).view(n, 1) * 64
        for weight, cell_index, positions in self.groups:
            products = linear(cells[:, cell_index].reshape(-1, self.in_channels), weight)
            out.index_add_(0, (first_row + positions.view(1, -1)).view(-1), products.view(-1, self.out_channels))
        out += self.shift
        # (N·4³, C) rows are a channels-last (N, C, 4, 4, 4) volume.
        hidden = out.relu_().view(n, 4, 4, 4, self.out_channels).permute(0, 4, 1, 2, 3)
        for weight, bias in self.up:
            hidden = F.conv_transpose3d(hidden, weight, bias, stride=2, padding=1).relu_()
        volume = self.output(hidden)
        return raw_features(hidden, volume), volume.squeeze(1)
