"""Loading the authors' ``.pth`` files safely and strictly, and our ``.safetensors`` files."""

from __future__ import annotations

import os

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from pix2vox import CheckpointError, Reconstructor
from pix2vox.loading.checkpoint import identify, read_checkpoint, read_original
from pix2vox.testing import original_layout, random_model, save_random_original_checkpoint


@pytest.fixture(scope="module")
def model():
    return random_model("pix2voxpp-f", seed=5)


def _assert_same_weights(state: dict, model) -> None:
    expected = model.state_dict()
    assert set(state) <= set(expected)
    for key, value in state.items():
        assert torch.equal(value, expected[key]), key


@pytest.mark.parametrize("legacy", [False, True])
def test_reads_the_original_layout(tmp_path: Path, model, legacy: bool) -> None:
    path = tmp_path / "ckpt.pth"
    torch.save(original_layout(model), path, _use_new_zipfile_serialization=not legacy)
    state = read_original(path)
    assert not any(k.startswith("module.") or ".module." in k for k in state)
    assert {k.split(".")[0] for k in state} == {"encoder", "decoder", "merger"}
    _assert_same_weights(state, model)
    assert identify(state) == ["pix2voxpp-f"]


def test_numpy_1_pickles_are_accepted(tmp_path: Path, model) -> None:
    # Files written under NumPy 1.x name the scalar constructor numpy.core.multiarray.scalar.
    path = tmp_path / "old.pth"
    torch.save(original_layout(model), path, _use_new_zipfile_serialization=False)
    path.write_bytes(path.read_bytes().replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    _assert_same_weights(read_original(path), model)


def test_missing_batch_norm_counters_are_tolerated(tmp_path: Path) -> None:
    path = save_random_original_checkpoint(tmp_path / "c.pth", "pix2voxpp-f", seed=1, with_num_batches_tracked=False)
    assert not any("num_batches_tracked" in k for k in read_original(path))
    rec = Reconstructor("pix2voxpp-f", weights=path, device="cpu")
    assert rec.model.merger.layer1[1].num_batches_tracked.item() == 0


def test_solver_states_and_extra_entries_are_ignored(tmp_path: Path, model) -> None:
    content = original_layout(model)
    content["encoder_solver_state_dict"] = {"state": {}, "param_groups": [{"lr": 0.001}]}
    path = tmp_path / "with_solver.pth"
    torch.save(content, path)
    _assert_same_weights(read_original(path), model)


def test_wrong_variant_names_the_right_one(original_checkpoint) -> None:
    with pytest.raises(CheckpointError, match="pix2voxpp-f checkpoint, not pix2voxpp-a"):
        Reconstructor("pix2voxpp-a", weights=original_checkpoint("pix2voxpp-f"), device="cpu")


def test_partial_checkpoint_lists_what_is_missing(tmp_path: Path, model) -> None:
    content = original_layout(model)
    del content["merger_state_dict"]
    path = tmp_path / "partial.pth"
    torch.save(content, path)
    with pytest.raises(CheckpointError, match=r"does not fit pix2voxpp-f.*missing: merger\."):
        Reconstructor("pix2voxpp-f", weights=path, device="cpu")


@pytest.mark.parametrize("legacy", [False, True])
def test_truncated_file(tmp_path: Path, model, legacy: bool) -> None:
    path = tmp_path / "truncated.pth"
    torch.save(original_layout(model), path, _use_new_zipfile_serialization=not legacy)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        read_original(path)


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n not really", b"hello world\n", b""])
def test_not_a_checkpoint(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.pth"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        read_original(path)


def test_a_pickle_that_is_not_a_pix2vox_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "other.pth"
    torch.save({"state_dict": {"w": torch.zeros(1)}}, path)
    with pytest.raises(CheckpointError, match="not a Pix2Vox checkpoint"):
        read_original(path)


class _Exploit:
    """Unpickling it would create ``marker`` through a shell command."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_code_in_a_pickle_is_refused(tmp_path: Path) -> None:
    path, marker = tmp_path / "evil.pth", tmp_path / "payload-ran"
    torch.save({"encoder_state_dict": {}, "payload": _Exploit(marker)}, path)
    with pytest.raises(CheckpointError) as caught:
        read_original(path)
    callable_name = "posix.system" if os.name == "posix" else "nt.system"
    assert str(caught.value) == f"refused: {path} asks to run code ({callable_name}); the authors' checkpoints never do"
    assert not marker.exists()


def test_refusal_on_the_command_line_gives_no_advice_to_turn_safety_off(tmp_path: Path, rendering_files, capsys) -> None:
    from pix2vox.cli.export import main

    path, marker = tmp_path / "evil.pth", tmp_path / "payload-ran"
    torch.save({"encoder_state_dict": {}, "payload": _Exploit(marker)}, path)
    code = main([str(rendering_files[0]), "-o", str(tmp_path / "x.obj"), "--model", "pix2voxpp-f", "--weights", str(path), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"pix2vox-export: error: refused: {path} asks to run code (posix.system); the authors' checkpoints never do\n"
    assert "weights_only" not in err and not marker.exists() and not (tmp_path / "x.obj").exists()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        read_checkpoint(tmp_path / "nope.pth")


def test_safetensors_round_trip(tmp_path: Path, model) -> None:
    path = tmp_path / "model.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path)
    _assert_same_weights(read_checkpoint(path), model)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="safetensors"):
        read_checkpoint(bad)
