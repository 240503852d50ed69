"""Helpers shared by the tests of ``pix2vox-export`` (its own tests, safety and input limits)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

PREFIX = "pix2vox-export: error: "


def blob() -> np.ndarray:
    x, y, z = np.meshgrid(*(np.arange(32) + 0.5,) * 3, indexing="ij")
    distance = ((x - 12) / 6) ** 2 + ((y - 18) / 11) ** 2 + ((z - 16) / 5) ** 2
    return (1.0 / (1.0 + np.exp(4.0 * (distance - 1.0)))).astype(np.float32)


def assert_user_error(code: int, stderr: str, message: str) -> None:
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(PREFIX), stderr
    assert message in lines[0], stderr
    assert "Traceback" not in stderr


def make_objects(root: Path, rendering_files: list[Path], names: dict[str, list[int]]) -> Path:
    folder = root / "objects"
    for name, indices in names.items():
        (folder / name).mkdir(parents=True)
        for i in indices:
            shutil.copy(rendering_files[i], folder / name / rendering_files[i].name)
    return folder
