"""Volumes to meshes: closed, outward, in the unit cube, same axes as the array."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import trimesh

from pix2vox.geometry import volume_to_mesh

METHODS = ["marching_cubes", "voxels"]


def blob(dim: int = 32) -> np.ndarray:
    """A smooth ellipsoid-like probability field, off centre and longest along y."""
    x, y, z = np.meshgrid(*(np.arange(dim) + 0.5,) * 3, indexing="ij")
    distance = ((x - 12) / 6) ** 2 + ((y - 18) / 11) ** 2 + ((z - 16) / 5) ** 2
    return (1.0 / (1.0 + np.exp(4.0 * (distance - 1.0)))).astype(np.float32)


def noise(density: float, seed: int = 0) -> np.ndarray:
    """Binary noise: many voxels touching only along edges or corners."""
    return (np.random.default_rng(seed).random((32, 32, 32)) < density).astype(np.float32)


def assert_closed(mesh: trimesh.Trimesh) -> None:
    assert len(mesh.faces) > 0
    assert mesh.is_watertight
    assert mesh.is_winding_consistent
    assert mesh.volume > 0


@pytest.mark.parametrize("method", METHODS)
def test_blob_is_closed_and_in_unit_cube(method: str) -> None:
    mesh = volume_to_mesh(blob(), threshold=0.5, method=method)
    assert_closed(mesh)
    assert mesh.bounds.min() >= -1e-6 and mesh.bounds.max() <= 1 + 1e-6


@pytest.mark.parametrize("method", METHODS)
def test_axes_match_the_array(method: str) -> None:
    volume = np.zeros((32, 32, 32), dtype=np.float32)
    volume[4:8, 10:30, 20:22] = 1.0  # x 4..8, y 10..30, z 20..22 (voxel units)
    mesh = volume_to_mesh(volume, threshold=0.5, method=method)
    assert_closed(mesh)
    np.testing.assert_allclose(mesh.bounds, [[4 / 32, 10 / 32, 20 / 32], [8 / 32, 30 / 32, 22 / 32]], atol=1e-5)


def test_voxel_mesh_is_exact_union_of_cubes() -> None:
    volume = blob()
    mesh = volume_to_mesh(volume, threshold=0.3, method="voxels")
    assert_closed(mesh)
    assert mesh.volume == pytest.approx((volume >= 0.3).sum() / 32**3)
    # Shared vertices: every vertex is used and none is duplicated where voxels share faces.
    assert len(np.unique(mesh.vertices, axis=0)) == len(mesh.vertices)
    assert set(np.unique(mesh.vertices * 32)) <= set(range(33))


def test_voxel_mesh_has_no_internal_faces() -> None:
    volume = np.zeros((8, 8, 8), dtype=np.float32)
    volume[2:4, 2:4, 2:4] = 1.0
    mesh = volume_to_mesh(volume, threshold=0.5, method="voxels")
    # A 2x2x2 block: 6 sides of 4 squares of 2 triangles, 27 lattice points.
    assert len(mesh.faces) == 48
    assert len(mesh.vertices) == 26


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_voxels_touching_along_an_edge_stay_watertight(axis: int) -> None:
    volume = np.zeros((4, 4, 4), dtype=np.float32)
    first, second = [1, 1, 1], [2, 2, 2]
    second[axis] = 1
    volume[tuple(first)] = volume[tuple(second)] = 1.0
    mesh = volume_to_mesh(volume, threshold=0.5, method="voxels")
    assert_closed(mesh)
    assert mesh.volume == pytest.approx(2 / 64, rel=2e-4)  # the split midpoints sit 1e-3 voxel inside
    merged = mesh.copy()
    merged.merge_vertices()  # as readers do: the two voxels' copies of the midpoint stay apart
    assert merged.is_watertight


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("density", [0.3, 0.6])
def test_noise_is_watertight(method: str, density: float) -> None:
    volume = noise(density)
    mesh = volume_to_mesh(volume, threshold=0.5, method=method)
    assert_closed(mesh)
    if method == "voxels":
        # Split edge midpoints sit 1e-3 voxel inside their voxels: a sliver below one voxel's volume.
        assert mesh.volume == pytest.approx(volume.sum() / 32**3, rel=2e-4)


@pytest.mark.parametrize("method", METHODS)
def test_full_grid_is_a_closed_box(method: str) -> None:
    mesh = volume_to_mesh(np.ones((32, 32, 32), dtype=np.float32), threshold=0.5, method=method)
    assert_closed(mesh)
    np.testing.assert_allclose(mesh.bounds, [[0, 0, 0], [1, 1, 1]], atol=1e-5)
    assert mesh.volume == pytest.approx(1.0, rel=2e-3)


@pytest.mark.parametrize("method", METHODS)
def test_empty_prediction_gives_empty_mesh_and_warning(
    method: str, caplog: pytest.LogCaptureFixture
) -> None:
    volume = np.full((32, 32, 32), 0.1, dtype=np.float32)
    with caplog.at_level(logging.WARNING, logger="pix2vox.geometry"):
        mesh = volume_to_mesh(volume, threshold=0.3, method=method)
    assert isinstance(mesh, trimesh.Trimesh)
    assert len(mesh.faces) == 0
    assert "no voxel reaches the threshold 0.3" in caplog.text


def test_threshold_counts_equal_values_as_inside() -> None:
    volume = np.zeros((8, 8, 8), dtype=np.float32)
    volume[3:5, 3:5, 3:5] = 0.3
    assert_closed(volume_to_mesh(volume, threshold=0.3))
    assert_closed(volume_to_mesh(volume, threshold=0.3, method="voxels"))


def test_placement_translate_and_scale() -> None:
    mesh = volume_to_mesh(blob(), threshold=0.5, method="voxels")
    moved = volume_to_mesh(
        blob(), threshold=0.5, method="voxels", translate=(1.0, -2.0, 0.5), scale=3.0
    )
    np.testing.assert_allclose(moved.vertices, mesh.vertices * 3.0 + [1.0, -2.0, 0.5])


def test_marching_cubes_surface_between_voxel_centres() -> None:
    # A binary block at level 0.5 crosses exactly halfway between voxel centres,
    # i.e. at the block's faces, like binvox's (i + .5) / D centres imply.
    volume = np.zeros((32, 32, 32), dtype=np.float32)
    volume[8:24, 8:24, 8:24] = 1.0
    mesh = volume_to_mesh(volume, threshold=0.5)
    np.testing.assert_allclose(mesh.bounds, [[0.25] * 3, [0.75] * 3], atol=1e-5)


def test_smoothing_keeps_the_surface_closed() -> None:
    rough = volume_to_mesh(noise(0.5, seed=3), threshold=0.5)
    smooth = volume_to_mesh(noise(0.5, seed=3), threshold=0.5, smooth=True)
    assert_closed(smooth)
    assert len(smooth.faces) == len(rough.faces)
    assert not np.allclose(smooth.vertices, rough.vertices)


@pytest.mark.parametrize(
    ("volume", "kwargs", "problem"),
    [
        (np.zeros((32, 32)), {"threshold": 0.5}, "shape"),
        (np.zeros((8, 8, 9)), {"threshold": 0.5}, "shape"),
        (np.full((8, 8, 8), np.nan), {"threshold": 0.5}, "NaN"),
        (np.full((8, 8, 8), -2.0), {"threshold": 0.5}, "expected probabilities"),
        (np.zeros((8, 8, 8)), {"threshold": 0.0}, "between 0 and 1"),
        (np.zeros((8, 8, 8)), {"threshold": 1.0}, "between 0 and 1"),
        (np.zeros((8, 8, 8)), {"threshold": 0.5, "method": "cubes"}, "method"),
        (np.zeros((8, 8, 8)), {"threshold": 0.5, "method": "voxels", "smooth": True}, "smooth"),
        (np.zeros((8, 8, 8)), {"threshold": 0.5, "scale": -1.0}, "scale"),
    ],
)
def test_bad_arguments(volume: np.ndarray, kwargs: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        volume_to_mesh(volume, **kwargs)


def test_low_threshold_surface_is_clipped_to_the_unit_cube() -> None:
    full = np.ones((32, 32, 32), dtype=np.float32)
    mesh = volume_to_mesh(full, threshold=0.3)  # unclipped it would reach 0.2 voxels outside
    assert_closed(mesh)
    np.testing.assert_allclose(mesh.bounds, [[0.0] * 3, [1.0] * 3])
    placed = volume_to_mesh(full, threshold=0.3, translate=(1.0, -2.0, 0.5), scale=2.0)
    np.testing.assert_allclose(placed.bounds, [[1.0, -2.0, 0.5], [3.0, 0.0, 2.5]])
    blocky = volume_to_mesh(full, threshold=0.3, method="voxels")
    np.testing.assert_allclose(blocky.bounds, [[0.0] * 3, [1.0] * 3])
