"""binvox reader and writer: spec order, run lengths, headers, trimesh interop."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import trimesh

from pix2vox.exchange.binvox import BinvoxError, BinvoxGrid, read_binvox, write_binvox

HEADER = b"#binvox 1\ndim 32 32 32\ntranslate 0.0 0.0 0.0\nscale 1.0\ndata\n"


def spec_decode(data: bytes) -> np.ndarray:
    """A minimal decoder written straight from the spec, independent of ours."""
    payload = data[data.index(b"\ndata\n") + len(b"\ndata\n") :]
    dims = [int(word) for word in data.split(b"\n")[1].split()[1:]]
    voxels = []
    for value, count in zip(payload[0::2], payload[1::2]):
        voxels.extend([value] * count)
    # y runs fastest, then z, then x: a C reshape is (x, z, y).
    return np.array(voxels, dtype=bool).reshape(dims).transpose(0, 2, 1)


def run_pairs(data: bytes) -> list[tuple[int, int]]:
    payload = data[data.index(b"\ndata\n") + len(b"\ndata\n") :]
    return list(zip(payload[0::2], payload[1::2]))


def to_stream(occupancy: np.ndarray, **kwargs) -> bytes:
    buffer = io.BytesIO()
    write_binvox(buffer, occupancy, **kwargs)
    return buffer.getvalue()


@pytest.fixture
def asymmetric() -> np.ndarray:
    """A grid whose every axis permutation looks different."""
    rng = np.random.default_rng(7)
    grid = rng.random((32, 32, 32)) < 0.3
    grid[:, 30:, :] = False  # an empty "top" in y
    grid[2:5, 0:10, 20:22] = True
    return grid


def test_round_trip_is_bit_exact(tmp_path: Path, asymmetric: np.ndarray) -> None:
    path = tmp_path / "chair.binvox"
    write_binvox(path, asymmetric, translate=(-0.25, 0.125, 3.5e-3), scale=0.7654321)
    grid = read_binvox(path)
    assert isinstance(grid, BinvoxGrid)
    assert grid.occupancy.dtype == np.bool_
    assert grid.occupancy.shape == (32, 32, 32)
    np.testing.assert_array_equal(grid.occupancy, asymmetric)
    assert grid.translate == (-0.25, 0.125, 3.5e-3)
    assert grid.scale == 0.7654321


def test_header_is_plain_spec(asymmetric: np.ndarray) -> None:
    data = to_stream(asymmetric)
    header = data[: data.index(b"data\n") + 5].decode("ascii").splitlines()
    assert header == ["#binvox 1", "dim 32 32 32", "translate 0.0 0.0 0.0", "scale 1.0", "data"]


def test_independent_spec_decoder_agrees(asymmetric: np.ndarray) -> None:
    np.testing.assert_array_equal(spec_decode(to_stream(asymmetric)), asymmetric)


def test_axes_follow_spec_order() -> None:
    # One voxel at x=1, y=2, z=3 sits at stream index x*D*D + z*D + y.
    grid = np.zeros((4, 4, 4), dtype=bool)
    grid[1, 2, 3] = True
    index = 1 * 16 + 3 * 4 + 2
    assert run_pairs(to_stream(grid)) == [(0, index), (1, 1), (0, 64 - index - 1)]


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        (255, [(1, 255)]),
        (256, [(1, 255), (1, 1)]),
        (510, [(1, 255), (1, 255)]),
        (511, [(1, 255), (1, 255), (1, 1)]),
    ],
)
def test_long_runs_split_without_zero_counts(run: int, expected: list[tuple[int, int]]) -> None:
    flat = np.zeros(16**3, dtype=bool)
    flat[100 : 100 + run] = True
    # The stream order is (x, z, y); build the grid so that the run is contiguous there.
    grid = flat.reshape(16, 16, 16).transpose(0, 2, 1)
    pairs = run_pairs(to_stream(grid))
    assert all(1 <= count <= 255 for _, count in pairs)
    assert pairs[0] == (0, 100)
    assert pairs[1 : 1 + len(expected)] == expected
    assert sum(count for _, count in pairs) == 16**3


@pytest.mark.parametrize("fill", [False, True])
def test_empty_and_full_grids(fill: bool) -> None:
    grid = np.full((32, 32, 32), fill)
    data = to_stream(grid)
    pairs = run_pairs(data)
    # 32768 = 128 * 255 + 128
    assert pairs == [(int(fill), 255)] * 128 + [(int(fill), 128)]
    np.testing.assert_array_equal(read_binvox(io.BytesIO(data)).occupancy, grid)


def test_reads_shapenet_style_header() -> None:
    grid = np.zeros((32, 32, 32), dtype=bool)
    grid[10:20, 5:25, 12:14] = True
    body = to_stream(grid)
    data = (
        b"#binvox 1\ndim 32 32 32\ntranslate -0.219 -0.0406 -0.4785\nscale 0.957\ndata\n"
        + body[body.index(b"data\n") + 5 :]
    )
    result = read_binvox(io.BytesIO(data))
    np.testing.assert_array_equal(result.occupancy, grid)
    assert result.translate == (-0.219, -0.0406, -0.4785)
    assert result.scale == 0.957


def test_tolerant_header_comments_order_and_defaults() -> None:
    grid = np.eye(8, dtype=bool)[:, :, None] & np.ones((8, 8, 8), dtype=bool)
    body = to_stream(grid)
    payload = body[body.index(b"data\n") + 5 :]
    commented = (
        b"#binvox 1\n# generated somewhere\nscale 2.5\n\n# another comment\n"
        b"dim 8 8 8\ntranslate 1 2 3\ndata\n" + payload
    )
    result = read_binvox(io.BytesIO(commented))
    np.testing.assert_array_equal(result.occupancy, grid)
    assert (result.translate, result.scale) == ((1.0, 2.0, 3.0), 2.5)

    minimal = b"#binvox 1\ndim 8 8 8\ndata\n" + payload
    result = read_binvox(io.BytesIO(minimal))
    np.testing.assert_array_equal(result.occupancy, grid)
    assert (result.translate, result.scale) == ((0.0, 0.0, 0.0), 1.0)


def test_version_2_values_and_zero_counts() -> None:
    # binvox 2 may store values up to 255; zero counts (from buggy writers) add nothing.
    payload = bytes([0, 3, 7, 2, 255, 0, 0, 1, 200, 2])
    result = read_binvox(io.BytesIO(b"#binvox 2\ndim 2 2 2\ndata\n" + payload))
    expected = np.array([0, 0, 0, 1, 1, 0, 1, 1], dtype=bool).reshape(2, 2, 2).transpose(0, 2, 1)
    np.testing.assert_array_equal(result.occupancy, expected)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "not a binvox file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "not a binvox file"),
        (b"solid cube\nfacet normal 0 0 1\n", "not a binvox file"),
        (b"#binvox 1\ndim 2 2 2\n", "without a 'data' line"),
        (b"#binvox 1\ntranslate 0 0 0\ndata\n\x00\x08", "no 'dim'"),
        (b"#binvox 1\ndim 2 2 3\ndata\n\x00\x0c", "bad dims"),
        (b"#binvox 1\ndim 0 0 0\ndata\n", "bad dims"),
        (b"#binvox 1\ndim 2048 2048 2048\ndata\n", "larger than the limit of 512"),
        (b"#binvox 1\ndim 2 2 2\ntranslate nan 0 0\ndata\n\x00\x08", "non-finite"),
        (b"#binvox 1\ndim 2 2 2\nscale inf\ndata\n\x00\x08", "non-finite"),
        (b"#binvox 1\ndim 2 2 2\nscale -1\ndata\n\x00\x08", "scale must be positive"),
        (b"#binvox 1\ndim two 2 2\ndata\n\x00\x08", "non-number"),
        (b"#binvox 1\ndim 2 2 2\nscale 1 2\ndata\n\x00\x08", "needs 1 value"),
        (b"#binvox 1\ndim 2 2 2\ndata\n\x00\x05", "truncated data: 5 of 8"),
        (b"#binvox 1\ndim 2 2 2\ndata\n\x00\x08\x01", r"truncated data \(odd"),
        (b"#binvox 1\ndim 2 2 2\ndata\n\x00\x08\x01\x01", "more than dim"),
    ],
)
def test_bad_files_raise_value_errors_naming_the_file(
    tmp_path: Path, data: bytes, problem: str
) -> None:
    path = tmp_path / "broken.binvox"
    path.write_bytes(data)
    with pytest.raises(BinvoxError, match=problem) as caught:
        read_binvox(path)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith(f"{path}: ")


def test_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_binvox(tmp_path / "nope.binvox")


@pytest.mark.parametrize(
    ("occupancy", "kwargs", "problem"),
    [
        (np.zeros((4, 4)), {}, "shape"),
        (np.zeros((4, 4, 5)), {}, "shape"),
        (np.full((4, 4, 4), 0.5), {}, "threshold probabilities first"),
        (np.zeros((4, 4, 4)), {"scale": 0.0}, "scale"),
        (np.zeros((4, 4, 4)), {"translate": (0.0, 1.0)}, "translate"),
    ],
)
def test_writer_rejects_bad_input(tmp_path: Path, occupancy, kwargs, problem) -> None:
    path = tmp_path / "bad.binvox"
    with pytest.raises(ValueError, match=problem):
        write_binvox(path, occupancy, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_writer_accepts_zero_one_integers() -> None:
    grid = np.zeros((4, 4, 4), dtype=np.uint8)
    grid[0, 1, 2] = 1
    assert to_stream(grid) == to_stream(grid.astype(bool))


def test_trimesh_reads_what_we_write(tmp_path: Path, asymmetric: np.ndarray) -> None:
    path = tmp_path / "ours.binvox"
    write_binvox(path, asymmetric, translate=(0.1, -0.2, 0.3), scale=0.9)
    with open(path, "rb") as stream:
        # The file is in spec order, which trimesh calls "xzy"; it returns xyz.
        voxels = trimesh.exchange.binvox.load_binvox(stream, axis_order="xzy")
    # trimesh places voxels differently (scale / (D - 1)), so compare grids only.
    np.testing.assert_array_equal(voxels.matrix, asymmetric)


def test_we_read_what_trimesh_writes(asymmetric: np.ndarray) -> None:
    voxels = trimesh.voxel.VoxelGrid(asymmetric)
    data = trimesh.exchange.binvox.export_binvox(voxels, axis_order="xzy")
    assert b"#" in data.split(b"data\n")[0][len(b"#binvox 1") :]  # trimesh writes a comment
    np.testing.assert_array_equal(read_binvox(io.BytesIO(data)).occupancy, asymmetric)
