"""Finding weights: files shipped with the package, the Hugging Face Hub cache, or a download."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from .errors import CheckpointError, Pix2VoxError
from .registry import Weights

logger = logging.getLogger(__name__)

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


class DownloadError(Pix2VoxError, OSError):
    """Weights could not be fetched and are not in the local cache."""


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str) -> None:
    """Raise :class:`CheckpointError` when ``path`` does not hash to ``expected``."""
    actual = sha256_of(path)
    if actual != expected.lower():
        raise CheckpointError(
            f"{path}: SHA-256 mismatch (expected {expected}, got {actual}); the file is corrupt or "
            "was tampered with and was not used. Delete it from the cache and download it again."
        )


def hub_download(
    repo_id: str,
    filename: str,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = False,
) -> Path:
    """``hf_hub_download`` with this library's name and version, and errors users understand.

    Honours ``HF_HUB_OFFLINE``, ``HF_HUB_CACHE``/``HF_HOME`` and ``HF_ENDPOINT`` as
    ``huggingface_hub`` does.

    Raises:
        DownloadError: no connection (or offline mode) and no cached copy, or no such file.
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError

    from . import __version__

    try:
        path = hf_hub_download(
            repo_id,
            filename,
            revision=revision,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
            library_name="pix2vox",
            library_version=__version__,
        )
    except LocalEntryNotFoundError:
        raise DownloadError(
            f"cannot download {filename} of {repo_id}@{revision or 'main'} and it is not in the local cache. "
            "Connect to the Hugging Face Hub once (the file is then cached), set HF_HUB_CACHE to a cache "
            "that holds it, or pass a local file with weights=... / a folder to Reconstructor.from_pretrained(...)"
        ) from None
    except (EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError) as error:
        raise DownloadError(f"{repo_id}@{revision or 'main'} has no file {filename} ({type(error).__name__})") from None
    return Path(path)


def resolve_weights(
    weights: Weights,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> Path:
    """Local path of the weights file of a registry record, downloading it if needed.

    A folder shipped with the package (``local_dir``) wins over the Hub. The SHA-256 is checked
    when the record has one and ``revision`` is not overridden.
    """
    if weights.local_dir is not None and (weights.local_dir / weights.filename).is_file():
        path = weights.local_dir / weights.filename
    elif weights.repo_id is None:
        raise DownloadError(f"{weights.name} has no published weights; pass weights=PATH")
    else:
        path = hub_download(weights.repo_id, weights.filename, revision=revision or weights.revision, cache_dir=cache_dir)
    if weights.sha256 and revision in (None, weights.revision):
        verify_sha256(path, weights.sha256)
    return path
