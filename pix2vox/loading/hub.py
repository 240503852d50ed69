"""Finding weights (files shipped with the package, the Hugging Face Hub cache, or a download) and publishing them.

Downloads go through ``huggingface_hub.hf_hub_download`` and uploads through ``HfApi``'s
``create_repo`` and ``upload_folder`` (so the normal cache, ``HF_ENDPOINT``, ``HF_HUB_OFFLINE``,
``HF_HUB_CACHE``/``HF_HOME``, ``HF_TOKEN`` and ``hf auth login`` work as everywhere else), tagged
with this library's name and version.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import constants as hf_constants

from ..errors import CheckpointError, DownloadError, NotPublishedError
from .layout import CARD_NAME, CONFIG_NAME, WEIGHTS_NAME, parse_config
from .registry import ModelRecord, find_repo

__all__ = [
    "CONFIG_NAME",
    "WEIGHTS_NAME",
    "DownloadError",
    "PushReport",
    "cache_folder",
    "download_folder",
    "hub_download",
    "check_published",
    "is_offline",
    "push_folder",
    "resolve_weights",
    "sha256_of",
    "verify_sha256",
]

logger = logging.getLogger(__name__)

# huggingface_hub reads HF_HUB_OFFLINE and HF_HUB_CACHE once, when it is imported. A variable set
# or changed after pix2vox is imported (in a notebook, by a test) wins over huggingface_hub's value;
# otherwise huggingface_hub's (possibly patched) constants rule.
_ENV_AT_IMPORT = {key: os.environ.get(key) for key in ("HF_HUB_OFFLINE", "HF_HUB_CACHE")}


def is_offline() -> bool:
    """Whether Hub downloads are off (``HF_HUB_OFFLINE=1``)."""
    value = os.environ.get("HF_HUB_OFFLINE")
    if value != _ENV_AT_IMPORT["HF_HUB_OFFLINE"]:
        return (value or "").upper() in ("1", "ON", "YES", "TRUE")
    return bool(hf_constants.HF_HUB_OFFLINE)


def cache_folder(cache_dir: str | os.PathLike | None = None) -> Path:
    """The Hub cache in use: ``cache_dir``, else ``HF_HUB_CACHE`` (default ``~/.cache/huggingface/hub``)."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    value = os.environ.get("HF_HUB_CACHE")
    changed = value != _ENV_AT_IMPORT["HF_HUB_CACHE"]
    return Path(os.path.expandvars(value) if changed and value else hf_constants.HF_HUB_CACHE).expanduser()


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
            f"{path}: SHA-256 mismatch (expected {expected}, got {actual}); the file is corrupt or was "
            "tampered with and was not used. Delete it from the Hugging Face cache (`hf cache delete`, or remove "
            "the models--… folder under HF_HUB_CACHE) and download it again."
        )


def hub_download(
    repo_id: str,
    filename: str,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
    force_download: bool = False,
) -> Path:
    """``hf_hub_download`` with this library's name and version, and errors users understand.

    Args:
        repo_id: Hub repository, ``"org/name"``.
        filename: file in it.
        revision: branch, tag or full 40-hex commit hash (default ``"main"``).
        cache_dir: Hub cache (default ``HF_HUB_CACHE``).
        local_files_only: use the cache only, as ``HF_HUB_OFFLINE=1`` does.
        token: Hub access token for private or gated repositories (default: ``HF_TOKEN`` or the
            one saved by ``hf auth login``; ``False`` sends none).
        force_download: download again even when the file is cached (replacing the cached copy).

    Returns:
        Path of the file in the cache (``…/models--org--name/snapshots/<commit>/filename``).

    Raises:
        DownloadError: offline or unreachable with no cached copy, no such repository,
            revision or file, or the download failed.
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError

    from .. import __version__

    offline = local_files_only or is_offline()
    cache = cache_folder(cache_dir)
    where = f"{repo_id}@{revision or 'main'}"
    try:
        path = hf_hub_download(
            repo_id,
            filename,
            revision=revision,
            cache_dir=cache,
            local_files_only=offline,
            token=token,
            force_download=force_download,
            library_name="pix2vox",
            library_version=__version__,
        )
    except LocalEntryNotFoundError:
        reason = "offline mode is on (HF_HUB_OFFLINE=1)" if offline else f"the Hub ({hf_constants.ENDPOINT}) cannot be reached"
        raise DownloadError(
            f"{filename} of {where} is not in the Hugging Face cache ({cache}) and {reason}. "
            "Download it once while online (it is then cached), point HF_HUB_CACHE or cache_dir= at a cache that "
            "holds it, or use local files: Reconstructor(name, weights='model.safetensors' or the authors' .pth), "
            "or Reconstructor.from_pretrained('folder')"
        ) from None
    except (RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError) as error:
        raise DownloadError(f"{where} has no file {filename} ({type(error).__name__}: {str(error).splitlines()[0]})") from None
    except OSError as error:  # other HTTP errors, connection lost during the transfer, cache not writable
        raise DownloadError(f"downloading {filename} of {where} failed: {error}") from None
    return Path(path)


def check_published(record: ModelRecord) -> None:
    """Fail at once, with no network access, when the record's Hub repository is not published.

    Records of the authors' models never fail here: their files are fetched from the authors'
    server instead (:mod:`pix2vox.loading.authors`).

    Raises:
        NotPublishedError: saying how to use a local file instead.
    """
    if record.published or record.original_file:
        return
    raise NotPublishedError(
        f"{record.name}: the Hub repository {record.repo_id} is not published yet; use a local file: "
        f"Reconstructor({record.name!r}, weights='model.safetensors' or a folder of ours)"
    )


def _authors_folder(record: ModelRecord, *, local_files_only: bool, sha256: str | None, force_download: bool) -> Path:
    from .authors import fetch_original  # it imports this module's helpers

    return fetch_original(record, local_files_only=local_files_only, sha256=sha256, force_download=force_download)


def download_folder(
    repo_id: str,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = False,
    sha256: str | None = None,
    token: str | bool | None = None,
    force_download: bool = False,
) -> tuple[Path, Path]:
    """``config.json`` and ``model.safetensors`` of a Hub repository in our layout, from the cache or downloaded.

    ``config.json`` is fetched first: it is the file the Hub counts downloads by. The repository
    of one of the authors' models that is not published on the Hub is served from the authors'
    server instead (see :func:`resolve_weights`).

    Raises:
        NotPublishedError: ``repo_id`` is a registered repository not published yet.
        DownloadError: see :func:`hub_download`.
        CheckpointError: ``sha256`` is given and the weights file does not match it (the file is not used).
    """
    known = find_repo(repo_id)
    if known is not None and not known.published:
        check_published(known)
        folder = _authors_folder(known, local_files_only=local_files_only, sha256=sha256, force_download=force_download)
        return folder / CONFIG_NAME, folder / WEIGHTS_NAME
    options = dict(revision=revision, cache_dir=cache_dir, local_files_only=local_files_only, token=token, force_download=force_download)
    config = hub_download(repo_id, CONFIG_NAME, **options)
    weights = hub_download(repo_id, WEIGHTS_NAME, **options)
    if sha256:
        verify_sha256(weights, sha256)
    return config, weights


def resolve_weights(
    record: ModelRecord,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
    force_download: bool = False,
    sha256: str | None = None,
) -> Path:
    """Local path of the weights file of a registry record, downloading it if needed.

    In this order: a folder shipped with the package (``local_dir``); the Hub repository when it is
    published; the authors' own server for their four models (when the repository is not
    published or cannot be reached), fetched once and converted into ``$PIX2VOX_CACHE``
    (:func:`pix2vox.loading.authors.fetch_original`). The SHA-256 is checked when given, or when the record
    has one and ``revision`` is not overridden; the repository's ``config.json`` must describe the
    record's architecture.

    Args:
        sha256: expected SHA-256 of the file downloaded: ``model.safetensors`` from the Hub or
            shipped, the authors' ``.pth`` from their server (default: the record's, if any).

    Raises:
        DownloadError: see :func:`hub_download` and :func:`pix2vox.loading.authors.fetch_original`.
        CheckpointError: checksum mismatch, or the repository or file holds another architecture.
    """
    if record.local_dir is not None and (record.local_dir / record.filename).is_file():
        path = record.local_dir / record.filename
        if sha256 or record.sha256:
            verify_sha256(path, sha256 or record.sha256)
        return path
    if record.repo_id is None and not record.original_file:
        raise DownloadError(f"{record.name} has no published weights; pass weights=PATH")
    check_published(record)
    if record.repo_id is not None and record.published:
        try:
            return _hub_weights(
                record, revision=revision, cache_dir=cache_dir, local_files_only=local_files_only, token=token,
                force_download=force_download, sha256=sha256,
            )
        except DownloadError as error:
            if not record.original_file:
                raise
            logger.info("%s; trying the authors' server", error)
    folder = _authors_folder(record, local_files_only=local_files_only, sha256=sha256, force_download=force_download)
    return folder / WEIGHTS_NAME


def _hub_weights(record: ModelRecord, *, revision: str | None, sha256: str | None, **options: object) -> Path:
    pinned = revision in (None, record.revision)
    expected = sha256 or (record.sha256 if pinned else None)
    options["revision"] = revision or record.revision
    if record.filename != WEIGHTS_NAME:
        path = hub_download(record.repo_id, record.filename, **options)
        if expected:
            verify_sha256(path, expected)
        return path
    config, path = download_folder(record.repo_id, sha256=expected, **options)
    if parse_config(config).architecture != record.architecture:
        raise CheckpointError(f"{config}: {record.repo_id} holds another architecture than {record.name}")
    return path


@dataclass(frozen=True)
class PushReport:
    """What :func:`push_folder` published, and how to pin it in :mod:`pix2vox.loading.registry`.

    Attributes:
        repo_id: the Hub repository.
        branch: the branch the commit went to.
        commit: full 40-hex hash of the commit: the ``revision`` to pin.
        sha256: SHA-256 of the pushed ``model.safetensors``: the ``sha256`` to pin.
        commit_url: address of the commit on the Hub.
    """

    repo_id: str
    branch: str
    commit: str
    sha256: str
    commit_url: str

    def registry_change(self, record: ModelRecord | None) -> str:
        """One line saying how ``record`` changes to load exactly this commit, e.g.
        ``pix2voxpp-a: revision="main" -> "3f…", sha256=None -> "9a…", published=False -> True``.

        For a repository of no record (``record`` ``None``), the fields of a new record.
        """
        pinned = {"repo_id": self.repo_id, "revision": self.commit, "sha256": self.sha256, "published": True}
        if record is None:
            return "new record: " + ", ".join(f"{key}={_literal(value)}" for key, value in pinned.items())
        changes = [
            f"{key}={_literal(getattr(record, key))} -> {_literal(value)}"
            for key, value in pinned.items()
            if getattr(record, key) != value
        ]
        return f"{record.name}: " + (", ".join(changes) if changes else "already pinned to this commit")


def _literal(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def push_folder(
    folder: str | os.PathLike,
    repo_id: str,
    *,
    token: str | bool | None = None,
    private: bool = False,
    revision: str | None = None,
    commit_message: str = "Upload pix2vox weights",
) -> PushReport:
    """Publish a folder in our layout (``config.json``, ``model.safetensors``, ``README.md``) to the Hub.

    Uses ``huggingface_hub``'s own upload API: ``HfApi.create_repo`` (an existing repository is
    kept), ``create_branch`` when ``revision`` names a branch, and one ``upload_folder`` commit
    holding the three files (``model.safetensors`` goes through LFS or Xet, as the Hub decides).

    Args:
        folder: the folder, e.g. written by :meth:`Reconstructor.save_pretrained` or ``pix2vox-convert``.
        repo_id: ``"org/name"``; created when missing.
        token: access token with write permission (default: ``HF_TOKEN`` or ``hf auth login``).
        private: create the repository private (an existing one keeps its visibility).
        revision: branch to commit to, created from ``main`` when missing (default ``main``).
        commit_message: summary of the commit.

    Returns:
        The commit and the SHA-256 to pin in the registry.

    Raises:
        CheckpointError: the folder lacks one of the files.
        huggingface_hub.errors.HfHubHTTPError: the Hub refused a request (no permission, ...).
    """
    from huggingface_hub import HfApi

    from .. import __version__

    folder = Path(folder)
    missing = [name for name in (CONFIG_NAME, WEIGHTS_NAME, CARD_NAME) if not (folder / name).is_file()]
    if missing:
        raise CheckpointError(f"{folder}: missing {', '.join(missing)}; write the folder with save_pretrained or pix2vox-convert")
    parse_config(folder / CONFIG_NAME)  # a folder of ours, or fail before creating anything
    api = HfApi(token=token, library_name="pix2vox", library_version=__version__)
    api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
    if revision is not None:
        api.create_branch(repo_id, branch=revision, exist_ok=True, repo_type="model")
    info = api.upload_folder(
        repo_id=repo_id,
        folder_path=folder,
        revision=revision,
        commit_message=commit_message,
        allow_patterns=[CONFIG_NAME, WEIGHTS_NAME, CARD_NAME],
        repo_type="model",
    )
    report = PushReport(
        repo_id=repo_id, branch=revision or "main", commit=info.oid, sha256=sha256_of(folder / WEIGHTS_NAME), commit_url=info.commit_url,
    )
    logger.info("pushed %s to %s@%s (commit %s)", folder, repo_id, report.branch, report.commit)
    return report
