"""Our checkpoint folder: ``model.safetensors`` + ``config.json`` + ``README.md``.

The same three files make a local folder, a Hub repository and a snapshot of the Hub cache.
``model.safetensors`` holds one flat state dict with the parameter names of
:class:`pix2vox.models.Pix2Vox`; ``config.json`` holds what is needed to build and use it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Mapping

import torch

from ..atomic import write_together
from ..errors import CheckpointError, UnknownModelError
from .model_card import model_card
from ..models import Architecture
from ..preprocess import PreprocessConfig
from .registry import ModelRecord, get_record

__all__ = [
    "CARD_NAME",
    "CONFIG_NAME",
    "FORMAT_VERSION",
    "WEIGHTS_NAME",
    "config_text",
    "folder_files",
    "make_config",
    "parse_config",
    "folder_writers",
    "write_files",
    "write_folder",
    "write_metadata",
]

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
CARD_NAME = "README.md"

FORMAT_VERSION = 1
"""Version of the ``config.json`` layout; readers refuse newer versions."""


def make_config(record: ModelRecord) -> dict[str, Any]:
    """The ``config.json`` content for ``record``: format version, name, architecture, preprocessing, threshold.

    Plain JSON values (lists, not tuples), exactly what :func:`parse_config` reads back.
    """
    config = {
        "format_version": FORMAT_VERSION,
        "library_name": "pix2vox",
        "name": record.name,
        "architecture": record.architecture.to_dict(),
        "preprocess": record.preprocess.to_dict(),
        "threshold": record.threshold,
    }
    return json.loads(json.dumps(config))


def config_text(record: ModelRecord) -> str:
    """``config.json`` as written: sorted keys, two-space indent, final newline."""
    return json.dumps(make_config(record), indent=2, sort_keys=True) + "\n"


def parse_config(path: str | os.PathLike) -> ModelRecord:
    """Read a ``config.json`` into a record.

    When the name is registered with the same architecture, the record keeps the registry's
    metadata (paper, IoU, licence …) with the file's preprocessing and threshold.

    Raises:
        CheckpointError: unreadable, not one of our configs, or written by a newer version.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        version = int(data.get("format_version", 1))
        if version > FORMAT_VERSION:
            raise CheckpointError(f"{path}: format version {version} is newer than this pix2vox reads ({FORMAT_VERSION}); upgrade pix2vox")
        architecture = Architecture.from_dict(data["architecture"])
        preprocess = PreprocessConfig.from_dict(data["preprocess"])
        name, threshold = str(data["name"]), float(data["threshold"])
    except CheckpointError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise CheckpointError(f"{path}: not a pix2vox config.json ({type(error).__name__}: {error})") from None
    try:
        record = get_record(name)
    except UnknownModelError:
        record = None
    if record is None or record.architecture != architecture:
        record = ModelRecord(name=name, architecture=architecture, license="unknown")
    return record.replace(preprocess=preprocess, threshold=threshold)


def folder_files(folder: str | os.PathLike) -> tuple[Path, Path]:
    """``(config.json, model.safetensors)`` of a folder in our layout.

    Raises:
        CheckpointError: the folder lacks one of them.
    """
    folder = Path(folder)
    missing = [name for name in (CONFIG_NAME, WEIGHTS_NAME) if not (folder / name).is_file()]
    if missing:
        raise CheckpointError(
            f"{folder}: missing {' and '.join(missing)}; a pix2vox folder holds {CONFIG_NAME} and {WEIGHTS_NAME} "
            "(write one with Reconstructor.save_pretrained or pix2vox-convert)"
        )
    return folder / CONFIG_NAME, folder / WEIGHTS_NAME


def _save_state(state: Mapping[str, torch.Tensor]) -> Callable[[Path], None]:
    from safetensors.torch import save_file

    tensors = {key: value.detach().to("cpu").contiguous() for key, value in state.items()}
    return lambda path: save_file(tensors, str(path), metadata={"format": "pt"})


def _save_text(text: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(text, encoding="utf-8", newline="\n")


def write_files(folder: str | os.PathLike, writers: Mapping[str, Callable[[Path], None]]) -> Path:
    """Write several files into ``folder`` all or nothing (:func:`pix2vox.atomic.write_together`).

    The folder is created if missing, and removed again on error if this call created it.
    """
    folder = Path(folder)
    write_together({folder / name: write for name, write in writers.items()}, make_folders=True)
    return folder


def _metadata_writers(record: ModelRecord) -> dict[str, Callable[[Path], None]]:
    return {CONFIG_NAME: _save_text(config_text(record)), CARD_NAME: _save_text(model_card(record))}


def folder_writers(state: Mapping[str, torch.Tensor], record: ModelRecord) -> dict[str, Callable[[Path], None]]:
    """File name → writer (given a path, writes that file) of the three files of a folder in our layout."""
    return {WEIGHTS_NAME: _save_state(state), **_metadata_writers(record)}


def write_folder(folder: str | os.PathLike, state: Mapping[str, torch.Tensor], record: ModelRecord) -> Path:
    """Write ``model.safetensors``, ``config.json`` and the ``README.md`` card of ``record`` into ``folder``."""
    return write_files(folder, folder_writers(state, record))


def write_metadata(folder: str | os.PathLike, record: ModelRecord) -> Path:
    """Write only ``config.json`` and ``README.md`` of ``record`` into ``folder`` (no weights file)."""
    return write_files(folder, _metadata_writers(record))
