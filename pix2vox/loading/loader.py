"""The one loader: a registered name, a folder, a Hub repository or a weights file in; a record and its weights out.

Both constructors of :class:`pix2vox.Reconstructor` and every command line go through
:func:`load_checkpoint`, in the manner of timm's ``create_model`` or open_clip's factory:

=========================================  ==============================================================
``load_checkpoint(...)``                   record and weights
=========================================  ==============================================================
``"pix2voxpp-a"``                          the registry's record; its weights shipped, from the Hub or
                                           from the authors' server (:func:`pix2vox.loading.hub.resolve_weights`)
``"pix2voxpp-a", weights="x.pth"``         the registry's record; the file's weights (``.pth`` or ``.safetensors``)
``"path/to/folder"``                       the folder's ``config.json`` and ``model.safetensors``
``"pix2voxpp-a", weights="folder/"``       the same, checked to be a ``pix2voxpp-a`` architecture
``"org/name"``, ``"hf-hub:org/name"``      the Hub repository's ``config.json`` and ``model.safetensors``
=========================================  ==============================================================

A folder always means its ``config.json``: its preprocessing and threshold, with the registry's
metadata when its name is registered with the same architecture.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from .checkpoint import identify, is_torch_file, read_checkpoint
from ..errors import CheckpointError
from .hub import download_folder, resolve_weights, verify_sha256
from .layout import folder_files, parse_config
from .registry import DEFAULT_MODEL, ModelRecord, find_repo, get_record, list_models

__all__ = ["Checkpoint", "HubOptions", "is_repo_id", "load_checkpoint"]

_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


def is_repo_id(text: str) -> bool:
    """Whether ``text`` reads as a Hub repository id, ``"org/name"`` or ``"hf-hub:org/name"``."""
    return _REPO_ID.fullmatch(text.removeprefix("hf-hub:")) is not None


@dataclass(frozen=True)
class HubOptions:
    """How weights are fetched: from the Hub, or from the authors' server for their four models.

    Attributes:
        revision: Hub revision overriding the registry's (its SHA-256 is then not checked).
        cache_dir: Hub cache folder (default: ``HF_HUB_CACHE``).
        local_files_only: never connect, as with ``HF_HUB_OFFLINE=1``.
        token: Hub access token for a private or gated repository (default: ``HF_TOKEN`` or
            ``hf auth login``).
        force_download: download again even when the files are cached.
        sha256: expected SHA-256 of the file read or downloaded (a ``weights=`` file, the Hub's
            ``model.safetensors``, or the authors' ``.pth``).
    """

    revision: str | None = None
    cache_dir: str | os.PathLike | None = None
    local_files_only: bool = False
    token: str | bool | None = None
    force_download: bool = False
    sha256: str | None = None


@dataclass(frozen=True)
class Checkpoint:
    """What :func:`load_checkpoint` found.

    Attributes:
        record: the registry record, or the one of a folder's ``config.json``.
        state: flat state dict of :class:`pix2vox.models.Pix2Vox`, on the CPU.
        source: the file read.
    """

    record: ModelRecord
    state: dict[str, torch.Tensor]
    source: str


def load_checkpoint(
    model: str | os.PathLike | None = None, weights: str | os.PathLike | None = None, *, hub: HubOptions = HubOptions()
) -> Checkpoint:
    """Read a checkpoint named in any of the ways of the module docstring.

    A registered name wins over a folder of the same name; pass a :class:`~pathlib.Path` (or a
    path with a separator) to mean the folder.

    Args:
        model: registry name, folder in our layout, or Hub repository id. Without it:
            :data:`pix2vox.loading.registry.DEFAULT_MODEL`, except for an authors' ``.pth`` as ``weights``,
            which is read with the authors' record of the network it fits (``pix2vox-f``,
            ``pix2vox-a``, ``pix2voxpp-f`` or ``pix2voxpp-a``).
        weights: a weights file (ours or the authors' ``.pth``, read with ``model``'s record) or a
            folder (its own ``config.json``; with ``model``, checked to be the same network).
        hub: how to fetch and check downloaded files.

    Raises:
        UnknownModelError: ``model`` is neither registered, nor a folder, nor a repository id.
        CheckpointError: a missing or unreadable file, a folder of another network, a checksum
            mismatch, ``weights=`` with a folder or repository as ``model``.
        DownloadError: weights that are neither cached nor downloadable.
    """
    text = os.fspath(model) if model is not None else None
    registered = text is None or text in list_models()
    if not registered:
        folder = Path(text).is_dir()
        if folder or (not isinstance(model, os.PathLike) and is_repo_id(text)):
            if weights is not None:
                raise CheckpointError(f"{text}: weights= goes with a registered model name, not with a folder or repository")
            return _folder_checkpoint(text, hub, folder=folder)
        if Path(text).is_file():
            raise CheckpointError(f"{text}: a file, not a folder; load a single weights file with weights=, e.g. Reconstructor(name, weights=...)")
        if isinstance(model, os.PathLike) or "/" in text or os.sep in text:
            raise CheckpointError(f"{text}: no such folder (nor a registered model, nor a Hub repository id like 'org/name')")
    if weights is not None and Path(weights).is_dir():
        checkpoint = _folder_checkpoint(os.fspath(weights), hub, folder=True)
        if text is not None and checkpoint.record.architecture != get_record(text).architecture:
            raise CheckpointError(
                f"{weights}: its config.json describes another network ({checkpoint.record.name}) than {text}"
            )
        return checkpoint
    if text is None and weights is not None and Path(weights).is_file() and is_torch_file(weights):
        if hub.sha256 is not None:
            verify_sha256(Path(weights), hub.sha256)
        state = read_checkpoint(weights)  # an authors' .pth: read as the network it fits
        fits = [name for name in identify(state) if name in list_models()]
        return Checkpoint(get_record(fits[0] if fits else DEFAULT_MODEL), state, os.fspath(weights))
    record = get_record(text or DEFAULT_MODEL)  # UnknownModelError listing the names
    if weights is None:
        path = resolve_weights(
            record, revision=hub.revision, cache_dir=hub.cache_dir, local_files_only=hub.local_files_only, token=hub.token,
            force_download=hub.force_download, sha256=hub.sha256,
        )
        return Checkpoint(record, read_checkpoint(path), str(path))
    path = Path(weights)
    if hub.sha256 is not None and path.is_file():
        verify_sha256(path, hub.sha256)
    return Checkpoint(record, read_checkpoint(path), str(path))


def _folder_checkpoint(text: str, hub: HubOptions, *, folder: bool) -> Checkpoint:
    """A folder in our layout, or a Hub repository in it (a registry repository at its pinned revision)."""
    if folder:
        config, weights = folder_files(text)
        if hub.sha256 is not None:
            verify_sha256(weights, hub.sha256)
    else:
        repo_id = text.removeprefix("hf-hub:")
        known = find_repo(repo_id)
        pinned = known is not None and hub.revision in (None, known.revision)
        config, weights = download_folder(
            repo_id,
            revision=hub.revision or (known.revision if known else None),
            cache_dir=hub.cache_dir,
            local_files_only=hub.local_files_only,
            sha256=hub.sha256 or (known.sha256 if pinned else None),
            token=hub.token,
            force_download=hub.force_download,
        )
    return Checkpoint(parse_config(config), read_checkpoint(weights), str(weights))
