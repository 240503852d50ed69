"""The checkpoint shipped inside the package: loads by name offline and reconstructs the examples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import pix2vox
from pix2vox import PreprocessConfig, Reconstructor, get_record
from pix2vox.exchange.binvox import read_binvox
from pix2vox.metrics import iou
from pix2vox.models import ARCHITECTURES, Architecture

NAME = "pix2voxpp-f-synthetic"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def old_pose(voxels: np.ndarray) -> np.ndarray:
    """The grid turned by -90° about y: from the canonical pose (front +x) to the old front +z.

    TODO(issue 13): old-pose checkpoint. ``pix2voxpp-f-synthetic`` was trained on ``pix2vox-synth``
    data whose objects faced +z, so it predicts shapes turned by 90° from the canonical pose. Drop
    this (compare with the truth as it is) once the checkpoint is replaced.
    """
    return np.ascontiguousarray(np.transpose(voxels, (2, 1, 0))[::-1])


def test_shipped_folder_is_package_data_and_matches_the_registry():
    record = get_record(NAME)
    assert record.local_dir is not None and record.repo_id is None
    assert record.local_dir.is_relative_to(Path(pix2vox.__file__).resolve().parent)
    config = json.loads((record.local_dir / "config.json").read_text())
    assert config["name"] == NAME and config["threshold"] == record.threshold
    assert Architecture.from_dict(config["architecture"]) == ARCHITECTURES["pix2voxpp-f"] == record.architecture
    assert PreprocessConfig.from_dict(config["preprocess"]) == PreprocessConfig() == record.preprocess
    assert (record.local_dir / "model.safetensors").is_file() and (record.local_dir / "README.md").is_file()


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="examples/ is in the source checkout only")
@pytest.mark.parametrize("example", ["chair", "aeroplane"])
def test_shipped_checkpoint_reconstructs_the_examples_offline(example: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    rec = Reconstructor(NAME, device="cpu", preprocess="official")
    views = sorted((EXAMPLES / example).glob("*.png"))
    truth = read_binvox(EXAMPLES / example / "model.binvox").occupancy
    result = rec.predict(views)
    # TODO(issue 13): old-pose checkpoint; compare with `truth` itself once it is replaced.
    assert iou(result.probabilities, old_pose(truth), [rec.threshold])[0] > 0.4
