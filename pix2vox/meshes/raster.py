"""A numpy z-buffer rasteriser for :class:`~pix2vox.meshes.load.TexturedMesh`.

Cameras are those of :mod:`pix2vox.synth.render` (same :class:`~pix2vox.synth.render.Camera`, same
pixel conventions), so the renderings of real meshes and of procedural objects describe their
cameras alike in ``rendering_metadata.txt``.

Each pixel is covered by ``supersample²`` samples at sub-pixel centres; a sample takes the nearest
triangle whose screen-space triangle contains it (perspective-correct texture coordinates,
nearest texel, repeating textures). Shading is two-sided Lambertian: an ambient term plus
directional lights given in camera coordinates. Samples are averaged with premultiplied alpha, so
edges are anti-aliased like the Blender renderings of ShapeNet.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from pix2vox.meshes.load import TexturedMesh
from pix2vox.raster import nearest_triangles
from pix2vox.synth.render import Camera, camera_frame

__all__ = ["Lighting", "rasterize"]


@dataclasses.dataclass(frozen=True)
class Lighting:
    """Lights fixed to the camera.

    Attributes:
        ambient: Ambient intensity.
        directions: ``(L, 3)`` directions towards the lights, camera coordinates (right, up,
            towards the camera).
        intensities: ``(L,)`` intensity of each light.
    """

    ambient: float = 0.35
    directions: tuple[tuple[float, float, float], ...] = ((-0.45, 0.75, 0.5), (0.6, 0.2, 0.6))
    intensities: tuple[float, ...] = (0.55, 0.25)


def _sample_texture(texture: NDArray[np.float32], uv: NDArray[np.float32]) -> NDArray[np.float32]:
    h, w = texture.shape[:2]
    cols = np.floor(np.mod(uv[:, 0], 1.0) * w).astype(np.intp).clip(0, w - 1)
    rows = np.floor((1.0 - np.mod(uv[:, 1], 1.0)) * h).astype(np.intp).clip(0, h - 1)
    return texture[rows, cols]


def _render_view(mesh: TexturedMesh, camera: Camera, size: int, lighting: Lighting) -> NDArray[np.float32]:
    """``(size, size, 4)`` float32 RGBA, one sample per pixel."""
    center, axes = camera_frame(camera)
    cam = (mesh.triangles - center) @ axes.T  # (F, 3, 3): right, up, depth
    visible = (cam[:, :, 2] > 1e-6).all(axis=1)
    focal = size / 2.0 / np.tan(np.radians(camera.fov) / 2.0)
    screen = np.stack([size / 2.0 + focal * cam[..., 0] / cam[..., 2],
                       size / 2.0 - focal * cam[..., 1] / cam[..., 2]], axis=-1)
    front = np.flatnonzero(visible)
    pixel, face, corner_weights = nearest_triangles(screen[front], 1.0 / cam[front, :, 2], size)
    face = front[face]
    # Perspective-correct weights (for the texture coordinates): screen weights over distance, normalised.
    weights = corner_weights / cam[face, :, 2]
    weights /= weights.sum(axis=1, keepdims=True)

    material = mesh.material[face]
    color = mesh.colors[material].astype(np.float32)
    for index, texture in enumerate(mesh.textures):
        mine = material == index
        if texture is not None and mine.any():
            uv = (weights[mine, :, None] * mesh.uv[face[mine]]).sum(axis=1)
            color[mine] *= _sample_texture(texture, uv.astype(np.float32)) / max(float(mesh.colors[index].max()), 1e-3)
    edge1 = cam[face, 1] - cam[face, 0]
    edge2 = cam[face, 2] - cam[face, 0]
    normal = np.cross(edge1, edge2)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
    # Two-sided: the normal that faces the camera (towards -depth); lights point back to the camera (+z).
    normal *= np.where(normal[:, 2] > 0.0, -1.0, 1.0)[:, None]
    normal[:, 2] *= -1.0
    directions = np.asarray(lighting.directions, float)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    shade = lighting.ambient + (np.clip(normal @ directions.T, 0.0, None) * lighting.intensities).sum(axis=1)
    image = np.zeros((size * size, 4), np.float32)
    image[pixel, :3] = np.clip(color * shade[:, None].astype(np.float32), 0.0, 1.0)
    image[pixel, 3] = 1.0
    return image.reshape(size, size, 4)


def rasterize(
    mesh: TexturedMesh, camera: Camera, size: int = 137, *, lighting: Lighting = Lighting(), supersample: int = 2
) -> NDArray[np.uint8]:
    """Renders one view.

    Args:
        mesh: The mesh in world units (normalised meshes fit in ``[-0.5, 0.5]^3``).
        camera: Camera pose; it must lie outside the mesh.
        size: Image side in pixels.
        lighting: Ambient and directional lights.
        supersample: Samples per pixel along each axis (1: no anti-aliasing).

    Returns:
        ``(size, size, 4)`` uint8 RGBA; the background is ``(0, 0, 0, 0)``.
    """
    fine = _render_view(mesh, camera, size * supersample, lighting)
    fine = fine.reshape(size, supersample, size, supersample, 4).mean(axis=(1, 3))
    alpha = fine[..., 3:]
    rgb = np.where(alpha > 0, fine[..., :3] / np.maximum(alpha, 1e-6), 0.0)
    out = np.concatenate([rgb, alpha], axis=-1)
    return np.round(np.clip(out, 0.0, 1.0) * 255.0).astype(np.uint8)
