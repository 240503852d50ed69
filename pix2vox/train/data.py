"""Training data: ShapeNet-layout samples → augmented views and ground-truth volumes.

Augmentations follow the authors' training transforms (``core/train.py`` of Pix2Vox and
Pix2Vox++), where they are cheap and safe:

* random crop: a ``crop_size`` window anywhere in the image instead of the centre one;
* random background colour, each channel drawn from [225, 255] / 255, put behind the pixels
  whose alpha is exactly 0 after the resize (the same pixels the test transform paints grey);
* colour jitter (brightness, contrast, saturation, each a factor in [0.6, 1.4], random order);
* random permutation of the colour channels.

Left out: the PCA lighting noise (minor), and the random horizontal flip, which the authors
apply to the image only. Voxels are in the object's canonical frame, not the camera's, so a
mirrored picture shows an object whose canonical voxels are mirrored about a plane that depends
on the camera azimuth, not a grid axis; flipping the image alone teaches wrong answers for
asymmetric objects, and no cheap voxel flip matches it.

Geometry (crop, OpenCV-exact resize, alpha test, normalisation, BGR order) is done by
:func:`pix2vox.preprocess.official_transform` itself, so with augmentation off a training view
is bit-identical to what ``preprocess="official"`` gives at test time.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from pix2vox.datasets import ShapeNetSample
from pix2vox.datasets.shapenet import view_files
from pix2vox.preprocess import PreprocessConfig, normalise, load_image, official_transform

__all__ = ["Augmentation", "TrainViews", "train_transform"]

_GREY = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """Training-time augmentations (all off gives the official test transform exactly).

    Attributes:
        random_crop: crop a random ``crop_size`` window instead of the central one.
        background: range of each background channel, in [0, 255]; ``None`` keeps the
            configuration's grey.
        jitter: brightness/contrast/saturation factors are drawn from ``[1 - jitter, 1 + jitter]``.
        permute_channels: shuffle the three colour channels.
    """

    random_crop: bool = True
    background: tuple[int, int] | None = (225, 255)
    jitter: float = 0.4
    permute_channels: bool = True

    @classmethod
    def none(cls) -> Augmentation:
        """No augmentation at all."""
        return cls(random_crop=False, background=None, jitter=0.0, permute_channels=False)


def _jitter(rgb: torch.Tensor, amount: float, rng: np.random.Generator) -> torch.Tensor:
    grey_weights = torch.from_numpy(_GREY)[:, None, None]
    for op in rng.permutation(3):
        factor = float(rng.uniform(1 - amount, 1 + amount))
        if op == 0:  # brightness
            rgb = rgb * factor
        elif op == 1:  # contrast: towards the mean grey level
            rgb = rgb * factor + (rgb * grey_weights).sum(0).mean() * (1 - factor)
        else:  # saturation: towards each pixel's grey level
            rgb = rgb * factor + (rgb * grey_weights).sum(0, keepdim=True) * (1 - factor)
    return rgb.clamp(0, 1)


def train_transform(
    image: np.ndarray, config: PreprocessConfig, augmentation: Augmentation, rng: np.random.Generator
) -> torch.Tensor:
    """One augmented training view.

    Args:
        image: ``(H, W, 3|4)`` float32 RGB(A) in [0, 1] (see :func:`pix2vox.preprocess.load_image`).
        config: the preprocessing the checkpoint will be used with.
        augmentation: what to randomise.
        rng: source of randomness.

    Returns:
        ``(3, image_size, image_size)`` float32, normalised, channels in ``config.channel_order``.
    """
    h, w = image.shape[:2]
    crop = config.crop_size
    if augmentation.random_crop and h > crop and w > crop:
        top, left = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
        image = image[top : top + crop, left : left + crop]  # no longer > crop: only resized below
    if augmentation.background is None and not augmentation.jitter and not augmentation.permute_channels:
        return official_transform(image, config)
    # NaN marks exactly the pixels the official transform paints with the background.
    out = official_transform(image, dataclasses.replace(config, background=float("nan")))
    if config.channel_order == "bgr":
        out = out.flip(0)
    rgb = out * torch.tensor(config.std)[:, None, None] + torch.tensor(config.mean)[:, None, None]
    low, high = augmentation.background or (round(config.background * 255),) * 2
    colour = torch.from_numpy(rng.integers(low, high + 1, size=3).astype(np.float32) / 255)[:, None, None]
    rgb = torch.where(torch.isnan(rgb), colour, rgb)
    if augmentation.jitter:
        rgb = _jitter(rgb, augmentation.jitter, rng)
    out = normalise(rgb, config)
    if augmentation.permute_channels:
        out = out[torch.from_numpy(rng.permutation(3))]
    return out


class TrainViews(Dataset):
    """Objects of a ShapeNet-layout split, each with ``n_views`` randomly drawn renderings.

    Item ``i`` is ``(views, volume)``: ``(n_views, 3, 224, 224)`` float32 and ``(32, 32, 32)``
    float32 in {0, 1}. Its randomness (which renderings, augmentation) depends only on
    ``(seed, epoch, i)``; call :meth:`set_epoch` before each epoch.

    Args:
        samples: the objects (e.g. a :class:`pix2vox.datasets.ShapeNetDataset`); all renderings
            in each object's folder are candidates.
        config: the preprocessing of the checkpoint being trained.
        n_views: renderings per object.
        augmentation: training augmentations; ``None`` for none (validation).
        seed: base seed.
    """

    def __init__(
        self,
        samples: Sequence[ShapeNetSample],
        config: PreprocessConfig,
        *,
        n_views: int = 1,
        augmentation: Augmentation | None = None,
        seed: int = 0,
    ):
        self.samples = list(samples)
        self.config = config
        self.n_views = n_views
        self.augmentation = augmentation or Augmentation.none()
        self.seed = seed
        self.epoch = 0
        self._views = [view_files(s.view_paths[0].parent) for s in self.samples]
        short = [s.model_id for s, v in zip(self.samples, self._views) if len(v) < n_views]
        if short:
            raise ValueError(f"{len(short)} objects have fewer than {n_views} renderings, e.g. {short[0]}")

    def set_epoch(self, epoch: int) -> None:
        """Select the random stream of an epoch."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        sample = self.samples[index]
        key = zlib.crc32(f"{sample.taxonomy_id}/{sample.model_id}".encode())
        rng = np.random.default_rng([self.seed, self.epoch, key])
        paths = self._views[index]
        chosen = rng.choice(len(paths), size=self.n_views, replace=False)
        views = [
            train_transform(load_image(paths[i], exif_transpose=False), self.config, self.augmentation, rng)
            for i in chosen
        ]
        volume = torch.from_numpy(sample.load_volume().astype(np.float32))
        return torch.stack(views), volume
