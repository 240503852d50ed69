"""Shared by the Hub tests: a tiny ``pix2voxpp-f`` checkpoint converted twice (two releases),
served by a Hub stand-in on 127.0.0.1 (``tests/hub_server.py``) with ``huggingface_hub.constants``
pointed at it and at a temporary cache; any connection to another host fails the test."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from huggingface_hub import constants as hf_constants

from pix2vox import (
    Reconstructor,
    get_record,
)
from pix2vox.loading import registry
from pix2vox.loading.convert import convert_original
from pix2vox.loading.hub import sha256_of
from pix2vox.loading.registry import ModelRecord
from pix2vox.testing import save_random_original_checkpoint

from ..hub_server import HubServer

ROOT = Path(__file__).resolve().parents[2]
REPO = "test-org/tiny-pix2voxpp-f"
CACHE_FOLDER = "models--test-org--tiny-pix2voxpp-f"
V1 = hashlib.sha1(b"release 1").hexdigest()
V2 = hashlib.sha1(b"release 2").hexdigest()
FILES = ("model.safetensors", "config.json", "README.md")


@pytest.fixture(autouse=True)
def _loopback(loopback_only) -> None:
    """Every Hub test runs with connections to other hosts refused."""



@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("originals")
    return {v: save_random_original_checkpoint(folder / f"{v}.pth", "pix2voxpp-f", seed=seed) for v, seed in ((V1, 3), (V2, 4))}


@pytest.fixture(scope="module")
def releases(originals: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Commit → converted folder."""
    folder = tmp_path_factory.mktemp("releases")
    return {v: convert_original(pth, "pix2voxpp-f", folder / v).output for v, pth in originals.items()}


@pytest.fixture(scope="module")
def reference(originals: dict[str, Path]) -> Reconstructor:
    """Release 1 loaded straight from the original file."""
    return Reconstructor("pix2voxpp-f", weights=originals[V1], device="cpu")



@pytest.fixture
def hub(releases: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A running Hub stand-in serving two releases of ``REPO`` (``main`` → V1, ``v2`` → V2),
    with huggingface_hub's endpoint and cache pointed at it and at an empty temporary cache."""
    server = HubServer()
    repo = server.repo(REPO)
    for commit, branch in ((V1, "main"), (V2, "v2")):
        repo.commit(commit, {name: (releases[commit] / name).read_bytes() for name in FILES}, branch=branch)
    server.start()
    monkeypatch.setattr(hf_constants, "ENDPOINT", server.url)
    monkeypatch.setattr(hf_constants, "HUGGINGFACE_CO_URL_TEMPLATE", server.url + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    yield server
    server.stop()


@pytest.fixture
def record(releases: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> ModelRecord:
    """A registry entry for ``REPO`` pinned to release 1 with its SHA-256."""
    entry = get_record("pix2voxpp-f").replace(
        name="tiny-hub", repo_id=REPO, revision=V1, sha256=sha256_of(releases[V1] / "model.safetensors"), original_file=None,
        published=True,
    )
    monkeypatch.setitem(registry._REGISTRY, entry.name, entry)
    return entry


def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)



@pytest.fixture
def upload_hub(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    """The Hub stand-in, with huggingface_hub uploading large files by LFS (the stand-in has no Xet storage)."""
    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_XET", True)
    return hub
