"""pix2vox-eval end to end on a generated mini-dataset with random weights, and its report."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pix2vox import Reconstructor
from pix2vox.cli.evaluate import main
from pix2vox.datasets import ShapeNetDataset
from pix2vox.evaluate import EvaluationReport, SampleScore
from pix2vox.metrics import f_score
from pix2vox.paper_results import paper_numbers
from pix2vox.synth import SynthConfig, generate_dataset

MODEL = "pix2voxpp-f"  # the smallest network


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaldata")
    generate_dataset(root, 6, seed=2, categories=["chair", "table", "sofa"],
                     config=SynthConfig(views=4), progress=False)
    return root


def test_reported_iou_matches_independent_predict(data, original_checkpoint, tmp_path, capsys):
    weights = original_checkpoint(MODEL)
    out_json, out_md = tmp_path / "report.json", tmp_path / "report.md"
    args = ["--model", MODEL, "--weights", str(weights), "--data", str(data), "--views", "2",
            "--view-selection", "random", "--seed", "7", "--batch-size", "2", "--device", "cpu",
            "--fscore-sampling", "what3d",
            "--json", str(out_json), "--markdown", str(out_md), "--quiet"]
    assert main(args) == 0
    report = json.loads(out_json.read_text())
    assert capsys.readouterr().out == ""  # --quiet prints nothing but errors
    assert main([a for a in args if a != "--quiet"]) == 0
    assert out_md.read_text() == capsys.readouterr().out

    # Independently: the same seeded views, IoU written out by hand. The objects go through in
    # the same batches of two: on CPUs a batch is shared among single-threaded workers, and
    # other thread counts round differently (voxels at a threshold could flip).
    rec = Reconstructor(MODEL, weights=weights, device="cpu", preprocess="official")
    samples = ShapeNetDataset(data, "test", n_views=2, view_selection="random", seed=7)
    assert len(report["samples"]) == len(samples) == 3
    predictions = rec.predict_batch([list(sample.view_paths) for sample in samples], batch_size=2)
    ious = []
    for sample, reported, prediction in zip(samples, report["samples"], predictions, strict=True):
        assert reported["model_id"] == sample.model_id
        assert reported["views"] == [p.name for p in sample.view_paths]
        pred = prediction.probabilities
        gt = sample.load_volume()
        mine = [np.sum((pred >= np.float32(t)) & gt) / np.sum((pred >= np.float32(t)) | gt)
                for t in (0.2, 0.3, 0.4, 0.5)]
        np.testing.assert_allclose(reported["iou"], mine, rtol=0, atol=1e-6)
        expected_f = float(f_score(pred, gt, threshold=0.3, sampling="what3d"))
        assert reported["f_score"] == pytest.approx(expected_f, abs=1e-6)
        ious.append(mine)
    np.testing.assert_allclose(report["overall"]["iou"], np.mean(ious, axis=0), atol=1e-6)
    assert [c["taxonomy_name"] for c in report["categories"]] == ["chair", "table", "sofa"]
    assert report["paper"] is None  # nothing published for Pix2Vox++/F
    assert "| **overall** | 3 |" in out_md.read_text()


def test_limit_and_first_views(data, original_checkpoint, tmp_path, capsys):
    out = tmp_path / "r.json"
    args = ["--model", MODEL, "--weights", str(original_checkpoint(MODEL)), "--data", str(data),
            "--limit", "1", "--no-fscore", "--thresholds", "0.3", "--json", str(out)]
    assert main(args) == 0
    report = json.loads(out.read_text())
    assert report["samples"][0]["views"] == ["00.png"] and len(report["samples"]) == 1
    assert report["overall"]["f_score"] is None and len(report["overall"]["iou"]) == 1
    assert "F@" not in capsys.readouterr().out


@pytest.mark.parametrize("bad", [
    ["--data", "{missing}"],
    ["--thresholds", "1.5"],
    ["--views", "9"],
    ["--split", "val"],
    ["--json", "{missing}/r.json"],
    ["--model", "pix2vox-z"],
])
def test_user_errors_one_line_no_output(bad, data, original_checkpoint, tmp_path, capsys):
    out = tmp_path / "r.json"
    bad = [b.format(missing=tmp_path / "nope") for b in bad]
    args = ["--model", MODEL, "--weights", str(original_checkpoint(MODEL)), "--data", str(data),
            "--json", str(out), "--quiet", *bad]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("pix2vox-eval: error:") and err.count("\n") == 1, err
    assert not out.exists()


@pytest.mark.slow
def test_subprocess_error(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "pix2vox.cli.evaluate", "--model", MODEL, "--data", str(tmp_path)],
        capture_output=True, text=True, cwd=Path(__file__).parents[1],
    )
    assert run.returncode == 2
    assert run.stderr.startswith("pix2vox-eval: error:") and run.stderr.count("\n") == 1


def test_paper_numbers():
    a = paper_numbers("pix2vox-a", 1)
    assert a.overall_iou == 0.661 and a.category_iou["03001627"] == 0.567 and a.threshold == 0.3
    assert len(a.category_iou) == 13 and a.f_score is None
    pp = paper_numbers("pix2voxpp-a", 3)
    assert (pp.overall_iou, pp.f_score, pp.category_iou) == (0.704, 0.455, {})
    assert paper_numbers("pix2vox-f", 2).overall_iou == 0.660
    assert paper_numbers("pix2voxpp-f", 1) is None and paper_numbers("mine", 1) is None


def test_report_markdown_with_paper_columns():
    samples = tuple(
        SampleScore(tax, name, f"m{i}", ("00.png",), (0.5 + i / 10, 0.4), 0.25)
        for i, (tax, name) in enumerate([("03001627", "chair"), ("03001627", "chair"),
                                         ("04379243", "table")])
    )
    report = EvaluationReport("pix2vox-a", "test", 1, "first", 0, (0.3, 0.5), 0.3, 0.01, "mesh",
                              samples, paper=paper_numbers("pix2vox-a", 1))
    text = report.to_markdown()
    assert "| category | n | IoU@0.3 | IoU@0.5 | F@0.01 (t=0.3) | paper IoU |" in text
    assert "| chair (03001627) | 2 | 0.5500 | 0.4000 | 0.2500 | 0.567 |" in text
    assert "| **overall** | 3 | 0.6000 | 0.4000 | 0.2500 | 0.661 |" in text
    assert json.loads(json.dumps(report.to_dict()))["categories"][1]["n"] == 1


@pytest.mark.gpu
def test_cuda_report_matches_cpu(data, original_checkpoint, tmp_path):
    reports = {}
    for device in ("cpu", "cuda"):
        out = tmp_path / f"{device}.json"
        args = ["--model", MODEL, "--weights", str(original_checkpoint(MODEL)), "--data", str(data),
                "--views", "3", "--device", device, "--no-fscore", "--json", str(out), "--quiet"]
        assert main(args) == 0
        reports[device] = json.loads(out.read_text())
    # cuDNN and CPU kernels round differently; a few voxels near a threshold may flip.
    for cpu, cuda in zip(reports["cpu"]["samples"], reports["cuda"]["samples"]):
        np.testing.assert_allclose(cuda["iou"], cpu["iou"], atol=0.01)
