"""Reconstructor(name): download, cache, offline use, checksum, revisions, token and force_download."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from huggingface_hub import constants as hf_constants

import pix2vox
from pix2vox import (
    CheckpointError,
    Reconstructor,
    get_record,
)
from pix2vox.loading import registry
from pix2vox.errors import NotPublishedError
from pix2vox.loading.hub import DownloadError
from pix2vox.models import ARCHITECTURES
from pix2vox.loading.registry import ModelRecord

from ..conftest import VARIANTS, same_weights
from ..hub_server import HubServer
from .conftest import CACHE_FOLDER, REPO, V1, V2, offline

# ------------------------------------------------------------------------------------------------
# Reconstructor(name): download, cache, offline, checksum, revisions


def test_first_download_then_cache_without_server(hub: HubServer, record: ModelRecord, reference: Reconstructor, tmp_path: Path) -> None:
    rec = Reconstructor("tiny-hub", device="cpu")
    assert same_weights(rec, reference)
    assert hub.count("GET", f"/{REPO}/resolve/{V1}/model.safetensors") == 1
    assert hub.count("GET", f"/{REPO}/resolve/{V1}/config.json") == 1  # the file the Hub counts downloads by
    agents = {agent for _, path, agent in hub.requests if "/resolve/" in path}
    assert agents and all(f"pix2vox/{pix2vox.__version__}" in agent for agent in agents)
    snapshot = tmp_path / "hf-cache" / CACHE_FOLDER / "snapshots" / V1
    assert (snapshot / "model.safetensors").is_file() and (snapshot / "config.json").is_file()

    hub.stop()
    again = Reconstructor("tiny-hub", device="cpu")
    assert same_weights(again, reference)


def test_offline_with_a_warm_cache(hub: HubServer, record: ModelRecord, reference: Reconstructor, monkeypatch) -> None:
    Reconstructor("tiny-hub", device="cpu")
    seen = len(hub.requests)
    offline(monkeypatch)
    assert same_weights(Reconstructor("tiny-hub", device="cpu"), reference)
    assert same_weights(Reconstructor.from_pretrained(REPO, device="cpu"), reference)  # registry repo: pinned V1
    assert len(hub.requests) == seen


def test_offline_set_in_the_environment_after_import(hub: HubServer, record: ModelRecord, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1" if os.environ.get("HF_HUB_OFFLINE") != "1" else "yes")
    with pytest.raises(DownloadError, match="offline mode is on"):
        Reconstructor("tiny-hub", device="cpu")
    assert hub.requests == []


def test_unpublished_repository_without_an_authors_file_fails_at_once(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    record = get_record("pix2voxpp-f").replace(name="unpublished", repo_id="me/unpublished", original_file=None, published=False)
    monkeypatch.setitem(registry._REGISTRY, record.name, record)
    for load in (lambda: Reconstructor(record.name, device="cpu"), lambda: Reconstructor.from_pretrained(record.repo_id, device="cpu")):
        with pytest.raises(NotPublishedError, match="me/unpublished is not published yet; use a local file"):
            load()
    assert hub.requests == []  # no network, no retries


@pytest.mark.parametrize("name", VARIANTS)
def test_authors_models_go_to_the_authors_server_not_the_hub(hub: HubServer, name: str) -> None:
    record = get_record(name)
    for load in (lambda: Reconstructor(name, device="cpu"), lambda: Reconstructor.from_pretrained(record.repo_id, device="cpu")):
        with pytest.raises(DownloadError, match=r"127\.0\.0\.1:9/\?fileName=.*cannot connect"):  # conftest's closed port
            load()
    assert hub.requests == []


def test_offline_with_a_cold_cache(hub: HubServer, record: ModelRecord, monkeypatch) -> None:
    offline(monkeypatch)
    with pytest.raises(DownloadError) as caught:
        Reconstructor("tiny-hub", device="cpu")
    message = str(caught.value)
    for hint in ("not in the Hugging Face cache", "HF_HUB_OFFLINE=1", "HF_HUB_CACHE", "weights=", "from_pretrained"):
        assert hint in message
    assert hub.requests == []
    with pytest.raises(DownloadError, match="offline mode is on"):
        Reconstructor.from_pretrained(REPO, device="cpu")


def test_unreachable_hub_with_a_cold_cache(hub: HubServer, record: ModelRecord, monkeypatch) -> None:
    hub.stop()
    monkeypatch.setattr("huggingface_hub.utils._http.time.sleep", lambda seconds: None)  # skip its 23 s of retries
    with pytest.raises(DownloadError, match="cannot be reached.*weights="):
        Reconstructor("tiny-hub", device="cpu")


def test_cache_dir_argument_and_environment(hub: HubServer, record: ModelRecord, tmp_path: Path, monkeypatch) -> None:
    Reconstructor("tiny-hub", device="cpu", cache_dir=tmp_path / "mine")
    assert (tmp_path / "mine" / CACHE_FOLDER / "snapshots" / V1 / "model.safetensors").is_file()
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "from-env"))
    Reconstructor("tiny-hub", device="cpu")
    assert (tmp_path / "from-env" / CACHE_FOLDER / "snapshots" / V1 / "model.safetensors").is_file()
    assert not (tmp_path / "hf-cache" / CACHE_FOLDER).exists()


def test_tampered_download_is_refused_and_not_used(hub: HubServer, record: ModelRecord, releases, monkeypatch) -> None:
    # the server hands out a valid checkpoint, but not the one whose hash the registry pins
    hub.repo(REPO).commits[V1]["model.safetensors"] = (releases[V2] / "model.safetensors").read_bytes()
    read = []
    monkeypatch.setattr("pix2vox.loading.loader.read_checkpoint", lambda path: read.append(path))
    with pytest.raises(CheckpointError, match=f"SHA-256 mismatch \\(expected {record.sha256}.*was not used"):
        Reconstructor("tiny-hub", device="cpu")
    assert read == []


def test_tampered_cache_is_refused(hub: HubServer, record: ModelRecord, releases) -> None:
    Reconstructor("tiny-hub", device="cpu")  # now cached
    blob = (Path(hf_constants.HF_HUB_CACHE) / CACHE_FOLDER / "snapshots" / V1 / "model.safetensors").resolve()
    blob.write_bytes((releases[V2] / "model.safetensors").read_bytes())
    with pytest.raises(CheckpointError, match="SHA-256 mismatch"):
        Reconstructor("tiny-hub", device="cpu")


def test_pinned_revision(hub: HubServer, record: ModelRecord, originals, monkeypatch: pytest.MonkeyPatch) -> None:
    hub.repo(REPO).branches["main"] = V2  # the branch moved on: the pinned commit must not follow it
    assert same_weights(Reconstructor("tiny-hub", device="cpu"), Reconstructor("pix2voxpp-f", weights=originals[V1], device="cpu"))
    assert hub.count("GET", f"/resolve/{V1}/model.safetensors") == 1 and hub.count("GET", "/resolve/main/") == 0

    other = Reconstructor("tiny-hub", device="cpu", revision=V2)  # an explicit revision wins; no checksum then
    assert same_weights(other, Reconstructor("pix2voxpp-f", weights=originals[V2], device="cpu"))
    assert hub.count("GET", f"/resolve/{V2}/model.safetensors") == 1

    missing = "0" * 40
    with pytest.raises(DownloadError, match=f"{REPO}@{missing} has no file config.json"):
        Reconstructor("tiny-hub", device="cpu", revision=missing)
    monkeypatch.setitem(registry._REGISTRY, "tiny-hub", record.replace(revision=missing))
    with pytest.raises(DownloadError, match="has no file"):
        Reconstructor("tiny-hub", device="cpu")


def test_repository_with_another_architecture_is_refused(hub: HubServer, record: ModelRecord, monkeypatch) -> None:
    monkeypatch.setitem(registry._REGISTRY, "tiny-hub", record.replace(architecture=ARCHITECTURES["pix2vox-f"], sha256=None))
    with pytest.raises(CheckpointError, match="another architecture"):
        Reconstructor("tiny-hub", device="cpu")


# ------------------------------------------------------------------------------------------------
# token= and force_download= on the download path


def test_token_is_sent_and_force_download_replaces_a_bad_cached_copy(hub: HubServer, record: ModelRecord, releases, reference) -> None:
    Reconstructor("tiny-hub", device="cpu", token="hf_reader")
    resolves = [auth for (_, path, _), auth in zip(hub.requests, hub.authorizations) if "/resolve/" in path]
    assert resolves and set(resolves) == {"Bearer hf_reader"}

    blob = (Path(hf_constants.HF_HUB_CACHE) / CACHE_FOLDER / "snapshots" / V1 / "model.safetensors").resolve()
    blob.write_bytes((releases[V2] / "model.safetensors").read_bytes())
    with pytest.raises(CheckpointError, match="SHA-256 mismatch"):
        Reconstructor("tiny-hub", device="cpu")
    assert same_weights(Reconstructor("tiny-hub", device="cpu", force_download=True), reference)  # downloaded again, checked
    assert hub.count("GET", f"/resolve/{V1}/model.safetensors") == 2
    assert same_weights(Reconstructor.from_pretrained(REPO, device="cpu", force_download=True), reference)
    assert hub.count("GET", f"/resolve/{V1}/model.safetensors") == 3


