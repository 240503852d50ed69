"""The canonical pose of generated objects: ShapeNet's, y up and the front facing +x.

ShapeNetVox32 grids, read ``[x, y, z]``, have a chair's backrest at low x and a car's bonnet and an
aeroplane's nose at high x. ``pix2vox-synth`` must generate its voxels and renderings in that pose.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import ndimage

from pix2vox.exchange.binvox import read_binvox
from pix2vox.synth import CATEGORIES, SynthConfig, Camera, generate_object, make_shape, project, render, voxelize
from pix2vox.synth.solids import normalize
from pix2vox.synth.shapes import CONSTRUCTION_TO_CANONICAL, _Builder

SEEDS = range(6)
CENTRE = 15.5  # of a 32^3 grid, in voxel indices
# Voxels only: renderings are not looked at, so keep them tiny.
VOXELS_ONLY = SynthConfig(views=1, size=16)


def generated_voxels(category: str, seed: int) -> NDArray[np.bool_]:
    """The voxels ``pix2vox-synth --seed SEED`` writes for its first object of ``category``."""
    return generate_object(0, category, "0" * 32, seed, VOXELS_ONLY).voxels


def top_voxels(voxels: NDArray[np.bool_], fraction: float = 0.15) -> NDArray[np.intp]:
    """``(N, 3)`` indices of the highest occupied voxels, whole y layers, about ``fraction`` of all."""
    occupied = np.argwhere(voxels)
    floor = np.quantile(occupied[:, 1], 1.0 - fraction)
    return occupied[occupied[:, 1] >= floor]


def turn_back(voxels: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The grid turned by -90° about y: from the canonical pose (front +x) to front +z."""
    # A voxel at canonical (x, z) came from (-z, x) of the builders' frame: old[i, j, k] = new[k, j, D-1-i].
    return np.ascontiguousarray(np.transpose(voxels, (2, 1, 0))[::-1])


def test_turn_back_is_a_quarter_turn_taking_plus_x_to_plus_z():
    grid = np.zeros((32, 32, 32), dtype=bool)
    grid[31, 5, 20] = True  # at the front (+x) end of a canonical object, on its +z side
    # Turned back: at the builders' front (+z), on the -x side (x = -z, index 31 - 20 = 11).
    assert np.argwhere(turn_back(grid)).tolist() == [[11, 5, 31]]
    random = np.random.default_rng(0).random((32, 32, 32)) > 0.5
    assert np.array_equal(turn_back(turn_back(turn_back(turn_back(random)))), random)


def test_construction_to_canonical_takes_plus_z_to_plus_x():
    np.testing.assert_array_equal(CONSTRUCTION_TO_CANONICAL @ [0, 0, 1], [1, 0, 0])
    np.testing.assert_array_equal(CONSTRUCTION_TO_CANONICAL @ [0, 1, 0], [0, 1, 0])
    np.testing.assert_array_equal(CONSTRUCTION_TO_CANONICAL @ [1, 0, 0], [0, 0, -1])
    assert np.linalg.det(CONSTRUCTION_TO_CANONICAL) == 1.0  # a rotation, not a mirror


@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_every_category_is_its_construction_turned_exactly(category: str):
    """All 13 categories get the same exact quarter turn, so none is left facing +z."""
    shape = make_shape(category, np.random.default_rng(7))
    builder = _Builder(np.random.default_rng(7))
    CATEGORIES[category].build(builder)
    constructed = voxelize(normalize(builder.parts))
    assert np.array_equal(turn_back(voxelize(shape)), constructed)


@pytest.mark.parametrize("seed", SEEDS)
def test_chair_backrest_at_low_x(seed: int):
    top = top_voxels(generated_voxels("chair", seed))
    assert top[:, 0].mean() < CENTRE - 2.0  # the backrest: the back is at low x, the front at +x
    assert abs(top[:, 2].mean() - CENTRE) < 1.5  # across the chair, centred


@pytest.mark.parametrize("seed", SEEDS)
def test_car_long_along_x_bonnet_at_high_x(seed: int):
    voxels = generated_voxels("car", seed)
    occupied = np.argwhere(voxels)
    extent = occupied.max(axis=0) - occupied.min(axis=0)
    assert extent[0] == 31 and extent[0] > 1.5 * extent[2] and extent[0] > 1.5 * extent[1]
    # The cabin, the top of the car, sits behind the middle: the longer bonnet is at high x.
    cabin = top_voxels(voxels)
    assert cabin[:, 0].mean() < CENTRE - 1.0
    assert abs(cabin[:, 2].mean() - CENTRE) < 1.0


@pytest.mark.parametrize("seed", SEEDS)
def test_aeroplane_nose_at_high_x(seed: int):
    voxels = generated_voxels("aeroplane", seed)
    # The fin, the highest part, is at the tail: the tail is at low x, the nose at high x.
    fin = top_voxels(voxels)
    assert fin[:, 0].mean() < CENTRE - 2.0
    assert abs(fin[:, 2].mean() - CENTRE) < 1.0
    # The fuselage runs along x, spanning the grid (the wings may span it along z too).
    occupied = np.argwhere(voxels)
    assert occupied[:, 0].min() <= 1 and occupied[:, 0].max() >= 30


def test_rendered_chair_backrest_on_the_left_from_azimuth_zero():
    """From azimuth 0 the camera is on +z and +x points right: the backrest (low x) is on the left."""
    for seed in SEEDS:
        image = render(make_shape("chair", np.random.default_rng(seed)), [Camera(0.0, 10.0, 3.0, 25.0)], size=96)[0]
        rows, cols = np.nonzero(image[..., 3])
        top = cols[rows <= np.quantile(rows, 0.15)]
        assert top.mean() < 48 - 4


def agreement(
    voxels: NDArray[np.bool_], camera: Camera, image: NDArray[np.uint8]
) -> tuple[float, float, float]:
    """How voxel centres, projected with a rendering's camera, match its alpha mask.

    Returns:
        ``(covered, on_mask, near_mask)``: the fraction of the mask's pixels within reach of a
        projected centre (discs of the radius a voxel's half-diagonal can project to, plus a pixel
        for rounding), and the fractions of centres that land on the mask and within 1 px of it.
    """
    alpha = image[..., 3] > 0
    size = alpha.shape[0]
    centres = (np.argwhere(voxels) + 0.5) / voxels.shape[0] - 0.5
    cols, rows = np.floor(project(centres, camera, size)).astype(int).T
    assert cols.min() >= 0 and rows.min() >= 0 and cols.max() < size and rows.max() < size
    focal = size / 2 / np.tan(np.radians(camera.fov) / 2)
    half_diagonal = 3**0.5 / 2 / voxels.shape[0]
    radius = int(np.ceil(focal * half_diagonal / (camera.distance - 3**0.5 / 2) + 1))
    offsets = np.arange(-radius, radius + 1) ** 2
    hit = np.zeros_like(alpha)
    hit[rows, cols] = True
    covered = ndimage.binary_dilation(hit, structure=np.add.outer(offsets, offsets) <= radius**2)
    near = ndimage.binary_dilation(alpha)
    return (alpha & covered).sum() / alpha.sum(), alpha[rows, cols].mean(), near[rows, cols].mean()


def agrees(covered: float, on_mask: float, near_mask: float) -> bool:
    """The bounds a rendering and its voxels meet when they are in the same pose."""
    return covered >= 0.998 and on_mask >= 0.8 and near_mask >= 0.9


@pytest.mark.parametrize("category", ["chair", "car", "aeroplane", "lamp"])
def test_voxel_centres_projected_with_the_rendering_camera_cover_the_alpha_mask(category: str):
    """Renderings and voxels are in the same pose.

    Voxel centres are projected with :func:`pix2vox.synth.render.project` and each view's camera as
    the dataset records it. Every pixel of the object sees a point inside some occupied voxel, at
    most half that voxel's diagonal from its centre, so discs of that projected radius around the
    projected centres cover the whole mask. Conversely, centres of voxels that the solid only
    grazes may fall just outside the silhouette (thin parts have many), but most land on it. A
    quarter turn of either breaks both (see the next test).
    """
    for seed in (1, 2):
        obj = generate_object(seed, category, "0" * 32, seed, SynthConfig(views=3))
        for camera, image in zip(obj.cameras, obj.images):
            assert agrees(*agreement(obj.voxels, camera, image))


def test_projection_check_detects_a_quarter_turn():
    """The agreement test above fails for voxels left in the old pose (front +z)."""
    for category in ("chair", "car"):
        obj = generate_object(1, category, "0" * 32, 1, SynthConfig(views=3))
        for camera, image in zip(obj.cameras, obj.images):
            assert not agrees(*agreement(turn_back(obj.voxels), camera, image))


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


CATALOGUE = Path("/usr/share/sweethome3d/furniture/BlendSwap-CC-0.sh3f")


@pytest.mark.skipif(not (EXAMPLES / "make_examples.py").is_file(), reason="examples/ is in the source checkout only")
@pytest.mark.skipif(not CATALOGUE.is_file(), reason="needs Debian's sweethome3d-furniture (apt-get install sweethome3d-furniture)")
def test_examples_are_what_the_dataset_builder_writes(tmp_path: Path):
    """``examples/`` holds the output of ``examples/make_examples.py``: held-out furniture, in the pose."""
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_examples(tmp_path)
    for name in module.CHOSEN:
        shipped = sorted(p.name for p in (EXAMPLES / name).iterdir())
        assert shipped == sorted(p.name for p in (tmp_path / name).iterdir())
        for file in shipped:
            assert (EXAMPLES / name / file).read_bytes() == (tmp_path / name / file).read_bytes(), file


def test_example_chair_faces_plus_x():
    top = top_voxels(read_binvox(EXAMPLES / "chair" / "model.binvox").occupancy)
    assert top[:, 0].mean() < CENTRE - 2.0 and abs(top[:, 2].mean() - CENTRE) < 1.5  # backrest at low x
