"""Training Pix2Vox / Pix2Vox++ networks (``pix2vox-train``).

Not imported by ``import pix2vox``: inference never pays for it.
"""

from .data import Augmentation, TrainViews, train_transform
from .loop import TrainConfig, init_weights, save_pretrained, train

__all__ = ["Augmentation", "TrainConfig", "TrainViews", "init_weights", "save_pretrained", "train", "train_transform"]
