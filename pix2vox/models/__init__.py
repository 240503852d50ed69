"""Plain ``nn.Module`` implementations of Pix2Vox and Pix2Vox++ (no configuration globals, no I/O).

The networks as the papers describe them; their facts are in ``docs/architecture.md``. Nothing
here imports the optional CPU package :mod:`pix2vox.cpu`, which builds on these modules.
"""

from ..config import ARCHITECTURES, Architecture, HeadLayer
from .pix2vox import INPUT_SIZE, Pix2Vox, Reconstruction

__all__ = ["ARCHITECTURES", "INPUT_SIZE", "Architecture", "HeadLayer", "Pix2Vox", "Reconstruction"]
