"""Reporting samples that readers leave out for missing files."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

__all__ = ["MissingFile", "warn_missing"]

_SHOWN = 5


@dataclasses.dataclass(frozen=True)
class MissingFile:
    """A sample left out because a file is missing.

    Attributes:
        taxonomy_id: Category of the sample.
        sample_id: Model id (ShapeNet) or image id (Pix3D) of the sample.
        path: The file or folder that is missing.
        reason: What was wrong, e.g. ``"no voxel file"``.
    """

    taxonomy_id: str
    sample_id: str
    path: Path
    reason: str


def warn_missing(logger: logging.Logger, missing: Sequence[MissingFile], kept: int, what: str) -> None:
    """Logs the first few missing files as warnings, then one summary line.

    Args:
        logger: The reader's logger.
        missing: Samples left out.
        kept: Number of samples kept.
        what: Name of the sample set, e.g. ``"ShapeNet test"``.
    """
    if not missing:
        return
    for item in missing[:_SHOWN]:
        logger.warning("%s: left out %s/%s: %s (%s)", what, item.taxonomy_id, item.sample_id,
                       item.reason, item.path)
    more = f" ({len(missing) - _SHOWN} more not shown)" if len(missing) > _SHOWN else ""
    logger.warning("%s: %d of %d samples left out for missing files%s; see .missing", what,
                   len(missing), len(missing) + kept, more)
