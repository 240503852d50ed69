"""What the command-line programs share: one-line usage errors, typed values, the ``main`` wrapper."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from pix2vox.errors import Pix2VoxError

__all__ = ["OneLineParser", "UsageError", "positive_int", "run_cli", "threshold"]


class UsageError(Exception):
    """A mistake in the command line or its inputs; ``main`` prints it as one line."""


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors raise :class:`UsageError` instead of printing usage."""

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


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    return str(error)


def run_cli(
    prog: str,
    parser: argparse.ArgumentParser,
    command: Callable[[argparse.Namespace], int],
    argv: Sequence[str] | None,
) -> int:
    """Parse ``argv`` and run ``command``, turning user errors into one line on stderr.

    Returns:
        ``command``'s exit status; 0 after ``--help``/``--version``; 2 for a mistake in the
        arguments or inputs (``UsageError``, the library's errors, ``ValueError``, ``OSError``),
        printed as ``PROG: error: MESSAGE`` without a traceback; 130 when interrupted.
    """
    # This library's records go to stderr for the run; other libraries (huggingface_hub) print their own.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{prog}: %(levelname)s: %(message)s"))
    logger = logging.getLogger("pix2vox")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(min(level, logging.WARNING) if level else logging.WARNING)
    try:
        return command(parser.parse_args(argv))
    except SystemExit as exit_:  # --help, --version
        return int(exit_.code or 0)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except (UsageError, Pix2VoxError, ValueError, OSError) as error:
        print(f"{prog}: error: {_describe(error)}", file=sys.stderr)
        return 2
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
