"""pix2vox.batch and pix2vox-batch with the local engine: parity with Reconstructor.predict,
failed rows, exit statuses, resume, manifests and URIs. (The Ray engine: test_ray.py.)"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

pq = pytest.importorskip("pyarrow.parquet", reason="pix2vox.batch needs pyarrow (pip install 'pix2vox[ray]')")

from pix2vox.batch import (  # noqa: E402
    ObjectViews,
    read_objects,
    reconstruct_local,
    run_batch,
    unpack_occupancy,
    unpack_probabilities,
)
from pix2vox.cli.batch import main  # noqa: E402

from .objects import MODEL, OBJECTS, make_objects, network, rows  # noqa: E402


def test_cli_local_engine_equals_predict(tmp_path, rendering_files, weights, expected, capsys):
    folder = make_objects(tmp_path, rendering_files)
    out = tmp_path / "out"
    code = main([str(folder), "-o", str(out), "--format", "npz", "--batch-size", "2", *network(weights)])
    captured = capsys.readouterr()
    assert code == 3  # one object failed
    assert "4 objects: 3 reconstructed, 1 failed" in captured.out
    assert "1 of 4 objects failed (broken)" in captured.err and "Traceback" not in captured.err
    assert sorted(p.name for p in out.iterdir()) == ["armchair.npz", "lamp.npz", "results.parquet", "table.npz"]
    results = rows(out)
    broken = results.pop("broken")
    assert broken["status"] == "failed"
    assert broken["error"].startswith(str(folder / "broken" / "01.png") + ": not a readable image")
    assert broken["path"] is None and broken["occupied"] is None
    for name, row in results.items():
        saved = np.load(out / f"{name}.npz")
        np.testing.assert_allclose(saved["probabilities"], expected[name], atol=1e-5)
        assert row["status"] == "ok" and row["error"] is None
        assert row["path"] == f"{name}.npz"  # relative to the results file's folder
        assert row["threshold"] == pytest.approx(0.3)  # the checkpoint's (registry) threshold
        assert row["occupied"] == int((expected[name] >= 0.3).sum())
        assert row["seconds"] > 0


def test_all_objects_ok_exits_0_and_quiet_prints_nothing(tmp_path, rendering_files, weights, capsys):
    folder = make_objects(tmp_path, rendering_files, corrupt=False)
    assert main([str(folder), "--out", str(tmp_path / "out"), "-q", *network(weights)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert {p.suffix for p in (tmp_path / "out").iterdir()} == {".obj", ".parquet"}


def test_resume_runs_only_what_is_missing(tmp_path, rendering_files, weights, expected, capsys):
    folder = make_objects(tmp_path, rendering_files)
    out = tmp_path / "out"
    args = [str(folder), "--out", str(out), "--format", "npz", *network(weights)]
    assert main(args) == 3
    first = rows(out)
    before = {name: (out / f"{name}.npz").stat() for name in ("armchair", "table")}
    (out / "lamp.npz").unlink()  # never written, as when the job was killed before it
    leftover = out / ".lamp.npz.pix2vox-tmp-999999999-0000.npz"  # a killed writer's temporary: not complete
    leftover.write_bytes(b"half")
    shutil.copy(rendering_files[1], folder / "broken" / "01.png")  # the broken object is repaired
    capsys.readouterr()

    assert main([*args, "--resume"]) == 0
    assert "4 objects: 2 reconstructed, 0 failed, 2 already complete; " in capsys.readouterr().out
    for name, stat in before.items():  # complete files untouched
        after = (out / f"{name}.npz").stat()
        assert (after.st_mtime_ns, after.st_ino) == (stat.st_mtime_ns, stat.st_ino)
    np.testing.assert_allclose(np.load(out / "lamp.npz")["probabilities"], expected["lamp"], atol=1e-5)
    results = rows(out)
    assert set(results) == set(OBJECTS) | {"broken"}
    assert all(row["status"] == "ok" for row in results.values())
    assert results["armchair"] == first["armchair"]  # the earlier row, kept
    assert (out / "broken.npz").is_file()
    assert not leftover.exists()  # removed when lamp.npz was staged again
    assert main([*args, "--resume"]) == 0  # nothing left to do: no rate for work that was skipped
    assert capsys.readouterr().out.strip().endswith(f"4 objects: 0 reconstructed, 0 failed, 4 already complete; results in {out / 'results.parquet'}")


def test_manifest_with_relative_paths_and_file_uris(tmp_path, rendering_files, weights, expected):
    folder = make_objects(tmp_path, rendering_files, corrupt=False)
    lines = ["object_id,view"]
    for name, indices in OBJECTS.items():
        for j in range(len(indices)):
            view = folder / name / f"{j:02d}.png"
            lines.append(f"{name},{view.as_uri() if name == 'table' else os.path.relpath(view, tmp_path)}")
    lines.append("missing,nowhere/00.png")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    objects = read_objects(manifest)
    assert [item.object_id for item in objects] == [*OBJECTS, "missing"]
    assert objects[2].views[0].startswith("file:///")

    tables = list(reconstruct_local(objects, model=MODEL, weights=weights, device="cpu", outputs="probabilities", progress=False))
    results = {row["object_id"]: row for table in tables for row in table.to_pylist()}
    for name in OBJECTS:
        np.testing.assert_allclose(unpack_probabilities(results[name]["probabilities"]), expected[name], atol=1e-5)
    assert results["missing"]["status"] == "failed"
    assert results["missing"]["error"] == f"{tmp_path / 'nowhere' / '00.png'}: no such file"


def test_occupancy_rows_unpack_to_the_thresholded_grid(weights, rendering_files, expected):
    objects = [ObjectViews(name, tuple(str(rendering_files[i]) for i in indices)) for name, indices in OBJECTS.items()]
    table = next(reconstruct_local(objects, model=MODEL, weights=weights, device="cpu", threshold=0.4, progress=False))
    for row in table.to_pylist():
        grid = unpack_occupancy(row["occupancy"])
        assert grid.shape == (32, 32, 32) and len(row["occupancy"]) == 4096
        np.testing.assert_array_equal(grid, expected[row["object_id"]] >= 0.4)
        assert row["occupied"] == int(grid.sum()) and row["threshold"] == 0.4


def test_object_without_views_is_a_failed_row(tmp_path, rendering_files, weights):
    folder = make_objects(tmp_path, rendering_files, corrupt=False)
    (folder / "empty").mkdir()
    summary = run_batch(read_objects(folder), tmp_path / "out", model=MODEL, weights=weights, device="cpu",
                        output_format="binvox", progress=False)
    assert summary.failed == ["empty"] and summary.objects == 4
    assert rows(tmp_path / "out")["empty"]["error"] == "empty: no views"


@pytest.mark.parametrize(
    ("setup", "arguments", "message"),
    [
        (None, ["--engine", "local", "--address", "auto"], "--address and --gpus-per-worker apply to --engine ray"),
        (None, ["--gpus-per-worker", "1"], "--address and --gpus-per-worker apply to --engine ray"),
        ("manifest_without_view", [], "manifest.csv: no column view"),
        ("unsafe_id", [], "object id '../escape' contains a path separator"),
        ("out_is_a_file", [], "out: is not a folder"),
        ("no_input", [], "absent: no such file or folder"),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path, rendering_files, weights, capsys, monkeypatch, setup, arguments, message):
    monkeypatch.chdir(tmp_path)
    source = str(make_objects(tmp_path, rendering_files, corrupt=False))
    if setup == "manifest_without_view":
        Path("manifest.csv").write_text("object_id,image\na,x.png\n")
        source = "manifest.csv"
    elif setup == "unsafe_id":
        Path("manifest.csv").write_text(f"object_id,view\n../escape,{rendering_files[0]}\n")
        source = "manifest.csv"
    elif setup == "out_is_a_file":
        Path("out").write_text("")
    elif setup == "no_input":
        source = "absent"
    assert main([source, "--out", "out", *network(weights), *arguments]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pix2vox-batch: error: ") and message in err[0], err


@pytest.fixture
def s3_bucket(monkeypatch):
    """An S3-compatible server on 127.0.0.1 (moto) with a bucket; pyarrow finds it through AWS_ENDPOINT_URL."""
    pytest.importorskip("pyarrow.fs").S3FileSystem  # noqa: B018 - pyarrow built with S3
    server_module = pytest.importorskip("moto.server", reason="the S3 test needs moto[server] (pip install -e '.[dev]')")
    boto3 = pytest.importorskip("boto3")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in dict(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                            AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true").items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket="renders")
    yield client
    server.stop()


def test_views_and_manifest_on_object_storage(s3_bucket, tmp_path, rendering_files, weights, expected):
    """s3:// views and an s3:// manifest, read through pyarrow from a local S3 server."""
    lines = ["object_id,view"]
    for name, indices in OBJECTS.items():
        for j, i in enumerate(indices):
            key = f"{name}/{j:02d}.png"
            s3_bucket.put_object(Bucket="renders", Key=key, Body=rendering_files[i].read_bytes())
            lines.append(f"{name},s3://renders/{key}")
    lines.append("gone,s3://renders/gone/00.png")
    s3_bucket.put_object(Bucket="renders", Key="manifest.csv", Body="\n".join(lines).encode())

    objects = read_objects("s3://renders/manifest.csv")
    assert [item.object_id for item in objects] == [*OBJECTS, "gone"]
    summary = run_batch(objects, tmp_path / "out", output_format="npz", model=MODEL, weights=weights, device="cpu", progress=False)
    assert summary.failed == ["gone"]
    results = rows(tmp_path / "out")
    assert results["gone"]["error"] == "s3://renders/gone/00.png: no such file"
    for name in OBJECTS:
        np.testing.assert_allclose(np.load(tmp_path / "out" / f"{name}.npz")["probabilities"], expected[name], atol=1e-5)
