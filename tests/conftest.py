"""Shared fixtures: random weights in the authors' checkpoint layout, small generated images."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from PIL import Image

from pix2vox.testing import make_rendering, save_random_original_checkpoint

VARIANTS = ("pix2vox-f", "pix2vox-a", "pix2voxpp-f", "pix2voxpp-a")
VARIANT_PARAMS = [name if name.endswith("-f") else pytest.param(name, marks=pytest.mark.slow) for name in VARIANTS]
"""The four variants as test parameters: the large A variants (seconds each) run with ``-m slow``, as CI does."""


def same_weights(a, b) -> bool:
    """Whether two ``Reconstructor``s hold exactly the same tensors under the same names."""
    sa, sb = a.model.state_dict(), b.model.state_dict()
    return sa.keys() == sb.keys() and all(sa[k].equal(sb[k]) for k in sa)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``gpu`` are skipped, with the reason, where there is no CUDA device."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def checkpoint_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("checkpoints")


@pytest.fixture(scope="session")
def original_checkpoint(checkpoint_dir: Path):
    """``original_checkpoint(name)`` → path of a random ``.pth`` in the authors' layout (seed 0)."""
    cache: dict[str, Path] = {}

    def make(name: str) -> Path:
        if name not in cache:
            cache[name] = save_random_original_checkpoint(checkpoint_dir / f"{name}.pth", name, seed=0)
        return cache[name]

    return make


@pytest.fixture(scope="session")
def weights(original_checkpoint) -> Path:
    """A random checkpoint of the smallest network, ``pix2voxpp-f``, in the authors' ``.pth`` layout."""
    return original_checkpoint("pix2voxpp-f")


@pytest.fixture(scope="session")
def rendering_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Five 137×137 RGBA PNG renderings."""
    folder = tmp_path_factory.mktemp("renderings")
    paths = []
    for i in range(5):
        path = folder / f"{i:02d}.png"
        Image.fromarray(make_rendering(i), "RGBA").save(path)
        paths.append(path)
    return paths


@pytest.fixture(autouse=True)
def _own_pix2vox_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets an empty ``PIX2VOX_CACHE``, and the authors' server is a closed port on this
    machine: no test reads the user's cache or reaches the internet."""
    monkeypatch.setenv("PIX2VOX_CACHE", str(tmp_path_factory.mktemp("pix2vox-cache")))
    monkeypatch.setenv("PIX2VOX_AUTHORS_ENDPOINT", "http://127.0.0.1:9")


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection to a host other than this machine (tests of downloads)."""
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"test tried to reach {address}")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
