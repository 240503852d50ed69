"""The procedural dataset: geometry, camera, voxel/rendering agreement, determinism, layout, CLI."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from pix2vox.exchange.binvox import read_binvox
from pix2vox.synth import CATEGORIES, Part, SynthConfig, Camera, generate_dataset, render, voxelize
from pix2vox.cli.synth import main
from pix2vox.datasets.taxonomy import split_counts

CATS = ["chair", "sofa", "cabinet", "lamp"]
BULKY = {"04256520", "02933112"}  # sofa, cabinet
CONFIG = SynthConfig(views=6)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    generate_dataset(root, 4, seed=3, categories=CATS, config=CONFIG, progress=False)
    return root


def models(root):
    return sorted(p.relative_to(root / "ShapeNetVox32") for p in (root / "ShapeNetVox32").glob("*/*"))


def all_files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def project(points, azimuth, elevation, distance, fov, size):
    """Independent pinhole projection following the documented camera convention."""
    az, el = np.radians(azimuth), np.radians(elevation)
    center = distance * np.array([np.cos(el) * np.sin(az), np.sin(el), np.cos(el) * np.cos(az)])
    forward = -center / distance
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    rel = points - center
    focal = size / 2 / np.tan(np.radians(fov) / 2)
    depth = rel @ forward
    return size / 2 + focal * (rel @ right) / depth, size / 2 - focal * (rel @ up) / depth


def box(center, half, rotation=np.eye(3)):
    return Part("box", np.asarray(center, float), np.asarray(half, float), rotation, np.ones(3))


def test_box_render_matches_pinhole_arithmetic():
    # Cube of side 1 seen head-on from distance 3: the front face (depth 2.5) spans
    # 68.5 +- 68.5 / tan(12.5 deg) * 0.5 / 2.5 = 68.5 +- 61.79 px; pixel centres j + 0.5 inside
    # that range are j = 7..129, i.e. a 123 x 123 square.
    image = render([box((0, 0, 0), (0.5, 0.5, 0.5))], [Camera(0.0, 0.0, 3.0, 25.0)])[0]
    alpha = image[..., 3] > 0
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    assert (rows[0], rows[-1], cols[0], cols[-1]) == (7, 129, 7, 129)
    assert alpha.sum() == 123 * 123
    assert set(np.unique(image[..., 3])) == {0, 255}
    assert np.all(image[~alpha] == 0)


def test_sphere_render_area():
    # A sphere of radius 0.5 at distance 3 subtends asin(1/6); its disc has radius
    # focal * tan(asin(1/6)) px.
    sphere = Part("ellipsoid", np.zeros(3), np.full(3, 0.5), np.eye(3), np.ones(3))
    alpha = render([sphere], [Camera(40.0, 20.0, 3.0, 25.0)])[0][..., 3] > 0
    radius = 68.5 / np.tan(np.radians(12.5)) * np.tan(np.arcsin(1 / 6))
    assert alpha.sum() == pytest.approx(np.pi * radius**2, rel=0.01)


def test_voxelize_box_exact_counts():
    # x spans the grid; y in [-0.25, 0.25] covers voxels 8..23; z in [-0.125, 0.125] covers 12..19.
    grid = voxelize([box((0, 0, 0), (0.5, 0.25, 0.125))])
    assert grid.sum() == 32 * 16 * 8
    assert grid[:, 8:24, 12:20].all()


def test_axes_y_up_in_voxels_and_images():
    # A small box above the centre (+y) and to the right (+x, seen from azimuth 0): x and y in
    # [0.2, 0.4] are grid coordinates [22.4, 28.8] (voxels 22..28), z in [-0.1, 0.1] is 12..19.
    part = box((0.3, 0.3, 0.0), (0.1, 0.1, 0.1))
    idx = np.argwhere(voxelize([part]))
    assert [(idx[:, k].min(), idx[:, k].max()) for k in range(3)] == [(22, 28), (22, 28), (12, 19)]
    alpha = render([part], [Camera(0.0, 0.0, 3.0, 25.0)])[0][..., 3] > 0
    rows, cols = np.nonzero(alpha)
    assert rows.max() < 68 and cols.min() > 69


def test_part_bounds_rotated_box():
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    lo, hi = box((1, 2, 3), (0.5, 0.1, 0.2), rot).bounds()
    np.testing.assert_allclose(hi - (1, 2, 3), [0.5 * c + 0.1 * s, 0.5 * s + 0.1 * c, 0.2])
    np.testing.assert_allclose(lo + hi, [2, 4, 6])


def test_layout_and_formats(dataset):
    assert len(models(dataset)) == 4
    for model in models(dataset):
        rendering = dataset / "ShapeNetRendering" / model / "rendering"
        pngs = sorted(rendering.glob("*.png"))
        assert [p.name for p in pngs] == [f"{i:02d}.png" for i in range(CONFIG.views)]
        with Image.open(pngs[0]) as image:
            assert (image.mode, image.size) == ("RGBA", (137, 137))
        assert (rendering / "renderings.txt").read_text().split() == [p.name for p in pngs]
        lines = (rendering / "rendering_metadata.txt").read_text().splitlines()
        assert len(lines) == CONFIG.views
        for line in lines:
            azimuth, elevation, roll, distance, fov = map(float, line.split())
            assert 0 <= azimuth < 360 and 25 <= elevation <= 30 and roll == 0 and fov == 25
            assert 1.5 <= distance < 10
        grid = read_binvox(dataset / "ShapeNetVox32" / model / "model.binvox")
        assert grid.occupancy.shape == (32, 32, 32) and grid.occupancy.dtype == bool
        assert grid.translate == (-0.5, -0.5, -0.5) and grid.scale == 1.0


def test_voxels_normalised_like_shapenetvox32(dataset):
    for model in models(dataset):
        occ = read_binvox(dataset / "ShapeNetVox32" / model / "model.binvox").occupancy
        idx = np.argwhere(occ)
        lo, hi = idx.min(axis=0), idx.max(axis=0)
        assert (hi - lo).max() == 31  # touches both faces along the longest extent
        assert np.all(np.abs(lo + hi - 31) <= 1)  # centred on every axis
        # Solid: no enclosed empty voxels.
        assert np.array_equal(ndimage.binary_fill_holes(occ), occ)


def test_voxels_agree_with_renderings(dataset):
    """Projects the voxels with each view's metadata camera and compares with the alpha mask.

    Bounds: 32^3 voxels are coarser than 137 px renderings (a voxel spans ~3.4 px) and are set
    whenever the solid touches them, so (a) at least 99% of the object's pixels lie inside the
    voxels' projected silhouette; (b) every occupied voxel projects onto the object, within 2 px;
    (c) for bulky categories (sofa, cabinet) the mean silhouette IoU is at least 0.85.
    """
    offsets = np.stack(np.meshgrid(*[np.linspace(0, 1, 6)] * 3, indexing="ij"), -1).reshape(-1, 3)
    corners = np.stack(np.meshgrid(*[np.linspace(0, 1, 3)] * 3, indexing="ij"), -1).reshape(-1, 3)
    for model in models(dataset):
        grid = read_binvox(dataset / "ShapeNetVox32" / model / "model.binvox")
        occ = grid.occupancy
        surface = np.argwhere(occ & ~ndimage.binary_erosion(occ))
        to_world = lambda idx: np.asarray(grid.translate) + grid.scale * idx / 32  # noqa: E731
        dense = to_world((surface[:, None] + offsets[None]).reshape(-1, 3))
        voxel_points = to_world(np.argwhere(occ)[:, None] + corners[None])  # (N, 27, 3)
        rendering = dataset / "ShapeNetRendering" / model / "rendering"
        lines = (rendering / "rendering_metadata.txt").read_text().splitlines()
        ious = []
        for v, line in enumerate(lines):
            azimuth, elevation, _, distance, fov = map(float, line.split())
            alpha = np.asarray(Image.open(rendering / f"{v:02d}.png"))[..., 3] > 0
            cols, rows = project(dense, azimuth, elevation, distance, fov, 137)
            assert cols.min() >= 0 and rows.min() >= 0 and cols.max() < 137 and rows.max() < 137
            silhouette = np.zeros_like(alpha)
            silhouette[rows.astype(int), cols.astype(int)] = True
            silhouette = ndimage.binary_fill_holes(silhouette)
            assert (alpha & silhouette).sum() >= 0.99 * alpha.sum()
            cols, rows = project(voxel_points.reshape(-1, 3), azimuth, elevation, distance, fov, 137)
            near = ndimage.binary_dilation(alpha, iterations=2)
            touches = near[rows.astype(int), cols.astype(int)].reshape(-1, 27).any(axis=1)
            assert touches.all()
            ious.append((alpha & silhouette).sum() / (alpha | silhouette).sum())
        if str(model.parent) in BULKY:
            assert np.mean(ious) >= 0.85


def test_object_fills_the_frame(dataset):
    sides = []
    for png in dataset.glob("ShapeNetRendering/*/*/rendering/*.png"):
        alpha = np.asarray(Image.open(png))[..., 3] > 0
        rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
        sides.append(max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1)
    sides = np.asarray(sides) / 137
    assert sides.max() <= 0.86 and 0.6 <= np.median(sides) <= 0.85


def test_same_seed_same_bytes_any_worker_count(dataset, tmp_path):
    generate_dataset(tmp_path, 4, seed=3, categories=CATS, config=CONFIG, workers=2, progress=False)
    assert all_files(tmp_path) == all_files(dataset)


def test_other_seed_differs(dataset, tmp_path):
    generate_dataset(tmp_path, 1, seed=4, categories=CATS, config=CONFIG, progress=False)
    assert not set(all_files(tmp_path)) <= set(all_files(dataset))


def test_taxonomy_json_format(dataset):
    entries = json.loads((dataset / "ShapeNet.json").read_text())
    assert [e["taxonomy_name"] for e in entries] == CATS
    for entry in entries:
        assert set(entry) == {"taxonomy_id", "taxonomy_name", "baseline", "train", "val", "test"}
        assert entry["taxonomy_id"] == CATEGORIES[entry["taxonomy_name"]].taxonomy_id
        on_disk = {p.name for p in (dataset / "ShapeNetVox32" / entry["taxonomy_id"]).iterdir()}
        splits = entry["train"] + entry["val"] + entry["test"]
        assert sorted(splits) == sorted(on_disk) and len(set(splits)) == len(splits)
        assert len(entry["test"]) == 1  # one model per category: it goes to test


def test_split_counts():
    assert split_counts(100, (0.8, 0.1, 0.1)) == (80, 10, 10)
    assert split_counts(10, (0.8, 0.1, 0.1)) == (8, 1, 1)
    assert split_counts(2, (0.8, 0.1, 0.1)) == (1, 0, 1)
    assert split_counts(1, (0.8, 0.1, 0.1)) == (0, 0, 1)


def test_cli_in_process(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["--out", str(out), "--objects", "2", "--seed", "1", "--views", "2", "--quiet"]
    assert main(args + ["--categories", "speaker", "03211117"]) == 0
    entries = json.loads((out / "ShapeNet.json").read_text())
    assert [e["taxonomy_name"] for e in entries] == ["speaker", "display"]

    for bad in (["--objects", "0"], ["--categories", "dragon"], ["--views", "x"], ["--size", "4"]):
        target = tmp_path / "never"
        assert main(["--out", str(target), "--objects", "1", *bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith("pix2vox-synth: error:") and err.count("\n") == 1
        assert not target.exists()


def test_cli_subprocess(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "pix2vox.synth", "--help"], capture_output=True, text=True,
        cwd=Path(__file__).parents[1],
    )
    assert run.returncode == 0 and "--objects" in run.stdout
