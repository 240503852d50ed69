"""The fusion's 3D convolution blocks for CPU inference: batch norms folded, depth-split kernels."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..models.merger import LEAKY_SLOPE
from .folding import batch_norm_affine

DEPTH_SPLIT_MAX_CHANNELS = 4
"""Blocks with at most this many output channels use :func:`depth_split_conv3d`."""


def depth_split_conv3d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """A 3×3×3 convolution (padding 1) with few output channels, as one 1×3×3 convolution with
    three times the output channels (one set per depth tap) whose results are added at their
    depth offsets.

    oneDNN computes output channels in blocks of eight or more, so a convolution to 1–4 channels
    costs as much as one to eight; three depth taps' worth fill the block. 1.7–2.5× faster on CPUs
    for 1–4 output channels on 32³ volumes.

    Args:
        x: ``(N, C_in, D, H, W)``.
        weight: ``(C_out, C_in, 3, 3, 3)``.
        bias: ``(C_out,)``.

    Returns:
        ``(N, C_out, D, H, W)`` in channels-last memory.
    """
    c_out = weight.shape[0]
    taps = weight.permute(2, 0, 1, 3, 4).reshape(3 * c_out, weight.shape[1], 1, 3, 3)  # outputs (depth tap, c_out)
    partial = F.conv3d(x, taps.contiguous(memory_format=torch.channels_last_3d), padding=(0, 1, 1))
    n, _, depth, height, width = partial.shape
    partial = partial.permute(0, 2, 3, 4, 1).reshape(n, depth, height, width, 3, c_out)
    out = partial[..., 1, :] + bias  # (N, D, H, W, C_out)
    out[:, 1:] += partial[:, :-1, ..., 0, :]  # output depth d takes input d - 1 through tap 0
    out[:, :-1] += partial[:, 1:, ..., 2, :]  # and input d + 1 through tap 2
    return out.permute(0, 4, 1, 2, 3)


class FoldedConvBlock(nn.Module):
    """A fusion block (Conv3d → BatchNorm3d → LeakyReLU) as one convolution with an in-place activation.

    On these few-channel 32³ volumes each pass over memory costs about as much as the
    convolution itself, so the batch norm is folded into the weights (once, here) and the
    activation overwrites the convolution's output. Blocks to at most
    :data:`DEPTH_SPLIT_MAX_CHANNELS` channels use :func:`depth_split_conv3d`.

    Args:
        block: the plain block (:func:`pix2vox.models.merger.conv_block`), read once.
    """

    def __init__(self, block: nn.Sequential):
        super().__init__()
        conv, norm = block[0], block[1]
        scale, shift = batch_norm_affine(norm)
        weight = conv.weight.detach().double() * scale.view(-1, 1, 1, 1, 1)
        self.register_buffer("weight", weight.to(conv.weight.dtype))
        self.register_buffer("bias", (conv.bias.detach().double() * scale + shift).to(conv.weight.dtype))
        self.depth_split = conv.out_channels <= DEPTH_SPLIT_MAX_CHANNELS

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C_in, D, H, W)`` → ``(N, C_out, D, H, W)``."""
        if self.depth_split:
            out = depth_split_conv3d(x, self.weight, self.bias)
        else:
            out = F.conv3d(x, self.weight, self.bias, padding=1)
        return F.leaky_relu(out, LEAKY_SLOPE, inplace=True)
