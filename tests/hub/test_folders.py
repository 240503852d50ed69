"""Folders in our layout: from_pretrained (a folder, a Hub repository, a hand-made cache) and save_pretrained."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from huggingface_hub import ModelCard
from huggingface_hub import constants as hf_constants
from safetensors import safe_open

from pix2vox import (
    CheckpointError,
    Reconstructor,
    get_record,
)
from pix2vox.loading.convert import max_output_difference
from pix2vox.loading.hub import DownloadError, sha256_of
from pix2vox.loading.layout import FORMAT_VERSION
from pix2vox.loading.registry import ModelRecord

from ..conftest import same_weights
from ..hub_server import HubServer
from .conftest import CACHE_FOLDER, FILES, REPO, V1, V2, offline

# ------------------------------------------------------------------------------------------------
# from_pretrained: folders, Hub repositories, the Hub cache


def test_from_pretrained_folder(releases, reference: Reconstructor) -> None:
    for given in (releases[V1], str(releases[V1])):
        rec = Reconstructor.from_pretrained(given, device="cpu", preprocess="official")
        assert same_weights(rec, reference)
        assert rec.name == "pix2voxpp-f" and rec.threshold == 0.3 and rec.preprocess_mode == "official"
        assert rec.preprocess_config == get_record("pix2voxpp-f").preprocess


def test_from_pretrained_hub_repository_then_its_cache(hub: HubServer, reference: Reconstructor, monkeypatch) -> None:
    rec = Reconstructor.from_pretrained(f"hf-hub:{REPO}", device="cpu")
    assert same_weights(rec, reference)
    assert hub.count("GET", f"/{REPO}/resolve/main/model.safetensors") == 1
    cache = Path(hf_constants.HF_HUB_CACHE) / CACHE_FOLDER
    assert (cache / "refs" / "main").read_text() == V1
    snapshot = cache / "snapshots" / V1
    assert (snapshot / "model.safetensors").is_symlink() or os.name == "nt"

    hub.stop()  # the branch can no longer be resolved online: the cached copy is used
    assert same_weights(Reconstructor.from_pretrained(REPO, device="cpu"), reference)
    offline(monkeypatch)
    assert same_weights(Reconstructor.from_pretrained(REPO, device="cpu"), reference)
    assert same_weights(Reconstructor.from_pretrained(REPO, revision=V1, device="cpu"), reference)
    assert same_weights(Reconstructor.from_pretrained(snapshot, device="cpu"), reference)
    with pytest.raises(DownloadError, match="offline mode"):
        Reconstructor.from_pretrained(REPO, revision="v2", device="cpu")


def test_from_pretrained_from_a_hand_made_hub_cache(releases, reference: Reconstructor, tmp_path: Path, monkeypatch) -> None:
    # The layout huggingface_hub leaves: blobs named by hash, refs/main, snapshots/<commit>/ linking to blobs.
    offline(monkeypatch)
    repo = tmp_path / "cache" / "models--someone--converted"
    (repo / "blobs").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(V1)
    snapshot = repo / "snapshots" / V1
    snapshot.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        blob = repo / "blobs" / sha256_of(releases[V1] / name)
        blob.write_bytes((releases[V1] / name).read_bytes())
        (snapshot / name).symlink_to(os.path.relpath(blob, snapshot))
    rec = Reconstructor.from_pretrained("someone/converted", cache_dir=tmp_path / "cache", device="cpu")
    assert same_weights(rec, reference)
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    assert same_weights(Reconstructor.from_pretrained("someone/converted", device="cpu"), reference)


def test_from_pretrained_registry_repository_uses_the_pinned_revision(hub: HubServer, record: ModelRecord) -> None:
    hub.repo(REPO).branches["main"] = V2
    Reconstructor.from_pretrained(REPO, device="cpu")
    assert hub.count("GET", f"/resolve/{V1}/model.safetensors") == 1 and hub.count("GET", "/resolve/main/") == 0


def test_folder_errors(tmp_path: Path, releases) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CheckpointError, match="missing config.json and model.safetensors"):
        Reconstructor.from_pretrained(empty)
    half = tmp_path / "half"
    half.mkdir()
    (half / "config.json").write_bytes((releases[V1] / "config.json").read_bytes())
    with pytest.raises(CheckpointError, match=r"half: missing model.safetensors.*save_pretrained"):
        Reconstructor.from_pretrained(half)
    (half / "model.safetensors").write_bytes((releases[V1] / "model.safetensors").read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="truncated"):
        Reconstructor.from_pretrained(half)
    (half / "config.json").write_text('{"name": "x"}')
    with pytest.raises(CheckpointError, match="not a pix2vox config.json"):
        Reconstructor.from_pretrained(half)
    newer = json.loads((releases[V1] / "config.json").read_text()) | {"format_version": FORMAT_VERSION + 1}
    (half / "config.json").write_text(json.dumps(newer))
    with pytest.raises(CheckpointError, match="newer than this pix2vox reads"):
        Reconstructor.from_pretrained(half)
    with pytest.raises(CheckpointError, match="no such folder"):
        Reconstructor.from_pretrained(tmp_path / "does" / "not" / "exist")
    with pytest.raises(CheckpointError, match=r"use Reconstructor\('pix2voxpp-a'\)"):
        Reconstructor.from_pretrained("pix2voxpp-a")
    with pytest.raises(CheckpointError, match="a file, not a folder"):
        Reconstructor.from_pretrained(releases[V1] / "model.safetensors")


# ------------------------------------------------------------------------------------------------
# save_pretrained


def test_save_pretrained_round_trip(reference: Reconstructor, rendering_files, tmp_path: Path) -> None:
    folder = reference.save_pretrained(tmp_path / "out")
    assert folder == tmp_path / "out" and sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    with safe_open(folder / "model.safetensors", "pt") as file:
        assert file.metadata() == {"format": "pt"}
        assert set(file.keys()) == set(reference.model.state_dict())
    assert json.loads((folder / "config.json").read_text()) == reference.config()
    card = ModelCard((folder / "README.md").read_text())
    assert card.data.library_name == "pix2vox" and card.data.pipeline_tag == "image-to-3d"

    loaded = Reconstructor.from_pretrained(folder, device="cpu")
    assert max_output_difference(reference.model, loaded.model) == 0.0
    assert (loaded.predict(rendering_files[:2]).probabilities == reference.predict(rendering_files[:2]).probabilities).all()
    assert loaded.config() == reference.config()


def test_save_pretrained_keeps_a_changed_threshold(originals, tmp_path: Path) -> None:
    rec = Reconstructor("pix2voxpp-f", weights=originals[V1], device="cpu")
    rec.threshold = 0.45
    assert Reconstructor.from_pretrained(rec.save_pretrained(tmp_path / "t"), device="cpu").threshold == 0.45


def test_save_pretrained_writes_all_or_nothing(reference: Reconstructor, tmp_path: Path, monkeypatch) -> None:
    def broken(weights: ModelRecord) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr("pix2vox.loading.layout.model_card", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        reference.save_pretrained(tmp_path / "new")
    assert not (tmp_path / "new").exists()

    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "config.json").write_text("old")
    with pytest.raises(RuntimeError):
        reference.save_pretrained(existing)
    assert [p.name for p in existing.iterdir()] == ["config.json"] and (existing / "config.json").read_text() == "old"


