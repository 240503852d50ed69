"""Bad or hostile inputs end in the package's own errors or warnings; a fuzz test of the readers."""

from __future__ import annotations

import io
import logging
import struct
import zlib
from pathlib import Path

import numpy as np
import torch
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from pix2vox import ImageError, Pix2VoxError, PreprocessConfig
from pix2vox.cli.export import main
from pix2vox.exchange.binvox import encode_binvox, read_binvox
from pix2vox.preprocess import DECODE_SIDE, load_image, preprocess

from .cli_helpers import assert_user_error


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width × height`` pixels but holds a few bytes of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_from_the_header(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(13000, 13000))
    with pytest.raises(ImageError, match=f"{bomb}: 13000×13000 pixels is more than the limit of 40,000,000"):
        load_image(bomb)
    assert_user_error(main([str(bomb), "-o", str(tmp_path / "x.obj")]), capsys.readouterr().err, "bomb.png: 13000×13000")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.png"]


def test_pixel_limit_is_configurable(tmp_path: Path) -> None:
    path = tmp_path / "small.png"
    Image.new("RGB", (100, 50)).save(path)
    with pytest.raises(ImageError, match="100×50 pixels is more than the limit of 4,999"):
        load_image(path, max_pixels=4999)
    assert load_image(path, max_pixels=None).shape == (50, 100, 3)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_large_images_are_shrunk_while_decoding(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"large{suffix}"
    Image.new("RGB", (4 * DECODE_SIDE + 40, 2 * DECODE_SIDE), (200, 30, 30)).save(path)
    image = load_image(path)
    assert image.shape == (DECODE_SIDE // 2, DECODE_SIDE + 10, 3)  # a quarter of each side
    np.testing.assert_allclose(image[10, 10], np.array([200, 30, 30]) / 255, atol=0.02)


@pytest.mark.parametrize("array", [np.full((8, 8, 3), 255.0, np.float32), np.full((8, 8, 3), -0.5)])
def test_float_arrays_outside_zero_one_are_refused(array: np.ndarray) -> None:
    with pytest.raises(ImageError, match=r"float images must lie in \[0, 1\] \(divide 0–255 data by 255"):
        load_image(array)


def test_multi_frame_image_warns_naming_the_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "spin.gif"
    frames = [Image.new("RGB", (16, 16), (80 * i, 0, 0)) for i in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    with caplog.at_level(logging.WARNING, logger="pix2vox"):
        load_image(path)
    assert f"{path}: has 3 frames; only the first is used" in caplog.text


@pytest.mark.parametrize(
    ("name", "image"),
    [
        ("white", Image.new("RGB", (40, 30), (255, 255, 255))),
        ("grey", Image.new("L", (40, 30), 90)),
        ("transparent", Image.new("RGBA", (40, 30), (10, 200, 10, 0))),
        ("dot", Image.new("RGB", (1, 1), (10, 20, 30))),
    ],
)
@pytest.mark.parametrize("mode", ["auto", "official"])
def test_view_without_an_object_warns(tmp_path: Path, name: str, image: Image.Image, mode: str, caplog) -> None:
    path = tmp_path / f"{name}.png"
    image.save(path)
    with caplog.at_level(logging.WARNING, logger="pix2vox"):
        preprocess([path], PreprocessConfig(), mode)
    assert f"{path}: no object found" in caplog.text


def test_view_with_an_object_does_not_warn(rendering_files: list[Path], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="pix2vox"):
        preprocess(rendering_files[:2], PreprocessConfig(), "auto")
    assert "no object found" not in caplog.text


# --- fuzzing: any bytes give a result or the package's own error ------------------------------

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
_VALID_BINVOX = encode_binvox(np.eye(4, dtype=bool)[:, :, None].repeat(4, axis=2), translate=(0.5, -1.0, 2.0), scale=3.0)


def _mutations(seed: bytes) -> st.SearchStrategy[bytes]:
    """Random bytes, and the valid file with bytes replaced, cut off or inserted."""

    def mutate(data: tuple[int, int, bytes]) -> bytes:
        position, cut, noise = data
        position %= len(seed) + 1
        return seed[:position] + noise + seed[position + cut :]

    edits = st.tuples(st.integers(0, 10_000), st.integers(0, 8), st.binary(max_size=12)).map(mutate)
    return st.one_of(st.binary(max_size=300), edits)


@FUZZ
@given(_mutations(_VALID_BINVOX))
def test_fuzz_binvox_reader(data: bytes) -> None:
    try:
        grid = read_binvox(io.BytesIO(data))
    except Pix2VoxError:
        return
    dim = grid.occupancy.shape[0]
    assert grid.occupancy.shape == (dim, dim, dim) and grid.occupancy.dtype == bool
    assert np.isfinite(grid.translate).all() and np.isfinite(grid.scale) and grid.scale > 0


def _png_seed() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (6, 5), (200, 10, 10, 128)).save(buffer, format="PNG")
    return buffer.getvalue()


@FUZZ
@given(_mutations(_png_seed()))
def test_fuzz_image_loader(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.getbasetemp() / "fuzz.png"
    path.write_bytes(data)
    try:
        image = load_image(path)
    except Pix2VoxError:
        return
    assert image.ndim == 3 and image.shape[2] in (3, 4) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0


def test_cluttered_photo_warns_and_says_what_to_pass(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "street.png"
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path)  # no plain border
    with caplog.at_level(logging.WARNING, logger="pix2vox"):
        preprocess([path], PreprocessConfig(), "auto")
    assert f"{path}: no object found" in caplog.text and "RGBA cut-out" in caplog.text


def test_object_on_white_is_cropped_to_it(tmp_path: Path) -> None:
    # A dark square of 20 px in a 100 px white picture: auto crops a square in which the object
    # spans object_fill of the side, so after resizing the square spans object_fill of the image.
    image = np.full((100, 100, 3), 255, np.uint8)
    image[30:50, 50:70] = 40
    config = PreprocessConfig()
    x = preprocess([Image.fromarray(image)], config, "auto")[0]
    dark = (x[0] < 0.16).float()  # halfway between white (1.0) and the square (40/255 normalised: -0.69)
    rows = torch.nonzero(dark.any(dim=1)).flatten()
    span = (rows.max() - rows.min() + 1).item() / config.image_size
    # plus the outline a rendering's edge gets in the official resize: a pixel or two on each side
    assert span == pytest.approx(config.object_fill, abs=0.03)
