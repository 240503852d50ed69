"""The networks: layouts of the authors' checkpoints, and batching that does not change results."""

from __future__ import annotations

import pytest
import torch

from pix2vox.loading.checkpoint import expected_shapes
from pix2vox.models import ARCHITECTURES, Pix2Vox
from pix2vox.testing import random_model

from .reference import per_view_forward

# Parameter counts and per-component key counts: docs/architecture.md, "Checkpoint layout".
PARAMS = {"pix2vox-f": 7_436_307, "pix2vox-a": 114_244_467, "pix2voxpp-f": 4_843_245, "pix2voxpp-a": 96_329_421}
KEYS = {
    "pix2vox-f": {"encoder": 77, "decoder": 25, "merger": 35, "refiner": 0},
    "pix2vox-a": {"encoder": 77, "decoder": 25, "merger": 35, "refiner": 38},
    "pix2voxpp-f": {"encoder": 81, "decoder": 25, "merger": 42, "refiner": 0},
    "pix2voxpp-a": {"encoder": 165, "decoder": 25, "merger": 42, "refiner": 38},
}
SHAPES = {
    "pix2vox-f": {"decoder.layer1.0.weight": (256, 128, 4, 4, 4), "encoder.layer1.0.weight": (512, 512, 1, 1)},
    "pix2vox-a": {"decoder.layer1.0.weight": (2048, 512, 4, 4, 4), "encoder.vgg.24.weight": (512, 256, 3, 3)},
    "pix2voxpp-f": {"decoder.layer1.0.weight": (392, 128, 4, 4, 4), "encoder.resnet.5.0.downsample.0.weight": (128, 64, 1, 1)},
    "pix2voxpp-a": {
        "decoder.layer1.0.weight": (1568, 512, 4, 4, 4),
        "encoder.resnet.4.0.downsample.0.weight": (256, 64, 1, 1),
        "refiner.layer4.0.weight": (2048, 8192),
        "refiner.layer8.0.weight": (32, 1, 4, 4, 4),
        "merger.layer5.0.weight": (9, 36, 3, 3, 3),
    },
}


@pytest.mark.parametrize("name", PARAMS)
def test_layout_matches_the_authors_checkpoints(name: str) -> None:
    with torch.device("meta"):
        model = Pix2Vox(ARCHITECTURES[name])
    assert sum(p.numel() for p in model.parameters()) == PARAMS[name]
    shapes = expected_shapes(ARCHITECTURES[name])
    for component, count in KEYS[name].items():
        assert sum(k.startswith(component + ".") for k in shapes) == count
    for key, shape in SHAPES[name].items():
        assert tuple(shapes[key]) == shape


@pytest.fixture(scope="module")
def small_model() -> Pix2Vox:
    return random_model("pix2voxpp-f", seed=3)


def _views(n: int, seed: int) -> torch.Tensor:
    return torch.rand(n, 3, 224, 224, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_batched_forward_equals_the_per_view_original_order(small_model: Pix2Vox) -> None:
    views = _views(6, 0).view(2, 3, 3, 224, 224)
    with torch.no_grad():
        batched = small_model(views)
    reference = per_view_forward(small_model, views)
    assert batched.shape == (2, 32, 32, 32)
    # channels-last memory and batched convolutions: float rounding differs slightly
    assert (batched - reference).abs().max() < 1e-4


def test_result_independent_of_batch_and_view_order(small_model: Pix2Vox) -> None:
    views = _views(6, 1)
    with torch.no_grad():
        alone = [small_model.reconstruct(views[s], [len(range(*s.indices(6)))]).volumes for s in (slice(0, 1), slice(1, 4), slice(4, 6))]
        together = small_model.reconstruct(views, [1, 3, 2])
        shuffled = small_model.reconstruct(views[[0, 3, 1, 2, 5, 4]], [1, 3, 2]).volumes
    for i in range(3):
        assert (together.volumes[i] - alone[i][0]).abs().max() < 1e-5
        assert (shuffled[i] - alone[i][0]).abs().max() < 1e-5
    assert together.coarse.shape == together.fusion_weights.shape == (6, 32, 32, 32)
    sums = torch.stack([together.fusion_weights[1:4].sum(0), together.fusion_weights[4:6].sum(0)])
    assert torch.allclose(sums, torch.ones_like(sums), atol=1e-5)
    assert torch.equal(together.fusion_weights[0], torch.ones(32, 32, 32))


def test_single_view_fusion_is_the_identity(small_model: Pix2Vox) -> None:
    views = _views(2, 2)
    with torch.no_grad():
        out = small_model.reconstruct(views, [1, 1])
    assert torch.equal(out.volumes, out.coarse) and out.fused is out.volumes  # no refiner in pix2voxpp-f


@pytest.mark.parametrize("shape", [(1, 3, 200, 200), (1, 1, 224, 224)])
def test_rejects_inputs_the_decoder_cannot_reshape(small_model: Pix2Vox, shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="224"):
        small_model.reconstruct(torch.zeros(shape), [1])


def test_rejects_view_counts_that_do_not_add_up(small_model: Pix2Vox) -> None:
    with pytest.raises(ValueError, match="view_counts"):
        small_model.reconstruct(_views(3, 0), [1, 1])


@pytest.mark.slow  # the A variant: seconds
def test_fused_volumes_are_the_refiners_input() -> None:
    model = random_model("pix2vox-a", seed=4)
    with torch.no_grad():
        out = model.reconstruct(_views(3, 5), [2, 1])
        refined = model.refiner(out.fused)
    assert out.fused.shape == out.volumes.shape == (2, 32, 32, 32)
    assert torch.equal(out.volumes, refined) and not torch.equal(out.fused, out.volumes)
