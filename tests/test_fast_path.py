"""Speed options that must not change results: encoder chunking, dtype, compile, GPU preprocessing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pix2vox import Reconstructor
from pix2vox.metrics import iou

@pytest.fixture(scope="module")
def checkpoint(original_checkpoint):
    return original_checkpoint("pix2voxpp-f")


def test_encoder_chunking_does_not_change_results(checkpoint, rendering_files) -> None:
    rec = Reconstructor("pix2voxpp-f", weights=checkpoint, device="cpu", preprocess="official")
    assert rec.encoder_batch == 2
    chunked = rec.predict(rendering_files).probabilities
    rec.encoder_batch = None
    whole = rec.predict(rendering_files).probabilities
    rec.encoder_batch = 1
    single = rec.predict(rendering_files).probabilities
    assert np.abs(chunked - whole).max() <= 1e-5 and np.abs(single - whole).max() <= 1e-5


def test_prefetching_the_next_batch_does_not_change_results(checkpoint, rendering_files) -> None:
    rec = Reconstructor("pix2voxpp-f", weights=checkpoint, device="cpu", preprocess="official")
    objects = [rendering_files[i : i + 2] for i in range(4)]
    assert rec.prefetch is False
    plain = rec.predict_batch(objects, batch_size=1)
    rec.prefetch = True
    prefetched = rec.predict_batch(objects, batch_size=1)
    for a, b in zip(plain, prefetched):
        assert np.array_equal(a.probabilities, b.probabilities)
    with pytest.raises(Exception, match="no such file"):
        rec.predict_batch([rendering_files[:1], ["missing.png"]], batch_size=1)


def test_half_precision_needs_cuda(checkpoint) -> None:
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(ValueError, match="only supported on CUDA"):
        Reconstructor("pix2voxpp-f", weights=checkpoint, device="cpu", dtype=torch.bfloat16)
    with pytest.raises(ValueError, match="dtype must be"):
        Reconstructor("pix2voxpp-f", weights=checkpoint, device="cpu", dtype=torch.int8)


@pytest.mark.slow
def test_compiled_model_agrees(checkpoint, rendering_files) -> None:
    eager = Reconstructor("pix2voxpp-f", weights=checkpoint, device="cpu", preprocess="official")
    compiled = Reconstructor("pix2voxpp-f", weights=checkpoint, device="cpu", preprocess="official", compile=True)
    for views in (rendering_files[:1], rendering_files[:3]):
        assert np.abs(compiled.predict(views).probabilities - eager.predict(views).probabilities).max() <= 1e-4


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["pix2voxpp-f", "pix2voxpp-a", "pix2vox-f", "pix2vox-a"])
def test_gpu_matches_cpu_and_half_precision_agrees(name: str, original_checkpoint, rendering_files) -> None:
    path = original_checkpoint(name)
    cpu = Reconstructor(name, weights=path, device="cpu", preprocess="official")
    gpu = Reconstructor(name, weights=path, device="cuda", preprocess="official")
    assert torch.allclose(gpu.preprocess(rendering_files).cpu(), cpu.preprocess(rendering_files), atol=1e-6)
    reference = cpu.predict(rendering_files).probabilities
    # cuDNN runs float32 convolutions in TF32 by default on Ampere and later: compare true float32.
    with torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
        assert np.abs(gpu.predict(rendering_files).probabilities - reference).max() <= 1e-4
    for dtype in (torch.bfloat16, torch.float16):
        half = Reconstructor(name, weights=path, device="cuda", preprocess="official", dtype=dtype)
        result = half.predict(rendering_files)
        assert iou(result.probabilities, reference >= cpu.threshold, (cpu.threshold,))[0] >= 0.99
