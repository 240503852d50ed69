"""``optimize(model)``: a copy of a network with the CPU inference parts swapped in."""

from __future__ import annotations

import itertools
import threading
from typing import Callable, TypeVar

import torch
from torch import nn

from ..models import Pix2Vox
from .fast_decoder import FastDecoder
from .folding import fold_for_inference
from .fusion import FoldedConvBlock

_T = TypeVar("_T")
_BUILDING = threading.Lock()


def optimize(model: Pix2Vox) -> Pix2Vox:
    """A copy of ``model`` for inference on CPUs, with the same :meth:`~Pix2Vox.reconstruct`.

    In the manner of torchvision's ``fuse_model`` or timm's ``reparameterize_model``, parts are
    replaced by equivalent faster ones:

    - encoder: batch norms folded, Winograd 3×3 convolutions (:func:`~pix2vox.cpu.folding.fold_for_inference`);
    - decoder: the first layer as a sparse product, batch norms folded (:class:`~pix2vox.cpu.fast_decoder.FastDecoder`);
    - fusion: batch norms folded, depth-split convolutions (:class:`~pix2vox.cpu.fusion.FoldedConvBlock`);
    - the refiner is shared with ``model``.

    Outputs equal ``model``'s in eval mode to float32 rounding (≤ 1e-4, mostly ~1e-6). The copy
    is a snapshot of the weights, for inference only (no autograd, CPU, float32); ``model`` is
    unchanged. Use :func:`cached_copy` to follow later changes of ``model``'s weights.

    Args:
        model: the network (its mode does not matter: batch norms use their running statistics).

    Returns:
        A :class:`Pix2Vox` whose encoder, decoder and merger are the inference parts, in eval mode.
    """
    with torch.device("meta"):  # the shell only: its parts are replaced below
        fast = Pix2Vox(model.architecture)
    with torch.no_grad():
        fast.encoder = fold_for_inference(model.encoder)
        fast.decoder = FastDecoder(model.decoder)
        for name, block in model.merger.named_children():
            setattr(fast.merger, name, FoldedConvBlock(block))
    fast.refiner = model.refiner
    return fast.eval().requires_grad_(False)


def weights_key(module: nn.Module) -> tuple:
    """What identifies ``module``'s current weights: each parameter's and buffer's storage and version.

    Changes when a tensor is replaced (loading, moving, casting) or modified in place (training,
    ``load_state_dict``), so a copy made from the weights can tell that it is stale. Tensors made
    under ``torch.inference_mode`` have no version counter: only their storage counts.
    """
    tensors = itertools.chain(module.parameters(), module.buffers())
    return tuple((t.data_ptr(), 0 if t.is_inference() else t._version) for t in tensors)


def cached_copy(owner: object, attribute: str, module: nn.Module, build: Callable[[nn.Module], _T]) -> _T:
    """``build(module)``, cached on ``owner.<attribute>`` as ``(weights_key, copy)``.

    Rebuilt whenever :func:`weights_key` of ``module`` changes (loading, training, moving).
    Safe to call from several threads: one builds, the others wait.
    """
    key = weights_key(module)
    cached = getattr(owner, attribute, None)
    if cached is None or cached[0] != key:
        with _BUILDING:
            cached = getattr(owner, attribute, None)
            if cached is None or cached[0] != key:
                cached = (key, build(module))
                setattr(owner, attribute, cached)
    return cached[1]


__all__ = ["cached_copy", "optimize", "weights_key"]
