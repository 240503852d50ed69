"""Configuration types, free of PyTorch: what defines a network and how its input is prepared.

An :class:`Architecture` holds every number needed to build one of the four published networks
(the numbers come from the authors' code; ``docs/architecture.md`` lists them with the layer
shapes they give); a :class:`PreprocessConfig` the preprocessing a checkpoint was trained with.
Both are plain data, so that the registry and the command lines can read them without loading
PyTorch; the networks themselves are in :mod:`pix2vox.models`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

Backbone = Literal["vgg16_bn", "resnet18", "resnet50"]
Activation = Literal["elu", "relu"]
Fusion = Literal["pix2vox", "pix2voxpp"]


@dataclass(frozen=True)
class HeadLayer:
    """One convolution block of the encoder head: conv → batch norm → activation [→ max pool]."""

    out_channels: int
    kernel_size: int
    padding: int = 0
    pool: int | None = None


@dataclass(frozen=True)
class Architecture:
    """Everything that defines one network variant.

    Attributes:
        backbone: torchvision backbone whose first stages are reused (built without weights).
        head: the three encoder head blocks.
        activation: activation of the encoder head.
        decoder_channels: output channels of decoder layers 1–4.
        fusion: ``"pix2vox"`` (9→16→8→4→2→1 scores) or ``"pix2voxpp"`` (multi-scale scores).
        refiner: whether a refiner follows the fusion.
    """

    backbone: Backbone
    head: tuple[HeadLayer, HeadLayer, HeadLayer]
    activation: Activation
    decoder_channels: tuple[int, int, int, int]
    fusion: Fusion
    refiner: bool

    @property
    def backbone_channels(self) -> int:
        """Channels of the backbone's output feature map (28×28 for a 224×224 input)."""
        return {"vgg16_bn": 512, "resnet18": 128, "resnet50": 512}[self.backbone]

    @property
    def feature_size(self) -> int:
        """Spatial side of the encoder output for a 224×224 input."""
        size = 28
        for layer in self.head:
            size = size + 2 * layer.padding - layer.kernel_size + 1
            if layer.pool:
                size //= layer.pool
        return size

    @property
    def decoder_in_channels(self) -> int:
        """Channels of the 2×2×2 grid the decoder starts from (per-view features / 8)."""
        features = self.head[-1].out_channels * self.feature_size**2
        if features % 8:
            raise ValueError(f"per-view features ({features}) do not reshape to a 2x2x2 grid")
        return features // 8

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (the inverse of :meth:`from_dict`)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Architecture:
        """Rebuild an architecture from :meth:`to_dict` output."""
        fields = dict(data)
        fields["head"] = tuple(HeadLayer(**layer) for layer in fields["head"])
        fields["decoder_channels"] = tuple(fields["decoder_channels"])
        return cls(**fields)


ARCHITECTURES: dict[str, Architecture] = {
    "pix2vox-f": Architecture(
        backbone="vgg16_bn",
        head=(HeadLayer(512, 1), HeadLayer(256, 3, pool=4), HeadLayer(128, 3)),
        activation="elu",
        decoder_channels=(128, 64, 32, 8),
        fusion="pix2vox",
        refiner=False,
    ),
    "pix2vox-a": Architecture(
        backbone="vgg16_bn",
        head=(HeadLayer(512, 3), HeadLayer(512, 3, pool=3), HeadLayer(256, 1)),
        activation="elu",
        decoder_channels=(512, 128, 32, 8),
        fusion="pix2vox",
        refiner=True,
    ),
    "pix2voxpp-f": Architecture(
        backbone="resnet18",
        head=(HeadLayer(128, 3, 1), HeadLayer(64, 3, 1, pool=2), HeadLayer(64, 3, 1, pool=2)),
        activation="relu",
        decoder_channels=(128, 64, 32, 8),
        fusion="pix2voxpp",
        refiner=False,
    ),
    "pix2voxpp-a": Architecture(
        backbone="resnet50",
        head=(HeadLayer(512, 3, 1), HeadLayer(256, 3, 1, pool=2), HeadLayer(256, 3, 1, pool=2)),
        activation="relu",
        decoder_channels=(512, 128, 32, 8),
        fusion="pix2voxpp",
        refiner=True,
    ),
}
"""The authors' four networks, by model name."""


MAX_PIXELS = 40_000_000
"""The default limit on an image read from a file (width × height), checked from its header before
decoding. Pass ``max_pixels=`` to :func:`pix2vox.preprocess.load_image` or
:func:`pix2vox.preprocess.preprocess`, or set ``Reconstructor.max_pixels`` (``None``: no limit;
``pix2vox-export --max-pixels``)."""


@dataclass(frozen=True)
class PreprocessConfig:
    """The preprocessing a checkpoint was trained with.

    Attributes:
        image_size: side of the square network input.
        crop_size: ``official`` mode keeps the central square of this side when both image
            sides exceed it (ShapeNet renderings are 137×137).
        background: grey level in [0, 1] put behind transparent pixels (240/255).
        mean: per-channel mean subtracted after scaling to [0, 1], in RGB order.
        std: per-channel standard deviation, in RGB order.
        channel_order: ``"bgr"`` for the authors' networks (OpenCV order), or ``"rgb"``.
        object_fill: ``auto`` mode makes the object's longer side span this fraction of the
            input, about what it spans in a ShapeNet rendering after the official crop.
        exif_transpose: ``auto`` mode applies the EXIF orientation of files; ``official``
            mode never does, like ``cv2.imread(IMREAD_UNCHANGED)``.
    """

    image_size: int = 224
    crop_size: int = 128
    background: float = 240 / 255
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    channel_order: Literal["bgr", "rgb"] = "bgr"
    object_fill: float = 0.8
    exif_transpose: bool = True

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (the inverse of :meth:`from_dict`)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreprocessConfig:
        """Rebuild a configuration from :meth:`to_dict` output."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
