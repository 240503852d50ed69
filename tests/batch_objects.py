"""Objects, weights and reference results shared by the tests of the local and the Ray batch engines."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from pix2vox import Reconstructor

MODEL = "pix2voxpp-f"
OBJECTS = {"armchair": [0, 1], "lamp": [2], "table": [3, 4, 0]}


def make_objects(root: Path, renderings: list[Path], corrupt: bool = True) -> Path:
    """root/objects/<name>/NN.png for OBJECTS, plus 'broken' whose second view is a truncated PNG."""
    folder = root / "objects"
    for name, indices in OBJECTS.items():
        (folder / name).mkdir(parents=True)
        for j, i in enumerate(indices):
            shutil.copy(renderings[i], folder / name / f"{j:02d}.png")
    if corrupt:
        (folder / "broken").mkdir()
        shutil.copy(renderings[0], folder / "broken" / "00.png")
        (folder / "broken" / "01.png").write_bytes(renderings[1].read_bytes()[:200])
    return folder


@pytest.fixture
def weights(original_checkpoint) -> Path:
    return original_checkpoint(MODEL)


@pytest.fixture
def expected(weights: Path, rendering_files: list[Path]) -> dict[str, np.ndarray]:
    """Reconstructor.predict's probabilities of each object (the reference of every engine)."""
    reconstructor = Reconstructor(MODEL, weights=weights, device="cpu")
    return {name: reconstructor.predict([rendering_files[i] for i in indices]).probabilities for name, indices in OBJECTS.items()}


def network(weights: Path) -> list[str]:
    return ["--model", MODEL, "--weights", str(weights)]


def rows(out: Path) -> dict[str, dict]:
    import pyarrow.parquet as pq

    table = pq.read_table(out / "results.parquet")
    listed = table.to_pylist()
    assert len({row["object_id"] for row in listed}) == len(listed), "an object appears twice"
    return {row["object_id"]: row for row in listed}
