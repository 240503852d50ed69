"""save_volume / load_volume for every format, and atomic writes."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import trimesh

from pix2vox import exchange
from pix2vox.exchange import (
    SUPPORTED_FORMATS,
    load_threshold,
    load_volume,
    read_binvox,
    save_volume,
)
import pix2vox.atomic
from pix2vox.atomic import atomic_write

MESH_SUFFIXES = [".obj", ".ply", ".stl", ".glb", ".off"]


@pytest.fixture(scope="module")
def probabilities() -> np.ndarray:
    """A smooth blob plus a second part touching the grid's boundary."""
    x, y, z = np.meshgrid(*(np.arange(32) + 0.5,) * 3, indexing="ij")
    distance = ((x - 12) / 6) ** 2 + ((y - 18) / 11) ** 2 + ((z - 16) / 5) ** 2
    volume = 1.0 / (1.0 + np.exp(4.0 * (distance - 1.0)))
    volume[28:, 0:4, 0:4] = 0.9
    return volume.astype(np.float32)


def test_supported_formats() -> None:
    assert set(SUPPORTED_FORMATS) == {"binvox", "obj", "ply", "stl", "glb", "off", "npy", "npz"}


@pytest.mark.parametrize("suffix", MESH_SUFFIXES)
@pytest.mark.parametrize("method", ["marching_cubes", "voxels"])
def test_mesh_round_trip(tmp_path: Path, probabilities: np.ndarray, suffix: str, method: str) -> None:
    path = save_volume(tmp_path / f"chair{suffix}", probabilities, threshold=0.5, method=method).path
    assert path == tmp_path / f"chair{suffix}"
    mesh = trimesh.load(path, force="mesh")
    assert mesh.is_watertight
    assert mesh.is_winding_consistent
    assert mesh.volume > 0
    assert mesh.bounds.min() >= -1e-6 and mesh.bounds.max() <= 1 + 1e-6
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize("suffix", [".obj", ".ply", ".stl", ".glb", ".off"])
def test_voxel_mesh_with_edge_contacts_survives_vertex_merging(tmp_path: Path, suffix: str) -> None:
    # A 3D checkerboard: every pair of neighbouring voxels touches along an edge only.
    checker = (np.indices((6, 6, 6)).sum(axis=0) % 2 == 0).astype(np.float32)
    volume = np.zeros((32, 32, 32), np.float32)
    volume[10:16, 10:16, 10:16] = checker
    mesh = trimesh.load(save_volume(tmp_path / f"c{suffix}", volume, threshold=0.5, method="voxels").path, force="mesh")
    assert mesh.is_watertight  # trimesh.load merges coincident vertices by default
    assert mesh.volume == pytest.approx(checker.sum() / 32**3, rel=1e-3)


def test_smooth_mesh(tmp_path: Path, probabilities: np.ndarray) -> None:
    path = save_volume(tmp_path / "chair.ply", probabilities, threshold=0.5, smooth=True).path
    assert trimesh.load(path).is_watertight


def test_binvox_round_trip(tmp_path: Path, probabilities: np.ndarray) -> None:
    path = save_volume(tmp_path / "chair.binvox", probabilities, threshold=0.3).path
    grid = read_binvox(path)
    np.testing.assert_array_equal(grid.occupancy, probabilities >= 0.3)
    assert (grid.translate, grid.scale) == ((0.0, 0.0, 0.0), 1.0)
    loaded = load_volume(path)
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, (probabilities >= 0.3).astype(np.float32))
    assert load_threshold(path) is None


def test_npy_round_trip(tmp_path: Path, probabilities: np.ndarray) -> None:
    path = save_volume(tmp_path / "chair.npy", probabilities.astype(np.float64), threshold=0.3).path
    stored = np.load(path)
    assert stored.dtype == np.float32
    np.testing.assert_array_equal(stored, probabilities)
    np.testing.assert_array_equal(load_volume(path), probabilities)


def test_npz_round_trip(tmp_path: Path, probabilities: np.ndarray) -> None:
    path = save_volume(tmp_path / "chair.npz", probabilities, threshold=0.3).path
    with np.load(path) as archive:
        assert sorted(archive.files) == ["occupancy", "probabilities", "threshold"]
        np.testing.assert_array_equal(archive["probabilities"], probabilities)
        np.testing.assert_array_equal(archive["occupancy"], probabilities >= 0.3)
        assert float(archive["threshold"]) == 0.3
    np.testing.assert_array_equal(load_volume(path), probabilities)
    assert load_threshold(path) == 0.3


def test_npz_with_occupancy_only(tmp_path: Path) -> None:
    path = tmp_path / "occupancy.npz"
    occupancy = np.zeros((8, 8, 8), dtype=bool)
    occupancy[1, 2, 3] = True
    np.savez(path, occupancy=occupancy)
    np.testing.assert_array_equal(load_volume(path), occupancy.astype(np.float32))


def test_format_override(tmp_path: Path, probabilities: np.ndarray) -> None:
    path = save_volume(tmp_path / "chair.mesh", probabilities, threshold=0.5, file_format="stl").path
    assert trimesh.load(path, file_type="stl").is_watertight


@pytest.mark.parametrize("name", ["chair.xyz", "chair", "chair.OBJX"])
def test_unknown_suffix_lists_the_formats(tmp_path: Path, probabilities: np.ndarray, name: str) -> None:
    with pytest.raises(ValueError, match=r"use one of \.binvox, \.obj, .*\.npz"):
        save_volume(tmp_path / name, probabilities, threshold=0.5)
    assert list(tmp_path.iterdir()) == []


def test_upper_case_suffix(tmp_path: Path, probabilities: np.ndarray) -> None:
    path = save_volume(tmp_path / "CHAIR.OBJ", probabilities, threshold=0.5).path
    assert trimesh.load(path, file_type="obj").is_watertight


@pytest.mark.parametrize("suffix", MESH_SUFFIXES)
def test_empty_prediction_refuses_meshes(tmp_path: Path, suffix: str) -> None:
    volume = np.full((32, 32, 32), 0.2, dtype=np.float32)
    with pytest.raises(ValueError, match="no voxel reaches the threshold 0.3"):
        save_volume(tmp_path / f"empty{suffix}", volume, threshold=0.3)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".binvox", ".npy", ".npz"])
def test_empty_prediction_is_fine_for_grids(tmp_path: Path, suffix: str) -> None:
    volume = np.full((32, 32, 32), 0.2, dtype=np.float32)
    path = save_volume(tmp_path / f"empty{suffix}", volume, threshold=0.3).path
    assert load_volume(path).max() < 0.3


def test_full_grid_mesh(tmp_path: Path) -> None:
    path = save_volume(tmp_path / "box.off", np.ones((32, 32, 32), np.float32), threshold=0.3).path
    mesh = trimesh.load(path)
    assert mesh.is_watertight and mesh.volume > 0.99


@pytest.mark.parametrize(
    ("volume", "threshold", "problem"),
    [
        (np.zeros((32, 32)), 0.3, "shape"),
        (np.full((8, 8, 8), 1.5), 0.3, r"expected probabilities in \[0, 1\]"),
        (np.full((8, 8, 8), np.inf), 0.3, "infinite"),
        (np.zeros((8, 8, 8)), 1.3, "between 0 and 1"),
        (np.zeros((8, 8, 8)), -0.1, "between 0 and 1"),
    ],
)
def test_bad_volumes(tmp_path: Path, volume: np.ndarray, threshold: float, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        save_volume(tmp_path / "bad.npz", volume, threshold=threshold)
    assert list(tmp_path.iterdir()) == []


def test_load_rejects_damaged_or_unknown_files(tmp_path: Path) -> None:
    text = tmp_path / "notes.npy"
    text.write_text("not numpy")
    with pytest.raises(ValueError, match=f"{text}: not a readable NumPy file"):
        load_volume(text)
    archive = tmp_path / "other.npz"
    np.savez(archive, weights=np.zeros(3))
    with pytest.raises(ValueError, match="no 'probabilities' or 'occupancy'"):
        load_volume(archive)
    with pytest.raises(ValueError, match="unsupported format 'obj'"):
        load_volume(tmp_path / "chair.obj")
    with pytest.raises(FileNotFoundError):
        load_volume(tmp_path / "missing.npy")


def test_missing_output_folder_names_the_target(tmp_path: Path, probabilities: np.ndarray) -> None:
    target = tmp_path / "nowhere" / "chair.obj"
    with pytest.raises(FileNotFoundError) as caught:
        save_volume(target, probabilities, threshold=0.5)
    assert caught.value.filename == str(target)
    assert "does not exist" in caught.value.strerror


def test_atomic_write_replaces_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with atomic_write(path) as stream:
        stream.write(b"new")
    assert path.read_bytes() == b"new"
    assert list(tmp_path.iterdir()) == [path]


def test_atomic_write_leaves_nothing_on_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="disk on fire"):
        with atomic_write(tmp_path / "out.bin") as stream:
            stream.write(b"partial")
            raise RuntimeError("disk on fire")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_keeps_old_file_on_error(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_write(path) as stream:
            stream.write(b"partial")
            raise RuntimeError
    assert path.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("suffix", [".binvox", ".obj", ".glb", ".npy", ".npz"])
def test_failing_writer_leaves_no_file(
    tmp_path: Path, probabilities: np.ndarray, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args, **kwargs):
        raise OSError("simulated failure in the middle of writing")

    # Fail inside the atomic block, after the temporary file exists.
    monkeypatch.setattr(np, "save", explode)
    monkeypatch.setattr(np, "savez_compressed", explode)
    real_atomic = pix2vox.atomic.atomic_write

    class Exploding:
        """Writes half of what it is given, then fails like a full disk."""

        def __init__(self, stream):
            self.stream = stream

        def write(self, data):
            self.stream.write(data[: len(data) // 2])
            explode()

    @contextmanager
    def half_written(path):
        with real_atomic(path) as stream:
            yield Exploding(stream)

    monkeypatch.setattr(pix2vox.atomic, "atomic_write", half_written)
    monkeypatch.setattr(exchange.binvox, "atomic_write", half_written)
    with pytest.raises(OSError, match="simulated failure"):
        save_volume(tmp_path / f"chair{suffix}", probabilities, threshold=0.5)
    assert list(tmp_path.iterdir()) == []
