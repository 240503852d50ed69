"""The ``Reconstructor`` façade: golden outputs, batching, the API's promises and its errors."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from pix2vox import ImageError, Reconstructor, Result, UnknownModelError, get_record, list_models

from .conftest import VARIANT_PARAMS, VARIANTS
from .golden.make_golden import GOLDEN, SAMPLE, golden_outputs, write_images
from .reference import per_view_forward


@pytest.mark.parametrize("name", VARIANT_PARAMS)
def test_golden_outputs(name: str, original_checkpoint, tmp_path: Path) -> None:
    expected = json.loads(GOLDEN.read_text())[name]
    actual = golden_outputs(name, original_checkpoint(name), write_images(tmp_path))
    # The golden numbers were computed with direct convolutions; on CPUs the encoder now uses
    # Winograd's F(4x4, 3x3) for its wide layers, which agrees to within the 1e-4.
    for key in expected:
        assert actual[key]["mean"] == pytest.approx(expected[key]["mean"], abs=2e-5)
        np.testing.assert_allclose(actual[key]["sample"], expected[key]["sample"], atol=1e-4)
    assert len(expected["1-view"]["sample"]) == len(SAMPLE)


@pytest.mark.parametrize("name", VARIANT_PARAMS)
def test_matches_the_per_view_formulation(name: str, original_checkpoint, rendering_files) -> None:
    rec = Reconstructor(name, weights=original_checkpoint(name), device="cpu", preprocess="official")
    objects = [rendering_files[:3], rendering_files[2:]]
    reference = [per_view_forward(rec.model, rec.preprocess(views)[None])[0].numpy() for views in objects]
    # One object runs as one pass; a batch is shared among single-threaded workers on CPUs.
    # The per-view order uses direct and generic transposed convolutions: rounding differs slightly.
    assert np.abs(rec.predict(objects[0]).probabilities - reference[0]).max() <= 1e-4
    for result, expected in zip(rec.predict_batch(objects), reference, strict=True):
        assert np.abs(result.probabilities - expected).max() <= 1e-4


@pytest.fixture(scope="module")
def rec(original_checkpoint) -> Reconstructor:
    return Reconstructor("pix2voxpp-f", weights=original_checkpoint("pix2voxpp-f"), device="auto", preprocess="official")


def test_result_type_shape_and_range(rec: Reconstructor, rendering_files) -> None:
    result = rec.predict(rendering_files[:2])
    assert isinstance(result, Result)
    p = result.probabilities
    assert p.shape == (32, 32, 32) and p.dtype == np.float32
    assert p.min() >= 0 and p.max() <= 1 and p.std() > 0.01
    assert result.threshold == 0.3 == rec.threshold
    assert np.array_equal(result.occupancy(), p >= 0.3)
    assert np.array_equal(result.occupancy(0.6), p >= 0.6)
    assert result.coarse is None and result.fusion_weights is None
    assert rec.device == torch.device("cpu")


def test_single_view_may_be_bare(rec: Reconstructor, rendering_files) -> None:
    bare = rec.predict(rendering_files[0]).probabilities
    listed = rec.predict([rendering_files[0]]).probabilities
    from_pil = rec.predict(Image.open(rendering_files[0])).probabilities
    assert np.array_equal(bare, listed)
    assert np.abs(from_pil - bare).max() < 1e-6


def test_preprocess_is_what_the_network_sees(rec: Reconstructor, rendering_files) -> None:
    x = rec.preprocess(rendering_files[:2])
    assert x.shape == (2, 3, 224, 224) and x.dtype == torch.float32
    with torch.no_grad():
        direct = rec.model(x[None])[0].numpy()
    # predict runs pix2vox.cpu's optimised copy on CPUs, the plain network on GPUs: float rounding
    assert np.abs(rec.predict(rendering_files[:2]).probabilities - direct).max() < 1e-4


def test_batched_reordered_and_per_object_runs_agree(rec: Reconstructor, rendering_files) -> None:
    objects = [rendering_files[:1], rendering_files[1:4], rendering_files[2:5], rendering_files[4:]]
    alone = [rec.predict(views).probabilities for views in objects]
    for batch_size in (1, 3, 8):
        together = rec.predict_batch(objects, batch_size=batch_size)
        for a, b in zip(alone, together):
            assert np.abs(a - b.probabilities).max() <= 1e-5
    reordered = rec.predict(list(reversed(rendering_files[1:4]))).probabilities
    assert np.abs(reordered - alone[1]).max() <= 1e-5


def test_cpu_batches_are_shared_among_single_threaded_workers(rec: Reconstructor, rendering_files, monkeypatch) -> None:
    if rec.device.type != "cpu":
        pytest.skip("workers are for CPUs")
    objects = [rendering_files[:2], rendering_files[1:4], rendering_files[3:], rendering_files[:1]]
    calls = []
    forward = Reconstructor._forward

    def spy(self, chunk, details):
        results = forward(self, chunk, details)
        calls.append((len(chunk), threading.get_ident(), torch.get_num_threads()))
        return results

    monkeypatch.setattr(Reconstructor, "_forward", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        shared = rec.predict_batch(objects, batch_size=4, details=True)
        # views 2+3 | 2+1; each worker ran with one thread, in a thread of its own
        assert sorted((n, t) for n, _, t in calls) == [(2, 1), (2, 1)] and calls[0][1] != calls[1][1]
        assert torch.get_num_threads() == 2
        calls.clear()
        rec.workers = 1
        whole = rec.predict_batch(objects, batch_size=4, details=True)
        assert calls == [(4, threading.get_ident(), 2)]
    finally:
        rec.workers = None
        torch.set_num_threads(before)
    for a, b in zip(shared, whole, strict=True):
        for key in ("probabilities", "coarse", "fusion_weights"):
            np.testing.assert_allclose(getattr(a, key), getattr(b, key), atol=1e-5)


def test_details_expose_coarse_volumes_and_fusion_weights(rec: Reconstructor, rendering_files) -> None:
    result = rec.predict(rendering_files[:3], details=True)
    assert result.coarse.shape == result.fusion_weights.shape == (3, 32, 32, 32)
    np.testing.assert_allclose(result.fusion_weights.sum(0), 1, atol=1e-5)
    blended = np.clip((result.coarse * result.fusion_weights).sum(0), 0, 1)
    np.testing.assert_allclose(blended, result.probabilities, atol=1e-5)  # no refiner in pix2voxpp-f


def test_progress_bar_on_terminals_only(rec: Reconstructor, rendering_files, capsys, monkeypatch) -> None:
    rec.predict_batch([[p] for p in rendering_files], batch_size=2, progress=True)
    assert capsys.readouterr().err == ""  # captured stderr is not a terminal: no carriage returns in logs
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    rec.predict_batch([[p] for p in rendering_files], batch_size=2, progress=True)
    assert "5/5" in capsys.readouterr().err


def test_registry() -> None:
    assert list_models() == ["pix2vox-a", "pix2vox-f", "pix2voxpp-a", "pix2voxpp-f", "pix2voxpp-f-furniture"]
    record = get_record("pix2vox-a")
    assert record.architecture.refiner and record.reported_iou[1] == 0.661 and record.threshold == 0.3
    with pytest.raises(UnknownModelError, match="known models: pix2vox-a, pix2vox-f"):
        Reconstructor("pix2vox-b")


@pytest.mark.parametrize("name", VARIANTS)
def test_registry_parameter_counts_match_the_networks(name: str) -> None:
    from pix2vox.loading.checkpoint import expected_shapes

    record = get_record(name)
    shapes = expected_shapes(record.architecture)
    params = sum(int(np.prod(s)) for k, s in shapes.items() if not k.endswith(("running_mean", "running_var", "num_batches_tracked")))
    assert params == record.num_params


def test_bad_arguments(original_checkpoint) -> None:
    path = original_checkpoint("pix2voxpp-f")
    with pytest.raises(ValueError, match="preprocess mode"):
        Reconstructor("pix2voxpp-f", weights=path, preprocess="fancy")
    with pytest.raises(ValueError, match="preprocess mode"):  # checked before any weights are read
        Reconstructor("pix2voxpp-f", weights="no-such-file.pth", preprocess="fancy")
    with pytest.raises(ValueError, match="invalid device"):
        Reconstructor("pix2voxpp-f", weights=path, device="gpu-please")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            Reconstructor("pix2voxpp-f", weights=path, device="cuda")


def test_predict_batch_takes_preprocessed_views(original_checkpoint, rendering_files):
    """preprocessed=True: each object is the (V, 3, 224, 224) tensor of Reconstructor.preprocess."""
    rec = Reconstructor("pix2voxpp-f", weights=original_checkpoint("pix2voxpp-f"), device="cpu")
    views = rendering_files[:3]
    direct = rec.predict_batch([views, rendering_files[3]], progress=False)
    prepared = rec.predict_batch([rec.preprocess(views), rec.preprocess([rendering_files[3]])], progress=False, preprocessed=True)
    for a, b in zip(direct, prepared):
        np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-6)
    with pytest.raises(ValueError, match=r"preprocessed objects are \(V, 3, 224, 224\) tensors.*got \(2, 3, 137, 137\)"):
        rec.predict_batch([torch.rand(2, 3, 137, 137)], preprocessed=True)
    with pytest.raises(ImageError):  # without the flag a 4-D tensor is not taken for network input
        rec.predict_batch([torch.rand(2, 3, 224, 224)], progress=False)


def test_iter_predict_yields_each_batch_as_it_is_done(original_checkpoint, rendering_files, tmp_path):
    """The one batching loop: checked at once, results in order, equal to predict_batch, a bad
    object reported when its batch comes (earlier results already out)."""
    rec = Reconstructor("pix2voxpp-f", weights=original_checkpoint("pix2voxpp-f"), device="cpu")
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        rec.iter_predict([rendering_files[0]], batch_size=0)  # raised by the call, before any iteration
    objects = [rendering_files[:2], rendering_files[2], rendering_files[3:5]]
    expected = rec.predict_batch(objects, batch_size=2, progress=False)
    for a, b in zip(rec.iter_predict(objects, batch_size=2, progress=False), expected, strict=True):
        np.testing.assert_array_equal(a.probabilities, b.probabilities)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    results = rec.iter_predict([rendering_files[0], rendering_files[1], broken], batch_size=1, progress=False)
    np.testing.assert_allclose(next(results).probabilities, rec.predict(rendering_files[0]).probabilities, atol=1e-6)
    with pytest.raises(ImageError, match="broken.png"):
        list(results)
