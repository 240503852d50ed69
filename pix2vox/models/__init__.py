"""Pure ``nn.Module`` implementations of Pix2Vox and Pix2Vox++ (no configuration globals, no I/O)."""

from .architecture import ARCHITECTURES, Architecture, HeadLayer
from .pix2vox import INPUT_SIZE, Pix2Vox, Reconstruction

__all__ = ["ARCHITECTURES", "INPUT_SIZE", "Architecture", "HeadLayer", "Pix2Vox", "Reconstruction"]
