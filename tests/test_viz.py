"""Pictures: PNG files of the promised size, showing the shape, y up, not mirrored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pix2vox import Result

pytest.importorskip("matplotlib", reason="pix2vox.viz needs matplotlib (pip install -e '.[viz]')")

from pix2vox import viz  # noqa: E402

from .conftest import make_rendering  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def box(x: tuple[int, int], y: tuple[int, int], z: tuple[int, int]) -> np.ndarray:
    volume = np.zeros((32, 32, 32), np.float32)
    volume[x[0] : x[1], y[0] : y[1], z[0] : z[1]] = 1
    return volume


def extent(mask: np.ndarray) -> tuple[int, int]:
    """(height, width) of the bounding box of a 2D mask."""
    rows, cols = np.nonzero(mask)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def centre_column(mask: np.ndarray) -> float:
    return float(np.nonzero(mask)[1].mean())


def read_png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"), dtype=np.float32) / 255


def blue(image: np.ndarray) -> np.ndarray:
    """Pixels of the voxel colour (text and background are grey or white)."""
    return image[..., 2] - image[..., 0] > 0.15


def coloured(image: np.ndarray) -> np.ndarray:
    """Pixels of the voxel or mesh colour, not grey text or white background."""
    return image.max(axis=2) - image.min(axis=2) > 0.15


def test_importing_loads_neither_matplotlib_nor_torch():
    code = "import sys, pix2vox, pix2vox.viz; print(sorted(m for m in ('matplotlib', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_matplotlib_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pix2vox\[viz\]"):
        viz.preview(box((8, 24), (8, 24), (8, 24)), tmp_path / "p.png")
    assert not (tmp_path / "p.png").exists()


def test_preview_png_size_and_content(tmp_path):
    views = [make_rendering(0), Image.fromarray(make_rendering(1), "RGBA")]
    path = tmp_path / "preview.png"
    probabilities = box((8, 24), (4, 28), (10, 22)) * 0.8 + 0.1
    out = viz.preview(Result(probabilities, threshold=0.3), path, views=views, azimuths=(0, 90, 200), panel_size=1.2, dpi=100)
    assert out == path
    image = read_png(path)
    assert image.shape == (3 * 120, 3 * 120, 3)  # rows: views, voxels, mesh; columns: azimuths
    assert image.std() > 0.05
    voxels_row = image[120:240]
    silhouette = blue(voxels_row)
    assert 0.05 < silhouette.mean() < 0.5
    background = voxels_row[~silhouette & (np.arange(120)[:, None] > 20)]
    assert np.median(background, axis=0) == pytest.approx([1, 1, 1], abs=0.01)
    assert np.abs(voxels_row[silhouette] - 1).max(axis=1).min() > 0.2
    mesh_row = image[240:]
    assert (np.abs(mesh_row - 1).max(axis=2) > 0.2).mean() > 0.05
    assert not list(tmp_path.glob(".*.tmp"))


def test_preview_of_a_bare_array_and_of_nothing(tmp_path):
    path = viz.preview(box((10, 20), (10, 20), (10, 20)), tmp_path / "gt.png", azimuths=(45,), panels=("voxels",), panel_size=1, dpi=80)
    assert read_png(path).shape == (80, 80, 3)
    empty = Result(np.full((32, 32, 32), 0.1, np.float32), threshold=0.3)
    path = viz.preview(empty, tmp_path / "empty.png", azimuths=(45,), panel_size=1, dpi=80)
    assert read_png(path).shape == (160, 80, 3)


@pytest.mark.parametrize("kind", ["voxels", "mesh"])
def test_tall_in_y_renders_taller_than_wide(tmp_path, kind):
    tall = Result(box((13, 19), (2, 30), (13, 19)), threshold=0.5)
    path = viz.preview(tall, tmp_path / "tall.png", azimuths=(30,), panels=(kind,), panel_size=2, dpi=100)
    image = read_png(path)
    height, width = extent(coloured(image))
    assert height > 2.5 * width


def test_azimuths_follow_the_synth_camera():
    """Azimuth 0 looks from +z (x to the right), 90 from +x (-z to the right); y up; no mirror."""
    pillar_at_high_x = box((24, 30), (2, 30), (13, 19)) + box((2, 8), (2, 8), (13, 19))
    quads, normals = viz.voxel_faces(pillar_at_high_x > 0)
    front = viz.render_surface(quads, normals, elevation=0, azimuth=0, pixels=100)[..., 3] > 0.5
    back = viz.render_surface(quads, normals, elevation=0, azimuth=180, pixels=100)[..., 3] > 0.5
    tall_columns = np.nonzero(front[30])[0]  # a row crossing only the pillar
    assert tall_columns.min() > 50
    assert np.nonzero(back[30])[0].max() < 50
    pillar_at_high_z = box((13, 19), (2, 30), (24, 30))
    quads, normals = viz.voxel_faces(pillar_at_high_z > 0)
    side = viz.render_surface(quads, normals, elevation=0, azimuth=90, pixels=100)[..., 3] > 0.5
    assert centre_column(side) < 40
    above = viz.render_surface(quads, normals, elevation=90, azimuth=0, pixels=100)[..., 3] > 0.5
    assert np.nonzero(above)[0].mean() > 60  # from above, +z is at the bottom


def test_render_surface_hides_what_is_behind():
    """Depth buffer: adding a box behind another changes no pixel of the front one."""
    near = box((8, 24), (8, 24), (20, 28)) > 0
    far = box((4, 28), (4, 28), (2, 10)) > 0
    alone = viz.render_surface(*viz.voxel_faces(near), elevation=20, azimuth=30, pixels=96, outline="faces")
    both = viz.render_surface(*viz.voxel_faces(near | far), elevation=20, azimuth=30, pixels=96, outline="faces")
    covered = alone[..., 3] == 1
    inner = covered & np.roll(covered, 2, 0) & np.roll(covered, -2, 0) & np.roll(covered, 2, 1) & np.roll(covered, -2, 1)
    assert inner.mean() > 0.05
    np.testing.assert_array_equal(both[inner], alone[inner])
    assert (both[..., 3] == 1).sum() > covered.sum()


def test_voxel_faces_are_the_exposed_ones():
    single = np.zeros((4, 4, 4), bool)
    single[1, 2, 3] = True
    quads, normals = viz.voxel_faces(single)
    assert quads.shape == (6, 4, 3) and normals.shape == (6, 3)
    assert quads.min(axis=(0, 1)) == pytest.approx([0.25, 0.5, 0.75])
    assert quads.max(axis=(0, 1)) == pytest.approx([0.5, 0.75, 1.0])
    centres = quads.mean(axis=1)
    assert np.allclose(centres - normals / 8, [0.375, 0.625, 0.875])  # normals point outward
    two = np.zeros((4, 4, 4), bool)
    two[1:3, 1, 1] = True
    assert len(viz.voxel_faces(two)[0]) == 10


def detailed_result() -> Result:
    """Two views: the first sees the left half (x < 16) of a box, the second the right half."""
    shape = box((6, 26), (6, 26), (6, 26))
    left, right = shape.copy(), shape.copy()
    left[16:], right[:16] = 0, 0
    weights = np.zeros((2, 32, 32, 32), np.float32)
    weights[0, :16], weights[1, 16:] = 1, 1
    coarse = np.stack([left, right])
    return Result((coarse * weights).sum(0), threshold=0.3, coarse=coarse, fusion_weights=weights)


def test_fusion_figure(tmp_path):
    result = detailed_result()
    views = [make_rendering(2), make_rendering(3)]
    path = viz.fusion_figure(result, tmp_path / "fusion.png", views=views, panel_size=1.5, dpi=100)
    image = read_png(path)
    assert image.shape == (3 * 150, 3 * 150, 3)
    assert image.std() > 0.05
    path = viz.fusion_figure(result, tmp_path / "slice.png", mode="slice", along="x", panel_size=1.5, dpi=100)
    assert read_png(path).shape == (3 * 150, 2 * 150, 3)


def test_fusion_figure_needs_details(tmp_path):
    with pytest.raises(ValueError, match="details=True"):
        viz.fusion_figure(Result(box((1, 5), (1, 5), (1, 5)), threshold=0.3), tmp_path / "f.png")
    with pytest.raises(ValueError, match="3 views given"):
        viz.fusion_figure(detailed_result(), tmp_path / "f.png", views=[make_rendering(0)] * 3)
    assert not list(tmp_path.iterdir())


def test_fusion_maps_are_laid_out_with_y_up():
    volume = np.zeros((32, 32, 32), np.float32)
    volume[28, 30, 2] = 1  # high x, high y, low z
    front = viz._flatten(volume, "z", "projection")
    assert np.argwhere(front > 0).tolist() == [[30, 28]]  # row y (origin lower), column x
    side = viz._flatten(volume, "x", "projection")
    assert np.argwhere(side > 0).tolist() == [[30, 31 - 2]]  # seen from +x, -z runs to the right
    top = viz._flatten(volume, "y", "projection")
    assert np.argwhere(top > 0).tolist() == [[31 - 2, 28]]  # seen from above, -z runs up
    weights = np.full((32, 32, 32), 0.25, np.float32)
    mask = np.zeros((32, 32, 32), bool)
    mask[5, 6, 7:9] = True
    mean = viz._flatten(weights, "z", "projection", mask)
    assert mean[6, 5] == pytest.approx(0.25) and np.isnan(mean[0, 0])
