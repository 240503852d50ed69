"""Load a mesh file as a textured triangle soup in the canonical pose, inside the unit cube.

Canonical pose (ShapeNet's): y up, the object's front towards +x. Models are centred on their
bounding box and scaled so that its longest side is 1, so they lie in ``[-0.5, 0.5]^3`` like the
objects of :mod:`pix2vox.synth`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from pix2vox.errors import Pix2VoxError

__all__ = ["FRONTS", "MESH_SUFFIXES", "MeshError", "TexturedMesh", "load_mesh", "turn_about_y"]

logger = logging.getLogger(__name__)

MESH_SUFFIXES = (".obj", ".glb", ".gltf", ".ply", ".off", ".stl")
"""File types :func:`load_mesh` reads (through trimesh)."""

FRONTS = {"+x": 0.0, "+z": 90.0, "-x": 180.0, "-z": -90.0}
"""Right-handed turn about y (degrees) that brings a front facing each direction to +x."""

_MAX_TEXTURE = 512  # texture maps are shrunk to this side: renderings are 137 px


class MeshError(Pix2VoxError):
    """A mesh file that cannot be used: unreadable, no faces, or degenerate."""


@dataclasses.dataclass(frozen=True)
class TexturedMesh:
    """A triangle soup with one material per face.

    Attributes:
        triangles: ``(F, 3, 3)`` float64 corner positions.
        uv: ``(F, 3, 2)`` float32 texture coordinates (0 where a face has no texture).
        material: ``(F,)`` int32 index into ``colors`` / ``textures``.
        colors: ``(M, 3)`` float32 diffuse colours in [0, 1].
        textures: One ``(H, W, 3)`` float32 image in [0, 1] per material, or ``None``.
    """

    triangles: NDArray[np.float64]
    uv: NDArray[np.float32]
    material: NDArray[np.int32]
    colors: NDArray[np.float32]
    textures: tuple[NDArray[np.float32] | None, ...]

    def transformed(self, rotation: NDArray[np.float64], offset: NDArray[np.float64], scale: float) -> TexturedMesh:
        """``scale * (rotation @ p) + offset`` for every corner ``p``."""
        triangles = scale * (self.triangles @ np.asarray(rotation, float).T) + offset
        return dataclasses.replace(self, triangles=triangles)


def turn_about_y(degrees: float) -> NDArray[np.float64]:
    """Right-handed rotation about +y; ``turn_about_y(90)`` takes +z to +x."""
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _texture(image) -> NDArray[np.float32] | None:
    if image is None:
        return None
    image = image.convert("RGB")
    if max(image.size) > _MAX_TEXTURE:
        factor = max(image.size) / _MAX_TEXTURE
        image = image.resize((max(1, round(image.width / factor)), max(1, round(image.height / factor))))
    return np.asarray(image, dtype=np.float32) / 255.0


def _material(visual) -> tuple[NDArray[np.float32], NDArray[np.float32] | None, NDArray | None]:
    """``(diffuse colour, texture, per-vertex uv)`` of one trimesh visual."""
    if visual.kind == "texture":
        material = visual.material
        color = getattr(material, "diffuse", None)
        if color is None:
            color = getattr(material, "baseColorFactor", None)
        image = getattr(material, "image", None)
        if image is None:
            image = getattr(material, "baseColorTexture", None)
        rgb = np.asarray(color if color is not None else (200, 200, 200), np.float32)[:3] / 255.0
        uv = visual.uv
        if uv is None or len(uv) == 0:
            image = None
        return rgb, _texture(image), uv
    if visual.kind in ("face", "vertex"):
        return np.asarray(visual.main_color, np.float32)[:3] / 255.0, None, None
    return np.full(3, 0.7, np.float32), None, None


def _pieces(path: Path) -> list:
    import trimesh

    scene = trimesh.load(str(path), force="scene", process=False)
    pieces = []
    for node in scene.graph.nodes_geometry:
        transform, name = scene.graph[node]
        geometry = scene.geometry[name]
        if isinstance(geometry, trimesh.Trimesh) and len(geometry.faces):
            pieces.append((geometry, np.asarray(transform, float)))
    return pieces


def load_mesh(
    path: str | os.PathLike[str], rotation: NDArray[np.float64] | None = None
) -> TexturedMesh:
    """Reads a mesh, turns it by ``rotation`` into the canonical pose and normalises it.

    Args:
        path: An ``.obj`` (with its ``.mtl`` and textures beside it), ``.glb``, ``.gltf``,
            ``.ply``, ``.off`` or ``.stl`` file.
        rotation: ``(3, 3)`` turn that brings the file's frame to the canonical pose (identity
            when the file is already y up and faces +x).

    Returns:
        The mesh, centred on its bounding box, longest side 1.

    Raises:
        MeshError: Unreadable, no faces, or degenerate (flat in two directions, or non-finite).
    """
    path = Path(path)
    try:
        pieces = _pieces(path)
    except Exception as error:  # trimesh raises many kinds; each means "cannot read this file"
        raise MeshError(f"{path}: cannot read the mesh ({type(error).__name__}: {error})") from None
    if not pieces:
        raise MeshError(f"{path}: no faces")
    triangles, uvs, materials, colors, textures = [], [], [], [], []
    for index, (geometry, transform) in enumerate(pieces):
        vertices = geometry.vertices @ transform[:3, :3].T + transform[:3, 3]
        faces = np.asarray(geometry.faces)
        color, texture, uv = _material(geometry.visual)
        triangles.append(vertices[faces])
        uvs.append(np.zeros((len(faces), 3, 2), np.float32) if texture is None
                   else np.asarray(uv, np.float32)[faces])
        materials.append(np.full(len(faces), index, np.int32))
        colors.append(color)
        textures.append(texture)
    mesh = TexturedMesh(np.concatenate(triangles), np.concatenate(uvs), np.concatenate(materials),
                        np.stack(colors), tuple(textures))
    if not np.isfinite(mesh.triangles).all():
        raise MeshError(f"{path}: non-finite vertex coordinates")
    if rotation is not None:
        mesh = mesh.transformed(rotation, np.zeros(3), 1.0)
    low, high = mesh.triangles.reshape(-1, 3).min(axis=0), mesh.triangles.reshape(-1, 3).max(axis=0)
    extent = high - low
    if extent.max() <= 0 or np.sort(extent)[1] <= 1e-6 * extent.max():
        raise MeshError(f"{path}: degenerate mesh (extent {extent.round(6).tolist()})")
    return mesh.transformed(np.eye(3), -(low + high) / 2.0 / extent.max(), 1.0 / extent.max())
