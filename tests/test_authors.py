"""The authors' checkpoints fetched on first use: download, checks, cache, resume, lock, offline.

A stand-in for the authors' server on 127.0.0.1 (``tests/authors_server.py``) serves random
weights in the authors' file layout; ``PIX2VOX_AUTHORS_ENDPOINT`` points at it and
``PIX2VOX_CACHE`` at an empty folder (``conftest.py``). Connections to other hosts fail the test.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from pix2vox import CheckpointError, DownloadError, Reconstructor, get_record
from pix2vox.loading.authors import SOURCE_NAME, cache_root, cached_folder, original_url
from pix2vox.cli.download import main as download_main
from pix2vox.loading.hub import sha256_of

from .conftest import same_weights

NAME = "pix2voxpp-f"
FILE = "Pix2Vox++-F-ShapeNet.pth"


pytestmark = pytest.mark.usefixtures("loopback_only")


@pytest.fixture(scope="module")
def pth(original_checkpoint) -> bytes:
    return original_checkpoint(NAME).read_bytes()


@pytest.fixture
def server(pth: bytes, monkeypatch: pytest.MonkeyPatch):
    from .authors_server import AuthorsServer

    with AuthorsServer({FILE: pth}) as running:
        monkeypatch.setenv("PIX2VOX_AUTHORS_ENDPOINT", running.url)
        yield running


@pytest.fixture(scope="module")
def reference(original_checkpoint) -> Reconstructor:
    return Reconstructor(NAME, weights=original_checkpoint(NAME), device="cpu")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []



def test_url_of_each_authors_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIX2VOX_AUTHORS_ENDPOINT")
    assert original_url(get_record("pix2voxpp-a")) == "https://gateway.infinitescript.com/?fileName=Pix2Vox%2B%2B-A-ShapeNet.pth"
    assert original_url(get_record("pix2vox-f")) == "https://gateway.infinitescript.com/?fileName=Pix2Vox-F-ShapeNet.pth"
    monkeypatch.setenv("PIX2VOX_AUTHORS_ENDPOINT", "http://mirror.example/files/")
    assert original_url(get_record("pix2vox-a")) == "http://mirror.example/files/?fileName=Pix2Vox-A-ShapeNet.pth"
    monkeypatch.delenv("PIX2VOX_CACHE")
    assert cache_root() == Path.home() / ".cache" / "pix2vox"


def test_first_use_downloads_converts_and_equals_the_file(server, pth: bytes, reference: Reconstructor, caplog, monkeypatch) -> None:
    with caplog.at_level(logging.INFO, logger="pix2vox"):
        first = Reconstructor(NAME, device="cpu")
    assert same_weights(first, reference)
    folder = cached_folder(get_record(NAME))
    assert sorted(p.name for p in _files(folder)) == sorted(["README.md", SOURCE_NAME, "config.json", "model.safetensors"])
    assert _files(cache_root()) == _files(folder)  # no .part left
    source = json.loads((folder / SOURCE_NAME).read_text())
    assert source["sha256"] == hashlib.sha256(pth).hexdigest() and source["size"] == len(pth)
    assert source["safetensors_sha256"] == sha256_of(folder / "model.safetensors")
    assert source["url"] == f"{server.url}/?fileName=Pix2Vox%2B%2B-F-ShapeNet.pth"
    notice = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(notice) == 1 and FILE in notice[0] and "127.0.0.1" in notice[0] and "ShapeNet's terms" in notice[0]
    assert server.downloads(FILE) == 1

    server.stop()  # later uses: the cache alone, never unpickling again
    monkeypatch.setattr("pix2vox.loading.checkpoint.read_original", lambda path: pytest.fail(f"unpickled {path}"))
    assert same_weights(Reconstructor(NAME, device="cpu"), reference)
    assert Reconstructor.from_pretrained(get_record(NAME).repo_id, device="cpu").record.name == NAME


def _raw_pickle() -> bytes:
    return pickle.dumps({"encoder_state_dict": {"w": [1.0, 2.0]}}, protocol=4)


CASES = {
    "html page": (lambda s, pth, other: setattr(s, "html", True), DownloadError, "an HTML page, not a checkpoint: the server may ask to retry later"),
    "html labelled binary": (lambda s, pth, other: setattr(s, "html_as_binary", True), DownloadError, "an HTML page, not a checkpoint"),
    "truncated body": (lambda s, pth, other: (setattr(s, "cut_after", 1000), setattr(s, "cuts", 99)), DownloadError, "transfer stayed incomplete"),
    "wrong variant": (lambda s, pth, other: s.files.update({FILE: other}), CheckpointError, "this is a pix2vox-f checkpoint, not pix2voxpp-f"),
    "404": (lambda s, pth, other: s.files.clear(), DownloadError, "HTTP 404"),
    "refused connection": (lambda s, pth, other: s.stop(), DownloadError, "cannot connect"),
    "not a checkpoint": (lambda s, pth, other: s.files.update({FILE: b"\x00garbage" * 100}), CheckpointError, "not a PyTorch checkpoint file"),
    "raw pickle": (lambda s, pth, other: s.files.update({FILE: _raw_pickle()}), CheckpointError, "not a PyTorch checkpoint file"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_answer_is_one_clear_line_and_nothing_is_kept(case: str, server, pth: bytes, original_checkpoint, monkeypatch) -> None:
    monkeypatch.setattr("pix2vox.loading.authors.time.sleep", lambda seconds: None)
    spoil, error, message = CASES[case]
    spoil(server, pth, original_checkpoint("pix2vox-f").read_bytes())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no PyTorch warning on the way
        with pytest.raises(error) as caught:
            Reconstructor(NAME, device="cpu")
    text = str(caught.value)
    assert message in text and "\n" not in text
    assert "?fileName=Pix2Vox%2B%2B-F-ShapeNet.pth" in text
    assert _files(cache_root()) == []


def test_cli_reports_a_bad_answer_in_one_line_with_exit_2(server, capsys) -> None:
    server.html = True
    assert download_main([NAME]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert lines[-1].startswith("pix2vox-download: error: ") and "an HTML page, not a checkpoint" in lines[-1]
    assert "Traceback" not in captured.err and captured.out == ""
    assert _files(cache_root()) == []


def test_a_dropped_transfer_is_resumed_with_a_range_request(server, pth: bytes, reference: Reconstructor) -> None:
    server.cut_after, server.cuts = len(pth) // 2, 1
    assert same_weights(Reconstructor(NAME, device="cpu"), reference)
    assert server.requests == [(FILE, None), (FILE, f"bytes={len(pth) // 2}-")]


def test_a_part_left_by_a_killed_process_is_resumed(server, pth: bytes, reference: Reconstructor) -> None:
    part = cache_root() / "authors" / f"{FILE}.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(pth[:1000])
    assert same_weights(Reconstructor(NAME, device="cpu"), reference)
    assert server.requests == [(FILE, "bytes=1000-")] and not part.exists()


def test_a_server_that_ignores_range_restarts_cleanly(server, pth: bytes, reference: Reconstructor) -> None:
    server.cut_after, server.cuts, server.ignore_range = len(pth) // 2, 1, True
    assert same_weights(Reconstructor(NAME, device="cpu"), reference)
    assert len(server.requests) == 2
    assert sha256_of(cached_folder(get_record(NAME)) / "model.safetensors") == json.loads(
        (cached_folder(get_record(NAME)) / SOURCE_NAME).read_text())["safetensors_sha256"]


FETCH = """
import sys
from pix2vox import get_record
from pix2vox.loading.authors import fetch_original
from pix2vox.loading.hub import sha256_of
folder = fetch_original(get_record(sys.argv[1]))
print(sha256_of(folder / "model.safetensors"))
"""


@pytest.mark.slow  # two Python processes importing torch: seconds
def test_two_processes_at_once_download_once(server, pth: bytes, reference: Reconstructor) -> None:
    server.delay = 0.01  # about 3 s per transfer: the two overlap
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    processes = [subprocess.Popen([sys.executable, "-c", FETCH, NAME], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for _ in range(2)]
    results = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [err for _, err in results]
    assert results[0][0] == results[1][0]
    assert server.downloads(FILE) == 1
    assert same_weights(Reconstructor(NAME, device="cpu"), reference)


def test_offline_without_a_cache_is_a_clear_error_and_no_connection(server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DownloadError) as caught:
        Reconstructor(NAME, device="cpu")
    for part in ("not in the pix2vox cache", "HF_HUB_OFFLINE=1", f"pix2vox-download {NAME}", "PIX2VOX_CACHE", FILE):
        assert part in str(caught.value)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    with pytest.raises(DownloadError, match="local_files_only=True"):
        Reconstructor(NAME, device="cpu", local_files_only=True)
    assert server.requests == [] and _files(cache_root()) == []


def test_offline_with_a_cache(server, reference: Reconstructor, monkeypatch: pytest.MonkeyPatch) -> None:
    assert download_main([NAME, "-q"]) == 0
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert same_weights(Reconstructor(NAME, device="cpu"), reference)
    assert server.downloads(FILE) == 1


def test_sha256_recorded_pinned_and_checked_at_every_load(server, pth: bytes, original_checkpoint, monkeypatch) -> None:
    good = sha256_of(original_checkpoint(NAME))
    with pytest.raises(CheckpointError, match="not the pinned"):
        Reconstructor(NAME, device="cpu", sha256="0" * 64)
    assert _files(cache_root()) == []
    Reconstructor(NAME, device="cpu", sha256=good)
    with pytest.raises(CheckpointError, match="not the pinned"):  # a later load pinned to another file
        Reconstructor(NAME, device="cpu", sha256="1" * 64)
    weights = cached_folder(get_record(NAME)) / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="SHA-256 mismatch.*was not used"):
        Reconstructor(NAME, device="cpu")
    Reconstructor(NAME, device="cpu", force_download=True)  # fetched again, good again
    assert server.downloads(FILE) == 3  # the refused one, the first kept, the forced one


def test_weights_file_sha256(original_checkpoint) -> None:
    path = original_checkpoint(NAME)
    Reconstructor(NAME, weights=path, device="cpu", sha256=sha256_of(path))
    with pytest.raises(CheckpointError, match="SHA-256 mismatch"):
        Reconstructor(NAME, weights=path, device="cpu", sha256="0" * 64)


def test_download_cli_prints_where_the_files_are(server, capsys) -> None:
    assert download_main([NAME, "pix2voxpp-f-furniture"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{NAME}: {cached_folder(get_record(NAME))}"
    assert out[1].startswith("pix2voxpp-f-furniture: ") and out[1].endswith("checkpoints/pix2voxpp-f-furniture")


@pytest.mark.parametrize("argv, message", [
    ([], "name one or more MODELs, or --all"),
    (["--all", NAME], "name one or more MODELs, or --all"),
    (["no-such-model"], "unknown model 'no-such-model'"),
    (["pix2vox-f", NAME, "--sha256", "0" * 64], "--sha256 pins the file of one MODEL"),
])
def test_download_cli_mistakes(argv: list[str], message: str, capsys) -> None:
    assert download_main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_raw_pickle_as_weights_is_named_plainly_without_warnings(tmp_path: Path, rendering_files: list[Path]) -> None:
    path = tmp_path / "model.pth"
    path.write_bytes(_raw_pickle())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(CheckpointError, match="model.pth: not a PyTorch checkpoint file"):
            Reconstructor(NAME, weights=path, device="cpu")
    cli = subprocess.run(
        [sys.executable, "-m", "pix2vox.cli.export", str(rendering_files[0]), "-o", "x.obj", "--model", NAME, "--weights", str(path)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert cli.returncode == 2
    assert cli.stderr == f"pix2vox-export: error: {path}: not a PyTorch checkpoint file (neither torch.save's zip format nor its legacy format)\n"


def test_a_published_hub_repository_comes_first_and_the_authors_server_when_it_cannot_be_reached(
    server, reference: Reconstructor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from huggingface_hub import constants as hf_constants

    from pix2vox.loading import registry

    record = get_record(NAME).replace(name="hub-first", repo_id="me/hub-first", published=True)
    monkeypatch.setitem(registry._REGISTRY, record.name, record)
    monkeypatch.setattr(hf_constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(hf_constants, "HUGGINGFACE_CO_URL_TEMPLATE", "http://127.0.0.1:9/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr("huggingface_hub.utils._http.time.sleep", lambda seconds: None)
    assert same_weights(Reconstructor(record.name, device="cpu"), reference)
    assert server.downloads(FILE) == 1


def test_a_file_in_the_legacy_format_of_2019(server, tmp_path: Path) -> None:
    from pix2vox.testing import save_random_original_checkpoint

    legacy = save_random_original_checkpoint(tmp_path / "legacy.pth", NAME, seed=0, legacy_format=True)
    server.files[FILE] = legacy.read_bytes()
    assert same_weights(Reconstructor(NAME, device="cpu"), Reconstructor(NAME, weights=legacy, device="cpu"))


def test_export_command_fetches_on_first_use(server, rendering_files: list[Path], tmp_path: Path, capsys) -> None:
    from pix2vox.cli.export import main as export_main

    out = tmp_path / "chair.binvox"
    assert export_main([str(rendering_files[0]), "-o", str(out), "--model", NAME]) == 0
    assert out.is_file() and server.downloads(FILE) == 1
    server.html = True
    assert export_main([str(rendering_files[0]), "-o", str(tmp_path / "again.binvox"), "--model", NAME]) == 0  # cached
    assert server.downloads(FILE) == 1
