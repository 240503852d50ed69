"""The objects the tests of the local and the Ray batch engines reconstruct, and helpers to read their results."""

from __future__ import annotations

import shutil
from pathlib import Path

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


def network(weights: Path) -> list[str]:
    return ["--model", MODEL, "--weights", str(weights)]


def rows(out: Path) -> dict[str, dict]:
    import pyarrow.parquet as pq

    table = pq.read_table(out / "results.parquet")
    listed = table.to_pylist()
    assert len({row["object_id"] for row in listed}) == len(listed), "an object appears twice"
    return {row["object_id"]: row for row in listed}
