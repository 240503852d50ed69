"""Taxonomy files in Pix2Vox's format, and split sizes.

A taxonomy file (``ShapeNet.json``, ``Pix3D.json`` of the original code) is a JSON list with one
object per category::

    [{"taxonomy_id": "03001627", "taxonomy_name": "chair", "baseline": {"1-view": 0.466, ...},
      "train": ["<model id>", ...], "val": [...], "test": [...]}, ...]

``baseline`` (3D-R2N2's IoU per number of views) is optional and ignored here; a missing split key
means an empty split.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path

import numpy as np

from pix2vox.errors import DatasetError

__all__ = ["SPLITS", "Taxonomy", "load_taxonomies", "random_splits", "split_counts", "taxonomy_entry"]

SPLITS = ("train", "val", "test")


@dataclasses.dataclass(frozen=True)
class Taxonomy:
    """One category of a taxonomy file.

    Attributes:
        taxonomy_id: E.g. the ShapeNet synset id ``"03001627"`` (Pix3D files use the name).
        taxonomy_name: E.g. ``"chair"``.
        splits: Model (or image) ids per split name.
    """

    taxonomy_id: str
    taxonomy_name: str
    splits: dict[str, list[str]]


def load_taxonomies(path: str | os.PathLike[str]) -> list[Taxonomy]:
    """Reads and checks a taxonomy file.

    Raises:
        FileNotFoundError: No such file.
        DatasetError: (a ``ValueError``) Not JSON, or not in the format above (the message names the file).
    """
    path = Path(path)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DatasetError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(entries, list):
        raise DatasetError(f"{path}: expected a JSON list of taxonomies, got {type(entries).__name__}")
    taxonomies = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not {"taxonomy_id", "taxonomy_name"} <= set(entry):
            raise DatasetError(f"{path}: entry {i} needs 'taxonomy_id' and 'taxonomy_name'")
        splits = {}
        for split in SPLITS:
            ids = entry.get(split, [])
            if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
                raise DatasetError(f"{path}: entry {i} ({entry['taxonomy_name']}): "
                                 f"'{split}' must be a list of strings")
            splits[split] = ids
        taxonomies.append(Taxonomy(str(entry["taxonomy_id"]), str(entry["taxonomy_name"]), splits))
    return taxonomies


def taxonomy_entry(taxonomy: Taxonomy, baseline: dict | None = None) -> dict:
    """The JSON object of one taxonomy, in the original key order."""
    return {
        "taxonomy_id": taxonomy.taxonomy_id,
        "taxonomy_name": taxonomy.taxonomy_name,
        "baseline": baseline or {},
        **{split: list(taxonomy.splits.get(split, [])) for split in SPLITS},
    }


def random_splits(ids: list[str], rng: np.random.Generator, fractions: tuple[float, float, float]) -> dict[str, list[str]]:
    """Splits one category's model ids at random: train, val and test sizes from :func:`split_counts`,
    each split sorted.

    Args:
        ids: The category's model ids, in a fixed order (the draw permutes that order).
        rng: Source of the permutation.
        fractions: Train, val and test fractions.
    """
    order = [ids[i] for i in rng.permutation(len(ids))]
    n_train, n_val, _ = split_counts(len(ids), fractions)
    return {
        "train": sorted(order[:n_train]),
        "val": sorted(order[n_train : n_train + n_val]),
        "test": sorted(order[n_train + n_val :]),
    }


def split_counts(n: int, fractions: tuple[float, float, float]) -> tuple[int, int, int]:
    """Train, val and test sizes for ``n`` items.

    Test rounds up (so every category with an item has a test item), val rounds to nearest,
    train takes the rest.

    Args:
        n: Number of items.
        fractions: Train, val and test fractions (summing to 1).

    Returns:
        ``(n_train, n_val, n_test)``.
    """
    n_test = min(n, math.ceil(n * fractions[2] - 1e-9))
    n_val = min(n - n_test, round(n * fractions[1]))
    return n - n_val - n_test, n_val, n_test
