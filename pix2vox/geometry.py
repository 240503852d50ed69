"""Turn occupancy-probability volumes into triangle meshes (no file I/O here).

Axes and placement follow the binvox convention used by ShapeNetVox32: the
array is indexed ``[x, y, z]`` (y up) and, for a ``(D, D, D)`` grid, voxel
``[i, j, k]`` spans ``[i/D, (i+1)/D] x [j/D, (j+1)/D] x [k/D, (k+1)/D]`` of the
unit cube, with its centre at ``((i+.5)/D, (j+.5)/D, (k+.5)/D)``. Model-space
coordinates are ``translate + scale * unit_cube_coordinates``, exactly as a
binvox header's ``translate`` and ``scale`` place the grid.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import numpy as np
import trimesh

from pix2vox.errors import VolumeError

__all__ = ["MeshMethod", "check_threshold", "check_volume", "volume_to_mesh"]

logger = logging.getLogger(__name__)

MeshMethod = Literal["marching_cubes", "voxels"]

# Marching cubes runs a hair below the threshold so that probabilities equal to
# it count as inside, like ``volume >= threshold``, and so that no vertex lands
# exactly on a grid point (which would give zero-area triangles).
_LEVEL_EPSILON = 1e-6
_TAUBIN_ITERATIONS = 10


def check_volume(volume: np.ndarray, *, name: str = "volume") -> np.ndarray:
    """Validate an occupancy-probability volume.

    Args:
        volume: ``(D, D, D)`` numbers (or bools) in [0, 1].
        name: What to call the volume in error messages (e.g. its file).

    Returns:
        The volume as float32 (no copy when it already is).

    Raises:
        VolumeError: (a ``ValueError``) naming ``name``, for a wrong shape or dtype, NaN or
            infinite values, or values outside [0, 1].
    """
    array = np.asarray(volume)
    if array.ndim != 3 or len(set(array.shape)) != 1 or array.shape[0] == 0:
        raise VolumeError(f"{name}: expected a (D, D, D) volume, got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise VolumeError(f"{name}: expected numbers, got dtype {array.dtype}")
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        raise VolumeError(f"{name}: the volume contains NaN or infinite values")
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        raise VolumeError(
            f"{name}: values range over [{low:.3g}, {high:.3g}], expected probabilities in "
            "[0, 1] (apply a sigmoid to logits first)"
        )
    return array


def check_threshold(threshold: float) -> float:
    """Validate an occupancy threshold.

    Args:
        threshold: Probability at or above which a voxel is occupied.

    Returns:
        ``threshold`` as a float.

    Raises:
        ValueError: ``threshold`` is not strictly between 0 and 1 (0 would mark
            every voxel occupied, 1 leaves a surface of zero thickness).
    """
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"threshold must be a number, got {threshold!r}") from None
    if not 0.0 < value < 1.0:
        raise ValueError(f"threshold must be between 0 and 1 (exclusive), got {threshold!r}")
    return value


def volume_to_mesh(
    volume: np.ndarray,
    *,
    threshold: float,
    method: MeshMethod = "marching_cubes",
    smooth: bool = False,
    translate: Sequence[float] = (0.0, 0.0, 0.0),
    scale: float = 1.0,
) -> trimesh.Trimesh:
    """Build a closed, outward-facing surface around the occupied voxels.

    Args:
        volume: ``(D, D, D)`` occupancy probabilities in [0, 1], indexed
            ``[x, y, z]`` (y up); float32 preferred, any real dtype accepted.
        threshold: Voxels with ``volume >= threshold`` are inside; strictly
            between 0 and 1.
        method: ``"marching_cubes"`` runs marching cubes on the probabilities
            at level ``threshold`` (a smooth surface between voxel centres);
            ``"voxels"`` returns the union of the occupied cubes (blocky, shared
            vertices, no internal faces).
        smooth: Apply Taubin smoothing (little shrinkage) to the marching-cubes
            surface. Not available with ``method="voxels"``.
        translate: Model-space position of the grid's corner.
        scale: Model-space edge length of the whole grid.

    Returns:
        A watertight, winding-consistent mesh with positive volume, in model
        space (the unit cube by default), same axes as the array. Built with
        ``process=False``: vertices that coincide in space where two voxels
        touch only along an edge are kept apart on purpose. If nothing reaches
        the threshold, an empty mesh (no faces) and a logged warning.
        Every vertex lies inside the grid's box (the unit cube by default):
        where the shape touches the grid's boundary, the marching-cubes surface
        (which would lie between the border voxel's centre and the zero
        padding's, up to ``0.5 - threshold`` voxels outside) is clipped flat
        onto the box's face; the voxels method never leaves the box.

    Raises:
        ValueError: Bad shape, values outside [0, 1], threshold outside (0, 1), unknown
            method, ``smooth`` with ``method="voxels"``, or a bad placement.
    """
    array = check_volume(volume)
    threshold = check_threshold(threshold)
    offset = np.asarray(translate, dtype=np.float64)
    if offset.shape != (3,) or not np.isfinite(offset).all():
        raise ValueError(f"translate must be three finite numbers, got {translate!r}")
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    if method not in ("marching_cubes", "voxels"):
        raise ValueError(f"method must be 'marching_cubes' or 'voxels', got {method!r}")
    if smooth and method == "voxels":
        raise ValueError("smooth=True only applies to method='marching_cubes'")

    occupancy = array >= threshold
    if not occupancy.any():
        logger.warning(
            "no voxel reaches the threshold %.3g (highest probability %.3g); returning an empty mesh",
            threshold,
            float(array.max()),
        )
        return trimesh.Trimesh()

    if method == "marching_cubes":
        vertices, faces = _marching_cubes(array, threshold)
    else:
        vertices, faces = _cube_surface(occupancy)
    # Index space (voxel i spans [i, i+1]) to model space.
    vertices = offset + (scale / array.shape[0]) * vertices
    mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
    if smooth:
        trimesh.smoothing.filter_taubin(mesh, iterations=_TAUBIN_ITERATIONS)
    # Keep the surface inside the grid's box: a shape touching the boundary gets a flat face there.
    mesh.vertices = np.clip(mesh.vertices, offset, offset + scale)
    return mesh


def _marching_cubes(volume: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Marching cubes on ``volume`` padded with zeros; vertices in voxel units."""
    from skimage.measure import marching_cubes

    # The zero border closes surfaces that touch the grid's faces.
    padded = np.pad(volume, 1, mode="constant", constant_values=0.0)
    # "ascent" makes scikit-image order each triangle counter-clockwise seen
    # from outside, i.e. normals point out and trimesh's volume is positive.
    vertices, faces, _, _ = marching_cubes(
        padded, level=threshold - _LEVEL_EPSILON, gradient_direction="ascent"
    )
    # A voxel centre sits at the integer index in scikit-image's output; move
    # the padded index i+1 to the centre i + 0.5 of the voxel's own cube.
    return vertices.astype(np.float64) - 0.5, faces.astype(np.int64)


def _cube_surface(occupancy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The boundary of the union of occupied unit cubes, in voxel units.

    Every boundary square between an occupied and an empty voxel becomes two
    triangles on the shared lattice of cube corners. Where two occupied voxels
    touch only along an edge, four squares meet at that edge; each voxel's pair
    of squares then gets its own copy of the edge's midpoint, so each mesh edge
    still belongs to exactly two triangles (watertight for trimesh).
    """
    dim = occupancy.shape[0]
    padded = np.pad(occupancy, 1, mode="constant", constant_values=False)
    lattice = dim + 1
    squares, cells = _boundary_squares(padded)
    corners = squares @ np.array([lattice * lattice, lattice, 1])
    lattice_points = np.stack(
        np.unravel_index(np.arange(lattice**3), (lattice,) * 3), axis=1
    ).astype(np.float64)

    midpoint_ids, midpoints = _edge_midpoints(padded, squares, cells, lattice**3)
    split = (midpoint_ids >= 0).any(axis=1)

    plain = corners[~split]
    triangles = [plain[:, [0, 1, 2]], plain[:, [0, 2, 3]]]
    vertices = [lattice_points, midpoints]
    if split.any():
        centre_ids = lattice**3 + len(midpoints) + np.arange(int(split.sum()))
        vertices.append(squares[split].mean(axis=1))
        triangles.extend(_fan(corners[split], midpoint_ids[split], centre_ids))
    faces = np.concatenate(triangles)
    # Keep only the vertices that faces use, renumbered densely.
    used, faces = np.unique(faces, return_inverse=True)
    return np.concatenate(vertices)[used], faces.reshape(-1, 3)


def _boundary_squares(padded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boundary squares of a padded occupancy grid.

    Returns:
        ``squares``: ``(F, 4, 3)`` int lattice corners of each square, ordered
        counter-clockwise seen from outside; ``cells``: ``(F, 3)`` int index
        (unpadded) of the occupied voxel each square belongs to.
    """
    squares, cells = [], []
    for axis in range(3):
        u, v = (axis + 1) % 3, (axis + 2) % 3
        low = np.moveaxis(padded, (axis, u, v), (0, 1, 2))
        # entering[p] / leaving[p]: the plane between padded layers p and p+1.
        entering = ~low[:-1] & low[1:]
        leaving = low[:-1] & ~low[1:]
        for mask, outward_positive in ((leaving, True), (entering, False)):
            p, q, r = np.nonzero(mask)
            base = np.zeros((p.size, 3), dtype=np.int64)
            # Padded index p+1 is unpadded voxel p, whose low face is plane p.
            base[:, axis], base[:, u], base[:, v] = p, q - 1, r - 1
            cell = base.copy()
            cell[:, axis] = p - 1 if outward_positive else p
            step_u, step_v = np.eye(3, dtype=np.int64)[u], np.eye(3, dtype=np.int64)[v]
            # (u, v, axis) is right-handed, so corners going u then v face +axis.
            if outward_positive:
                ring = [base, base + step_u, base + step_u + step_v, base + step_v]
            else:
                ring = [base, base + step_v, base + step_u + step_v, base + step_u]
            squares.append(np.stack(ring, axis=1))
            cells.append(cell)
    return np.concatenate(squares), np.concatenate(cells)


_SPLIT_OFFSET = 1e-3
"""Voxel units between the two copies of a split edge's midpoint and the edge (see _edge_midpoints)."""


def _edge_midpoints(
    padded: np.ndarray, squares: np.ndarray, cells: np.ndarray, first_id: int
) -> tuple[np.ndarray, np.ndarray]:
    """Midpoint vertices for edges where two voxels touch only along the edge.

    Returns:
        ``ids``: ``(F, 4)`` int, for side ``s`` of each square (from corner
        ``s`` to ``s+1``) the midpoint vertex id, or -1 for an ordinary edge;
        ``positions``: ``(M, 3)`` float midpoints, numbered from ``first_id``.
    """
    starts = squares
    ends = np.roll(squares, -1, axis=1)
    low = np.minimum(starts, ends)
    direction = np.argmax(ends != starts, axis=2)
    ambiguous = np.zeros(squares.shape[:2], dtype=bool)
    for axis in range(3):
        diagonal = _diagonal_edges(padded, axis)
        along = direction == axis
        x, y, z = low[along].T
        ambiguous[along] = diagonal[x, y, z]
    square_index, side = np.nonzero(ambiguous)
    ids = np.full(squares.shape[:2], -1, dtype=np.int64)
    if square_index.size == 0:
        return ids, np.zeros((0, 3))
    edge_low = low[square_index, side]
    edge_axis = direction[square_index, side]
    # The two voxels on an ambiguous edge differ in every axis but the edge's,
    # so the first other axis tells them apart.
    other_axis = (edge_axis + 1) % 3
    rows = np.arange(square_index.size)
    owner = cells[square_index, other_axis] >= edge_low[rows, other_axis]
    keys = np.concatenate([edge_low, edge_axis[:, None], owner[:, None]], axis=1)
    unique_keys, inverse = np.unique(keys, axis=0, return_inverse=True)
    ids[square_index, side] = first_id + inverse.reshape(-1)
    positions = unique_keys[:, :3].astype(np.float64)
    positions[np.arange(len(unique_keys)), unique_keys[:, 3]] += 0.5
    # Move each voxel's copy slightly towards its voxel: readers that merge coincident
    # vertices (trimesh does by default) would otherwise join the copies again.
    towards = np.where(unique_keys[:, 4] == 1, _SPLIT_OFFSET, -_SPLIT_OFFSET)
    positions[np.arange(len(unique_keys)), (unique_keys[:, 3] + 1) % 3] += towards
    return ids, positions


def _diagonal_edges(padded: np.ndarray, axis: int) -> np.ndarray:
    """Lattice edges along ``axis`` whose four voxels form a diagonal pair.

    Returns:
        ``(D+1, D+1, D+1)`` bool indexed by the edge's lower lattice corner
        ``[x, y, z]``; the last layer along ``axis`` is always False.
    """
    u, v = (axis + 1) % 3, (axis + 2) % 3
    # Voxels around the edge from lattice point c along axis: padded indices
    # c[axis] + 1 on the edge's axis, and c[u] or c[u] + 1 (likewise v).
    moved = np.moveaxis(padded, (axis, u, v), (0, 1, 2))[1:-1]
    a, b = moved[:, :-1, :-1], moved[:, 1:, 1:]
    c, d = moved[:, 1:, :-1], moved[:, :-1, 1:]
    diagonal = (a == b) & (c == d) & (a != c)
    full = np.zeros((diagonal.shape[0] + 1,) + diagonal.shape[1:], dtype=bool)
    full[:-1] = diagonal
    return np.moveaxis(full, (0, 1, 2), (axis, u, v))


def _fan(corners: np.ndarray, midpoint_ids: np.ndarray, centre_ids: np.ndarray) -> list[np.ndarray]:
    """Triangulate squares around their centre, splitting sides at midpoints.

    Args:
        corners: ``(S, 4)`` corner vertex ids, counter-clockwise from outside.
        midpoint_ids: ``(S, 4)`` midpoint id per side, -1 where not split.
        centre_ids: ``(S,)`` a new vertex id per square for its centre.
    """
    triangles = []
    for side in range(4):
        start, end = corners[:, side], corners[:, (side + 1) % 4]
        middle = midpoint_ids[:, side]
        has_middle = middle >= 0
        # An unsplit side gives one triangle, a split side two.
        first_end = np.where(has_middle, middle, end)
        triangles.append(np.stack([centre_ids, start, first_end], axis=1))
        triangles.append(
            np.stack([centre_ids[has_middle], middle[has_middle], end[has_middle]], axis=1)
        )
    return triangles
