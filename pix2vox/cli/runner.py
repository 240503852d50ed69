"""The one runner of every command-line program: parsing, logging, exit codes, signals.

Every program builds its parser with :class:`OneLineParser` (which adds ``--version``,
``-v/--verbose`` and ``-q/--quiet``) and its ``main`` calls :func:`run_cli`:

* a mistake in the arguments or inputs (:class:`~pix2vox.errors.UsageError`, any
  :class:`~pix2vox.errors.Pix2VoxError`, ``ValueError``, ``OSError``) is one line on stderr,
  ``PROG: error: MESSAGE``, and exit status 2;
* Ctrl-C at any moment is one line, ``PROG: interrupted``, and exit status 130; ``SIGTERM`` is
  ``PROG: terminated`` and 143. Either way no file is half-written or replaced: the all-or-nothing
  writer (:mod:`pix2vox.atomic`) refuses to commit once a signal has arrived;
* the library's log records go to stderr: warnings by default, errors only with ``-q``,
  progress with ``-v`` and debugging details with ``-vv``; Python warnings of other libraries
  (PyTorch's, ...) are shown only with ``-v``.

The modules of the programs import PyTorch and the rest of the library inside their commands,
not at import time, so that an interrupt while they load is handled here too.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from pix2vox import __version__
from pix2vox.atomic import resume_writing, stop_writing, writes_in_progress, writing_stopped
from pix2vox.errors import Pix2VoxError, UsageError

__all__ = ["OneLineParser", "UsageError", "positive_int", "run_cli", "say", "threshold"]

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class _Terminated(BaseException):
    """Raised in the main thread by ``SIGTERM`` (a ``BaseException``, like ``KeyboardInterrupt``)."""


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors raise :class:`UsageError`, with the options every program has.

    Adds ``--version``, ``-v/--verbose`` (repeatable) and ``-q/--quiet``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
        self.add_argument("-v", "--verbose", action="count", default=0,
                          help="log progress (-vv: debugging details) on stderr")
        self.add_argument("-q", "--quiet", action="store_true",
                          help="print nothing but errors (no progress bar, no list of written files)")

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see --help)")


def positive_int(text: str) -> int:
    """``argparse`` type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def threshold(text: str) -> float:
    """``argparse`` type: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text}")
    return value


def say(args: argparse.Namespace, line: str) -> None:
    """Print one line of a program's result on stdout, unless ``-q``."""
    if not args.quiet:
        print(line, flush=True)


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    return str(error)


def _level(args: argparse.Namespace | None, default: int) -> int:
    if args is None:
        return default
    if args.quiet:
        return logging.ERROR
    if args.verbose:
        return logging.DEBUG if args.verbose > 1 else min(default, logging.INFO)
    return default


def _on_signal(prog: str, standalone: bool, signum: int, frame: object) -> None:
    """SIGINT/SIGTERM: no file is committed from now on. When this process is the program and no
    file is being written, it ends at once with its line and status; otherwise the exception
    unwinds the writes (their temporaries removed) up to :func:`run_cli`.

    Ending at once matters: an exception raised into Python code that C++ called (PyTorch's import
    does so) cannot pass through the C++ frames, and the process aborts ("terminate called after
    throwing an instance of ...", status -6).
    """
    stop_writing()
    interrupted = signum == signal.SIGINT
    if standalone and not writes_in_progress():
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os.write(2, f"{prog}: {'interrupted' if interrupted else 'terminated'}\n".encode())
        os._exit(EXIT_INTERRUPTED if interrupted else EXIT_TERMINATED)
    raise KeyboardInterrupt if interrupted else _Terminated


def _exit_process(status: int) -> NoReturn:
    """End the process now with ``status``, its output flushed.

    After a ``KeyboardInterrupt`` that passed through Python code run from C (``PyRun_*``, as
    PyTorch's extensions do), CPython marks it "unhandled" even when it was caught, and at exit
    kills itself with ``SIGINT``: status -2 instead of 130. Leaving before that check keeps the
    documented status. Files were already committed or discarded by then.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def run_cli(
    prog: str,
    parser: argparse.ArgumentParser,
    command: Callable[[argparse.Namespace], int],
    argv: Sequence[str] | None,
    *,
    default_level: int = logging.WARNING,
) -> int:
    """Parse ``argv`` and run ``command``, turning user errors and signals into one line on stderr.

    Args:
        prog: program name, the prefix of every line on stderr.
        parser: the program's parser (a :class:`OneLineParser`).
        command: runs the parsed arguments; returns the exit status.
        argv: arguments without the program name; ``None`` (a console script, ``python -m``)
            means ``sys.argv[1:]`` and that this process is the program: when interrupted or
            terminated it then ends at once with 130 or 143 (see :func:`_exit_process`).
        default_level: log level without ``-v``/``-q``.

    Returns:
        ``command``'s exit status; 0 after ``--help``/``--version``; 2 for a mistake in the
        arguments or inputs; 130 when interrupted (Ctrl-C), 143 when terminated (``SIGTERM``).
    """
    status = _run_cli(prog, parser, command, argv, default_level=default_level)
    if argv is None and status in (EXIT_INTERRUPTED, EXIT_TERMINATED):  # this process is the program
        _exit_process(status)
    return status


def _run_cli(
    prog: str,
    parser: argparse.ArgumentParser,
    command: Callable[[argparse.Namespace], int],
    argv: Sequence[str] | None,
    *,
    default_level: int,
) -> int:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{prog}: %(levelname)s: %(message)s"))
    logger = logging.getLogger("pix2vox")
    saved_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(default_level)
    resume_writing()
    main_thread = threading.current_thread() is threading.main_thread()
    on_signal = functools.partial(_on_signal, prog, argv is None)
    saved = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)} if main_thread else {}
    try:
        args = parser.parse_args(argv)
        logger.setLevel(_level(args, default_level))
        with warnings.catch_warnings():
            if not args.verbose:  # other libraries' warnings (PyTorch's about old files, ...) only with -v
                warnings.simplefilter("ignore")
            status = command(args)
        if writing_stopped():  # an interrupt that some library swallowed
            raise KeyboardInterrupt
        return status
    except SystemExit as exit_:  # --help, --version
        return int(exit_.code or 0)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Terminated:
        print(f"{prog}: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except (Pix2VoxError, ValueError, OSError) as error:
        print(f"{prog}: error: {_describe(error)}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        for sig, previous in saved.items():
            signal.signal(sig, previous)
        logger.removeHandler(handler)
        logger.setLevel(saved_level)
