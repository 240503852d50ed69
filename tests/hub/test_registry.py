"""Registry records."""

from __future__ import annotations

import pytest

from pix2vox import (
    UnknownModelError,
    get_record,
    list_models,
)
from pix2vox.loading import registry
from pix2vox.models import ARCHITECTURES

from ..conftest import VARIANTS
from .conftest import V1

# ------------------------------------------------------------------------------------------------
# Registry


def test_registry_records() -> None:
    assert list_models() == sorted([*VARIANTS, "pix2voxpp-f-furniture"])  # + ours, shipped in the package
    for name in VARIANTS:
        w = get_record(name)
        assert w.name == name and w.architecture == ARCHITECTURES[name]
        assert w.repo_id == f"pix2vox/{name}-shapenet" and w.filename == "model.safetensors"
        assert w.revision == "main" or w.pinned  # a release pins a 40-hex commit
        assert w.paper and w.training_data and w.license and w.num_params > 0 and w.original_file
        assert not w.published and w.project_page.startswith("https://")
    assert get_record("pix2voxpp-a").reported_iou[1] == 0.670
    with pytest.raises(UnknownModelError, match="unknown model 'nope'; known models: pix2vox-a, pix2vox-f"):
        get_record("nope")


def test_register_and_record_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    mine = registry.register(get_record("pix2voxpp-f").replace(name="mine", repo_id="me/mine"))
    assert get_record("mine") is mine and "mine" in list_models() and registry.find_repo("me/mine") is mine
    with pytest.raises(ValueError, match="already registered"):
        registry.register(mine)
    registry.register(mine.replace(threshold=0.4), overwrite=True)
    assert get_record("mine").threshold == 0.4
    with pytest.raises(ValueError, match="short commit hash"):
        mine.replace(revision="1a2b3c4")
    with pytest.raises(ValueError, match="sha256"):
        mine.replace(sha256="abc")
    assert mine.replace(revision=V1).pinned and not mine.pinned


