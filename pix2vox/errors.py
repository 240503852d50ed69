"""Exceptions this library raises for bad input; all derive from :class:`Pix2VoxError`.

Catch :class:`Pix2VoxError` to handle every problem the library reports about its inputs
(files, images, checkpoints, model names, downloads, data sets); the command-line programs
print each of them as one line and exit with status 2.
"""


class Pix2VoxError(Exception):
    """Base class of the errors this library raises for bad input."""


class ImageError(Pix2VoxError, ValueError):
    """An image could not be read, is too large, or has an unsupported shape or range; the message names it."""


class CheckpointError(Pix2VoxError, ValueError):
    """A checkpoint file is unreadable, truncated, unsafe, or does not fit the requested model."""


class UnknownModelError(Pix2VoxError, KeyError):
    """A model name is not in the registry; the message lists the known names."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0]) if self.args else ""


class DownloadError(Pix2VoxError, OSError):
    """Weights could not be fetched and are not in the local cache; the message says how to work offline."""


class NotPublishedError(DownloadError):
    """A registered model's Hub repository is not published yet; the message says where the authors' files are."""


class BinvoxError(Pix2VoxError, ValueError):
    """A binvox file (named in the message) is malformed, too large, or not binvox at all."""


class VolumeError(Pix2VoxError, ValueError):
    """A volume (array or file, named in the message) has a wrong shape, dtype or range, or nothing to mesh."""


class DatasetError(Pix2VoxError, ValueError):
    """A data set's files (taxonomy JSON, annotations, renderings) are missing or malformed."""


class UsageError(Pix2VoxError):
    """A mistake in a command line or its inputs; the programs print it as one line and exit 2."""
