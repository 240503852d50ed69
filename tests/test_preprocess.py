"""Preprocessing: the official transforms against an OpenCV re-enactment, and the auto mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from pix2vox import ImageError, PreprocessConfig
from pix2vox.preprocess import EncodedImage, load_image, preprocess
from pix2vox.testing import make_rendering

from .reference import opencv_official

pytest.importorskip("cv2")

CONFIG = PreprocessConfig()
GREY = (240 / 255 - 0.5) / 0.5


def _write(tmp_path: Path, name: str, array: np.ndarray, mode: str | None = None, **save) -> Path:
    path = tmp_path / name
    Image.fromarray(array, mode).save(path, **save)
    return path


def _cases(tmp_path: Path) -> list[Path]:
    rng = np.random.default_rng(0)
    rendering = make_rendering(7)
    big = (rng.random((300, 200, 3)) * 255).astype(np.uint8)
    small = make_rendering(8, size=100)[:, :90]
    grey = (rng.random((150, 150)) * 255).astype(np.uint8)
    palette = Image.fromarray(make_rendering(9)[..., :3]).quantize(16)
    palette.save(tmp_path / "palette.png")
    return [
        _write(tmp_path, "render.png", rendering),
        _write(tmp_path, "photo.jpg", big, quality=90),
        _write(tmp_path, "big.png", big),
        _write(tmp_path, "small.png", small),
        _write(tmp_path, "grey.png", grey),
        _write(tmp_path, "grey_alpha.png", np.dstack([grey, (grey > 100) * 255]).astype(np.uint8), "LA"),
        tmp_path / "palette.png",
    ]


def test_official_mode_reproduces_the_original_transforms(tmp_path: Path) -> None:
    for path in _cases(tmp_path):
        ours = preprocess(path, CONFIG, "official")
        assert ours.shape == (1, 3, 224, 224) and ours.dtype == torch.float32
        difference = (ours[0] - opencv_official(path)).abs().max().item()
        assert difference <= 1e-5, f"{path.name}: {difference}"


def test_official_mode_replaces_only_fully_transparent_pixels() -> None:
    image = np.zeros((137, 137, 4), np.uint8)  # black, fully transparent ...
    image[40:100, 40:100] = (0, 0, 255, 255)  # ... except an opaque blue square
    out = preprocess(image, CONFIG, "official")[0]
    assert torch.allclose(out[:, 0, 0], torch.full((3,), GREY))
    centre = out[:, 112, 112]  # BGR order: blue comes first
    assert torch.allclose(centre, torch.tensor([1.0, -1.0, -1.0]))
    # the resize blends the square's border with the black transparent pixels; those pixels
    # have 0 < alpha < 1, so they keep their darkened blue instead of getting the grey
    blue = out[0]
    assert ((blue > -1 + 1e-3) & (blue < 1 - 1e-3) & ((blue - GREY).abs() > 1e-3)).any()


def test_every_input_type_gives_the_same_tensor(tmp_path: Path) -> None:
    array = make_rendering(3)
    path = _write(tmp_path, "v.png", array)
    expected = preprocess(path, CONFIG, "official")
    for view in (Image.open(path), array, array.astype(np.float32) / 255, torch.from_numpy(array).permute(2, 0, 1)):
        assert torch.allclose(preprocess(view, CONFIG, "official"), expected, atol=1e-6)
    assert preprocess([path, path], CONFIG, "official").shape == (2, 3, 224, 224)


def test_auto_mode_centres_and_scales_the_object() -> None:
    canvas = np.zeros((400, 600, 4), np.uint8)
    canvas[50:150, 380:580] = (200, 30, 30, 255)  # 100 x 200 red box, off centre
    out = preprocess(canvas, CONFIG, "auto")[0]
    red = (out[2] > 0.3) & (out[0] < -0.5)  # BGR order: red high, blue low
    ys, xs = np.nonzero(red.numpy())
    width = xs.max() - xs.min() + 1
    assert abs(width - CONFIG.object_fill * 224) <= 3
    # Centred, its box a little below the middle as in the training renderings (FRAME_SHIFT).
    from pix2vox.preprocess import FRAME_SHIFT

    assert abs((xs.min() + xs.max()) / 2 - 111.5) <= 2 and abs((ys.min() + ys.max()) / 2 - 111.5 - FRAME_SHIFT * 224) <= 2
    assert torch.allclose(out[:, 2, 2], torch.full((3,), GREY), atol=1e-6)


def test_auto_mode_finds_objects_on_a_plain_background() -> None:
    image = np.full((300, 300, 3), 255, np.uint8)
    image[100:160, 20:140] = (10, 120, 10)
    out = preprocess(image, CONFIG, "auto")[0]
    ys, xs = np.nonzero(((out[1] > -0.2) & (out[0] < -0.5)).numpy())  # green in BGR
    assert abs(xs.max() - xs.min() + 1 - CONFIG.object_fill * 224) <= 3


def test_auto_mode_treats_alpha_as_the_training_renderings() -> None:
    """Partly transparent pixels keep their colour and only fully transparent ones turn grey, as in
    the official transform the network was trained with."""
    image = np.zeros((64, 64, 4), np.uint8)
    image[8:56, 8:56, :3] = 255
    image[8:56, 8:56, 3] = 128
    out = preprocess(image, CONFIG, "auto")[0]
    assert abs(out[0, 112, 112].item() - 1.0) < 1e-3  # white kept
    assert abs(out[0, 2, 2].item() - (240 / 255 - 0.5) / 0.5) < 1e-3  # background grey


def test_exif_orientation(tmp_path: Path) -> None:
    image = Image.fromarray(np.zeros((40, 80, 3), np.uint8))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise for display
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif)
    assert load_image(path, exif_transpose=True).shape == (80, 40, 3)
    assert load_image(path, exif_transpose=False).shape == (40, 80, 3)


def test_sixteen_bit_and_greyscale(tmp_path: Path) -> None:
    deep = np.full((20, 30), 30000, np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(deep).save(path)
    loaded = load_image(path)
    assert loaded.shape == (20, 30, 3)
    assert np.allclose(loaded, 30000 / 65535)
    assert np.allclose(load_image(deep), 30000 / 65535)


@pytest.mark.parametrize(
    ("view", "message"),
    [
        ("missing.png", "no such file"),
        (np.zeros((4, 4, 5), np.uint8), "1–4 channels"),
        (np.zeros((4, 4), np.int64), "dtype"),
        (torch.zeros(7, 4, 4), "C in 1, 3, 4"),
        (42, "not an image"),
    ],
)
def test_bad_views(tmp_path: Path, view, message: str) -> None:
    if isinstance(view, str):
        view = tmp_path / view
    with pytest.raises(ImageError, match=message):
        preprocess(view, CONFIG, "auto")


def test_a_text_file_named_png(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("not an image")
    with pytest.raises(ImageError, match=r"notes\.png: not a readable image"):
        preprocess([path], CONFIG, "official")


def test_no_views() -> None:
    with pytest.raises(ImageError, match="at least one"):
        preprocess([], CONFIG, "auto")


def test_auto_keeps_the_framing_of_shapenet_like_renderings():
    """A 137×137 RGBA rendering whose object sits inside the central 128 square, filling 45-98 % of
    it, goes through auto exactly as through official; moved off-centre or shrunk, it is re-cropped
    around the object."""
    from pix2vox.preprocess.framing import _object_box, _rendering_frame

    config = PreprocessConfig(object_fill=0.75)
    image = np.zeros((137, 137, 4), np.float32)
    image[30:110, 40:100] = (0.2, 0.4, 0.6, 1.0)  # 80 px tall: 62 % of 128
    assert _rendering_frame(image, _object_box(image[..., 3]), config) == (4, 4, 128)
    auto, official = preprocess([image], config, "auto"), preprocess([image], config, "official")
    torch.testing.assert_close(auto, official, atol=0, rtol=0)  # the very transform it was trained with
    recropped = preprocess([image], PreprocessConfig(object_fill=0.5), "auto")
    torch.testing.assert_close(recropped, auto)  # object_fill does not apply to such a rendering

    small = np.zeros_like(image)
    small[60:80, 60:80] = (0.2, 0.4, 0.6, 1.0)  # 16 % of the square: not a ShapeNet framing
    assert _rendering_frame(small, _object_box(small[..., 3]), config) is None
    corner = np.zeros_like(image)
    corner[0:80, 0:60] = (0.2, 0.4, 0.6, 1.0)  # outside the central square
    assert _rendering_frame(corner, _object_box(corner[..., 3]), config) is None
    opaque = image.copy()
    opaque[..., 3] = 1.0
    assert _rendering_frame(opaque, _object_box(opaque[..., 3]), config) is None


def test_encoded_image_reads_as_its_file(rendering_files):
    """The bytes of a file (as fetched from object storage) give exactly what the file gives."""
    path = rendering_files[0]
    encoded = EncodedImage(path.read_bytes(), "s3://bucket/00.png")
    np.testing.assert_array_equal(load_image(encoded), load_image(path))
    config = PreprocessConfig()
    for mode in ("auto", "official"):
        torch.testing.assert_close(preprocess([encoded], config, mode), preprocess([path], config, mode), rtol=0, atol=0)


def test_encoded_image_errors_name_it():
    with pytest.raises(ImageError, match=r"^s3://bucket/broken.png: not a readable image"):
        load_image(EncodedImage(b"\x89PNG\r\n\x1a\n truncated", "s3://bucket/broken.png"))
