"""Solid primitives, their bounds, unit-cube normalisation and voxelisation.

A shape is a list of :class:`Part` solids in a right-handed, y-up frame. Every part is a unit solid
in its own *scaled local* frame, mapped to the world by ``world = center + rotation @ (half * q)``:

* ``"box"``: ``max(|q_x|, |q_y|, |q_z|) <= 1``;
* ``"frustum"``: ``|q_y| <= 1`` and ``q_x^2 + q_z^2 <= rho(q_y)^2`` with ``rho`` linear from
  ``rho[0]`` at ``q_y = -1`` to ``rho[1]`` at ``q_y = +1`` (a cylinder when both are 1);
* ``"ellipsoid"``: ``|q| <= 1``.

After :func:`normalize`, the union of the parts spans the cube ``[-0.5, 0.5]^3`` along its longest
extent and is centred on its bounding box, like ShapeNetVox32 models. The voxel grid covers that cube:
voxel ``[i, j, k]`` is the world cube ``([i, j, k] + [0, 1]) / 32 - 0.5`` (x, y, z order, y up), so
the array matches ``binvox_rw.read_as_3d_array(fix_coords=True)`` of ShapeNetVox32 files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["Part", "bounds", "normalize", "voxelize"]

PartKind = Literal["box", "frustum", "ellipsoid"]


@dataclasses.dataclass(frozen=True)
class Part:
    """One solid primitive.

    Attributes:
        kind: ``"box"``, ``"frustum"`` or ``"ellipsoid"``.
        center: ``(3,)`` world position of the local origin.
        half: ``(3,)`` positive half-sizes along the local axes (frustum: radius scale in x and z,
            half-height in y).
        rotation: ``(3, 3)`` rotation matrix, local to world (columns are the local axes).
        color: ``(3,)`` linear RGB albedo in [0, 1].
        rho: Frustum radii at the bottom and top as fractions of ``half[0]``/``half[2]``.
    """

    kind: PartKind
    center: NDArray[np.float64]
    half: NDArray[np.float64]
    rotation: NDArray[np.float64]
    color: NDArray[np.float64]
    rho: tuple[float, float] = (1.0, 1.0)

    def bounds(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Exact axis-aligned world bounds, ``(lo, hi)``, each ``(3,)`` float64."""
        r, h, c = self.rotation, self.half, self.center
        if self.kind == "box":
            ext = np.abs(r) @ h
            return c - ext, c + ext
        if self.kind == "ellipsoid":
            ext = np.sqrt(((r * h) ** 2).sum(axis=1))
            return c - ext, c + ext
        # A frustum is the convex hull of its two end discs.
        los, his = [], []
        for sign, rho in ((-1.0, self.rho[0]), (1.0, self.rho[1])):
            centre = c + sign * h[1] * r[:, 1]
            ext = rho * np.sqrt((r[:, 0] * h[0]) ** 2 + (r[:, 2] * h[2]) ** 2)
            los.append(centre - ext)
            his.append(centre + ext)
        return np.minimum(*los), np.maximum(*his)

    def bounding_radius(self) -> float:
        """Radius of a sphere around ``center`` that contains the part."""
        if self.kind == "box":
            return float(np.linalg.norm(self.half))
        if self.kind == "ellipsoid":
            return float(self.half.max())
        radial = max(self.rho) * max(self.half[0], self.half[2])
        return float(np.hypot(radial, self.half[1]))

    def local(self, points: NDArray[np.floating]) -> NDArray[np.floating]:
        """Maps ``(..., 3)`` world points to ``(..., 3)`` scaled local coordinates ``q``."""
        return ((points - self.center) @ self.rotation) / self.half

    def contains_local(self, q: NDArray[np.floating]) -> NDArray[np.bool_]:
        """Whether ``(..., 3)`` scaled local points lie inside the unit solid; ``(...)`` bool."""
        if self.kind == "box":
            return np.abs(q).max(axis=-1) <= 1.0
        if self.kind == "ellipsoid":
            return (q * q).sum(axis=-1) <= 1.0
        y = q[..., 1]
        rho = 0.5 * (self.rho[0] + self.rho[1]) + 0.5 * (self.rho[1] - self.rho[0]) * y
        return (np.abs(y) <= 1.0) & (q[..., 0] ** 2 + q[..., 2] ** 2 <= rho * rho)

    def rotated(self, rotation: NDArray[np.float64]) -> Part:
        """The part turned about the world origin: ``world -> rotation @ world``.

        Args:
            rotation: ``(3, 3)`` rotation matrix. With entries 0 and ±1 (quarter turns) the
                result is exact, so bounds and voxels turn exactly with it.
        """
        rotation = np.asarray(rotation, dtype=np.float64)
        return dataclasses.replace(
            self, center=rotation @ self.center, rotation=rotation @ self.rotation
        )

    def transformed(self, offset: NDArray[np.float64], scale: float) -> Part:
        """The part after ``world -> (world + offset) * scale``."""
        return dataclasses.replace(
            self, center=(self.center + offset) * scale, half=self.half * scale
        )


def bounds(parts: Sequence[Part]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Axis-aligned bounds ``(lo, hi)`` of the union of ``parts``, each ``(3,)`` float64."""
    los, his = zip(*(p.bounds() for p in parts))
    return np.min(los, axis=0), np.max(his, axis=0)


def normalize(parts: Sequence[Part]) -> list[Part]:
    """Centres the shape's bounding box at the origin and scales its longest side to 1.

    Args:
        parts: Non-empty list of parts in any units.

    Returns:
        The parts, moved and scaled so that their union lies in ``[-0.5, 0.5]^3`` and touches
        both faces of that cube along its longest extent.
    """
    lo, hi = bounds(parts)
    scale = 1.0 / float(np.max(hi - lo))
    return [p.transformed(-(lo + hi) / 2.0, scale) for p in parts]


def voxelize(parts: Sequence[Part], resolution: int = 32, supersample: int = 4) -> NDArray[np.bool_]:
    """Solid occupancy of normalised parts on the ``[-0.5, 0.5]^3`` grid.

    A voxel is occupied when any of its ``supersample^3`` regularly spaced sample points lies inside
    a part, which approximates "the voxel cube intersects the solid", the rule binvox follows for
    ShapeNetVox32 (surface voxels are set, then the inside is filled).

    Args:
        parts: Normalised parts (see :func:`normalize`).
        resolution: Grid size ``D``.
        supersample: Samples per voxel and axis.

    Returns:
        ``(D, D, D)`` bool occupancy indexed ``[x, y, z]``.
    """
    grid = np.zeros((resolution,) * 3, dtype=bool)
    fine = resolution * supersample
    for part in parts:
        lo, hi = part.bounds()
        start = np.clip(np.floor((lo + 0.5) * resolution).astype(int), 0, resolution)
        stop = np.clip(np.ceil((hi + 0.5) * resolution).astype(int), 0, resolution)
        if np.any(stop <= start):
            continue
        axes = [
            (np.arange(a * supersample, b * supersample) + 0.5) / fine - 0.5
            for a, b in zip(start, stop)
        ]
        points = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
        inside = part.contains_local(part.local(points))
        counts = stop - start
        inside = inside.reshape(
            counts[0], supersample, counts[1], supersample, counts[2], supersample
        ).any(axis=(1, 3, 5))
        grid[start[0] : stop[0], start[1] : stop[1], start[2] : stop[2]] |= inside
    return grid
