"""pix2vox-convert: the authors' .pth into our folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pix2vox import (
    Reconstructor,
)
from pix2vox.cli.convert import main as convert_main
from pix2vox.loading.convert import max_output_difference
from pix2vox.loading.hub import sha256_of

from .conftest import FILES, ROOT, V1

# ------------------------------------------------------------------------------------------------
# pix2vox-convert


def test_convert_cli(originals, releases, reference: Reconstructor, tmp_path: Path, capsys) -> None:
    out = tmp_path / "converted"
    assert convert_main([str(originals[V1]), "--model", "pix2voxpp-f", "--out", str(out)]) == 0
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
        ("no-output", "--out are required"),
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
    argv = [str(pth), "--model", model] + ([] if case == "no-output" else ["--out", str(out)])
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
    command = [sys.executable, "-m", "pix2vox.cli.convert", str(originals[V1]), "--model", "pix2voxpp-f", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sha256_of(out / "model.safetensors") in done.stdout

    wrong = command[:-3] + ["pix2voxpp-a", "--out", str(tmp_path / "wrong")]
    done = subprocess.run(wrong, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "pix2vox-convert: error:" in done.stderr and "not pix2voxpp-a" in done.stderr
    assert not (tmp_path / "wrong").exists()


