"""Argument helpers shared by the command-line programs: one-line usage errors, typed values."""

from __future__ import annotations

import argparse
from typing import NoReturn

__all__ = ["OneLineParser", "UsageError", "positive_int", "threshold"]


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
