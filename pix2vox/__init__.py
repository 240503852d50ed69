"""Pix2Vox and Pix2Vox++: 3D occupancy volumes from one or more images.

>>> from pix2vox import Reconstructor                      # doctest: +SKIP
>>> Reconstructor("pix2voxpp-a").predict(["front.png"])   # doctest: +SKIP
"""

__version__ = "0.1.0"

from .errors import CheckpointError, ImageError, Pix2VoxError, UnknownModelError
from .preprocess import PreprocessConfig
from .reconstructor import Reconstructor
from .registry import Weights, get_weights, list_models
from .result import Result

__all__ = [
    "CheckpointError",
    "ImageError",
    "Pix2VoxError",
    "PreprocessConfig",
    "Reconstructor",
    "Result",
    "UnknownModelError",
    "Weights",
    "__version__",
    "get_weights",
    "list_models",
]
