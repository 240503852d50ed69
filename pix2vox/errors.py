"""Exceptions raised for user errors (bad images, bad checkpoints, unknown models)."""


class Pix2VoxError(Exception):
    """Base class of the errors this library raises for bad input."""


class ImageError(Pix2VoxError, ValueError):
    """An image could not be read or has an unsupported shape; the message names it."""


class CheckpointError(Pix2VoxError, ValueError):
    """A checkpoint file is unreadable, truncated, or does not fit the requested model."""


class UnknownModelError(Pix2VoxError, KeyError):
    """A model name is not in the registry; the message lists the known names."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0]) if self.args else ""


class DownloadError(Pix2VoxError, OSError):
    """Weights could not be fetched and are not in the local cache; the message says how to work offline."""
