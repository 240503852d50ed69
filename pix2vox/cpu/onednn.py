"""Matrix products through oneDNN on CPUs, where it beats the default BLAS, with a public fallback.

oneDNN's product is reachable only through the private ``torch.ops.mkldnn._linear_pointwise``,
whose signature may change between PyTorch releases. It is therefore probed once, on first
use, against :func:`torch.nn.functional.linear`; when it is missing, fails or disagrees, every
product goes through :func:`torch.nn.functional.linear`.
"""

from __future__ import annotations

import functools
import logging
from typing import Callable, Optional

import torch
import torch.nn.functional as F

logger = logging.getLogger(__name__)

LinearOp = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _private_op() -> LinearOp | None:
    """``x, weight → x @ weight.T`` through the private oneDNN op, or ``None`` if this build lacks it."""
    try:
        op = torch.ops.mkldnn._linear_pointwise
    except (AttributeError, RuntimeError):  # a build without oneDNN
        return None
    return lambda x, weight: op(x, weight, None, "none", [], "")


def probe(candidate: LinearOp | None) -> LinearOp | None:
    """``candidate`` if it computes ``x @ weight.T`` on a small float32 example, else ``None``."""
    if candidate is None:
        return None
    generator = torch.Generator().manual_seed(0)
    x, weight = torch.randn(5, 7, generator=generator), torch.randn(3, 7, generator=generator)
    try:
        with torch.no_grad():
            out = candidate(x, weight)
        works = isinstance(out, torch.Tensor) and torch.allclose(out, F.linear(x, weight), atol=1e-5)
    except Exception as error:  # noqa: BLE001: any failure means "do not use it"
        logger.info("oneDNN linear unavailable (%s); using torch.nn.functional.linear", error)
        return None
    if not works:
        logger.info("oneDNN linear disagrees with torch.nn.functional.linear; not used")
    return candidate if works else None


@functools.lru_cache(maxsize=None)
def onednn_linear() -> Optional[LinearOp]:
    """The probed private op (once per process), or ``None`` when the public fallback is used."""
    return probe(_private_op())


def linear(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``x @ weight.T`` for 2D tensors, without autograd.

    On CPUs in float32, the product runs through oneDNN when :func:`onednn_linear` found it
    working: about 30 % faster than the default BLAS (MKL) on the AMD processors we measured.
    Otherwise :func:`torch.nn.functional.linear`. Results agree to float rounding.
    """
    op = onednn_linear() if x.device.type == "cpu" and x.dtype == torch.float32 else None
    return op(x, weight) if op is not None else F.linear(x, weight)
