"""CPU inference paths: Winograd 3×3 convolutions, the folded encoder, the regrouped decoder,
the fusion's depth-split convolutions."""

from __future__ import annotations

import threading
import time

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pix2vox.models import ARCHITECTURES, Pix2Vox
from pix2vox.models.fast_decoder import FastDecoder, _tap_groups
from pix2vox.models.folding import cached_copy, fold_for_inference
from pix2vox.models.merger import depth_split_conv3d
from pix2vox.models.winograd import WinogradConv2d, conv3x3, transform_weight
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


def test_an_inference_copy_is_built_once_by_concurrent_callers() -> None:
    owner = nn.Linear(2, 2)
    owner._copy = None
    builds = []

    def build() -> str:
        builds.append(threading.get_ident())
        time.sleep(0.05)  # long enough for every caller to find no copy
        return f"copy {len(builds)}"

    seen = []
    threads = [threading.Thread(target=lambda: seen.append(cached_copy(owner, "_copy", build))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == ["copy 1"] * 4 and len(builds) == 1
    with torch.no_grad():
        owner.weight.add_(1)  # a changed weight: the next caller rebuilds
    assert cached_copy(owner, "_copy", build) == "copy 2"


def _randomise_batch_norms(module: nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)


@pytest.mark.parametrize("name", ["pix2vox-f", "pix2voxpp-f"])
def test_folded_encoder_equals_the_encoder(name: str) -> None:
    encoder = random_model(name, seed=3).encoder.eval()
    _randomise_batch_norms(encoder, seed=4)
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    stem = encoder.vgg if name == "pix2vox-f" else encoder.resnet
    plain = nn.Sequential(stem, encoder.layer1, encoder.layer2, encoder.layer3)
    folded = fold_for_inference(plain)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, WinogradConv2d) for m in folded.modules())
    x = torch.randn(2, 3, 224, 224)
    with torch.inference_mode():
        expected, actual = plain(x), folded(x)
    assert (actual - expected).abs().max() <= 1e-4 * expected.abs().max()
    assert all(torch.equal(v, before[k]) for k, v in encoder.state_dict().items())


def test_encoder_inference_copy_follows_weight_changes() -> None:
    encoder = random_model("pix2voxpp-f", seed=5).encoder.eval()
    x = torch.randn(1, 3, 224, 224)
    keys = set(encoder.state_dict())
    with torch.inference_mode():
        first = encoder(x)
    assert set(encoder.state_dict()) == keys  # the cached copy is no submodule
    with torch.no_grad():
        encoder.layer3[0].weight.mul_(-1)  # in place: the copy must be rebuilt
    with torch.inference_mode():
        second = encoder(x)
    with torch.no_grad():
        plain = encoder.layer3(encoder.layer2(encoder.layer1(encoder.resnet(x))))
    assert (first - second).abs().max() > 0.1 * plain.abs().max()
    assert (second - plain).abs().max() <= 1e-5 * plain.abs().max()


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


@pytest.mark.parametrize("name", ["pix2vox-a", "pix2voxpp-f"])
def test_fast_decoder_equals_the_decoder(name: str) -> None:
    decoder = random_model(name, seed=6).decoder.eval()
    features = torch.randn(3, decoder.in_channels * 8, generator=torch.Generator().manual_seed(7))
    with torch.enable_grad():  # autograd on: the modules as written
        raw, coarse = (t.detach() for t in decoder(features))
    with torch.inference_mode():
        fast_raw, fast_coarse = decoder(features)
    assert isinstance(decoder._fast[1], FastDecoder)
    assert fast_raw.is_contiguous(memory_format=torch.channels_last_3d)
    assert (fast_raw - raw).abs().max() <= 1e-5 * raw.abs().max()
    assert (fast_coarse - coarse).abs().max() <= 1e-5


def test_fast_decoder_follows_weight_changes() -> None:
    decoder = random_model("pix2voxpp-f", seed=8).decoder.eval()
    features = torch.randn(2, decoder.in_channels * 8)
    with torch.inference_mode():
        before = decoder(features)[1]
    with torch.no_grad():
        decoder.layer2[1].running_mean.add_(0.5)  # in place: the copy must be rebuilt
    with torch.inference_mode():
        after = decoder(features)[1]
    with torch.enable_grad():
        expected = decoder(features)[1].detach()
    assert (after - before).abs().max() > 1e-3
    assert (after - expected).abs().max() <= 1e-5


def test_a_model_built_under_inference_mode_runs() -> None:
    with torch.inference_mode():  # parameters without version counters
        model = Pix2Vox(ARCHITECTURES["pix2voxpp-f"]).eval()
        assert model(torch.zeros(1, 2, 3, 224, 224)).shape == (1, 32, 32, 32)
