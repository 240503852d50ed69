"""ONNX export and the onnxruntime runner: parity with PyTorch, file layout, errors, the command.

Random weights in the authors' layout; 1 and 5 views. The A variants (about 100 M parameters,
30–40 s each here) are marked slow.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from pix2vox import Reconstructor  # noqa: E402
from pix2vox.cli.onnx import main as onnx_main  # noqa: E402
from pix2vox.errors import CheckpointError  # noqa: E402
from pix2vox.onnx import INPUT_NAME, METADATA_KEY, OPSET, OUTPUT_NAMES, OnnxReconstructor  # noqa: E402

# The final probabilities must agree to 1e-4. The per-view details run through more
# reduced-precision-sensitive steps (the fusion weights are a softmax of unbounded scores): our
# own CPU fast path and the plain PyTorch modules already differ by up to 1.3e-4 there.
TOLERANCE = 1e-4
DETAILS_TOLERANCE = 5e-4

VARIANTS = [  # the default run checks one variant; -m slow the other three
    pytest.param("pix2vox-f", marks=pytest.mark.slow),
    "pix2voxpp-f",
    pytest.param("pix2vox-a", marks=pytest.mark.slow),
    pytest.param("pix2voxpp-a", marks=pytest.mark.slow),
]


@pytest.fixture(scope="module")
def exported(original_checkpoint, tmp_path_factory):
    """``exported(name)`` → (PyTorch reconstructor on CPU, its ONNX file), made once per variant."""
    cache: dict[str, tuple[Reconstructor, Path]] = {}
    folder = tmp_path_factory.mktemp("onnx")

    def make(name: str) -> tuple[Reconstructor, Path]:
        if name not in cache:
            reconstructor = Reconstructor(name, weights=original_checkpoint(name), device="cpu")
            cache[name] = reconstructor, reconstructor.export_onnx(folder / f"{name}.onnx")
        return cache[name]

    return make


@pytest.mark.parametrize("name", VARIANTS)
def test_onnxruntime_equals_pytorch(name, exported, rendering_files):
    reconstructor, path = exported(name)
    runner = OnnxReconstructor(path, threads=1)
    assert (runner.name, runner.threshold, runner.preprocess_config) == (name, reconstructor.threshold, reconstructor.preprocess_config)
    for count in (1, 5):
        views = rendering_files[:count]
        expected = reconstructor.predict(views, details=True)
        got = runner.predict(views, details=True)
        assert got.probabilities.shape == (32, 32, 32) and got.coarse.shape == got.fusion_weights.shape == (count, 32, 32, 32)
        assert np.abs(got.probabilities - expected.probabilities).max() <= TOLERANCE, (name, count)
        assert np.abs(got.coarse - expected.coarse).max() <= DETAILS_TOLERANCE, (name, count)
        assert np.abs(got.fusion_weights - expected.fusion_weights).max() <= DETAILS_TOLERANCE, (name, count)
        np.testing.assert_allclose(got.fusion_weights.sum(axis=0), 1.0, atol=1e-5)
        assert got.threshold == expected.threshold
        assert (got.occupancy() != expected.occupancy()).sum() <= 2  # only voxels at the threshold may flip


def test_file_layout(exported):
    reconstructor, path = exported("pix2voxpp-f")
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == [INPUT_NAME]
    assert [o.name for o in model.graph.output] == list(OUTPUT_NAMES)
    assert next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) == OPSET
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims][2:] == [3, 224, 224]
    assert dims[0].dim_param and dims[1].dim_param and dims[0].dim_param != dims[1].dim_param  # batch and views are dynamic
    config = json.loads({p.key: p.value for p in model.metadata_props}[METADATA_KEY])
    assert config == reconstructor.config()


def test_batch_of_objects_with_different_view_counts(exported, rendering_files):
    _, path = exported("pix2voxpp-f")
    runner = OnnxReconstructor(path, threads=1)
    objects = [rendering_files[:2], rendering_files[0], rendering_files[1:4], rendering_files[2:4]]
    batch = runner.predict_batch(objects)
    for views, result in zip(objects, batch):
        np.testing.assert_allclose(result.probabilities, runner.predict(views).probabilities, atol=1e-5)
    assert result.coarse is None and result.fusion_weights is None


def test_one_rule_for_one_view_or_many(exported, rendering_files):
    from pix2vox.preprocess import EncodedImage, is_single_view

    reconstructor, path = exported("pix2voxpp-f")
    runner = OnnxReconstructor(path, threads=1)
    encoded = EncodedImage(rendering_files[0].read_bytes(), name="00.png")
    assert is_single_view(encoded) and is_single_view(rendering_files[0]) and not is_single_view(rendering_files[:1])
    for predict in (runner.predict, reconstructor.predict):  # an encoded image is one view, for both
        np.testing.assert_allclose(predict(encoded).probabilities, predict([rendering_files[0]]).probabilities, atol=1e-5)


@pytest.mark.slow  # a second export: seconds
def test_opset_is_chosen(exported, tmp_path):
    reconstructor, _ = exported("pix2voxpp-f")
    path = reconstructor.export_onnx(tmp_path / "opset17.onnx", opset=17)
    model = onnx.load(str(path))
    assert next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) == 17


def test_files_that_are_not_ours_are_refused(tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(CheckpointError, match="not a readable ONNX model"):
        OnnxReconstructor(garbage)
    foreign = tmp_path / "foreign.onnx"
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Identity", ["x"], ["y"])], "g",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])],
    )
    onnx.save(onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)]), str(foreign))
    with pytest.raises(CheckpointError, match=METADATA_KEY):
        OnnxReconstructor(foreign)
    with pytest.raises(CheckpointError, match="no such file"):
        OnnxReconstructor(tmp_path / "missing.onnx")


@pytest.mark.slow
def test_command_writes_and_verifies(original_checkpoint, tmp_path, capsys):
    out = tmp_path / "model.onnx"
    status = onnx_main(["-o", str(out), "--model", "pix2voxpp-f", "--weights", str(original_checkpoint("pix2voxpp-f")), "--verify"])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert f"wrote {out}" in printed and "largest difference from PyTorch" in printed
    assert OnnxReconstructor(out).name == "pix2voxpp-f"
    assert onnx_main(["-o", str(tmp_path / "missing" / "model.onnx"), "--model", "pix2voxpp-f"]) == 2
    assert "no such folder" in capsys.readouterr().err


@pytest.mark.slow
def test_import_pix2vox_imports_no_onnx():
    code = (
        "import sys, pix2vox, pix2vox.models, pix2vox.onnx, pix2vox.cli.onnx\n"
        "bad = [m for m in ('onnx', 'onnxruntime', 'onnxscript') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
