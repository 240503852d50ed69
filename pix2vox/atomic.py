"""The one all-or-nothing file writer of the package: every file it writes goes through here.

Outputs are first written to temporary files next to their targets, named
``.<name>.pix2vox-tmp-<pid>-<random><suffix>`` (the suffix is kept, so that writers that go
by it still work), and renamed over the targets with :func:`os.replace` only when every
output of the group is complete. A failure, an exception or an interruption removes the
temporaries and leaves every target as it was before. A temporary left behind by a process
that was killed outright (``SIGKILL``, power loss) is removed the next time a file of the same
name is written, once its process is gone; until then its name says what it is.

After :func:`stop_writing` (called by the command-line programs on Ctrl-C and ``SIGTERM``),
no group commits any more: each raises :class:`KeyboardInterrupt` and removes its temporaries,
even where some library swallowed the first interrupt.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "TEMPORARY_MARK",
    "StagedFiles",
    "atomic_write",
    "resume_writing",
    "stop_writing",
    "write_bytes_atomic",
    "write_together",
    "writes_in_progress",
    "writing_stopped",
]

logger = logging.getLogger(__name__)

TEMPORARY_MARK = ".pix2vox-tmp-"
"""Part of the name of every temporary file: ``.<name>.pix2vox-tmp-<pid>-<random><suffix>``."""

_LEFTOVER = re.compile(re.escape(TEMPORARY_MARK) + r"(\d+)-[0-9a-f]+")
_stopped = threading.Event()
_staging: set[StagedFiles] = set()  # groups holding temporaries or folders they created


def stop_writing() -> None:
    """Refuse every later commit: pending groups raise :class:`KeyboardInterrupt` and remove their temporaries."""
    _stopped.set()


def writing_stopped() -> bool:
    """Whether :func:`stop_writing` was called (and not undone)."""
    return _stopped.is_set()


def writes_in_progress() -> bool:
    """Whether some :class:`StagedFiles` group holds temporaries (or folders it created) right now."""
    return bool(_staging)


def resume_writing() -> None:
    """Undo :func:`stop_writing` (the command-line runner calls it when a program starts)."""
    _stopped.clear()


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _remove_leftovers(target: Path) -> None:
    """Delete temporaries of ``target`` whose writing process no longer exists.

    Also the temporaries of those temporaries (``..<name>.pix2vox-tmp-…``): a writer that stages
    its own file inside a staged one leaves both when it is killed.
    """
    leftover = re.compile(r"\.+" + re.escape(target.name) + _LEFTOVER.pattern)
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            found = leftover.match(entry.name)
            if found and not _process_alive(int(found.group(1))):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    logger.info("removed %s, left by an interrupted run", entry.path)


def _check_target(target: Path) -> None:
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, expected a file name", str(target))


class StagedFiles:
    """A group of output files that appear together, complete, or not at all.

    :meth:`stage` gives a temporary path next to each target; write the content there.
    :meth:`commit` renames every temporary over its target; :meth:`discard` removes them.
    Used as a context manager, the group commits when the block succeeds and is discarded
    when it raises (anything, including :class:`KeyboardInterrupt`).

    Args:
        make_folders: create a missing target folder (removed again on discard if still empty).

    Example:
        >>> with StagedFiles() as files:  # doctest: +SKIP
        ...     mesh.export(files.stage("chair.obj"))
        ...     picture.save(files.stage("chair.png"))
    """

    def __init__(self, *, make_folders: bool = False) -> None:
        self._make_folders = make_folders
        self._staged: dict[Path, Path] = {}
        self._modes: dict[Path, int] = {}
        self._created: list[Path] = []

    def stage(self, target: str | os.PathLike[str]) -> Path:
        """Create an empty temporary file for ``target`` and return its path.

        Raises:
            FileNotFoundError: the target's folder does not exist (and ``make_folders`` is off).
            IsADirectoryError: the target is a folder.
            OSError: the folder cannot be written; the message names the target.
        """
        target = Path(target)
        _check_target(target)
        _staging.add(self)  # before anything is created, so that it is never unaccounted for
        if self._make_folders and not target.parent.exists():
            missing = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
            target.parent.mkdir(parents=True)
            self._created.extend(missing)
        _remove_leftovers(target)
        for _ in range(16):
            temporary = target.with_name(f".{target.name}{TEMPORARY_MARK}{os.getpid()}-{secrets.token_hex(4)}{target.suffix}")
            try:
                # Mode 0o666 lets the umask decide, like any file the user creates.
                os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            except FileExistsError:
                continue
            except FileNotFoundError:
                raise FileNotFoundError(errno.ENOENT, f"its folder {str(target.parent)!r} does not exist", str(target)) from None
            except OSError as error:
                raise type(error)(error.errno, error.strerror, str(target)) from None
            self._staged[target] = temporary
            self._modes[target] = temporary.stat().st_mode  # what the umask allows
            return temporary
        raise FileExistsError(errno.EEXIST, "could not create a temporary file next to it", str(target))

    def commit(self) -> list[Path]:
        """Rename every temporary over its target; returns the targets.

        Raises:
            KeyboardInterrupt: :func:`stop_writing` was called; nothing is renamed.
        """
        if _stopped.is_set():
            self.discard()
            raise KeyboardInterrupt
        try:
            for target, temporary in self._staged.items():
                _check_target(target)
                with open(temporary, "rb+") as stream:  # on disk before the rename
                    os.fsync(stream.fileno())
                temporary.chmod(self._modes[target])  # some writers re-create files with mode 0600
            for target, temporary in self._staged.items():
                os.replace(temporary, target)
                logger.debug("wrote %s", target)
        except BaseException:
            self.discard()
            raise
        targets = list(self._staged)
        self._staged.clear()
        _staging.discard(self)
        return targets

    def discard(self) -> None:
        """Remove the temporaries (and folders this group created, if empty); targets stay as they were."""
        for temporary in self._staged.values():
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
        self._staged.clear()
        for folder in self._created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only succeeds when empty
        self._created.clear()
        _staging.discard(self)

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def write_together(
    writers: Mapping[str | os.PathLike[str], Callable[[Path], None]], *, make_folders: bool = False
) -> list[Path]:
    """Write several files all or nothing: each ``writer(temporary_path)`` writes one target.

    Args:
        writers: target path → function writing the content to the path it is given.
        make_folders: create missing target folders (removed again on failure if empty).

    Returns:
        The targets written.
    """
    with StagedFiles(make_folders=make_folders) as files:
        for target, write in writers.items():
            write(files.stage(target))
    return [Path(target) for target in writers]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a binary file that replaces ``path`` only when the block succeeds.

    Args:
        path: Target file. Its folder must exist; an existing file is replaced.

    Yields:
        A binary file object backed by a temporary file in the target's folder.

    Raises:
        FileNotFoundError: The target's folder does not exist.
        IsADirectoryError: ``path`` is an existing folder.
        Exception: Whatever the block raises; ``path`` is then left exactly as it was.
    """
    with StagedFiles() as files, open(files.stage(path), "wb") as stream:
        yield stream


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` all or nothing (see :class:`StagedFiles`).

    Returns:
        ``path`` as a :class:`pathlib.Path`.
    """
    with atomic_write(path) as stream:
        stream.write(data)
    return Path(path)
