"""The Ray Data engine on a local Ray instance (2 CPUs, loopback only): parity with
Reconstructor.predict and the local engine, failed rows, exit 3, resume, and an actor killed mid-run.

Run with ``python3 -m pytest -m ray`` (needs ``pip install 'pix2vox[ray]'``).
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="needs Ray: pip install 'pix2vox[ray]'")
import ray.data  # noqa: E402

from pix2vox.batch import objects_table, read_objects, reconstruct_dataset, run_batch, unpack_probabilities  # noqa: E402
from pix2vox.cli.batch import main  # noqa: E402
from .objects import MODEL, OBJECTS, make_objects, network, rows  # noqa: E402

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One Ray instance for the module: 2 CPUs, bound to 127.0.0.1, no dashboard."""
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", logging_level="ERROR")
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


def test_cli_ray_engine_equals_predict_and_local(tmp_path, rendering_files, weights, expected, capsys):
    folder = make_objects(tmp_path, rendering_files)
    local, distributed = tmp_path / "local", tmp_path / "ray"
    common = [str(folder), "--format", "npz", "--batch-size", "1", *network(weights)]
    assert main([*common, "--out", str(local)]) == 3
    assert main([*common, "--out", str(distributed), "--engine", "ray", "--workers", "2"]) == 3
    captured = capsys.readouterr()
    assert "1 of 4 objects failed (broken)" in captured.err and "Traceback" not in captured.err
    on_ray, in_process = rows(distributed), rows(local)
    assert on_ray["broken"]["status"] == "failed"
    assert on_ray["broken"]["error"] == in_process["broken"]["error"]
    assert str(folder / "broken" / "01.png") in on_ray["broken"]["error"]
    for name in OBJECTS:
        probabilities = np.load(distributed / f"{name}.npz")["probabilities"]
        np.testing.assert_allclose(probabilities, expected[name], atol=1e-5)
        assert on_ray[name]["occupied"] == in_process[name]["occupied"]


def test_reconstruct_dataset_rows_carry_probabilities(tmp_path, rendering_files, weights, expected):
    objects = read_objects(make_objects(tmp_path, rendering_files, corrupt=False))
    ds = ray.data.from_arrow(objects_table(objects))
    result = reconstruct_dataset(ds, model=MODEL, weights=weights, outputs="probabilities", batch_size=2, concurrency=1)
    found = {row["object_id"]: row for row in result.take_all()}
    assert set(found) == set(OBJECTS)
    for name in OBJECTS:
        np.testing.assert_allclose(unpack_probabilities(found[name]["probabilities"]), expected[name], atol=1e-5)
        assert found[name]["status"] == "ok" and found[name]["error"] is None


def test_resume_on_ray(tmp_path, rendering_files, weights):
    folder = make_objects(tmp_path, rendering_files, corrupt=False)
    out = tmp_path / "out"
    args = [str(folder), "--out", str(out), "--format", "binvox", "--engine", "ray", *network(weights)]
    assert main(args) == 0
    kept = (out / "armchair.binvox").stat()
    (out / "table.binvox").unlink()
    assert main([*args, "--resume"]) == 0
    assert (out / "armchair.binvox").stat().st_mtime_ns == kept.st_mtime_ns
    assert (out / "table.binvox").is_file()
    assert set(rows(out)) == set(OBJECTS)


def _actor_pids() -> list[int]:
    """Processes of Ray Data's map actors (their title names the MapWorker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"MapWorker" in title and b"ObjectReconstructor" in title:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the actor processes in /proc")
def test_killed_actor_loses_nothing(tmp_path, rendering_files, weights):
    names = [f"object{i:02d}" for i in range(24)]
    folder = tmp_path / "objects"
    for i, name in enumerate(names):
        (folder / name).mkdir(parents=True)
        for j in range(3):
            shutil.copy(rendering_files[(i + j) % len(rendering_files)], folder / name / f"{j:02d}.png")
    out = tmp_path / "out"
    killed: list[int] = []

    def kill_one_actor() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            if out.is_dir() and any(out.glob("*.npz")):  # the job is under way
                pids = _actor_pids()
                if pids:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_actor)
    killer.start()
    summary = run_batch(read_objects(folder), out, engine="ray", workers=2, batch_size=1, output_format="npz",
                        model=MODEL, weights=weights, progress=False)
    killer.join()
    assert killed, "no actor was killed: the test proved nothing"
    assert summary.failed == [] and summary.objects == len(names)
    results = rows(out)  # each object exactly once
    assert sorted(results) == names and all(row["status"] == "ok" for row in results.values())
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{name}.npz" for name in names] + ["results.parquet"])
    for name in names:  # every file complete
        assert np.load(out / f"{name}.npz")["probabilities"].shape == (32, 32, 32)
