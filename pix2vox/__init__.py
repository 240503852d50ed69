"""Pix2Vox and Pix2Vox++: 3D occupancy volumes from one or more images.

>>> from pix2vox import Reconstructor                      # doctest: +SKIP
>>> Reconstructor("pix2voxpp-a").predict(["front.png"])   # doctest: +SKIP

Names are imported on first use, so that ``import pix2vox`` (and the command-line programs
that need no network) start without loading PyTorch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import CheckpointError, DownloadError, ImageError, NotPublishedError, Pix2VoxError, UnknownModelError

__version__ = "0.1.0"

_LAZY = {
    "PreprocessConfig": ".config",
    "Reconstructor": ".reconstructor",
    "Result": ".result",
    "ModelRecord": ".loading.registry",
    "get_record": ".loading.registry",
    "list_models": ".loading.registry",
    "register": ".loading.registry",
}

if TYPE_CHECKING:
    from .config import PreprocessConfig
    from .reconstructor import Reconstructor
    from .loading.registry import ModelRecord, get_record, list_models, register
    from .result import Result

__all__ = [
    "CheckpointError",
    "DownloadError",
    "ImageError",
    "ModelRecord",
    "NotPublishedError",
    "Pix2VoxError",
    "PreprocessConfig",
    "Reconstructor",
    "Result",
    "UnknownModelError",
    "__version__",
    "get_record",
    "list_models",
    "register",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
