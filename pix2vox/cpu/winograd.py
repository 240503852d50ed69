"""3×3 convolutions by Winograd's minimal filtering F(4×4, 3×3), for inference on CPUs.

Each 4×4 block of outputs is computed from a 6×6 block of inputs with 36 products per
(input, output) channel pair instead of 144, so the wide 3×3 convolutions of the VGG16 backbone
and of the encoder heads need about a quarter of the multiplications. The transforms are those of
Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (CVPR 2016), with the
interpolation points 0, ±1, ±2. In float32 the results differ from a direct convolution by about
1e-5 of the output's magnitude.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

_TILE = 4  # outputs per tile side
_SPAN = _TILE + 2  # inputs per tile side (3×3 kernel)

# Rows of the input transform Bᵀ, the kernel transform G and the output transform Aᵀ.
_BT = ((4, 0, -5, 0, 1, 0), (0, -4, -4, 1, 1, 0), (0, 4, -4, -1, 1, 0),
       (0, -2, -1, 2, 1, 0), (0, 2, -1, -2, 1, 0), (0, 4, 0, -5, 0, 1))
_G = ((1 / 4, 0, 0), (-1 / 6, -1 / 6, -1 / 6), (-1 / 6, 1 / 6, -1 / 6),
      (1 / 24, 1 / 12, 1 / 6), (1 / 24, -1 / 12, 1 / 6), (0, 0, 1))
_AT = ((1, 1, 1, 1, 1, 0), (0, 1, -1, 2, -2, 0), (0, 1, 1, 4, 4, 0), (0, 1, -1, 8, -8, 1))


@functools.lru_cache(maxsize=None)
def _transforms(device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """The 2D input (36×36) and output (16×36) transforms, as Kronecker products of the 1D ones."""
    bt = torch.tensor(_BT, dtype=torch.float64)
    at = torch.tensor(_AT, dtype=torch.float64)
    return torch.kron(bt, bt).to(device, dtype), torch.kron(at, at).to(device, dtype)


def transform_weight(weight: torch.Tensor) -> torch.Tensor:
    """Transform 3×3 kernels for :func:`conv3x3`.

    Args:
        weight: ``(C_out, C_in, 3, 3)`` convolution weight.

    Returns:
        ``(36, C_in, C_out)`` transformed kernels (computed in float64, returned in the weight's dtype).
    """
    g = torch.tensor(_G, dtype=torch.float64, device=weight.device)
    u = torch.einsum("ai,ocij,bj->aboc", g, weight.double(), g)
    return u.reshape(_SPAN * _SPAN, weight.shape[0], weight.shape[1]).transpose(1, 2).to(weight.dtype).contiguous()


def conv3x3(x: torch.Tensor, kernels: torch.Tensor, bias: torch.Tensor, padding: int) -> torch.Tensor:
    """A stride-1 3×3 convolution by F(4×4, 3×3).

    Args:
        x: ``(N, C_in, H, W)`` input (channels-last memory is fastest).
        kernels: ``(36, C_in, C_out)`` from :func:`transform_weight`.
        bias: ``(C_out,)``.
        padding: zero padding on each side (0 or 1).

    Returns:
        ``(N, C_out, H + 2·padding − 2, W + 2·padding − 2)`` in channels-last memory.
    """
    n, c_in, h, w = x.shape
    c_out = kernels.shape[2]
    h_out, w_out = h + 2 * padding - 2, w + 2 * padding - 2
    th, tw = -(-h_out // _TILE), -(-w_out // _TILE)
    # Zero-pad so that the tiles cover the output exactly, then view the overlapping 6×6 tiles
    # as (tile row, tile column) strides of the channels-last input.
    padded = F.pad(x, (padding, _TILE * tw + 2 - w - padding, padding, _TILE * th + 2 - h - padding))
    padded = padded.permute(0, 2, 3, 1).contiguous()  # (N, H', W', C): a no-op for channels-last input
    s_n, s_h, s_w, _ = padded.stride()
    tiles = padded.as_strided((_SPAN, _SPAN, n, th, tw, c_in), (s_h, s_w, s_n, _TILE * s_h, _TILE * s_w, 1))
    input_transform, output_transform = _transforms(x.device, x.dtype)
    v = torch.mm(input_transform, tiles.reshape(_SPAN * _SPAN, -1)).view(_SPAN * _SPAN, n * th * tw, c_in)
    m = torch.bmm(v, kernels)  # (36, tiles, C_out): one matrix product per tile element
    y = torch.mm(output_transform, m.view(_SPAN * _SPAN, -1)).view(_TILE, _TILE, n, th, tw, c_out)
    out = x.new_empty((n, th, _TILE, tw, _TILE, c_out))
    torch.add(y.permute(2, 3, 0, 4, 1, 5), bias, out=out)
    out = out.view(n, _TILE * th, _TILE * tw, c_out).permute(0, 3, 1, 2)
    return out[:, :, :h_out, :w_out] if (h_out, w_out) != out.shape[2:] else out


def worthwhile(c_in: int, c_out: int, height: int) -> bool:
    """Whether F(4×4, 3×3) beats oneDNN's direct convolution on a CPU for this layer.

    Measured on 2 AVX-512 cores with two views per batch, both as one two-threaded pass and
    as two single-threaded passes side by side: the transforms cost memory traffic in
    proportion to ``C_in + C_out`` per output, the savings grow with ``C_in·C_out``. Large
    maps need more channels (their transforms leave the caches); tiny maps leave too few tiles.
    """
    balance = c_in * c_out / (c_in + c_out)
    return balance >= 64 if height >= 48 else (balance >= 40 and height >= 12)


class WinogradConv2d(nn.Module):
    """An inference-only stride-1 3×3 convolution that uses F(4×4, 3×3) where it is faster.

    Args:
        weight: ``(C_out, C_in, 3, 3)``.
        bias: ``(C_out,)``.
        padding: 0 or 1.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, padding: int):
        super().__init__()
        self.register_buffer("weight", weight)
        self.register_buffer("bias", bias)
        self.padding = padding
        self._kernels: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c_out, c_in = self.weight.shape[:2]
        if x.device.type != "cpu" or not worthwhile(c_in, c_out, x.shape[2] + 2 * self.padding - 2):
            return F.conv2d(x, self.weight, self.bias, padding=self.padding)
        if self._kernels is None:
            self._kernels = transform_weight(self.weight)
        return conv3x3(x, self._kernels, self.bias, self.padding)

    @staticmethod
    def applies_to(conv: nn.Conv2d) -> bool:
        """Whether ``conv`` is a plain stride-1 3×3 convolution with padding 0 or 1."""
        return (
            conv.kernel_size == (3, 3) and conv.stride == (1, 1) and conv.dilation == (1, 1)
            and conv.groups == 1 and conv.padding in ((0, 0), (1, 1)) and conv.padding_mode == "zeros"
        )
