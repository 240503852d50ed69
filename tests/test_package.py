"""Package-level promises: light import, public names, version."""

from __future__ import annotations

import subprocess
import sys

import pix2vox


def test_import_loads_neither_torch_nor_training_code() -> None:
    code = "import sys, pix2vox; print(sorted(m for m in ('torch', 'torchvision', 'pix2vox.train') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_names_resolve() -> None:
    for name in pix2vox.__all__:
        assert getattr(pix2vox, name) is not None
    assert pix2vox.Reconstructor.__module__ == "pix2vox.reconstructor"
    assert "Reconstructor" in dir(pix2vox)


def test_unknown_attribute() -> None:
    try:
        pix2vox.NoSuchThing  # noqa: B018
    except AttributeError as error:
        assert "NoSuchThing" in str(error)
    else:
        raise AssertionError("expected AttributeError")


def test_deprecated_names_still_resolve_and_warn() -> None:
    import warnings

    from pix2vox.registry import ModelRecord, get_record

    assert pix2vox.Weights is ModelRecord
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert pix2vox.get_weights("pix2voxpp-f") is get_record("pix2voxpp-f")
        result = pix2vox.Result(probabilities=None, threshold=0.3, fusion_weights="w")  # type: ignore[arg-type]
        assert result.scores == "w"
    assert [w.category for w in caught] == [DeprecationWarning, DeprecationWarning]
