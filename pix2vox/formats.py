"""File formats by name (= suffix without the dot); a light module the command lines read at start-up."""

from __future__ import annotations

__all__ = ["MESH_FORMATS", "SUPPORTED_FORMATS", "VOLUME_FORMATS"]

#: Mesh formats we write.
MESH_FORMATS: tuple[str, ...] = ("obj", "ply", "stl", "glb", "off")
#: Every format :func:`pix2vox.exchange.save_volume` writes.
SUPPORTED_FORMATS: tuple[str, ...] = ("binvox", *MESH_FORMATS, "npy", "npz")
#: The formats :func:`pix2vox.exchange.load_volume` reads back.
VOLUME_FORMATS: tuple[str, ...] = ("binvox", "npy", "npz")
