"""Write triangle meshes through trimesh's exporters, atomically."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import trimesh

from pix2vox.atomic import write_bytes_atomic
from pix2vox.formats import MESH_FORMATS

__all__ = ["MESH_FORMATS", "write_mesh"]

logger = logging.getLogger(__name__)

def write_mesh(
    path: str | os.PathLike[str], mesh: trimesh.Trimesh, *, file_format: str | None = None
) -> Path:
    """Write ``mesh`` to ``path``; no file is left behind if anything fails.

    Args:
        path: Target file; its folder must exist.
        mesh: The mesh to write. PLY, STL and GLB are binary; OBJ and OFF text.
        file_format: One of :data:`MESH_FORMATS`; by default ``path``'s suffix.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        ValueError: The mesh has no faces, or the format is not supported.
        OSError: The file cannot be written.
    """
    target = Path(path)
    file_format = (file_format or target.suffix.lstrip(".")).lower()
    if file_format not in MESH_FORMATS:
        raise ValueError(
            f"{target}: unsupported mesh format {file_format!r}; use one of {', '.join(MESH_FORMATS)}"
        )
    if len(mesh.faces) == 0:
        raise ValueError(f"{target}: the mesh is empty, nothing to write")
    data = mesh.export(file_type=file_format)
    if isinstance(data, str):
        data = data.encode("utf-8")
    write_bytes_atomic(target, data)
    logger.debug("wrote %s (%d faces, %d bytes)", target, len(mesh.faces), len(data))
    return target
