"""pix2vox-export, in-process and as a subprocess: success and every user error."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from pix2vox import Reconstructor, Result
from pix2vox.cli.export import main
from pix2vox.exchange import load_threshold, load_volume, read_binvox, save_volume, write_binvox

from .cli_helpers import assert_user_error, blob, make_objects

ROOT = Path(__file__).resolve().parents[1]


def run_subprocess(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pix2vox.cli.export", *args],
        cwd=cwd,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def outputs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "in")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder with inputs under work/in; outputs go to work itself."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    save_volume(inputs / "chair.npz", blob(), threshold=0.45)
    save_volume(inputs / "chair.npy", blob(), threshold=0.45)
    write_binvox(inputs / "chair.binvox", blob() >= 0.5)
    (inputs / "notes.png").write_text("this is not an image\n")
    (inputs / "notes.npy").write_text("this is not an array\n")
    (inputs / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (inputs / "empty").mkdir()
    (inputs / "views").mkdir()  # one object's views, not a folder of objects
    Image.new("RGB", (8, 8), "white").save(inputs / "views" / "00.png")
    return tmp_path


def test_help_lists_examples(capsys: pytest.CaptureFixture) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "examples:" in text
    for option in ("--format", "--model", "--weights", "--threshold", "--device", "--preprocess",
                   "--method", "--smooth", "--batch-size"):
        assert option in text


# --- convert mode --------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".obj", ".ply", ".stl", ".glb", ".off"])
def test_convert_npz_to_mesh(work: Path, suffix: str) -> None:
    target = work / f"chair{suffix}"
    assert main([str(work / "in/chair.npz"), "-o", str(target)]) == 0
    mesh = trimesh.load(target, force="mesh")
    assert mesh.is_watertight and mesh.volume > 0
    assert outputs(work) == [target.name]


def test_single_output_creates_its_missing_folders_as_batch_mode_does(work: Path) -> None:
    target = work / "new" / "deeper" / "chair.binvox"
    assert main([str(work / "in/chair.npz"), "-o", str(target)]) == 0
    np.testing.assert_array_equal(read_binvox(target).occupancy, blob() >= 0.45)


def test_convert_uses_stored_threshold_then_option(work: Path) -> None:
    source = str(work / "in/chair.npz")
    assert main([source, "-o", str(work / "stored.binvox")]) == 0
    np.testing.assert_array_equal(read_binvox(work / "stored.binvox").occupancy, blob() >= 0.45)
    assert main([source, "-o", str(work / "given.binvox"), "--threshold", "0.8"]) == 0
    np.testing.assert_array_equal(read_binvox(work / "given.binvox").occupancy, blob() >= 0.8)


def test_convert_binvox_to_blocky_mesh(work: Path) -> None:
    target = work / "chair.obj"
    assert main([str(work / "in/chair.binvox"), "-o", str(target), "--method", "voxels"]) == 0
    mesh = trimesh.load(target)
    assert mesh.volume == pytest.approx((blob() >= 0.5).sum() / 32**3)


def test_convert_npy_with_format_appends_suffix(work: Path) -> None:
    assert main([str(work / "in/chair.npy"), "-o", str(work / "chair"), "--format", "npz",
                 "--threshold", "0.5"]) == 0
    assert outputs(work) == ["chair.npz"]
    np.testing.assert_array_equal(load_volume(work / "chair.npz"), blob())


def test_convert_smooth_mesh(work: Path) -> None:
    target = work / "chair.ply"
    assert main([str(work / "in/chair.npz"), "-o", str(target), "--smooth"]) == 0
    assert trimesh.load(target).is_watertight


def test_convert_as_subprocess(work: Path) -> None:
    done = run_subprocess("in/chair.binvox", "-o", "chair.stl", cwd=work)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert trimesh.load(work / "chair.stl").is_watertight


# --- user errors ---------------------------------------------------------------------------

ERRORS = [
    # (arguments, words of the message); paths are relative to the work folder.
    (["in/missing.npz", "-o", "x.obj"], "in/missing.npz: no such file"),
    (["in/missing.png", "-o", "x.obj"], "in/missing.png: no such file"),
    (["in/chair.npz", "-o", "x.xyz"], "x.xyz: unsupported format .xyz; use one of .binvox, .obj"),
    (["in/chair.npz", "-o", "x.fbx"], "x.fbx: unsupported format .fbx; use one of .binvox, .obj"),
    (["in/chair.npz", "-o", "x"], "x: cannot tell the format without a suffix"),
    (["in/chair.npz", "-o", "x.ply", "--format", "obj"], "x.ply: the suffix .ply contradicts --format obj"),
    (["in/chair.npz", "-o", "x.obj", "--format", "fbx"], "argument --format: invalid choice: 'fbx'"),
    (["in/chair.npz", "-o", "x.obj", "--threshold", "1.5"], "argument --threshold: must be between 0 and 1"),
    (["in/chair.npz", "-o", "x.obj", "--threshold", "abc"], "argument --threshold: not a number"),
    (["in/chair.npz", "-o", "x.obj", "--batch-size", "0"], "argument --batch-size: must be at least 1"),
    (["in/chair.npz", "-o", "x.obj", "--method", "voxels", "--smooth"], "--smooth only applies"),
    (["in/chair.npz", "-o", "x.obj", "--threshold", "0.99"], "x.obj: nothing to mesh, no voxel reaches"),
    (["in/chair.npz", "-o", "in/chair.npz/x.obj"], "in/chair.npz/x.obj: in/chair.npz is not a folder"),
    (["in/chair.npz", "-o", "new/x.obj", "--threshold", "0.99"], "new/x.obj: nothing to mesh"),  # and no folder new/
    (["in/chair.npz", "-o", "in"], "in: cannot tell the format"),
    (["in/chair.npz", "in/chair.npy", "-o", "x.obj"], "in/chair.npz: convert one .binvox/.npy/.npz file"),
    (["in/notes.npy", "-o", "x.obj"], "in/notes.npy: not a readable NumPy file"),
    (["in/empty", "-o", "out"], "in/empty: no sub-folders with images"),
    (["in/views", "-o", "out"], "in/views: holds images but no sub-folders; for the views of one object name the files (in/views/*.png)"),
    (["in/chair.npz"], "the following arguments are required: -o/--out"),
]


@pytest.mark.parametrize(("arguments", "message"), ERRORS, ids=[message[:40] for _, message in ERRORS])
def test_user_errors_in_process(
    work: Path, arguments: list[str], message: str, capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(work)
    before = outputs(work)
    code = main(arguments)
    captured = capsys.readouterr()
    assert_user_error(code, captured.err, message)
    assert captured.out == ""
    assert outputs(work) == before


def test_corrupt_binvox(work: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(work)
    data = (work / "in/chair.binvox").read_bytes()
    (work / "in/cut.binvox").write_bytes(data[: len(data) // 2])
    code = main(["in/cut.binvox", "-o", "x.obj"])
    assert_user_error(code, capsys.readouterr().err, "in/cut.binvox: truncated data")
    assert outputs(work) == []


def test_user_error_as_subprocess(work: Path) -> None:
    done = run_subprocess("in/chair.npz", "-o", "x.obj", "--threshold", "0.99", cwd=work)
    assert_user_error(done.returncode, done.stderr, "x.obj: nothing to mesh")
    assert outputs(work) == []


# --- prediction (tiny random checkpoint in the authors' layout) -----------------------------

MODEL = "pix2voxpp-f"


@pytest.fixture(scope="module")
def reconstructor(weights: Path) -> Reconstructor:
    return Reconstructor(MODEL, weights=weights, device="cpu")


def network(weights: Path) -> list[str]:
    return ["--model", MODEL, "--weights", str(weights), "--device", "cpu"]


def test_predict_one_object_to_mesh(work: Path, weights: Path, rendering_files: list[Path]) -> None:
    target = work / "chair.obj"
    views = [str(p) for p in rendering_files[:2]]
    assert main([*views, "-o", str(target), *network(weights)]) == 0
    mesh = trimesh.load(target)
    assert mesh.is_watertight and mesh.volume > 0
    assert outputs(work) == ["chair.obj"]


def test_predict_one_object_to_binvox(
    work: Path, weights: Path, rendering_files: list[Path], reconstructor: Reconstructor
) -> None:
    views = [str(p) for p in rendering_files[1:4]]
    assert main([*views, "-o", str(work / "chair"), "--format", "binvox", "--threshold", "0.6",
                 *network(weights)]) == 0
    expected = reconstructor.predict(views).occupancy(0.6)
    np.testing.assert_array_equal(read_binvox(work / "chair.binvox").occupancy, expected)


def test_predict_batch(
    work: Path, weights: Path, rendering_files: list[Path], reconstructor: Reconstructor
) -> None:
    folder = make_objects(work / "in", rendering_files, {"chair": [0, 1], "lamp": [2], ".cache": []})
    (folder / "README.txt").write_text("ignored\n")
    (folder / "chair" / "notes.txt").write_text("ignored\n")
    out = work / "out" / "npz"
    assert main([str(folder), "-o", str(out), "--format", "npz", "--batch-size", "1", *network(weights)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["chair.npz", "lamp.npz"]
    for name, indices in {"chair": [0, 1], "lamp": [2]}.items():
        expected = reconstructor.predict([rendering_files[i] for i in indices]).probabilities
        np.testing.assert_allclose(load_volume(out / f"{name}.npz"), expected, atol=1e-5)
    assert load_threshold(out / "chair.npz") == reconstructor.threshold


def test_batch_skips_empty_predictions(
    work: Path, rendering_files: list[Path], monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, weights: Path,
) -> None:
    folder = make_objects(work / "in", rendering_files, {"empty": [0], "full": [1]})
    shapes = [np.zeros((32, 32, 32), np.float32), blob()]  # the objects in name order: empty, full

    def fake_predict_batch(self, objects, **kwargs):
        assert len(objects) == 2
        return [Result(shape, threshold=0.3) for shape in shapes]

    monkeypatch.setattr(Reconstructor, "predict_batch", fake_predict_batch)
    assert main([str(folder), "-o", str(work / "out"), *network(weights)]) == 1
    assert sorted(p.name for p in (work / "out").iterdir()) == ["full.obj"]
    assert "no file for 1 of 2 objects" in caplog.text


@pytest.mark.slow  # a whole reconstruction in a second Python process; the error paths run as subprocesses by default
def test_prediction_as_subprocess(work: Path, weights: Path, rendering_files: list[Path]) -> None:
    done = run_subprocess(str(rendering_files[0]), "-o", "chair.ply", *network(weights), cwd=work)
    assert done.returncode == 0, done.stderr
    assert trimesh.load(work / "chair.ply").is_watertight
    done = run_subprocess("in/notes.png", "-o", "notes.ply", *network(weights), cwd=work)
    assert_user_error(done.returncode, done.stderr, "in/notes.png: not a readable image")
    assert outputs(work) == ["chair.ply"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["in/broken.png", "-o", "x.obj"], "in/broken.png: not a readable image"),
        (["in/notes.png", "-o", "x.obj"], "in/notes.png: not a readable image"),
        (["VIEW", "in/broken.png", "-o", "x.npz"], "in/broken.png: not a readable image"),
        (["VIEW", "in/empty", "-o", "x.obj"], "in/empty: is a folder"),
        (["VIEW", "-o", "x.obj", "--weights", "in/missing.pth"], "in/missing.pth: no such file"),
        (["VIEW", "-o", "x.obj", "--weights", "in/notes.png"], "in/notes.png"),
        (["VIEW", "-o", "x.obj", "--model", "pix2vox-z"], "pix2vox-z"),
        (["VIEW", "-o", "x.obj", "--device", "tpu:7"], "device"),
    ],
)
def test_prediction_user_errors(
    work: Path, weights: Path, rendering_files: list[Path], arguments: list[str], message: str,
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(work)
    arguments = [str(rendering_files[0]) if a == "VIEW" else a for a in arguments]
    options = {"--model": MODEL, "--weights": str(weights), "--device": "cpu"}
    defaults = [word for key, value in options.items() if key not in arguments for word in (key, value)]
    code = main([*arguments, *defaults])
    assert_user_error(code, capsys.readouterr().err, message)
    assert outputs(work) == []


def test_batch_error_removes_what_it_wrote(
    work: Path, weights: Path, rendering_files: list[Path], capsys: pytest.CaptureFixture
) -> None:
    folder = make_objects(work / "in", rendering_files, {"a_good": [0], "b_bad": [1]})
    shutil.copy(work / "in/broken.png", folder / "b_bad" / "zz.png")
    out = work / "out"
    code = main([str(folder), "-o", str(out), "--batch-size", "1", *network(weights)])
    assert_user_error(code, capsys.readouterr().err, "b_bad/zz.png: not a readable image")
    assert not out.exists()


def test_batch_folder_errors(work: Path, capsys: pytest.CaptureFixture) -> None:
    folder = work / "in" / "objects"
    (folder / "chair").mkdir(parents=True)
    assert_user_error(main([str(folder), "-o", str(work / "out")]), capsys.readouterr().err,
                      "objects/chair: no images")
    (folder / "chair" / "a.png").write_bytes(b"")
    assert_user_error(main([str(folder), "-o", str(work / "out.obj")]), capsys.readouterr().err,
                      "OUT must be a folder")
    assert outputs(work) == []


def test_bad_image_is_reported_before_weights_are_loaded(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "view.png"
    bad.write_text("not an image")

    def no_weights(*args, **kwargs):
        raise AssertionError("weights were loaded before the images were checked")

    monkeypatch.setattr("pix2vox.Reconstructor", no_weights)
    assert main([str(bad), "-o", str(tmp_path / "out.obj")]) == 2
    assert capsys.readouterr().err.startswith(f"pix2vox-export: error: {bad}: not a readable image")
    assert not (tmp_path / "out.obj").exists()


def test_preview_picture_of_one_object(tmp_path):
    pytest.importorskip("matplotlib")
    views = sorted((Path(__file__).parents[1] / "examples" / "chair").glob("*.png"))[:2]
    out, picture = tmp_path / "chair.obj", tmp_path / "chair.png"
    args = [*map(str, views), "-o", str(out), "--preview", str(picture), "--model", "pix2voxpp-f-furniture", "--preprocess", "official"]
    assert main(args) == 0
    assert out.is_file() and picture.read_bytes().startswith(b"\x89PNG")


def test_preview_must_be_png_and_one_object(tmp_path, capsys):
    assert main(["x.binvox", "-o", str(tmp_path / "a.obj"), "--preview", str(tmp_path / "a.jpg")]) == 2
    assert "--preview writes a .png file" in capsys.readouterr().err
    (tmp_path / "objects" / "one").mkdir(parents=True)
    assert main([str(tmp_path / "objects"), "-o", str(tmp_path / "out"), "--preview", str(tmp_path / "a.png")]) == 2
    assert "batch mode writes meshes only" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (tmp_path / "a.png").exists()


# --- masks ---------------------------------------------------------------------------------


def _photo_and_mask(folder: Path) -> tuple[Path, Path, np.ndarray]:
    """A shipped rendering on a striped background (a "photo") and its true mask, as files."""
    from PIL import Image

    rgba = np.asarray(Image.open(ROOT / "examples" / "chair" / "00.png").convert("RGBA"))
    ys, xs = np.mgrid[:160, :200]
    back = np.stack([120 + 60 * np.sin(xs / 7.0), 100 + 50 * np.cos(ys / 5.0), 90 + 40 * np.sin((xs + ys) / 9.0)], 2)
    alpha = np.zeros((160, 200), np.float32)
    alpha[10:147, 30:167] = rgba[..., 3] / 255
    photo = back.copy()
    photo[10:147, 30:167] = rgba[..., :3] * alpha[10:147, 30:167, None] + back[10:147, 30:167] * (1 - alpha[10:147, 30:167, None])
    Image.fromarray(photo.astype(np.uint8)).save(folder / "photo.png")
    Image.fromarray(((alpha > 0.5) * 255).astype(np.uint8)).save(folder / "mask.png")
    return folder / "photo.png", folder / "mask.png", alpha > 0.5


def test_mask_is_used_as_given(tmp_path, monkeypatch):
    from pix2vox import Reconstructor

    photo, mask, truth = _photo_and_mask(tmp_path)
    seen = {}

    def preview(result, path, *, views=None, threshold=None):
        seen["views"] = views
        Path(path).write_bytes(b"\x89PNG picture")

    monkeypatch.setattr("pix2vox.viz.preview", preview)
    monkeypatch.setattr("pix2vox.cli.export._check_preview", lambda args, target: None)
    out = tmp_path / "chair.npz"
    args = [str(photo), "-o", str(out), "--mask", str(mask), "--device", "cpu", "--preview", str(tmp_path / "p.png")]
    assert main(args) == 0
    expected = Reconstructor(device="cpu").predict(photo, mask=truth).probabilities
    np.testing.assert_allclose(load_volume(out), expected, atol=1e-5)
    # --preview shows what the network saw: the cut-out on the training grey, not the stripes
    (picture,) = seen["views"]
    assert picture.shape == (224, 224, 3) and (picture[:10, :10] == 240).all()


@pytest.mark.parametrize("make, message", [
    (lambda f: Image.new("L", (20, 20), 255).save(f), "mask.png: 20×20 pixels, but the view is 200×160"),
    (lambda f: Image.new("L", (200, 160), 0).save(f), "mask.png: empty (no pixel marks the object)"),
    (lambda f: f.write_bytes(b"not a png"), "mask.png: not a readable image"),
])
def test_bad_mask_is_one_line(tmp_path, capsys, make, message):
    photo, mask, _ = _photo_and_mask(tmp_path)
    make(mask)
    out = tmp_path / "chair.obj"
    code = main([str(photo), "-o", str(out), "--mask", str(mask), "--device", "cpu"])
    assert_user_error(code, capsys.readouterr().err, message)
    assert not out.exists()


def test_mask_count_and_files_checked(tmp_path, capsys):
    photo, mask, _ = _photo_and_mask(tmp_path)
    out = tmp_path / "chair.obj"
    code = main([str(photo), "-o", str(out), "--mask", str(mask), str(mask), "--device", "cpu"])
    assert_user_error(code, capsys.readouterr().err, "--mask: 2 mask(s) for 1 view(s)")
    code = main([str(photo), "-o", str(out), "--mask", str(tmp_path / "nothing.png"), "--device", "cpu"])
    assert_user_error(code, capsys.readouterr().err, "nothing.png: no such file (--mask)")
    assert not out.exists()
