"""Fixtures of the batch engines' tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pix2vox import Reconstructor

from .objects import MODEL, OBJECTS


@pytest.fixture
def expected(weights: Path, rendering_files: list[Path]) -> dict[str, np.ndarray]:
    """Reconstructor.predict's probabilities of each object (the reference of every engine)."""
    reconstructor = Reconstructor(MODEL, weights=weights, device="cpu")
    return {name: reconstructor.predict([rendering_files[i] for i in indices]).probabilities for name, indices in OBJECTS.items()}
