"""push_to_hub and pix2vox-convert --push-to-hub against the Hub stand-in (LFS upload protocol)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from huggingface_hub import ModelCard

import pix2vox
from pix2vox import (
    Reconstructor,
    get_record,
)
from pix2vox.loading import registry
from pix2vox.cli.convert import main as convert_main
from pix2vox.loading.convert import max_output_difference
from pix2vox.loading.hub import PushReport, sha256_of

from ..conftest import same_weights
from ..hub_server import HubServer
from .conftest import FILES, V1, V2

# ------------------------------------------------------------------------------------------------
# push_to_hub and pix2vox-convert --push-to-hub, against the Hub stand-in (LFS upload protocol)

PUSHED = "test-org/pushed"
HEX40 = r"[0-9a-f]{40}"


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
    assert convert_main([str(originals[V1]), "--model", name, "--out", str(out), "--push-to-hub", repo_id]) == 0
    stdout = capsys.readouterr().out
    commit = hub.repos[repo_id].branches["main"]
    sha = sha256_of(out / "model.safetensors")
    assert f"revision (commit): {commit}\n" in stdout and f"sha256: {sha}\n" in stdout
    assert f'pin in pix2vox/loading/registry.py: {name}: revision="main" -> "{commit}", sha256=None -> "{sha}", published=False -> True' in stdout
    assert "hf upload" not in stdout
    assert {auth for m, _, auth in _upload_requests(hub) if m == "POST"} == {"Bearer hf_from_env"}

    # apply the printed change: Reconstructor(name) now loads exactly the pushed commit, checked
    monkeypatch.setitem(registry._REGISTRY, name, get_record(name).replace(revision=commit, sha256=sha, published=True))
    loaded = Reconstructor(name, device="cpu")
    assert max_output_difference(reference.model, loaded.model) == 0.0
    assert hub.count("GET", f"/{repo_id}/resolve/{commit}/model.safetensors") == 1


def test_convert_cli_push_options_need_push_to_hub(originals, tmp_path: Path, capsys) -> None:
    argv = [str(originals[V1]), "--model", "pix2voxpp-f", "--out", str(tmp_path / "o"), "--private"]
    assert convert_main(argv) == 2
    assert "--revision and --private go with --push-to-hub" in capsys.readouterr().err
    assert convert_main(["--write-cards", str(tmp_path), "--push-to-hub", "a/b"]) == 2
