"""Metrics on hand-made grids whose answers are worked out by hand in the comments."""

import numpy as np
import pytest

from pix2vox.metrics import (
    category_means,
    f_score,
    iou,
    overall_mean,
    point_f_score,
    surface_points,
)

D = 32


def box(x0, x1, y0, y1, z0, z1, value=1.0, dtype=np.float32):
    vol = np.zeros((D, D, D), dtype=dtype)
    vol[x0:x1, y0:y1, z0:z1] = value
    return vol


def test_iou_two_cubes_known_overlap():
    # A = 4x4x4 at x 0..3, B = the same shifted by 2 in x: I = 2*4*4 = 32, U = 64 + 64 - 32 = 96.
    pred = box(0, 4, 0, 4, 0, 4, value=0.35)
    gt = box(2, 6, 0, 4, 0, 4).astype(bool)
    # 0.35 passes t = 0.2, 0.3 only; at 0.4 and 0.5 the prediction is empty: I = 0, U = 64.
    np.testing.assert_allclose(iou(pred, gt), [1 / 3, 1 / 3, 0.0, 0.0])


def test_iou_identical_disjoint_empty():
    a = box(3, 9, 3, 9, 3, 9)
    assert np.all(iou(a, a) == 1.0)
    assert np.all(iou(a, box(20, 25, 20, 25, 20, 25)) == 0.0)
    empty = np.zeros((D, D, D), np.float32)
    assert np.all(iou(empty, empty) == 1.0)  # 0/0 is defined as 1
    assert np.all(iou(empty, a) == 0.0)


def test_iou_threshold_is_inclusive_and_float32():
    # float32(0.7) = 0.69999999 < 0.7 in float64, but PyTorch compares in float32, where it is equal.
    pred = box(0, 2, 0, 2, 0, 2, value=0.7)
    gt = box(0, 2, 0, 2, 0, 2)
    assert iou(pred, gt, thresholds=(0.7,))[0] == 1.0
    assert iou(pred.astype(np.float64), gt, thresholds=(0.7000001,))[0] == 0.0


def test_iou_batched():
    a = box(0, 4, 0, 4, 0, 4)
    b = box(2, 6, 0, 4, 0, 4)
    pred = np.stack([a, a, b])
    gt = np.stack([a, b, b])
    out = iou(pred, gt, thresholds=(0.5, 0.3))
    assert out.shape == (3, 2)
    np.testing.assert_allclose(out, [[1, 1], [1 / 3, 1 / 3], [1, 1]])
    with pytest.raises(ValueError):
        iou(a, a[:-1])


def test_surface_points_normalisation():
    # Occupied index range 8..11: the level-0.5 surface lies on index planes 7.5 and 11.5, i.e.
    # unit-cube coordinates (7.5 + 0.5) / 32 = 0.25 and (11.5 + 0.5) / 32 = 0.375.
    pts = surface_points(box(8, 12, 8, 12, 8, 12), n_points=4000)
    assert pts.shape == (4000, 3)
    np.testing.assert_allclose(pts.min(axis=0), 0.25, atol=1e-3)
    np.testing.assert_allclose(pts.max(axis=0), 0.375, atol=1e-3)
    assert pts.min() >= 0.25 - 1e-12 and pts.max() <= 0.375 + 1e-12
    full = surface_points(np.ones((D, D, D)), n_points=4000)
    assert full.min() >= -1e-12 and full.max() <= 1.0 + 1e-12
    np.testing.assert_allclose([full.min(), full.max()], [0.0, 1.0], atol=1e-12)
    # what3d: level 0+ passes through the empty neighbours' centres, padded indices 8 and 13,
    # scaled by 1 / (32 + 1).
    what3d = surface_points(box(8, 12, 8, 12, 8, 12), sampling="what3d", n_points=4000)
    np.testing.assert_allclose(what3d.min(axis=0), 8 / 33, atol=1e-3)
    np.testing.assert_allclose(what3d.max(axis=0), 13 / 33, atol=1e-3)
    assert what3d.min() >= 8 / 33 - 1e-6 and what3d.max() <= 13 / 33 + 1e-6
    # Surface voxel centres of a 4^3 cube: 64 - 2^3 interior = 56 voxels.
    vox = surface_points(box(8, 12, 8, 12, 8, 12), sampling="voxels")
    assert vox.shape == (56, 3)
    np.testing.assert_allclose(vox.min(axis=0), 8.5 / 32)
    assert surface_points(np.zeros((D, D, D))).shape == (0, 3)


def test_surface_points_deterministic():
    vol = box(5, 20, 3, 9, 7, 30)
    np.testing.assert_array_equal(surface_points(vol, seed=3), surface_points(vol, seed=3))
    assert not np.array_equal(surface_points(vol, seed=3), surface_points(vol, seed=4))


def test_point_f_score_hand_made():
    gt = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0]], float)
    # 3 predicted points: two within 0.1 of gt points 0 and 1, one far away.
    pred = np.array([[0.05, 0, 0], [1, 0.05, 0], [10, 0, 0]], float)
    p, r, f = point_f_score(pred, gt, tau=0.1)
    assert (p, r) == (2 / 3, 2 / 4)
    assert f == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert point_f_score(np.zeros((0, 3)), gt) == (0.0, 0.0, 0.0)
    assert point_f_score(np.zeros((0, 3)), np.zeros((0, 3))) == (1.0, 1.0, 1.0)


def test_f_score_identical_disjoint_empty():
    a = box(4, 14, 2, 20, 6, 11, value=0.9)
    assert f_score(a, a > 0) == 1.0
    assert f_score(a, a > 0, sampling="voxels") == 1.0
    assert f_score(a, a > 0, sampling="what3d") == 1.0
    far = box(25, 30, 25, 30, 25, 30)
    assert f_score(a, far) == 0.0
    empty = np.zeros((D, D, D), np.float32)
    assert f_score(empty, a > 0) == 0.0
    assert f_score(empty, empty) == 1.0
    # Below the threshold the prediction is empty.
    assert f_score(a, a > 0, threshold=0.95) == 0.0


def test_f_score_one_voxel_shift_voxel_centres():
    # A = 4^3 cube at x 8..11, B = A shifted by +1 in x (x 9..12). Each has 56 surface voxels.
    # tau = 0.01 < 1/32, so only surface voxels present in both count. Common ones:
    #   x = 9:  A's ring (12) / all of B's min face (16)   -> 12
    #   x = 10: A's ring (12) / B's ring (12)              -> 12
    #   x = 11: all of A's max face (16) / B's ring (12)   -> 12
    # P = R = 36 / 56, so F = 36 / 56 = 9 / 14.
    a = box(8, 12, 8, 12, 8, 12)
    b = box(9, 13, 8, 12, 8, 12)
    assert f_score(a, b, sampling="voxels") == pytest.approx(9 / 14)


def test_f_score_one_voxel_shift_mesh():
    a = box(8, 12, 8, 12, 8, 12)
    b = box(9, 13, 8, 12, 8, 12)
    shifted = float(f_score(a, b))
    assert 0.0 < shifted < 1.0
    # Every point of A is within one voxel (1/32 = 0.03125) of B's surface and vice versa, and
    # 8192 points on this small cube are far denser than the remaining 0.009 margin.
    assert f_score(a, b, tau=0.04) == 1.0


def test_f_score_batched_matches_single():
    a = box(4, 14, 2, 20, 6, 11, value=0.6)
    b = box(5, 14, 2, 21, 6, 12)
    out = f_score(np.stack([a, b]), np.stack([b, b]) > 0)
    assert out.shape == (2,)
    assert out[0] == f_score(a, b > 0) and out[1] == 1.0


def test_aggregation():
    values = np.array([[0.5, 0.1], [0.7, 0.3], [0.2, 0.2]])
    means = category_means(values, ["chair", "table", "chair"])
    assert list(means) == ["chair", "table"]
    np.testing.assert_allclose(means["chair"], [0.35, 0.15])
    np.testing.assert_allclose(means["table"], [0.7, 0.3])
    # Overall is the sample mean (= sum of category means weighted by their counts / N).
    np.testing.assert_allclose(overall_mean(values), [1.4 / 3, 0.6 / 3])
    with pytest.raises(ValueError):
        overall_mean(np.zeros((0, 2)))
    with pytest.raises(ValueError):
        category_means(values, ["chair"])
