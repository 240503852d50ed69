"""Batch norms folded into the convolutions before them, and the encoder's inference copy."""

from __future__ import annotations

import copy

import torch
from torch import nn

from .winograd import WinogradConv2d


def batch_norm_affine(norm: nn.modules.batchnorm._BatchNorm) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch norm in eval mode as ``x · scale + shift`` per channel; both float64 ``(C,)``."""
    scale = norm.weight.double() * torch.rsqrt(norm.running_var.double() + norm.eps)
    return scale, norm.bias.double() - norm.running_mean.double() * scale


def _folded_conv(conv: nn.Conv2d, norm: nn.BatchNorm2d) -> nn.Module:
    """``conv`` followed by ``norm`` (in eval mode) as one convolution, computed in float64."""
    scale, shift = batch_norm_affine(norm)
    weight = conv.weight.double() * scale.view(-1, 1, 1, 1)
    bias = shift if conv.bias is None else conv.bias.double() * scale + shift
    weight, bias = weight.to(conv.weight.dtype), bias.to(conv.weight.dtype)
    if WinogradConv2d.applies_to(conv):
        return WinogradConv2d(weight.contiguous(memory_format=torch.channels_last), bias, conv.padding[0])
    folded = nn.Conv2d(
        conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride, padding=conv.padding,
        dilation=conv.dilation, groups=conv.groups, padding_mode=conv.padding_mode,
        device=conv.weight.device, dtype=conv.weight.dtype,
    )
    folded.weight.data = weight.contiguous(memory_format=torch.channels_last)
    folded.bias.data = bias
    return folded.requires_grad_(False)


def _fold(module: nn.Module) -> None:
    children = list(module.named_children())
    for (name, child), (next_name, next_child) in zip(children, children[1:]):
        # Registration order is execution order in the networks this is used on (nn.Sequential,
        # torchvision's VGG layers and ResNet blocks): each convolution's batch norm follows it.
        if isinstance(child, nn.Conv2d) and isinstance(next_child, nn.BatchNorm2d):
            setattr(module, name, _folded_conv(child, next_child))
            setattr(module, next_name, nn.Identity())
    for name, child in module.named_children():
        if isinstance(child, (nn.ReLU, nn.ELU, nn.LeakyReLU)):
            child.inplace = True  # every activation here follows a freshly computed tensor
        elif not isinstance(child, (nn.Conv2d, WinogradConv2d)):
            _fold(child)


def fold_for_inference(module: nn.Module) -> nn.Module:
    """A copy of a 2D network for inference on CPUs.

    Every ``Conv2d`` → ``BatchNorm2d`` pair becomes one convolution (the batch norm's running
    statistics and affine parameters folded into the weights), stride-1 3×3 convolutions become
    :class:`~pix2vox.cpu.winograd.WinogradConv2d`, activations run in place and weights are
    stored channels-last. The copy's ``forward`` is the module's own. Results equal the
    module's in eval mode to float32 rounding (about 1e-5 of each activation's magnitude where
    Winograd is used).

    The copy costs a second copy of the weights plus the Winograd kernels (4× the weights of the
    layers that use them): for the encoders about 80 MB (Pix2Vox-F), 145 MB (Pix2Vox-A), 4 MB
    (Pix2Vox++/F) and 75 MB (Pix2Vox++/A).

    Args:
        module: a 2D network (e.g. :class:`~pix2vox.models.encoder.Encoder`: ``nn.Sequential``
            of convolutions, batch norms, activations and pools, or torchvision ResNet stages).

    Returns:
        An independent copy in eval mode without gradients; ``module`` is unchanged.
    """
    folded = copy.deepcopy(module).eval().requires_grad_(False)
    _fold(folded)
    return folded
