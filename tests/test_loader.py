"""The one loader: names, folders, repository ids and files through ``Reconstructor`` and every command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pix2vox import CheckpointError, Reconstructor, UnknownModelError
from pix2vox.cli.evaluate import main as eval_main
from pix2vox.cli.export import main as export_main
from pix2vox.cli.onnx import main as onnx_main
from pix2vox.loading.loader import HubOptions, load_checkpoint
from pix2vox.loading.registry import DEFAULT_MODEL

from .conftest import same_weights

NAME = "pix2voxpp-f"


@pytest.fixture(scope="module")
def folder(original_checkpoint, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder in our layout whose config.json says threshold 0.45."""
    rec = Reconstructor(NAME, weights=original_checkpoint(NAME), device="cpu")
    rec.threshold = 0.45
    return rec.save_pretrained(tmp_path_factory.mktemp("loader") / "mine")



def test_a_folder_always_means_its_config(folder: Path, original_checkpoint) -> None:
    reference = Reconstructor(NAME, weights=original_checkpoint(NAME), device="cpu")
    for rec in (
        Reconstructor(NAME, weights=folder, device="cpu"),   # a name and a folder: the folder's config, checked
        Reconstructor(weights=folder, device="cpu"),         # a folder alone
        Reconstructor(folder, device="cpu"),                 # a folder as the model
        Reconstructor(str(folder), device="cpu"),
        Reconstructor.from_pretrained(folder, device="cpu"),
    ):
        assert rec.threshold == 0.45 and rec.name == NAME and same_weights(rec, reference)
    assert reference.threshold == 0.3  # a file is read with the registry's record


def test_an_authors_file_without_a_name_is_read_as_the_network_it_fits(original_checkpoint, tmp_path: Path) -> None:
    for name in ("pix2vox-f", "pix2voxpp-f"):
        checkpoint = load_checkpoint(weights=original_checkpoint(name))
        assert checkpoint.record.name == name
    with pytest.raises(CheckpointError, match="SHA-256 mismatch"):
        load_checkpoint(weights=original_checkpoint("pix2vox-f"), hub=HubOptions(sha256="0" * 64))
    ours = Reconstructor(NAME, weights=original_checkpoint(NAME), device="cpu").save_pretrained(tmp_path / "ours")
    assert load_checkpoint(weights=ours / "model.safetensors").record.name == DEFAULT_MODEL  # not a .pth: the default


def test_the_command_lines_and_the_registry_start_without_torch() -> None:
    code = ("import sys, pix2vox.loading.registry, pix2vox.config, pix2vox.cli.export, pix2vox.cli.batch, pix2vox.cli.evaluate\n"
            "print([m for m in ('torch', 'torchvision') if m in sys.modules])")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    from pix2vox.cli.batch import build_parser as batch_parser
    from pix2vox.cli.export import build_parser as export_parser

    assert export_parser().get_default("model") == batch_parser().get_default("model") == DEFAULT_MODEL


def test_loader_errors(folder: Path, original_checkpoint, tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"describes another network \(pix2voxpp-f\) than pix2vox-a"):
        load_checkpoint("pix2vox-a", folder)
    with pytest.raises(CheckpointError, match="weights= goes with a registered model name"):
        load_checkpoint(folder, original_checkpoint(NAME))
    with pytest.raises(CheckpointError, match="no such folder"):
        load_checkpoint(tmp_path / "missing")
    with pytest.raises(CheckpointError, match="no such folder"):
        load_checkpoint("some/where/else")
    with pytest.raises(CheckpointError, match="a file, not a folder"):
        load_checkpoint(str(original_checkpoint(NAME)))
    with pytest.raises(UnknownModelError, match="known models: pix2vox-a"):
        load_checkpoint("no-such-model")
    with pytest.raises(CheckpointError, match="SHA-256 mismatch"):
        load_checkpoint(folder, hub=HubOptions(sha256="0" * 64))


def test_every_command_takes_a_folder_as_model_or_weights(folder: Path, rendering_files, tmp_path: Path, capsys) -> None:
    view = str(rendering_files[0])
    for argv in (["--model", str(folder)], ["--model", NAME, "--weights", str(folder)]):
        out = tmp_path / f"{len(argv)}.npz"
        assert export_main([view, "-o", str(out), *argv]) == 0, capsys.readouterr().err
        assert out.is_file()


@pytest.mark.slow  # an ONNX export: seconds
def test_onnx_command_takes_a_folder_as_model(folder: Path, tmp_path: Path, capsys) -> None:
    pytest.importorskip("onnxruntime")
    assert onnx_main(["-o", str(tmp_path / "m.onnx"), "--model", str(folder)]) == 0, capsys.readouterr().err
    assert json.loads(__import__("onnx").load(str(tmp_path / "m.onnx")).metadata_props[0].value)["threshold"] == 0.45


def test_eval_reads_a_folder_with_its_own_config(folder: Path, tmp_path: Path, capsys) -> None:
    from pix2vox.synth import SynthConfig, generate_dataset

    data = tmp_path / "data"
    generate_dataset(data, 2, seed=2, categories=["chair"], config=SynthConfig(views=2), progress=False)
    report = tmp_path / "report.json"
    assert eval_main(["--weights", str(folder), "--data", str(data), "--views", "1", "--device", "cpu", "--json", str(report), "-q"]) == 0
    assert json.loads(report.read_text())["f_score"]["threshold"] == 0.45  # the folder's, not another model's
    assert eval_main(["--weights", str(tmp_path / "nothing"), "--data", str(data)]) == 2
    assert "nothing: no such file or folder" in capsys.readouterr().err
