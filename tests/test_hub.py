"""Pretrained weights: registry, Hub download and cache, offline use, folders, conversion, cards.

Everything runs offline: a Hub stand-in on 127.0.0.1 (``tests/hub_server.py``) serves a tiny
converted ``pix2voxpp-f`` checkpoint, ``huggingface_hub.constants`` are pointed at it and at a
temporary cache, and any connection to another host fails the test.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub import ModelCard
from huggingface_hub import constants as hf_constants
from safetensors import safe_open

import pix2vox
from pix2vox import CheckpointError, Reconstructor, UnknownModelError, get_record, list_models
from pix2vox import registry
from pix2vox.cli.convert import main as convert_main
from pix2vox.convert import convert_original, max_output_difference, write_cards
from pix2vox.hub import DownloadError, PushReport, sha256_of
from pix2vox.errors import NotPublishedError
from pix2vox.layout import FORMAT_VERSION
from pix2vox.model_card import model_card
from pix2vox.models import ARCHITECTURES
from pix2vox.registry import ModelRecord
from pix2vox.testing import save_random_original_checkpoint

from .conftest import VARIANTS, same_weights
from .hub_server import HubServer

ROOT = Path(__file__).resolve().parent.parent
REPO = "test-org/tiny-pix2voxpp-f"
CACHE_FOLDER = "models--test-org--tiny-pix2voxpp-f"
V1 = hashlib.sha1(b"release 1").hexdigest()
V2 = hashlib.sha1(b"release 2").hexdigest()
FILES = ("model.safetensors", "config.json", "README.md")


pytestmark = pytest.mark.usefixtures("loopback_only")


# ------------------------------------------------------------------------------------------------
# Fixtures: a tiny checkpoint, converted twice (two releases), served by a Hub stand-in


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
    weights = get_record("pix2voxpp-f").replace(
        name="tiny-hub", repo_id=REPO, revision=V1, sha256=sha256_of(releases[V1] / "model.safetensors"), original_file=None,
        published=True,
    )
    monkeypatch.setitem(registry._REGISTRY, weights.name, weights)
    return weights


def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)


# ------------------------------------------------------------------------------------------------
# Registry


def test_registry_records() -> None:
    assert list_models() == sorted([*VARIANTS, "pix2voxpp-f-furniture"])  # + ours, shipped in the package
    for name in VARIANTS:
        w = get_record(name)
        assert w.name == name and w.architecture == ARCHITECTURES[name]
        assert w.repo_id == f"pix2vox/{name}-shapenet" and w.filename == "model.safetensors"
        assert w.revision == "main" or w.pinned  # a release pins a 40-hex commit
        assert w.paper and w.training_data and w.license and w.num_params > 0 and w.original_file
        assert not w.published and w.project_page.startswith("https://")
    assert get_record("pix2voxpp-a").reported_iou[1] == 0.670
    with pytest.raises(UnknownModelError, match="unknown model 'nope'; known models: pix2vox-a, pix2vox-f"):
        get_record("nope")


def test_register_and_record_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    mine = registry.register(get_record("pix2voxpp-f").replace(name="mine", repo_id="me/mine"))
    assert get_record("mine") is mine and "mine" in list_models() and registry.find_repo("me/mine") is mine
    with pytest.raises(ValueError, match="already registered"):
        registry.register(mine)
    registry.register(mine.replace(threshold=0.4), overwrite=True)
    assert get_record("mine").threshold == 0.4
    with pytest.raises(ValueError, match="short commit hash"):
        mine.replace(revision="1a2b3c4")
    with pytest.raises(ValueError, match="sha256"):
        mine.replace(sha256="abc")
    assert mine.replace(revision=V1).pinned and not mine.pinned


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
    _offline(monkeypatch)
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
    _offline(monkeypatch)
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
    monkeypatch.setattr("pix2vox.loader.read_checkpoint", lambda path: read.append(path))
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
    _offline(monkeypatch)
    assert same_weights(Reconstructor.from_pretrained(REPO, device="cpu"), reference)
    assert same_weights(Reconstructor.from_pretrained(REPO, revision=V1, device="cpu"), reference)
    assert same_weights(Reconstructor.from_pretrained(snapshot, device="cpu"), reference)
    with pytest.raises(DownloadError, match="offline mode"):
        Reconstructor.from_pretrained(REPO, revision="v2", device="cpu")


def test_from_pretrained_from_a_hand_made_hub_cache(releases, reference: Reconstructor, tmp_path: Path, monkeypatch) -> None:
    # The layout huggingface_hub leaves: blobs named by hash, refs/main, snapshots/<commit>/ linking to blobs.
    _offline(monkeypatch)
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

    monkeypatch.setattr("pix2vox.layout.model_card", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        reference.save_pretrained(tmp_path / "new")
    assert not (tmp_path / "new").exists()

    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "config.json").write_text("old")
    with pytest.raises(RuntimeError):
        reference.save_pretrained(existing)
    assert [p.name for p in existing.iterdir()] == ["config.json"] and (existing / "config.json").read_text() == "old"


# ------------------------------------------------------------------------------------------------
# pix2vox-convert


def test_convert_cli(originals, releases, reference: Reconstructor, tmp_path: Path, capsys) -> None:
    out = tmp_path / "converted"
    assert convert_main([str(originals[V1]), "--model", "pix2voxpp-f", "--output", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert sha256_of(out / "model.safetensors") in stdout
    assert sha256_of(out / "model.safetensors") == sha256_of(releases[V1] / "model.safetensors")  # deterministic
    assert f"hf upload pix2vox/pix2voxpp-f-shapenet {out} ." in stdout
    assert "largest output difference 0 " in stdout
    converted = Reconstructor.from_pretrained(out, device="cpu")
    assert max_output_difference(reference.model, converted.model) == 0.0


@pytest.mark.parametrize(
    "case, message",
    [
        ("wrong-model", "pix2voxpp-f checkpoint, not pix2voxpp-a"),
        ("missing", "no such checkpoint file"),
        ("truncated", "truncated"),
        ("unknown-model", "invalid choice: 'pix2vox-z'"),
        ("no-output", "--output are required"),
    ],
)
def test_convert_cli_errors(case: str, message: str, originals, tmp_path: Path, capsys) -> None:
    pth, model, out = originals[V1], "pix2voxpp-f", tmp_path / "out"
    if case == "wrong-model":
        model = "pix2voxpp-a"
    elif case == "missing":
        pth = tmp_path / "nope.pth"
    elif case == "truncated":
        pth = tmp_path / "truncated.pth"
        pth.write_bytes(originals[V1].read_bytes()[:100_000])
    elif case == "unknown-model":
        model = "pix2vox-z"
    argv = [str(pth), "--model", model] + ([] if case == "no-output" else ["--output", str(out)])
    assert convert_main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("pix2vox-convert: error: ") and message in captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert not out.exists()


@pytest.mark.slow  # a second Python process importing torch: seconds; the in-process tests cover the logic
def test_convert_cli_as_a_subprocess(originals, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    out = tmp_path / "sub"
    command = [sys.executable, "-m", "pix2vox.cli.convert", str(originals[V1]), "--model", "pix2voxpp-f", "--output", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sha256_of(out / "model.safetensors") in done.stdout

    wrong = command[:-3] + ["pix2voxpp-a", "--output", str(tmp_path / "wrong")]
    done = subprocess.run(wrong, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "pix2vox-convert: error:" in done.stderr and "not pix2voxpp-a" in done.stderr
    assert not (tmp_path / "wrong").exists()


# ------------------------------------------------------------------------------------------------
# Model cards and the committed weights/ folders


def test_model_card_content() -> None:
    card = model_card(get_record("pix2voxpp-a"))
    data = ModelCard(card).data.to_dict()
    assert data["library_name"] == "pix2vox" and data["pipeline_tag"] == "image-to-3d" and data["license"] == "mit"
    assert {"pix2vox", "3d-reconstruction", "shapenet"} <= set(data["tags"])
    for needed in ("@inproceedings{xie2019pix2vox", "@article{xie2020pix2voxpp", "ShapeNet", 'Reconstructor("pix2voxpp-a")',
                   "pix2vox/pix2voxpp-a-shapenet", "| IoU | 0.670 | 0.695", "Pix2Vox++-A-ShapeNet.pth", "96.3 M parameters"):
        assert needed in card, needed
    assert data["datasets"] == ["ShapeNet/ShapeNetCore"]
    [entry] = data["model-index"]
    assert entry["name"] == "pix2voxpp-a"
    [result] = entry["results"]
    assert result["task"]["type"] == "image-to-3d" and result["dataset"]["type"] == "ShapeNet/ShapeNetCore"
    assert result["dataset"]["split"] == "test" and result["source"]["url"] == "https://arxiv.org/abs/2006.12250"
    assert [(m["type"], m["name"], m["value"]) for m in result["metrics"]][:2] == [("iou", "IoU, 1 view", 0.670), ("iou", "IoU, 2 views", 0.695)]
    assert [m["value"] for m in result["metrics"]] == [v for _, v in sorted(get_record("pix2voxpp-a").reported_iou.items())]
    assert ModelCard(card).data.eval_results[0].metric_value == 0.670  # huggingface_hub parses the results widget
    for link in ("[arXiv:2006.12250](https://arxiv.org/abs/2006.12250)", "[arXiv:1901.11153](https://arxiv.org/abs/1901.11153)"):
        assert link in card
    pix2vox_a = ModelCard(model_card(get_record("pix2vox-a"))).data.to_dict()
    assert pix2vox_a["model-index"][0]["results"][0]["source"]["url"] == "https://arxiv.org/abs/1901.11153"
    no_table = model_card(get_record("pix2voxpp-f"))
    assert "no per-view IoU table" in no_table and "model-index" not in ModelCard(no_table).data.to_dict()
    custom = model_card(ModelRecord(name="my-model", architecture=ARCHITECTURES["pix2vox-a"], license="unknown"))
    assert ModelCard(custom).data.license == "unknown" and "from_pretrained" in custom
    assert "datasets" not in ModelCard(custom).data.to_dict()  # not trained on ShapeNet: no dataset claimed


def test_committed_weights_folders_are_generated(tmp_path: Path) -> None:
    committed = ROOT / "weights"
    write_cards(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(VARIANTS)
    for name in VARIANTS:
        for file in ("config.json", "README.md"):
            assert (committed / name / file).read_text() == (tmp_path / name / file).read_text(), (
                f"weights/{name}/{file} is stale: run `python -m pix2vox.cli.convert --write-cards weights`"
            )
    assert not list(committed.rglob("*.safetensors")) or all(
        subprocess.run(["git", "check-ignore", "-q", str(p)], cwd=ROOT).returncode == 0 for p in committed.rglob("*.safetensors")
    )
    assert (committed / "README.md").is_file()


def test_write_cards_cli(tmp_path: Path, capsys) -> None:
    assert convert_main(["--write-cards", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(VARIANTS)
    assert convert_main(["--write-cards", str(tmp_path), "--model", "pix2voxpp-a"]) == 2


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


# ------------------------------------------------------------------------------------------------
# push_to_hub and pix2vox-convert --push-to-hub, against the Hub stand-in (LFS upload protocol)

PUSHED = "test-org/pushed"
HEX40 = r"[0-9a-f]{40}"


@pytest.fixture
def upload_hub(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    """The Hub stand-in, with huggingface_hub uploading large files by LFS (the stand-in has no Xet storage)."""
    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_XET", True)
    return hub


def _upload_requests(hub: HubServer) -> list[tuple[str, str, str | None]]:
    return [(m, path, auth) for (m, path, _), auth in zip(hub.requests, hub.authorizations) if m in ("POST", "PUT")]


def test_push_to_hub_then_load_the_pinned_commit(upload_hub: HubServer, reference: Reconstructor, rendering_files, monkeypatch) -> None:
    hub = upload_hub
    report = reference.push_to_hub(PUSHED, token="hf_writer", private=True, commit_message="First release")
    assert re.fullmatch(HEX40, report.commit) and report.branch == "main" and report.commit_url.endswith(f"/{PUSHED}/commit/{report.commit}")
    repo = hub.repos[PUSHED]
    assert repo.private and repo.branches == {"main": report.commit} and repo.messages[report.commit] == "First release"
    files = repo.commits[report.commit]
    assert sorted(files) == sorted(FILES)
    assert report.sha256 == hashlib.sha256(files["model.safetensors"]).hexdigest()
    assert hub.uploads == {"model.safetensors": "lfs", "config.json": "regular", "README.md": "regular"}  # large and small files
    assert hub.lfs == {report.sha256: files["model.safetensors"]}
    assert ModelCard(files["README.md"].decode()).data.library_name == "pix2vox"

    # the endpoints of create_repo and upload_folder, each once, all with the token and our user agent
    calls = _upload_requests(hub)
    assert any("/api/validate-yaml" in path for _, path, _ in calls)  # the card's metadata (checked more than once)
    for fragment in ("/api/repos/create", f"/api/models/{PUSHED}/preupload/main",
                     f"/{PUSHED}.git/info/lfs/objects/batch", f"/lfs/{report.sha256}/verify", f"/api/models/{PUSHED}/commit/main"):
        assert sum(fragment in path for m, path, _ in calls if m == "POST") == 1, fragment
    assert [path for m, path, _ in calls if m == "PUT"] == [f"/lfs/{report.sha256}"]
    # the token goes to the Hub's API, not to the storage address the LFS batch answer names for the bytes
    assert {auth for m, _, auth in calls if m == "POST"} == {"Bearer hf_writer"} and {auth for m, _, auth in calls if m == "PUT"} == {None}
    assert all(f"pix2vox/{pix2vox.__version__}" in agent for m, path, agent in hub.requests if m == "POST" and "/api/" in path)

    # pinned in a registry record: downloaded at the printed revision, checked against the printed SHA-256
    pinned = get_record("pix2voxpp-f").replace(name="pushed", repo_id=PUSHED, revision=report.commit, sha256=report.sha256,
                                               original_file=None, published=True)
    monkeypatch.setitem(registry._REGISTRY, "pushed", pinned)
    for loaded in (Reconstructor.from_pretrained(PUSHED, device="cpu"), Reconstructor("pushed", device="cpu")):
        assert same_weights(loaded, reference) and max_output_difference(reference.model, loaded.model) == 0.0
        assert (loaded.predict(rendering_files[:2]).probabilities == reference.predict(rendering_files[:2]).probabilities).all()
    assert hub.count("GET", f"/{PUSHED}/resolve/{report.commit}/model.safetensors") == 1


def test_push_to_a_branch_of_an_existing_repository(upload_hub: HubServer, originals, reference: Reconstructor) -> None:
    hub = upload_hub
    first = reference.push_to_hub(PUSHED)
    assert not hub.repos[PUSHED].private
    second = Reconstructor("pix2voxpp-f", weights=originals[V2], device="cpu").push_to_hub(PUSHED, revision="v2")
    branches = hub.repos[PUSHED].branches
    assert branches == {"main": first.commit, "v2": second.commit} and second.branch == "v2" and second.commit != first.commit
    assert second.sha256 != first.sha256 and set(hub.lfs) == {first.sha256, second.sha256}
    assert same_weights(Reconstructor.from_pretrained(PUSHED, revision="v2", device="cpu"),
                         Reconstructor("pix2voxpp-f", weights=originals[V2], device="cpu"))
    puts = hub.count("PUT")
    reference.push_to_hub(PUSHED)  # the same weights again: the Hub has the LFS object, no bytes are sent
    assert hub.count("PUT") == puts and hub.count("POST", f"/api/models/{PUSHED}/commit/main") == 2


def test_registry_change_line() -> None:
    report = PushReport(repo_id="pix2vox/pix2voxpp-a-shapenet", branch="main", commit=V1, sha256="a" * 64, commit_url="u")
    assert report.registry_change(get_record("pix2voxpp-a")) == (
        f'pix2voxpp-a: revision="main" -> "{V1}", sha256=None -> "{"a" * 64}", published=False -> True'
    )
    moved = PushReport(repo_id="me/mine", branch="main", commit=V1, sha256="a" * 64, commit_url="u")
    assert moved.registry_change(get_record("pix2voxpp-a")).startswith('pix2voxpp-a: repo_id="pix2vox/pix2voxpp-a-shapenet" -> "me/mine", ')
    assert moved.registry_change(None) == f'new record: repo_id="me/mine", revision="{V1}", sha256="{"a" * 64}", published=True'


def test_convert_cli_push_to_hub_prints_what_to_pin(upload_hub: HubServer, originals, reference, monkeypatch, tmp_path, capsys) -> None:
    hub = upload_hub
    monkeypatch.setenv("HF_TOKEN", "hf_from_env")
    name, repo_id = "pix2voxpp-f", get_record("pix2voxpp-f").repo_id
    out = tmp_path / "release"
    assert convert_main([str(originals[V1]), "--model", name, "--output", str(out), "--push-to-hub", repo_id]) == 0
    stdout = capsys.readouterr().out
    commit = hub.repos[repo_id].branches["main"]
    sha = sha256_of(out / "model.safetensors")
    assert f"revision (commit): {commit}\n" in stdout and f"sha256: {sha}\n" in stdout
    assert f'pin in pix2vox/registry.py: {name}: revision="main" -> "{commit}", sha256=None -> "{sha}", published=False -> True' in stdout
    assert "hf upload" not in stdout
    assert {auth for m, _, auth in _upload_requests(hub) if m == "POST"} == {"Bearer hf_from_env"}

    # apply the printed change: Reconstructor(name) now loads exactly the pushed commit, checked
    monkeypatch.setitem(registry._REGISTRY, name, get_record(name).replace(revision=commit, sha256=sha, published=True))
    loaded = Reconstructor(name, device="cpu")
    assert max_output_difference(reference.model, loaded.model) == 0.0
    assert hub.count("GET", f"/{repo_id}/resolve/{commit}/model.safetensors") == 1


def test_convert_cli_push_options_need_push_to_hub(originals, tmp_path: Path, capsys) -> None:
    argv = [str(originals[V1]), "--model", "pix2voxpp-f", "--output", str(tmp_path / "o"), "--private"]
    assert convert_main(argv) == 2
    assert "--revision and --private go with --push-to-hub" in capsys.readouterr().err
    assert convert_main(["--write-cards", str(tmp_path), "--push-to-hub", "a/b"]) == 2
