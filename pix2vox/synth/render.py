"""A small CPU ray caster for :class:`~pix2vox.synth.solids.Part` shapes.

Camera model (also what ``rendering_metadata.txt`` describes): a pinhole camera at

    ``C = distance * (cos(el) sin(az), sin(el), cos(el) cos(az))``

(azimuth ``az`` about the y axis, measured from +z towards +x; elevation ``el`` above the xz
plane; degrees in the metadata), looking at the origin with world +y as up. The image is square,
``size x size`` pixels, with the same field of view ``fov`` (degrees) horizontally and vertically
and the principal point at the image centre. A point with camera coordinates ``(x, y, z)`` (z along
the viewing direction) lands at column ``size/2 * (1 + x / (z tan(fov/2)))`` and row
``size/2 * (1 - y / (z tan(fov/2)))``, in continuous pixel coordinates where pixel ``(r, c)``
covers ``[r, r+1) x [c, c+1)``; each pixel is shaded by the ray through its centre (no
anti-aliasing, so alpha is 0 or 255).

Generated objects face +x (ShapeNet's canonical pose, see :mod:`pix2vox.synth.shapes`), so
azimuth 90 sees an object from the front, 270 from the back, 0 from its right-hand side (+z, with
+x, its front, to the right of the image) and 180 from its left-hand side.

Shading is Lambertian with one directional light fixed relative to the camera (above, left and in
front of the object) plus an ambient term.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from pix2vox.synth.solids import Part

__all__ = ["Camera", "camera_frame", "project", "render"]

_AMBIENT = 0.35
# Light direction in camera coordinates (right, up, back towards the camera).
_LIGHT = np.array([-0.45, 0.75, 0.5]) / np.linalg.norm([-0.45, 0.75, 0.5])


@dataclasses.dataclass(frozen=True)
class Camera:
    """A camera pose; see the module docstring for the conventions.

    Attributes:
        azimuth: Degrees about +y, from +z towards +x.
        elevation: Degrees above the xz plane.
        distance: Camera distance from the origin, in world units (the object's longest side is 1).
        fov: Full field of view in degrees, horizontal and vertical.
    """

    azimuth: float
    elevation: float
    distance: float
    fov: float


def camera_frame(camera: Camera) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Camera centre and orientation.

    Returns:
        ``(center, axes)``: ``(3,)`` camera position and ``(3, 3)`` rows right, up, forward
        (unit vectors, world coordinates).
    """
    az, el = np.radians(camera.azimuth), np.radians(camera.elevation)
    center = camera.distance * np.array([np.cos(el) * np.sin(az), np.sin(el), np.cos(el) * np.cos(az)])
    forward = -center / np.linalg.norm(center)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    return center, np.stack([right, np.cross(right, forward), forward])


def project(points: NDArray[np.floating], camera: Camera, size: int) -> NDArray[np.float64]:
    """Projects ``(N, 3)`` world points to ``(N, 2)`` continuous pixel coordinates ``(col, row)``."""
    center, axes = camera_frame(camera)
    cam = (np.asarray(points, dtype=np.float64) - center) @ axes.T
    focal = size / 2.0 / np.tan(np.radians(camera.fov) / 2.0)
    col = size / 2.0 + focal * cam[:, 0] / cam[:, 2]
    row = size / 2.0 - focal * cam[:, 1] / cam[:, 2]
    return np.stack([col, row], axis=1)


def _footprint(
    center: NDArray[np.float64], radius: float, cam_center: NDArray[np.float64],
    axes: NDArray[np.float64], tan: float, size: int,
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Rows and columns of the pixels whose rays may hit a sphere (a conservative rectangle)."""
    x, y, z = axes @ (center - cam_center)
    near, far = z - radius, z + radius
    if near <= 0.0:  # The bound needs the sphere in front of the camera: keep the whole image.
        full = np.arange(size)
        return full, full
    lo_x, hi_x = min((x - radius) / near, (x - radius) / far), max((x + radius) / near, (x + radius) / far)
    lo_y, hi_y = min((y - radius) / near, (y - radius) / far), max((y + radius) / near, (y + radius) / far)
    scale = size / 2.0 / tan
    # Pixel centres sit at index + 0.5.
    cols = np.arange(max(0, int(np.ceil(size / 2.0 + scale * lo_x - 0.5))),
                     min(size, int(np.floor(size / 2.0 + scale * hi_x - 0.5)) + 1))
    rows = np.arange(max(0, int(np.ceil(size / 2.0 - scale * hi_y - 0.5))),
                     min(size, int(np.floor(size / 2.0 - scale * lo_y - 0.5)) + 1))
    return rows, cols


def _part_rays(
    part: Part, frames: Sequence[tuple[NDArray, NDArray]], tans: NDArray, size: int
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
    """Candidate rays of one part in its scaled local frame.

    Returns:
        ``(rays, origins, directions)``: ``(N,)`` flat ray indices ``view * size^2 + pixel`` and
        ``(3, N)`` origins and directions. A direction's component along the view axis is 1 in
        world units, so the ray parameter is the camera depth, comparable across parts.
    """
    coords = (np.arange(size) + 0.5) / size * 2.0 - 1.0
    radius = part.bounding_radius()
    to_local = part.rotation / part.half  # (world vector) @ to_local -> local vector
    rays, origins, directions = [], [], []
    for v, ((cam_center, axes), tan) in enumerate(zip(frames, tans)):
        rows, cols = _footprint(part.center, radius, cam_center, axes, tan, size)
        if rows.size == 0 or cols.size == 0:
            continue
        right, up, forward = axes @ to_local
        d = (
            forward[:, None, None]
            + (tan * coords[cols])[None, None, :] * right[:, None, None]
            + (-tan * coords[rows])[None, :, None] * up[:, None, None]
        )
        rays.append(((v * size + rows[:, None]) * size + cols[None, :]).ravel())
        directions.append(d.reshape(3, -1))
        origins.append(np.repeat(part.local(cam_center)[:, None], d.shape[1] * d.shape[2], axis=1))
    if not rays:
        return np.zeros(0, np.intp), np.zeros((3, 0)), np.zeros((3, 0))
    return np.concatenate(rays), np.concatenate(origins, axis=1), np.concatenate(directions, axis=1)


# Ray parameters of the first hit with a unit solid in its scaled local frame (inf: no hit). Rays
# start outside the solid. Arguments: ``(3, N)`` origins and directions and the part.
def _hit_box(o: NDArray, d: NDArray, part: Part) -> NDArray:
    t_in = np.full(o.shape[1], -np.inf)
    t_out = np.full(o.shape[1], np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(3):
            inv = 1.0 / d[k]
            t1, t2 = (-1.0 - o[k]) * inv, (1.0 - o[k]) * inv
            np.maximum(t_in, np.minimum(t1, t2), out=t_in)
            np.minimum(t_out, np.maximum(t1, t2), out=t_out)
    return np.where((t_in <= t_out) & (t_in > 0.0), t_in, np.inf)


def _hit_ellipsoid(o: NDArray, d: NDArray, part: Part) -> NDArray:
    a = (d * d).sum(axis=0)
    b = (o * d).sum(axis=0)
    disc = b * b - a * ((o * o).sum(axis=0) - 1.0)
    t = (-b - np.sqrt(np.maximum(disc, 0.0))) / a
    return np.where((disc >= 0.0) & (t > 0.0), t, np.inf)


def _radius_line(part: Part) -> tuple[float, float]:
    """``(mid, slope)`` of a frustum's radius ``rho(y) = mid + slope * y``."""
    return 0.5 * (part.rho[0] + part.rho[1]), 0.5 * (part.rho[1] - part.rho[0])


def _hit_frustum(o: NDArray, d: NDArray, part: Part) -> NDArray:
    mid, slope = _radius_line(part)
    (ox, oy, oz), (dx, dy, dz) = o, d
    rho_o = mid + slope * oy
    a = dx * dx + dz * dz - slope * slope * dy * dy
    b = ox * dx + oz * dz - rho_o * slope * dy
    disc = b * b - a * (ox * ox + oz * oz - rho_o * rho_o)
    root = np.sqrt(np.maximum(disc, 0.0))
    best = np.full(o.shape[1], np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        side = (disc >= 0.0) & (np.abs(a) > 1e-12)
        for t in ((-b - root) / a, (-b + root) / a):
            valid = side & (t > 0.0) & (np.abs(oy + t * dy) <= 1.0)
            np.minimum(best, np.where(valid, t, np.inf), out=best)
        for cap, rho in ((-1.0, part.rho[0]), (1.0, part.rho[1])):
            t = (cap - oy) / dy
            x, z = ox + t * dx, oz + t * dz
            valid = (t > 0.0) & (x * x + z * z <= rho * rho)
            np.minimum(best, np.where(valid, t, np.inf), out=best)
    return best


# Outward gradients at ``(3, N)`` surface points in the scaled local frame.
def _normal_box(q: NDArray, part: Part) -> NDArray:
    axis = np.abs(q).argmax(axis=0)
    normal = np.zeros_like(q)
    normal[axis, np.arange(q.shape[1])] = np.sign(q[axis, np.arange(q.shape[1])])
    return normal


def _normal_ellipsoid(q: NDArray, part: Part) -> NDArray:
    return q


def _normal_frustum(q: NDArray, part: Part) -> NDArray:
    mid, slope = _radius_line(part)
    rho = mid + slope * q[1]
    # Closer to a cap plane than to the side (in local units) means a cap hit.
    on_cap = 1.0 - np.abs(q[1]) < rho - np.hypot(q[0], q[2])
    side = np.stack([q[0], -rho * slope * np.ones_like(q[1]), q[2]])
    cap = np.stack([np.zeros_like(q[1]), np.sign(q[1]), np.zeros_like(q[1])])
    return np.where(on_cap, cap, side)


_HIT: dict[str, Callable[[NDArray, NDArray, Part], NDArray]] = {
    "box": _hit_box,
    "ellipsoid": _hit_ellipsoid,
    "frustum": _hit_frustum,
}
_NORMAL: dict[str, Callable[[NDArray, Part], NDArray]] = {
    "box": _normal_box,
    "ellipsoid": _normal_ellipsoid,
    "frustum": _normal_frustum,
}


def render(parts: Sequence[Part], cameras: Sequence[Camera], size: int = 137) -> NDArray[np.uint8]:
    """Renders a shape from several cameras at once.

    Args:
        parts: The shape's parts (world units; normalised shapes fit in ``[-0.5, 0.5]^3``).
        cameras: ``V`` camera poses; every camera must lie outside all parts.
        size: Image side in pixels.

    Returns:
        ``(V, size, size, 4)`` uint8 RGBA images; background pixels are ``(0, 0, 0, 0)``, object
        pixels have alpha 255.
    """
    frames = [camera_frame(c) for c in cameras]
    tans = np.tan(np.radians([c.fov for c in cameras]) / 2.0)
    n_rays = len(cameras) * size * size
    depth = np.full(n_rays, np.inf)
    part_id = np.full(n_rays, -1, dtype=np.int32)
    candidates = [_part_rays(part, frames, tans, size) for part in parts]
    for pid, (part, (rays, origins, directions)) in enumerate(zip(parts, candidates)):
        t = _HIT[part.kind](origins, directions, part)
        closer = t < depth[rays]
        depth[rays[closer]] = t[closer]
        part_id[rays[closer]] = pid

    # Shade the visible hits, one part at a time.
    lights = np.stack([(_LIGHT * [1.0, 1.0, -1.0]) @ axes for _, axes in frames])
    image = np.zeros((n_rays, 4), dtype=np.uint8)
    for pid, (part, (rays, origins, directions)) in enumerate(zip(parts, candidates)):
        mine = part_id[rays] == pid
        rays, origins, directions = rays[mine], origins[:, mine], directions[:, mine]
        if rays.size == 0:
            continue
        q = origins + depth[rays] * directions
        normal = (_NORMAL[part.kind](q, part).T / part.half) @ part.rotation.T
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        world_dirs = (directions.T * part.half) @ part.rotation.T
        normal *= np.where((normal * world_dirs).sum(axis=1) > 0.0, -1.0, 1.0)[:, None]
        lambert = np.clip((normal * lights[rays // (size * size)]).sum(axis=1), 0.0, 1.0)
        shaded = part.color * (_AMBIENT + (1.0 - _AMBIENT) * lambert)[:, None]
        image[rays, :3] = np.round(np.clip(shaded, 0.0, 1.0) * 255.0).astype(np.uint8)
        image[rays, 3] = 255
    return image.reshape(len(cameras), size, size, 4)
