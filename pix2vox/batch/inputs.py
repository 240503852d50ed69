"""The objects of a batch job: read from a folder of per-object folders or from a manifest."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from pix2vox.errors import UsageError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["IMAGE_SUFFIXES", "ObjectViews", "is_uri", "object_folders", "objects_table", "read_objects"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
"""Files of an object's folder that are read as its views."""

MANIFEST_SUFFIXES = (".csv", ".parquet", ".pq")
MANIFEST_COLUMNS = ("object_id", "view")
MAX_ID_LENGTH = 200


@dataclass(frozen=True)
class ObjectViews:
    """One object of a batch job.

    Attributes:
        object_id: names the object, and its output file (``<object_id>.<format>``).
        views: its views: local paths, or URIs that pyarrow or fsspec read (``s3://…``,
            ``gs://…``, ``file:///…``). May be empty: the object is then reported as failed.
    """

    object_id: str
    views: tuple[str, ...]


def is_uri(view: str) -> bool:
    """Whether ``view`` names a file by URI (``scheme://…``) rather than a local path."""
    scheme, sep, _ = view.partition("://")
    return bool(sep) and scheme.isascii() and scheme.replace("+", "").replace("-", "").replace(".", "").isalnum()


def check_object_id(object_id: str, source: str) -> None:
    """A UsageError unless ``object_id`` can name a file in the output folder."""
    problem = None
    if not object_id:
        problem = "an empty object id"
    elif "/" in object_id or "\\" in object_id or "\x00" in object_id:
        problem = f"object id {object_id!r} contains a path separator"
    elif object_id.startswith("."):
        problem = f"object id {object_id!r} starts with a dot"
    elif len(object_id) > MAX_ID_LENGTH:
        problem = f"object id {object_id[:40]!r}… is longer than {MAX_ID_LENGTH} characters"
    if problem:
        raise UsageError(f"{source}: {problem}; object ids name the output files")


def object_folders(folder: Path) -> list[ObjectViews]:
    """One object per non-hidden sub-folder of ``folder``, with its images sorted by name.

    A sub-folder without images is an object with no views. Raises a UsageError when
    ``folder`` has no sub-folders.
    """
    objects = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        views = sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        objects.append(ObjectViews(sub.name, tuple(str(view) for view in views)))
    if not objects:
        images = sorted(p.suffix.lower() for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if images:  # one object's views: name them as files
            raise UsageError(f"{folder}: holds images but no sub-folders; for the views of one object name the files "
                             f"({folder / ('*' + images[0])}); a folder means one sub-folder per object (FOLDER/<object>/<view>.png)")
        raise UsageError(f"{folder}: no sub-folders with images (a folder means one sub-folder per object: FOLDER/<object>/<view>.png)")
    return objects


def _read_manifest_table(source: str) -> pa.Table:
    import pyarrow.csv
    import pyarrow.fs
    import pyarrow.parquet

    suffix = Path(source.split("?", 1)[0]).suffix.lower()
    try:
        if is_uri(source):
            filesystem, path = pyarrow.fs.FileSystem.from_uri(source)
        else:
            filesystem, path = pyarrow.fs.LocalFileSystem(), os.path.abspath(source)
        if suffix == ".csv":
            with filesystem.open_input_stream(path) as stream:
                options = pyarrow.csv.ConvertOptions(column_types={name: pyarrow.string() for name in MANIFEST_COLUMNS})
                return pyarrow.csv.read_csv(stream, convert_options=options)
        return pyarrow.parquet.read_table(path, filesystem=filesystem)
    except FileNotFoundError:
        raise UsageError(f"{source}: no such file") from None
    except (pyarrow.ArrowException, OSError) as error:
        raise UsageError(f"{source}: cannot read the manifest ({error})") from None


def read_manifest(source: str) -> list[ObjectViews]:
    """The objects of a CSV or Parquet manifest with columns ``object_id`` and ``view`` (a row per view).

    Objects keep the order of their first row, views the order of their rows. Relative view
    paths of a local manifest are relative to the manifest's folder.
    """
    table = _read_manifest_table(source)
    missing = [name for name in MANIFEST_COLUMNS if name not in table.column_names]
    if missing:
        raise UsageError(
            f"{source}: no column {', '.join(missing)}; a manifest has the columns object_id, view (a row per view)"
        )
    if table.num_rows == 0:
        raise UsageError(f"{source}: the manifest has no rows")
    base = None if is_uri(source) else Path(source).parent
    grouped: dict[str, list[str]] = {}
    for row, (object_id, view) in enumerate(zip(table["object_id"].to_pylist(), table["view"].to_pylist()), start=2):
        if object_id is None or view is None or not str(view):
            raise UsageError(f"{source}: row {row}: empty object_id or view")
        object_id, view = str(object_id), str(view)
        check_object_id(object_id, f"{source}: row {row}")
        if base is not None and not is_uri(view) and not os.path.isabs(view):
            view = str(base / view)
        grouped.setdefault(object_id, []).append(view)
    return [ObjectViews(object_id, tuple(views)) for object_id, views in grouped.items()]


def read_objects(source: str | os.PathLike[str]) -> list[ObjectViews]:
    """The objects named by ``source``: a folder of per-object folders, or a CSV/Parquet manifest.

    Raises:
        UsageError: ``source`` does not exist, is neither, or is malformed (the message says how).
    """
    text = os.fspath(source)
    if not is_uri(text) and Path(text).is_dir():
        objects = object_folders(Path(text))
        for item in objects:
            check_object_id(item.object_id, text)
        return objects
    if Path(text.split("?", 1)[0]).suffix.lower() not in MANIFEST_SUFFIXES:
        if not is_uri(text) and not Path(text).exists():
            raise UsageError(f"{text}: no such file or folder")
        raise UsageError(
            f"{text}: expected a folder of per-object folders, or a manifest ({', '.join(MANIFEST_SUFFIXES)})"
        )
    return read_manifest(text)


def objects_table(objects: Iterable[ObjectViews]) -> pa.Table:
    """The objects as a table with columns ``object_id`` (string) and ``views`` (list of strings)."""
    import pyarrow as pa

    objects = list(objects)
    return pa.table(
        {
            "object_id": pa.array([item.object_id for item in objects], pa.string()),
            "views": pa.array([list(item.views) for item in objects], pa.list_(pa.string())),
        }
    )
