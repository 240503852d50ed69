"""Dataset readers on a generated mini ShapeNet and a hand-made mini Pix3D."""

import json
import logging
import shutil

import numpy as np
import pytest
from PIL import Image

from pix2vox.datasets import (
    Pix3DDataset,
    ShapeNetDataset,
    Taxonomy,
    load_taxonomies,
    make_split,
    taxonomy_entry,
)
from pix2vox.exchange.binvox import read_binvox, write_binvox
from pix2vox.synth import SynthConfig, generate_dataset

CATS = ["chair", "table", "sofa"]


@pytest.fixture(scope="module")
def shapenet(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapenet")
    generate_dataset(root, 6, seed=5, categories=CATS, config=SynthConfig(views=4), progress=False)
    return root


def test_reads_the_test_split(shapenet):
    taxonomies = load_taxonomies(shapenet / "ShapeNet.json")
    data = ShapeNetDataset(shapenet, "test", n_views=2)
    assert len(data) == 3 and not data.missing  # 2 models per category: 1 train, 1 test
    assert [s.taxonomy_name for s in data] == CATS
    for sample, taxonomy in zip(data, taxonomies):
        assert sample.model_id == taxonomy.splits["test"][0]
        assert sample.taxonomy_id == taxonomy.taxonomy_id
        assert [p.name for p in sample.view_paths] == ["00.png", "01.png"]
        assert all(p.is_file() for p in sample.view_paths)
        volume = sample.load_volume()
        assert volume.shape == (32, 32, 32) and volume.dtype == bool
        assert np.array_equal(volume, read_binvox(sample.voxel_path).occupancy)
    assert len(ShapeNetDataset(shapenet, "train")) == 3
    assert len(ShapeNetDataset(shapenet, "val")) == 0


def test_random_views_are_seeded_and_order_independent(shapenet):
    def views(**kw):
        data = ShapeNetDataset(shapenet, n_views=3, view_selection="random", **kw)
        return {s.model_id: [p.name for p in s.view_paths] for s in data}

    first = views(seed=1)
    assert first == views(seed=1)
    assert all(len(set(v)) == 3 for v in first.values())
    assert views(seed=1, taxonomies=["sofa"]).items() <= first.items()
    assert any(views(seed=s) != first for s in (2, 3, 4))


def test_separate_roots(shapenet, tmp_path):
    shutil.copytree(shapenet / "ShapeNetRendering", tmp_path / "renders")
    shutil.copytree(shapenet / "ShapeNetVox32", tmp_path / "vox")
    shutil.copy(shapenet / "ShapeNet.json", tmp_path / "split.json")
    data = ShapeNetDataset(taxonomy_json=tmp_path / "split.json", rendering_root=tmp_path / "renders",
                           voxel_root=tmp_path / "vox")
    assert [s.model_id for s in data] == [s.model_id for s in ShapeNetDataset(shapenet)]
    assert data[0].view_paths[0].is_relative_to(tmp_path / "renders")
    with pytest.raises(ValueError):
        ShapeNetDataset(taxonomy_json=tmp_path / "split.json")


def test_missing_files_are_reported_not_fatal(shapenet, tmp_path, caplog):
    root = tmp_path / "copy"
    shutil.copytree(shapenet, root)
    data = ShapeNetDataset(root)
    gone_voxel, gone_views = data[0], data[1]
    gone_voxel.voxel_path.unlink()
    shutil.rmtree(gone_views.view_paths[0].parent)
    with caplog.at_level(logging.WARNING):
        data = ShapeNetDataset(root)
    assert [s.model_id for s in data] == [ShapeNetDataset(shapenet)[2].model_id]
    assert [(m.sample_id, m.reason) for m in data.missing] == [
        (gone_voxel.model_id, "no voxel file"),
        (gone_views.model_id, "0 renderings, 1 needed"),
    ]
    assert "left out" in caplog.text
    assert len(ShapeNetDataset(shapenet, n_views=5).missing) == 3  # only 4 renderings each


def test_bad_arguments_and_files(shapenet, tmp_path):
    with pytest.raises(ValueError, match="unknown taxonomies"):
        ShapeNetDataset(shapenet, taxonomies=["dragon"])
    assert len(ShapeNetDataset(shapenet, taxonomies=["04379243", "sofa"])) == 2
    with pytest.raises(ValueError):
        ShapeNetDataset(shapenet, split="testing")
    bad = tmp_path / "bad.json"
    bad.write_text('{"taxonomy_id": 1}')
    with pytest.raises(ValueError, match="bad.json"):
        ShapeNetDataset(shapenet, taxonomy_json=bad)
    with pytest.raises(FileNotFoundError):
        ShapeNetDataset(tmp_path)


# Mini Pix3D: 2 categories, 3 chair models and 1 table model, 7 images.
PIX3D = [
    ("0001", "chair", "IKEA_A", False), ("0002", "chair", "IKEA_A", False),
    ("0003", "chair", "IKEA_B", False), ("0004", "chair", "IKEA_B", True),
    ("0005", "chair", "IKEA_C", False), ("0006", "table", "IKEA_T", False),
    ("0007", "table", "IKEA_T", False),
]


@pytest.fixture()
def pix3d(tmp_path):
    annotations = []
    for image_id, category, model, occluded in PIX3D:
        (tmp_path / "img" / category).mkdir(parents=True, exist_ok=True)
        pixels = np.zeros((40, 60, 3), np.uint8)
        pixels[10:21, 5:31] = 200  # the object: rows 10..20, columns 5..30
        Image.fromarray(pixels).save(tmp_path / "img" / category / f"{image_id}.png")
        model_dir = tmp_path / "model" / category / model
        model_dir.mkdir(parents=True, exist_ok=True)
        grid = np.zeros((32, 32, 32), bool)
        grid[: int(image_id)] = True
        write_binvox(model_dir / "model.binvox", grid)
        annotations.append({
            "img": f"img/{category}/{image_id}.png", "category": category, "img_size": [60, 40],
            "bbox": [5, 10, 30, 20], "model": f"model/{category}/{model}/model.obj",
            "voxel": f"model/{category}/{model}/voxel.mat", "truncated": False, "occluded": occluded,
        })
    (tmp_path / "pix3d.json").write_text(json.dumps(annotations))
    return tmp_path


def test_pix3d_own_split_is_by_model(pix3d):
    split = make_split(json.loads((pix3d / "pix3d.json").read_text()), seed=0)
    assert [t.taxonomy_name for t in split] == ["chair", "table"]
    chair = split[0].splits
    assert "0004" not in sum(chair.values(), [])  # occluded
    models = {image_id: model for image_id, _, model, _ in PIX3D}
    per_split = [{models[i] for i in chair[s]} for s in ("train", "val", "test")]
    assert not (per_split[0] & per_split[1] or per_split[0] & per_split[2] or per_split[1] & per_split[2])
    assert len(chair["test"]) >= 1 and split[1].splits["test"] == ["0006", "0007"]
    data = Pix3DDataset(pix3d, "test")
    assert [(s.category, s.image_id) for s in data] == [
        ("chair", i) for i in chair["test"]] + [("table", "0006"), ("table", "0007")]


def test_pix3d_with_split_file_crop_and_volume(pix3d):
    # The original Pix3D.json format: taxonomy_id = name, lists of image ids.
    entry = taxonomy_entry(Taxonomy("chair", "chair", {"train": ["0001"], "test": ["0002", "0004"]}))
    (pix3d / "Pix3D.json").write_text(json.dumps([entry]))
    data = Pix3DDataset(pix3d, "test", split_json=pix3d / "Pix3D.json")
    assert [s.image_id for s in data] == ["0002", "0004"]
    sample = data[0]
    crop = sample.load_image()
    assert crop.shape == (11, 26, 3) and np.all(crop == 200)
    assert sample.load_image(crop=False).shape == (40, 60, 3)
    assert sample.load_volume().sum() == 2 * 32 * 32
    (pix3d / "model" / "chair" / "IKEA_B" / "model.binvox").unlink()
    data = Pix3DDataset(pix3d, "test", split_json=pix3d / "Pix3D.json")
    assert [s.image_id for s in data] == ["0002"]
    assert [(m.sample_id, m.reason) for m in data.missing] == [("0004", "no voxel file")]

