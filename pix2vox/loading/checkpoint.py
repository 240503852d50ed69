"""Reading checkpoints: the authors' ``.pth`` files and our ``.safetensors`` files.

Both give one flat state dict whose keys are those of :class:`pix2vox.models.Pix2Vox`
(``encoder.vgg.0.weight``, ``decoder.layer1.0.weight``, ``merger…``, ``refiner…``).

The authors' files hold one state dict per component (``encoder_state_dict`` …), saved from
``DataParallel`` modules (every key starts with ``module.``), plus training bookkeeping
(``epoch_idx``, ``best_iou`` as a pickled numpy scalar, maybe solver states, which are ignored).
They are unpickled with ``torch.load(weights_only=True)``, which admits tensors and plain
containers only; the numpy scalar and dtype types are the sole additions.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import warnings
from pathlib import Path
from typing import Mapping

import numpy as np
import torch

from ..errors import CheckpointError
from ..models import ARCHITECTURES, Architecture, Pix2Vox

logger = logging.getLogger(__name__)

COMPONENTS = ("encoder", "decoder", "merger", "refiner")
_PREFIX = "module."


def _numpy_safe_globals() -> list:
    scalar = np._core.multiarray.scalar if hasattr(np, "_core") else np.core.multiarray.scalar
    float_dtypes = [type(np.dtype(t)) for t in ("float64", "float32", "int64", "int32")]
    # Files written with NumPy 1.x name the scalar constructor numpy.core.multiarray.scalar.
    return [scalar, (scalar, "numpy.core.multiarray.scalar"), np.dtype, *float_dtypes]


_CALLABLE = re.compile(r"GLOBAL ([\w.]+)")


def _reason(error: Exception) -> str:
    """The first line of torch's message that is not its advice to turn the safety check off."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    useful = [line for line in lines if "weights_only" not in line and "arbitrary code" not in line]
    return useful[0] if useful else type(error).__name__


_ZIP_MAGIC = b"PK\x03\x04"
# torch.save's format before PyTorch 1.6 (the 2019 releases) starts with a protocol-2 pickle of this number.
LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"


def is_torch_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` starts like a ``torch.save`` file (zip, or the legacy format before PyTorch 1.6)."""
    with open(path, "rb") as file:
        return file.read(len(LEGACY_MAGIC)).startswith((_ZIP_MAGIC, LEGACY_MAGIC))


def _torch_load(path: Path) -> object:
    if not is_torch_file(path):
        raise CheckpointError(f"{path}: not a PyTorch checkpoint file (neither torch.save's zip format nor its legacy format)")
    try:
        # torch warns about pickle protocols and storages of old files; what matters is in our errors.
        with torch.serialization.safe_globals(_numpy_safe_globals()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load fails on garbage in many ways (KeyError, EOFError, ...)
        refused = _CALLABLE.search(str(error)) if isinstance(error, pickle.UnpicklingError) else None
        if refused:
            raise CheckpointError(f"refused: {path} asks to run code ({refused.group(1)}); the authors' checkpoints never do") from None
        raise CheckpointError(f"{path}: not a PyTorch checkpoint, or a truncated one ({_reason(error)})") from None


def _tensors(mapping: object, where: str, path: Path) -> dict[str, torch.Tensor]:
    if not isinstance(mapping, Mapping):
        raise CheckpointError(f"{path}: {where} is a {type(mapping).__name__}, not a state dict")
    out: dict[str, torch.Tensor] = {}
    for key, value in mapping.items():
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{path}: {where}[{key!r}] is not a tensor")
        out[key[len(_PREFIX) :] if key.startswith(_PREFIX) else key] = value
    return out


def read_original(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read one of the authors' ``.pth`` checkpoints.

    Args:
        path: e.g. ``Pix2Vox++-A-ShapeNet.pth``.

    Returns:
        Flat state dict with ``encoder.``/``decoder.``/``merger.``[/``refiner.``] keys, on CPU.

    Raises:
        CheckpointError: missing, truncated or not a checkpoint, or unsafe content.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    content = _torch_load(path)
    if not isinstance(content, Mapping) or "encoder_state_dict" not in content:
        raise CheckpointError(f"{path}: not a Pix2Vox checkpoint (no 'encoder_state_dict' entry)")
    state: dict[str, torch.Tensor] = {}
    for component in COMPONENTS:
        entry = f"{component}_state_dict"
        if entry in content:
            for key, value in _tensors(content[entry], entry, path).items():
                state[f"{component}.{key}"] = value
    if "epoch_idx" in content:
        logger.debug("%s: saved after epoch %s", path, content["epoch_idx"])
    return state


def read_safetensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read one of our ``model.safetensors`` files (flat :class:`Pix2Vox` state dict)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        return load_file(path, device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{path}: not a safetensors file, or a truncated one ({error})") from None


def read_checkpoint(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a ``.safetensors`` file of ours or an original ``.pth`` file (by suffix)."""
    return read_safetensors(path) if Path(path).suffix == ".safetensors" else read_original(path)


def expected_shapes(architecture: Architecture) -> dict[str, torch.Size]:
    """Names and shapes of every entry of the state dict of ``architecture`` (nothing allocated)."""
    with torch.device("meta"):
        model = Pix2Vox(architecture)
    return {key: value.shape for key, value in model.state_dict().items()}


def _differences(state: Mapping[str, torch.Tensor], shapes: Mapping[str, torch.Size]) -> list[str]:
    missing = [k for k in shapes if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in shapes]
    wrong = [f"{k} {tuple(state[k].shape)} (expected {tuple(shapes[k])})" for k in shapes if k in state and state[k].shape != shapes[k]]
    problems = []
    for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)):
        if items:
            more = f" and {len(items) - 3} more" if len(items) > 3 else ""
            problems.append(f"{label}: {', '.join(items[:3])}{more}")
    return problems


def identify(state: Mapping[str, torch.Tensor]) -> list[str]:
    """Names of the known architectures whose layout ``state`` matches exactly."""
    return [name for name, arch in ARCHITECTURES.items() if not _differences(state, expected_shapes(arch))]


def load_into(model: Pix2Vox, state: Mapping[str, torch.Tensor], *, model_name: str, source: str) -> None:
    """Load ``state`` into ``model`` strictly, explaining any mismatch.

    The tensors are assigned, not copied, so ``model`` may live on the meta device. Missing
    ``num_batches_tracked`` buffers (older PyTorch) are filled with zeros; any other
    missing, unexpected or mis-shaped entry is an error that names the variant the checkpoint
    belongs to when it is one of the known ones.

    Raises:
        CheckpointError: the checkpoint does not fit ``model``.
    """
    shapes = {key: value.shape for key, value in model.state_dict().items()}
    problems = _differences(state, shapes)
    if problems:
        matches = identify(state)
        if matches:
            raise CheckpointError(
                f"{source}: this is a {' / '.join(matches)} checkpoint, not {model_name}; "
                f"use Reconstructor({matches[0]!r}, ...) for it"
            )
        raise CheckpointError(f"{source}: does not fit {model_name} nor any known variant ({'; '.join(problems)})")
    full = dict(state)
    for key in shapes:
        if key.endswith("num_batches_tracked") and key not in full:
            full[key] = torch.zeros((), dtype=torch.long)
    model.load_state_dict(full, strict=True, assign=True)
