"""Write files atomically: all of the new content, or nothing at all.

Readers of the target path (and a user who interrupts a long export) must never
see a half-written file, so content goes to a hidden temporary file in the same
folder and is moved over the target with :func:`os.replace`, which is atomic on
POSIX and Windows as long as both paths are on one file system.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write", "write_bytes_atomic"]

logger = logging.getLogger(__name__)

_MAX_NAME_TRIES = 16


def _open_temporary(target: Path) -> tuple[Path, BinaryIO]:
    """Create a fresh temporary file next to ``target``.

    ``os.open`` with mode 0o666 lets the process umask decide the permissions,
    so the finished file looks like any other file the user creates (unlike
    :func:`tempfile.mkstemp`, which always uses 0o600).
    """
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, expected a file name", str(target))
    for _ in range(_MAX_NAME_TRIES):
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except FileNotFoundError:
            # Name the file the user asked for, not our temporary one.
            message = f"its folder {str(target.parent)!r} does not exist"
            raise FileNotFoundError(errno.ENOENT, message, str(target)) from None
        except OSError as error:
            raise type(error)(error.errno, error.strerror, str(target)) from None
        return temporary, os.fdopen(descriptor, "wb")
    raise FileExistsError(f"{target}: could not create a temporary file next to it")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a binary file that replaces ``path`` only when the block succeeds.

    Args:
        path: Target file. Its folder must exist; an existing file is replaced.

    Yields:
        A binary file object open for writing, backed by a temporary file in
        the target's folder.

    Raises:
        FileNotFoundError: The target's folder does not exist.
        IsADirectoryError: ``path`` is an existing folder.
        Exception: Whatever the block raises, after the temporary file has been
            removed; ``path`` is then left exactly as it was.

    Example:
        >>> with atomic_write("chair.binvox") as stream:  # doctest: +SKIP
        ...     stream.write(payload)
    """
    target = Path(path)
    temporary, stream = _open_temporary(target)
    try:
        with stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    logger.debug("wrote %s", target)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`).

    Args:
        path: Target file; its folder must exist.
        data: The complete file content.

    Returns:
        ``path`` as a :class:`pathlib.Path`.
    """
    with atomic_write(path) as stream:
        stream.write(data)
    return Path(path)
