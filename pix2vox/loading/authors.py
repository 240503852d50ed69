"""The authors' checkpoints, fetched on first use from the authors' own server and cached.

The four ShapeNet-trained files of the papers (``Pix2Vox-F-ShapeNet.pth`` …) are published by
their authors at ``https://gateway.infinitescript.com/?fileName=<file>``; this library does not
redistribute them. :func:`fetch_original` downloads one (the way torchvision fetches its weights
from their publishers), checks it, converts it once into our layout and caches the result::

    $PIX2VOX_CACHE/authors/<name>/config.json
                                 /model.safetensors
                                 /README.md
                                 /source.json      # URL, size and SHA-256 of the .pth, and of model.safetensors

Later loads read the cached ``model.safetensors`` (no network, no unpickling) after checking its
SHA-256 against ``source.json``.

What comes back is checked before anything is kept: an HTML page (the server sometimes asks to
wait instead of sending the file), a truncated transfer, a file that is not a PyTorch checkpoint
or that the safe unpickler refuses, and a checkpoint of another variant are each refused with one
line naming the URL, and nothing is left in the cache. The transfer goes to ``<file>.part`` and is
resumed with an HTTP ``Range`` request when the connection drops (a ``.part`` left by an interrupted
or killed process is resumed by the next fetch); a lock file serialises processes that fetch the
same model into the same cache, so that only the first downloads.

Environment:
    ``PIX2VOX_AUTHORS_ENDPOINT``: the server (default ``https://gateway.infinitescript.com``),
    e.g. a mirror answering ``/?fileName=<file>`` the same way.
    ``PIX2VOX_CACHE``: the cache folder (default ``~/.cache/pix2vox``).
    ``HF_HUB_OFFLINE=1``: no network at all, as for the Hub: the cache or a clear error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO, Callable, Iterator
from urllib.parse import quote, urlsplit

import torch

from .checkpoint import is_torch_file, load_into, read_original
from ..errors import CheckpointError, DownloadError
from .hub import is_offline, sha256_of
from .layout import CONFIG_NAME, WEIGHTS_NAME, folder_writers, write_files
from ..models import Pix2Vox
from .registry import ModelRecord

__all__ = ["CACHE_ENV", "DEFAULT_ENDPOINT", "ENDPOINT_ENV", "SOURCE_NAME", "cache_root", "cached_folder", "fetch_original", "original_url"]

logger = logging.getLogger(__name__)

ENDPOINT_ENV = "PIX2VOX_AUTHORS_ENDPOINT"
DEFAULT_ENDPOINT = "https://gateway.infinitescript.com"
CACHE_ENV = "PIX2VOX_CACHE"
SOURCE_NAME = "source.json"
"""File of a cached folder recording where its weights came from and their SHA-256."""

_ATTEMPTS = 4
"""Transfers tried per fetch: the first, then resumes after a dropped connection."""
_TIMEOUT = 60.0
_CHUNK = 1 << 20


def cache_root() -> Path:
    """The pix2vox cache: ``PIX2VOX_CACHE``, default ``~/.cache/pix2vox``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "pix2vox").expanduser()


def original_url(record: ModelRecord) -> str:
    """Address of the authors' file of ``record`` on ``PIX2VOX_AUTHORS_ENDPOINT``.

    Raises:
        DownloadError: the record has no file published by the authors.
    """
    if not record.original_file:
        raise DownloadError(f"{record.name}: no checkpoint file published by the authors")
    endpoint = (os.environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT).rstrip("/")
    return f"{endpoint}/?fileName={quote(record.original_file, safe='')}"


def cached_folder(record: ModelRecord) -> Path:
    """The folder that holds (or will hold) the converted checkpoint of ``record``."""
    return cache_root() / "authors" / record.name


def fetch_original(
    record: ModelRecord,
    *,
    local_files_only: bool = False,
    sha256: str | None = None,
    force_download: bool = False,
) -> Path:
    """The cached folder (``config.json`` + ``model.safetensors``) of an authors' checkpoint, fetched if needed.

    Args:
        record: a registry record with ``original_file`` (one of the authors' four models).
        local_files_only: never connect (also when ``HF_HUB_OFFLINE=1``): the cache or an error.
        sha256: expected SHA-256 of the authors' ``.pth`` file; checked at the download and, against
            what was recorded then, at every later load.
        force_download: download and convert again even when cached.

    Returns:
        The folder, ``$PIX2VOX_CACHE/authors/<name>``.

    Raises:
        DownloadError: offline with no cached copy; the server cannot be reached, answers with an
            error or an HTML page, or the transfer stays incomplete.
        CheckpointError: the file is not a checkpoint of ``record``'s variant, is refused by the
            safe unpickler, or its SHA-256 (or the cached copy's) does not match.
    """
    url = original_url(record)
    folder = cached_folder(record)
    if not force_download and _complete(folder):
        return _verified(folder, record, sha256)
    if local_files_only or is_offline():
        reason = "local_files_only=True" if local_files_only else "offline mode is on (HF_HUB_OFFLINE=1)"
        raise DownloadError(
            f"{record.name}: the authors' checkpoint is not in the pix2vox cache ({folder}) and {reason}. Fetch it once "
            f"while online (`pix2vox-download {record.name}`), point {CACHE_ENV} at a cache that holds it, or use the "
            f"file directly: weights={record.original_file!r}"
        )
    from filelock import FileLock

    with FileLock(str(_lock_path(folder))):
        if not force_download and _complete(folder):  # another process fetched it while this one waited
            return _verified(folder, record, sha256)
        return _download_and_convert(record, url, folder, sha256)


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in (CONFIG_NAME, WEIGHTS_NAME, SOURCE_NAME))


def _lock_path(folder: Path) -> Path:
    # Outside the cache, so that a refused download leaves nothing there.
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"pix2vox-{key}.lock"


def _verified(folder: Path, record: ModelRecord, sha256: str | None) -> Path:
    source_file = folder / SOURCE_NAME
    try:
        source = json.loads(source_file.read_text(encoding="utf-8"))
        recorded, recorded_weights = str(source["sha256"]), str(source["safetensors_sha256"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"{source_file}: unreadable ({error}); delete {folder} and fetch it again") from None
    if sha256 is not None and sha256.lower() != recorded:
        raise CheckpointError(
            f"{record.name}: the cached checkpoint came from a file with SHA-256 {recorded}, not the pinned {sha256.lower()}; "
            f"delete {folder} (or pass force_download=True) to fetch it again"
        )
    actual = sha256_of(folder / WEIGHTS_NAME)
    if actual != recorded_weights:
        raise CheckpointError(
            f"{folder / WEIGHTS_NAME}: SHA-256 mismatch (recorded {recorded_weights} at the download, now {actual}); the file "
            f"is corrupt or was changed and was not used. Delete {folder} and fetch it again"
        )
    return folder


def _download_and_convert(record: ModelRecord, url: str, folder: Path, sha256: str | None) -> Path:
    part = folder.parent / f"{record.original_file}.part"
    created = _make_folders(part.parent)
    try:
        size = f", about {record.original_size_mb:g} MB" if record.original_size_mb else ""
        notice = (
            f"downloading {record.original_file} ({record.name}{size}) from {urlsplit(url).netloc}: the authors' "
            f"ShapeNet-trained weights, under the authors' and ShapeNet's terms of use; cached in {folder}"
        )
        _transfer(url, part, notice)
        digest = sha256_of(part)
        if sha256 is not None and digest != sha256.lower():
            raise CheckpointError(f"{url}: SHA-256 {digest}, not the pinned {sha256.lower()}; the file was not kept")
        state = _read_checked(part, record, url)
        source = {
            "url": url, "file": record.original_file, "size": part.stat().st_size, "sha256": digest,
            "downloaded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        _write_converted(folder, state, record, source)
    except Exception:  # refused or failed: nothing kept. An interrupt keeps the .part for the next fetch to resume.
        part.unlink(missing_ok=True)
        for made in reversed(created):
            _remove_empty(made)
        raise
    part.unlink()
    logger.info("%s: converted into %s", record.name, folder)
    return folder


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; returns those created, outermost first."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()][::-1]
    folder.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # not empty (another model's files, a concurrent fetch) or already gone
        pass


def _transfer(url: str, part: Path, notice: str) -> None:
    """Download ``url`` into ``part``, resuming with ``Range`` after a dropped connection.

    ``notice`` is logged once, when the server first answers with the file.
    """
    for attempt in range(1, _ATTEMPTS + 1):
        have = part.stat().st_size if part.exists() else 0
        try:
            _get(url, part, have, notice if attempt == 1 else None)
            return
        except _Dropped as dropped:
            if attempt == _ATTEMPTS:
                raise DownloadError(
                    f"{url}: the transfer stayed incomplete after {_ATTEMPTS} attempts ({dropped}): a truncated file; "
                    "nothing was kept, try again later"
                ) from None
            logger.info("%s: %s; resuming (attempt %d of %d)", url, dropped, attempt + 1, _ATTEMPTS)
            time.sleep(0.5 * attempt)


class _Dropped(Exception):
    """The connection ended before the whole file arrived."""


def _get(url: str, part: Path, have: int, notice: str | None) -> None:
    from .. import __version__

    headers = {"User-Agent": f"pix2vox/{__version__}"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=_TIMEOUT)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # the range is past the end: start again
            part.unlink()
            raise _Dropped("the server refused to resume") from None
        raise DownloadError(f"{url}: the server answered HTTP {error.code} ({error.reason}); nothing was kept") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DownloadError(f"{url}: cannot connect ({reason}); nothing was kept") from None
    with response:
        resumed = have and response.status == 206
        if response.headers.get_content_type() == "text/html":
            raise _html(url)
        if notice:
            logger.warning("%s", notice)
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        with open(part, "ab" if resumed else "wb") as file, _progress(part.name, total, have if resumed else 0) as advance:
            while chunk := _read(response, file.tell()):
                if file.tell() == 0 and _looks_like_html(chunk):
                    raise _html(url)
                file.write(chunk)
                advance(len(chunk))
            if total is not None and file.tell() - (have if resumed else 0) < total:
                raise _Dropped(f"{file.tell()} bytes received of {total + (have if resumed else 0)}")


def _read(response: BinaryIO, received: int) -> bytes:
    try:
        return response.read(_CHUNK)
    except (OSError, ValueError) as error:  # http.client.IncompleteRead, a reset connection
        raise _Dropped(f"connection lost after {received} bytes: {type(error).__name__}") from None


@contextlib.contextmanager
def _progress(name: str, total: int | None, initial: int) -> Iterator[Callable[[int], object]]:
    """A byte progress bar (on terminals only, and not under ``-q``); yields its ``update``."""
    from tqdm.auto import tqdm

    quiet = not logging.getLogger("pix2vox").isEnabledFor(logging.WARNING)
    with tqdm(total=None if total is None else total + initial, initial=initial, unit="B", unit_scale=True,
              unit_divisor=1024, desc=name, disable=True if quiet else None) as bar:
        yield bar.update


def _looks_like_html(head: bytes) -> bool:
    start = head[:512].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--", b"<?xml"))


def _html(url: str) -> DownloadError:
    return DownloadError(f"{url}: an HTML page, not a checkpoint: the server may ask to retry later; nothing was kept")


def _read_checked(path: Path, record: ModelRecord, url: str) -> dict[str, torch.Tensor]:
    """The state dict of a downloaded file, read safely and checked against ``record``'s variant."""
    if not is_torch_file(path):
        with open(path, "rb") as file:
            head = file.read(512)
        if _looks_like_html(head):
            raise _html(url)
        raise CheckpointError(f"{url}: not a PyTorch checkpoint file ({path.stat().st_size} bytes of something else); nothing was kept")
    try:
        state = read_original(path)
    except CheckpointError as error:
        raise CheckpointError(f"{url}: {str(error).removeprefix(f'{path}: ')}; nothing was kept") from None
    with torch.device("meta"):
        network = Pix2Vox(record.architecture)
    try:
        load_into(network, state, model_name=record.name, source=url)
    except CheckpointError as error:
        raise CheckpointError(f"{error}; nothing was kept") from None
    return {key: value.float() if value.is_floating_point() else value for key, value in network.state_dict().items()}


def _write_converted(folder: Path, state: dict[str, torch.Tensor], record: ModelRecord, source: dict) -> None:
    """Write the converted folder all or nothing, ``source.json`` recording the SHA-256 of both files."""
    writers: dict[str, Callable[[Path], None]] = dict(folder_writers(state, record))
    save_weights = writers[WEIGHTS_NAME]

    def weights_and_hash(path: Path) -> None:
        save_weights(path)
        source["safetensors_sha256"] = sha256_of(path)

    def source_file(path: Path) -> None:  # runs after weights_and_hash: writers run in order
        path.write_text(json.dumps(source, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    writers[WEIGHTS_NAME] = weights_and_hash
    writers[SOURCE_NAME] = source_file
    write_files(folder, writers)
