"""pix2vox-export never loses a file: checks before work, all-or-nothing objects, Ctrl-C and SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import trimesh

from pix2vox import Reconstructor, Result
from pix2vox.atomic import TEMPORARY_MARK
from pix2vox.cli.export import main
from pix2vox.exchange import read_binvox, save_volume, write_binvox

from .cli_helpers import assert_user_error, blob, make_objects

ROOT = Path(__file__).resolve().parents[1]
MODEL = "pix2voxpp-f"


def network(weights: Path) -> list[str]:
    return ["--model", MODEL, "--weights", str(weights), "--device", "cpu"]


def no_temporaries(folder: Path) -> bool:
    return not any(TEMPORARY_MARK in p.name for p in folder.rglob("*"))


def test_success_prints_one_line_per_file_and_quiet_prints_none(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    source = tmp_path / "chair.npz"
    save_volume(source, blob(), threshold=0.5)
    assert main([str(source), "-o", str(tmp_path / "chair.binvox")]) == 0
    occupied = int(read_binvox(tmp_path / "chair.binvox").occupancy.sum())
    assert capsys.readouterr().out == f"wrote {tmp_path / 'chair.binvox'} ({occupied} occupied voxels)\n"
    assert main([str(source), "-o", str(tmp_path / "chair.obj")]) == 0
    mesh = trimesh.load(tmp_path / "chair.obj", process=False)
    assert capsys.readouterr().out == f"wrote {tmp_path / 'chair.obj'} ({len(mesh.vertices)} vertices, {len(mesh.faces)} faces)\n"
    assert main([str(source), "-o", str(tmp_path / "again.obj"), "-q"]) == 0
    assert capsys.readouterr() == ("", "")


def test_batch_failure_keeps_earlier_outputs_complete(
    tmp_path: Path, rendering_files: list[Path], weights: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    folder = make_objects(tmp_path / "in", rendering_files, {"a": [0], "b": [1], "c": [2]})  # c: never run
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.obj").write_text("the user's own a\n")
    (out / "b.obj").write_text("the user's own b\n")
    monkeypatch.setattr(Reconstructor, "predict_batch",
                        lambda self, objects, **kwargs: [Result(blob(), threshold=0.3) for _ in objects])
    import pix2vox.exchange

    real = pix2vox.exchange.save_volume

    def disk_full_at_b(path, *args, **kwargs):
        if Path(path).name == "b.obj":
            raise OSError(28, "No space left on device", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pix2vox.exchange, "save_volume", disk_full_at_b)
    code = main([str(folder), "-o", str(out), "--batch-size", "1", *network(weights)])
    assert code == 2 and "No space left on device" in capsys.readouterr().err
    assert trimesh.load(out / "a.obj").is_watertight  # replaced by a complete new file
    assert (out / "b.obj").read_text() == "the user's own b\n"  # untouched
    assert sorted(p.name for p in out.iterdir()) == ["a.obj", "b.obj"]


def test_batch_output_blocked_by_a_folder_fails_before_the_network(
    tmp_path: Path, rendering_files: list[Path], weights: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    folder = make_objects(tmp_path / "in", rendering_files, {"a": [0], "b": [1]})
    out = tmp_path / "out"
    (out / "b.obj").mkdir(parents=True)
    (out / "a.obj").write_text("old\n")
    monkeypatch.setattr("pix2vox.Reconstructor", lambda *a, **k: pytest.fail("the network ran"))
    assert_user_error(main([str(folder), "-o", str(out), *network(weights)]), capsys.readouterr().err,
                      "b.obj: is a folder, expected a file name")
    assert (out / "a.obj").read_text() == "old\n"


def test_preview_under_a_file_changes_nothing(
    tmp_path: Path, rendering_files: list[Path], weights: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    target = tmp_path / "chair.obj"
    target.write_text("the user's mesh\n")
    monkeypatch.setattr("pix2vox.Reconstructor", lambda *a, **k: pytest.fail("the network ran"))
    code = main([str(rendering_files[0]), "-o", str(target), "--preview", str(target / "chair.png"), *network(weights)])
    assert_user_error(code, capsys.readouterr().err, "chair.obj is not a folder")
    assert target.read_text() == "the user's mesh\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chair.obj"]


def test_binvox_over_the_size_limit_is_refused_from_its_header(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    source = tmp_path / "huge.binvox"
    source.write_bytes(b"#binvox 1\ndim 1000 1000 1000\ndata\n" + b"\x00\xff" * 1000)
    assert_user_error(main([str(source), "-o", str(tmp_path / "huge.obj")]), capsys.readouterr().err,
                      "a 1000^3 grid is larger than the limit of 512^3")
    small = tmp_path / "small.binvox"
    write_binvox(small, blob() >= 0.5)
    code = main([str(small), "-o", str(tmp_path / "small.npy"), "--max-binvox-dim", "16"])
    assert_user_error(code, capsys.readouterr().err, "larger than the limit of 16^3")
    assert main([str(small), "-o", str(tmp_path / "small.npy"), "--max-binvox-dim", "0"]) == 0


def test_blank_view_is_reported_on_stderr(tmp_path: Path, weights: Path, capsys: pytest.CaptureFixture) -> None:
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("RGB", (64, 64), (255, 255, 255)).save(blank)
    assert main([str(blank), "-o", str(tmp_path / "x.npz"), *network(weights)]) == 0
    err = capsys.readouterr().err
    assert f"{blank}: no object found" in err


def _export_and_signal(tmp_path: Path, weights: Path, view: Path, delay: float, signum: int) -> subprocess.CompletedProcess:
    target = tmp_path / "chair.obj"
    target.write_text("old\n")
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "pix2vox.cli.export", str(view), "-o", str(target), *network(weights)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(delay)
    if process.poll() is not None:
        pytest.skip(f"the export finished within {delay} s, before the signal")
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    if out.startswith("wrote "):  # the export had committed its file and was exiting: too late to test
        pytest.skip(f"the export had written its output within {delay} s, before the signal")
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.parametrize("delay", [0.5, 1.5, 3.0])
def test_ctrl_c_at_any_moment_exits_130_and_keeps_the_old_file(
    tmp_path: Path, weights: Path, rendering_files: list[Path], delay: float
) -> None:
    done = _export_and_signal(tmp_path, weights, rendering_files[0], delay, signal.SIGINT)
    assert (done.returncode, done.stderr, done.stdout) == (130, "pix2vox-export: interrupted\n", "")
    assert (tmp_path / "chair.obj").read_text() == "old\n"
    assert no_temporaries(tmp_path)


def test_sigterm_exits_143_and_leaves_no_temporary(tmp_path: Path, weights: Path, rendering_files: list[Path]) -> None:
    done = _export_and_signal(tmp_path, weights, rendering_files[0], 1.5, signal.SIGTERM)
    assert (done.returncode, done.stderr) == (143, "pix2vox-export: terminated\n")
    assert (tmp_path / "chair.obj").read_text() == "old\n"
    assert no_temporaries(tmp_path)


def test_mesh_lies_inside_the_unit_cube(tmp_path: Path) -> None:
    volume = np.zeros((32, 32, 32), np.float32)
    volume[8:24, :, 8:24] = 0.9  # touches the floor and the ceiling of the grid
    save_volume(tmp_path / "pillar.obj", volume, threshold=0.3)
    mesh = trimesh.load(tmp_path / "pillar.obj", process=False)
    assert mesh.vertices.min() >= 0.0 and mesh.vertices.max() <= 1.0
    assert mesh.vertices[:, 1].min() == 0.0 and mesh.vertices[:, 1].max() == 1.0
    assert mesh.is_watertight and mesh.volume == pytest.approx(0.5 * 0.5 * 1.0, rel=0.05)
