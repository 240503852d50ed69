"""The opt-in CPU inference package: each optimised part equals its plain counterpart."""

from __future__ import annotations

import threading
import types
import time

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pix2vox import Reconstructor
from pix2vox.cpu import cached_copy, onednn, optimize
from pix2vox.cpu.fast_decoder import FastDecoder, _tap_groups
from pix2vox.cpu.folding import fold_for_inference
from pix2vox.cpu.fusion import FoldedConvBlock, depth_split_conv3d
from pix2vox.cpu.winograd import WinogradConv2d, conv3x3, transform_weight
from pix2vox.models import ARCHITECTURES, Pix2Vox
from pix2vox.models.merger import conv_block
from pix2vox.testing import random_model


@pytest.mark.parametrize("padding", [0, 1])
@pytest.mark.parametrize(("n", "c_in", "c_out", "size"), [(1, 3, 5, 4), (2, 16, 8, 13), (3, 8, 24, 10), (1, 32, 32, 7)])
def test_conv3x3_equals_the_direct_convolution(padding: int, n: int, c_in: int, c_out: int, size: int) -> None:
    g = torch.Generator().manual_seed(size + c_in)
    x = torch.randn(n, c_in, size, size + 3, generator=g).contiguous(memory_format=torch.channels_last)
    weight, bias = torch.randn(c_out, c_in, 3, 3, generator=g), torch.randn(c_out, generator=g)
    expected = F.conv2d(x, weight, bias, padding=padding)
    actual = conv3x3(x, transform_weight(weight), bias, padding)
    assert actual.shape == expected.shape
    assert (actual - expected).abs().max() <= 1e-5 * expected.abs().max()


def test_conv3x3_accepts_nchw_input() -> None:
    x, weight, bias = torch.randn(2, 4, 9, 9), torch.randn(6, 4, 3, 3), torch.zeros(6)
    expected = F.conv2d(x, weight, bias, padding=1)
    actual = conv3x3(x, transform_weight(weight), bias, 1)
    assert (actual - expected).abs().max() <= 1e-5 * expected.abs().max()


def test_only_plain_3x3_convolutions_qualify() -> None:
    assert WinogradConv2d.applies_to(nn.Conv2d(8, 8, 3, padding=1))
    assert WinogradConv2d.applies_to(nn.Conv2d(8, 8, 3))
    assert not WinogradConv2d.applies_to(nn.Conv2d(8, 8, 3, stride=2, padding=1))
    assert not WinogradConv2d.applies_to(nn.Conv2d(8, 8, 1))
    assert not WinogradConv2d.applies_to(nn.Conv2d(8, 8, 3, padding=2))
    assert not WinogradConv2d.applies_to(nn.Conv2d(8, 8, 3, padding=1, groups=2))
    assert not WinogradConv2d.applies_to(nn.Conv2d(8, 8, 3, padding=1, padding_mode="reflect"))


@pytest.mark.parametrize(("c", "size", "transformed"), [(8, 16, False), (256, 24, True)])
def test_winograd_module_uses_the_transform_only_where_it_pays(c: int, size: int, transformed: bool) -> None:
    weight, bias = torch.randn(c, c, 3, 3) / (3 * c**0.5), torch.randn(c)
    module = WinogradConv2d(weight, bias, padding=1)
    x = torch.randn(1, c, size, size).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        out = module(x)
    assert (module._kernels is not None) == transformed
    torch.testing.assert_close(out, F.conv2d(x, weight, bias, padding=1), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize(("c_in", "c_out"), [(9, 1), (8, 4), (2, 1), (5, 3)])
@pytest.mark.parametrize("channels_last", [True, False])
def test_depth_split_convolution_equals_the_direct_one(c_in: int, c_out: int, channels_last: bool) -> None:
    g = torch.Generator().manual_seed(c_in * 10 + c_out)
    x = torch.randn(2, c_in, 5, 6, 7, generator=g)
    x = x.contiguous(memory_format=torch.channels_last_3d) if channels_last else x
    weight, bias = torch.randn(c_out, c_in, 3, 3, 3, generator=g), torch.randn(c_out, generator=g)
    expected = F.conv3d(x, weight, bias, padding=1)
    actual = depth_split_conv3d(x, weight, bias)
    assert actual.shape == expected.shape and actual.is_contiguous(memory_format=torch.channels_last_3d)
    assert (actual - expected).abs().max() <= 1e-5 * expected.abs().max()


def test_a_cached_copy_is_built_once_by_concurrent_callers_and_follows_the_weights() -> None:
    module, owner = nn.Linear(2, 2), types.SimpleNamespace()  # any object can hold the cache
    builds = []

    def build(source: nn.Module) -> str:
        assert source is module
        builds.append(threading.get_ident())
        time.sleep(0.05)  # long enough for every caller to find no copy
        return f"copy {len(builds)}"

    seen = []
    threads = [threading.Thread(target=lambda: seen.append(cached_copy(owner, "_copy", module, build))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == ["copy 1"] * 4 and len(builds) == 1
    with torch.no_grad():
        module.weight.add_(1)  # a changed weight: the next caller rebuilds
    assert cached_copy(owner, "_copy", module, build) == "copy 2"


def _randomise_batch_norms(module: nn.Module, seed: int, kind: type = nn.BatchNorm2d) -> None:
    g = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, kind):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)


@pytest.mark.parametrize("name", ["pix2vox-f", "pix2voxpp-f"])
def test_folded_encoder_equals_the_encoder(name: str) -> None:
    encoder = random_model(name, seed=3).encoder.eval()
    _randomise_batch_norms(encoder, seed=4)
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    folded = fold_for_inference(encoder)
    assert type(folded) is type(encoder)  # the same forward, other layers
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, WinogradConv2d) for m in folded.modules())
    x = torch.randn(2, 3, 224, 224)
    with torch.inference_mode():
        expected, actual = encoder(x), folded(x)
    assert (actual - expected).abs().max() <= 1e-4 * expected.abs().max()
    assert all(torch.equal(v, before[k]) for k, v in encoder.state_dict().items())


def test_tap_groups_cover_each_pair_that_reaches_the_output_once() -> None:
    pairs = set()
    for taps, cells, positions in _tap_groups():
        assert positions.shape == (len(cells), len(taps))
        for c, cell in enumerate(cells):
            for t, tap in enumerate(taps):
                i, a = (cell >> 2 & 1, cell >> 1 & 1, cell & 1), (tap // 16, tap // 4 % 4, tap % 4)
                x = [2 * i[d] + a[d] - 1 for d in range(3)]
                assert all(0 <= v < 4 for v in x) and positions[c, t] == 16 * x[0] + 4 * x[1] + x[2]
                assert (cell, tap) not in pairs
                pairs.add((cell, tap))
    assert len(pairs) == 216  # of 8 cells × 64 taps


@pytest.mark.parametrize("name", [pytest.param("pix2vox-a", marks=pytest.mark.slow), "pix2voxpp-f"])
def test_fast_decoder_equals_the_decoder(name: str) -> None:
    decoder = random_model(name, seed=6).decoder.eval()
    features = torch.randn(3, decoder.in_channels * 8, generator=torch.Generator().manual_seed(7))
    with torch.inference_mode():
        raw, coarse = decoder(features)
        fast_raw, fast_coarse = FastDecoder(decoder)(features)
    assert fast_raw.is_contiguous(memory_format=torch.channels_last_3d)
    assert (fast_raw - raw).abs().max() <= 1e-5 * raw.abs().max()
    assert (fast_coarse - coarse).abs().max() <= 2e-5  # float32 sums in another order


@pytest.mark.parametrize(("c_in", "c_out"), [(9, 16), (36, 9), (4, 2), (9, 1)])
def test_folded_fusion_block_equals_the_block(c_in: int, c_out: int) -> None:
    block = conv_block(c_in, c_out).eval()
    _randomise_batch_norms(block, c_in + c_out, nn.BatchNorm3d)
    x = torch.randn(2, c_in, 8, 9, 10).contiguous(memory_format=torch.channels_last_3d)
    folded = FoldedConvBlock(block)
    assert folded.depth_split == (c_out <= 4)
    with torch.inference_mode():
        expected, actual = block(x), folded(x)
    assert (actual - expected).abs().max() <= 1e-5 * expected.abs().max()


@pytest.mark.parametrize("name", [pytest.param("pix2vox-a", marks=pytest.mark.slow), "pix2voxpp-f"])
def test_optimized_model_reconstructs_as_the_plain_one(name: str) -> None:
    model = random_model(name, seed=9)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fast = optimize(model)
    assert isinstance(fast, Pix2Vox) and fast.refiner is model.refiner
    assert isinstance(fast.decoder, FastDecoder) and not any(isinstance(m, nn.BatchNorm3d) for m in fast.merger.modules())
    views = torch.rand(5, 3, 224, 224, generator=torch.Generator().manual_seed(10)) * 2 - 1
    with torch.inference_mode():
        expected, actual = model.reconstruct(views, [3, 2]), fast.reconstruct(views, [3, 2], encoder_batch=2)
    # Winograd in VGG's wide layers rounds differently: ~1e-4 on the views' volumes and weights
    for field, tolerance in (("volumes", 1e-4), ("fused", 3e-4), ("coarse", 3e-4), ("fusion_weights", 3e-4)):
        assert (getattr(actual, field) - getattr(expected, field)).abs().max() <= tolerance, field
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.encoder.modules())  # the plain model is untouched


def test_the_public_fallback_replaces_a_missing_or_broken_onednn_op(monkeypatch) -> None:
    def broken(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("unexpected signature")

    assert onednn.probe(None) is None
    assert onednn.probe(broken) is None
    assert onednn.probe(lambda x, weight: x @ weight) is None  # runs, but computes something else
    assert onednn.probe(F.linear) is F.linear
    decoder = random_model("pix2voxpp-f", seed=11).decoder.eval()
    features = torch.randn(2, decoder.in_channels * 8, generator=torch.Generator().manual_seed(12))
    monkeypatch.setattr(onednn, "onednn_linear", lambda: None)
    x, weight = torch.randn(4, 6), torch.randn(3, 6)
    assert torch.equal(onednn.linear(x, weight), F.linear(x, weight))
    with torch.inference_mode():
        raw, coarse = decoder(features)
        fast_raw, fast_coarse = FastDecoder(decoder)(features)
    assert (fast_raw - raw).abs().max() <= 1e-5 * raw.abs().max()
    assert (fast_coarse - coarse).abs().max() <= 1e-5


def test_reconstructor_runs_the_optimized_copy_on_cpu_and_follows_weight_changes(original_checkpoint, rendering_files) -> None:
    rec = Reconstructor("pix2voxpp-f", weights=original_checkpoint("pix2voxpp-f"), device="cpu", preprocess="official")
    first = rec.predict(rendering_files[:2]).probabilities
    fast = rec._optimized[1]
    assert isinstance(fast.decoder, FastDecoder) and not isinstance(rec.model.decoder, FastDecoder)
    with torch.no_grad():
        rec.model.decoder.layer5[0].weight.mul_(-1)  # in place: the copy must be rebuilt
        expected = rec.model(rec.preprocess(rendering_files[:2])[None])[0].numpy()
    second = rec.predict(rendering_files[:2]).probabilities
    assert rec._optimized[1] is not fast
    assert abs(second - first).max() > 0.1 and abs(second - expected).max() <= 1e-4


def test_a_compiled_reconstructor_runs_the_plain_network(original_checkpoint) -> None:
    rec = Reconstructor("pix2voxpp-f", weights=original_checkpoint("pix2voxpp-f"), device="cpu", compile=True)
    assert rec._optimize is False


def test_a_model_built_under_inference_mode_runs() -> None:
    with torch.inference_mode():  # parameters without version counters
        model = Pix2Vox(ARCHITECTURES["pix2voxpp-f"]).eval()
        assert model(torch.zeros(1, 2, 3, 224, 224)).shape == (1, 32, 32, 32)
        assert optimize(model).reconstruct(torch.zeros(2, 3, 224, 224), [2]).volumes.shape == (1, 32, 32, 32)
