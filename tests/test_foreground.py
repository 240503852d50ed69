"""Finding the object: the path each kind of picture takes, GrabCut on small composites with known
masks, user masks and segmenters used as given, clear errors, and the boundary-connectivity saliency
that starts GrabCut."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from pix2vox.errors import ImageError
from pix2vox.foreground import Foreground, find_foreground, load_mask
from pix2vox.preprocess import PreprocessConfig, auto_transform, load_image, preprocess
from pix2vox.saliency import boundary_saliency

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CONFIG = PreprocessConfig(object_fill=0.75)
MASK_IOU_FLOOR = 0.75  # median mask IoU of GrabCut on the small composites below (0.85; two chairs of eight are missed)
SOLID_IOU_FLOOR = 0.9  # each sofa (no thin parts) of them (0.98-0.99)


def _rendering(name: str = "chair/00.png") -> np.ndarray:
    """A shipped rendering as ``(137, 137, 4)`` uint8 RGBA; its alpha is the true mask."""
    return np.asarray(Image.open(EXAMPLES / name).convert("RGBA"))


def _clutter(height: int, width: int, seed: int) -> np.ndarray:
    """A cluttered, photo-like background, alike all over (as a room or a street is): a few colours
    in many overlapping patches, soft stripes and noise; uint8 RGB."""
    from PIL import ImageDraw

    rng = np.random.default_rng(seed)
    palette = rng.uniform(30, 230, (5, 3))
    image = Image.new("RGB", (width, height), tuple(int(v) for v in palette[0]))
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.uniform(-20, width), rng.uniform(-20, height)
        w, h = rng.uniform(10, 60, 2)
        colour = tuple(int(v) for v in palette[rng.integers(len(palette))])
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x, y, x + w, y + h), fill=colour)
    array = np.asarray(image.filter(__import__("PIL.ImageFilter").ImageFilter.GaussianBlur(1.5)), np.float32)
    ys, xs = np.mgrid[:height, :width]
    array += 12 * np.sin((xs * 0.7 + ys * 0.3) / 5.0)[..., None] + rng.normal(0, 5, array.shape)
    return np.clip(array, 0, 255).astype(np.uint8)


def _composite(seed: int, size=(240, 320), scale: float = 1.2, at=(0.5, 0.5), name: str = "chair/00.png"):
    """A rendering pasted onto clutter: ``(picture uint8 RGB, true alpha float)``."""
    rgba = Image.fromarray(_rendering(name)).convert("RGBa")
    rgba = rgba.resize((round(137 * scale), round(137 * scale)), Image.LANCZOS).convert("RGBA")
    canvas = Image.new("RGBA", (size[1], size[0]), (0, 0, 0, 0))
    canvas.paste(rgba, (round(at[0] * size[1] - rgba.width / 2), round(at[1] * size[0] - rgba.height / 2)))
    back = Image.fromarray(_clutter(*size, seed)).convert("RGBA")
    back.alpha_composite(canvas)
    return np.asarray(back.convert("RGB")), np.asarray(canvas)[..., 3].astype(np.float32) / 255


def _lab(picture: np.ndarray) -> np.ndarray:
    """``picture`` (uint8 RGB) in Lab as GrabCut's starts take it (OpenCV's 8-bit scale, float32)."""
    import cv2

    return cv2.cvtColor(picture, cv2.COLOR_RGB2LAB).astype(np.float32)


def _iou(alpha: np.ndarray | None, truth: np.ndarray) -> float:
    assert alpha is not None
    a, b = alpha > 0.5, truth > 0.5
    return float((a & b).sum() / (a | b).sum())


# ----------------------------------------------------------------------------------------------
# The path each kind of picture takes


def test_cut_out_uses_its_alpha_and_a_rendering_the_official_transform() -> None:
    rendering = load_image(_rendering())
    assert find_foreground(rendering).source == "alpha"
    torch.testing.assert_close(preprocess(rendering, CONFIG, "auto"), preprocess(rendering, CONFIG, "official"), atol=0, rtol=0)


@pytest.mark.parametrize("colour", [(255, 255, 255), (240, 240, 240), (0, 0, 0), (70, 110, 160)])
def test_plain_background_of_any_colour_becomes_the_training_grey(colour) -> None:
    """A product photo (white), grey, black (an RGBA cut-out opened with .convert("RGB")) or coloured
    background: found as plain, replaced by grey 240 around the object."""
    picture = Image.new("RGB", (300, 220), colour)
    cut = Image.fromarray(_rendering())
    picture.paste(cut, (90, 40), cut)
    found = []
    x = preprocess(np.asarray(picture), CONFIG, "auto", foregrounds=found)[0]
    assert found[0].source == "plain"
    grey = (240 / 255 - 0.5) / 0.5
    assert torch.allclose(x[:, :8, :8], torch.full((3, 8, 8), grey), atol=1e-5)
    # The object's box, as from the true alpha
    truth = np.zeros((220, 300), np.float32)
    truth[40:177, 90:227] = _rendering()[..., 3] / 255
    assert _iou(found[0].alpha, truth) > 0.9


def test_converted_cut_out_frames_like_the_cut_out() -> None:
    """``Image.open(rgba).convert("RGB")`` (black background) gives nearly the network input of the RGBA itself."""
    rgba = Image.fromarray(_rendering())
    padded = Image.new("RGBA", (200, 160), (0, 0, 0, 0))
    padded.paste(rgba, (30, 10))
    as_rgba = preprocess(np.asarray(padded), CONFIG, "auto")
    as_rgb = preprocess(np.asarray(padded.convert("RGB")), CONFIG, "auto")
    assert (as_rgba - as_rgb).abs().mean() < 0.05


def test_cluttered_photo_without_opencv_warns_which_extra_to_install(caplog) -> None:
    picture, _ = _composite(0)
    with caplog.at_level(logging.WARNING, logger="pix2vox"):
        foreground = find_foreground(load_image(picture), grabcut=False)
        assert foreground.source == "none"
        import pix2vox.preprocess as module

        original = module.grabcut_available
        module.grabcut_available = lambda: False
        try:
            module._warn_no_object(load_image(picture), foreground, "room.jpg")
        finally:
            module.grabcut_available = original
    assert 'room.jpg: no object found' in caplog.text and 'pix2vox[photo]' in caplog.text


@pytest.mark.slow
def test_inference_without_opencv_never_imports_it() -> None:
    code = (
        "import sys, numpy as np\n"
        "sys.modules['cv2'] = None\n"  # as if OpenCV were not installed
        "from pix2vox.preprocess import PreprocessConfig, preprocess\n"
        "from pix2vox.foreground import grabcut_available\n"
        "rgb = (np.random.default_rng(0).random((60, 80, 3)) * 255).astype(np.uint8)\n"
        "out = preprocess(rgb, PreprocessConfig(), 'auto')\n"
        "assert out.shape == (1, 3, 224, 224)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


# ----------------------------------------------------------------------------------------------
# GrabCut on small composites


def test_grabcut_finds_objects_on_clutter() -> None:
    """Eight composites of the shipped renderings on cluttered backgrounds, at assorted places and
    sizes: the median mask IoU against the true alpha is at least the floor."""
    pytest.importorskip("cv2")
    names = ["chair/00.png", "sofa/00.png", "chair/02.png", "sofa/01.png", "chair/04.png", "sofa/02.png", "chair/03.png", "chair/01.png"]
    rng = np.random.default_rng(0)
    scores, sources = [], []
    for i, name in enumerate(names):
        at = (float(rng.uniform(0.35, 0.65)), float(rng.uniform(0.4, 0.6)))
        picture, truth = _composite(10 + i, scale=float(rng.uniform(0.9, 1.4)), at=at, name=name)
        foreground = find_foreground(load_image(picture), name=name)
        sources.append(foreground.source)
        scores.append(_iou(foreground.alpha, truth) if foreground.alpha is not None else 0.0)
    assert set(sources) == {"grabcut"}
    assert np.median(scores) >= MASK_IOU_FLOOR, np.round(scores, 3)
    sofas = [score for score, name in zip(scores, names) if name.startswith("sofa")]
    assert min(sofas) >= SOLID_IOU_FLOOR, np.round(scores, 3)


def test_grabcut_leaves_an_opening_through_the_object_open() -> None:
    """A picture frame on clutter: the clutter seen through it is background, not filled in as object
    (the network must see the openings between legs and slats)."""
    pytest.importorskip("cv2")
    picture = _clutter(240, 320, 3).copy()
    truth = np.zeros((240, 320), np.float32)
    truth[60:180, 100:220] = 1
    truth[85:155, 125:195] = 0  # the opening: 70 x 70 of clutter inside a 25-pixel frame
    picture[truth > 0] = (200, 30, 40)
    alpha = find_foreground(load_image(picture)).alpha
    assert alpha is not None
    assert _iou(alpha, truth) >= SOLID_IOU_FLOOR
    assert alpha[100:140, 140:180].max() < 0.5  # the middle of the opening


def test_grabcut_second_pass_brings_back_parts_the_first_pass_lost() -> None:
    """Given only the top 80 % of an object (as when the first pass keeps a box's bright top face and
    loses its sides), the second pass grows the mask over the rest of it, and not into the clutter."""
    pytest.importorskip("cv2")
    from pix2vox.foreground import _refine

    picture = _clutter(240, 320, 5).copy()
    truth = np.zeros((240, 320), bool)
    truth[70:170, 120:200] = True  # 100 x 80
    picture[truth] = (40, 60, 200)
    first = np.zeros_like(truth)
    first[70:150, 120:200] = True  # the bottom 20 rows lost
    alpha = _refine(picture, first)
    assert _iou(alpha, truth.astype(np.float32)) >= SOLID_IOU_FLOOR
    assert alpha[155:168, 125:195].mean() > 0.9  # the bottom of the object, beyond the first mask


def test_grabcut_second_pass_runs_one_iteration_on_a_large_box(monkeypatch) -> None:
    """The second pass's time is bounded: two GrabCut iterations on a small box, one on a box of more
    than ``_REFINE_PIXELS`` (its max-flow is the slowest step)."""
    pytest.importorskip("cv2")
    import pix2vox.foreground as foreground

    iterations = []
    original = foreground._grabcut
    monkeypatch.setattr(foreground, "_grabcut", lambda bgr, start, n: iterations.append((bgr.shape[:2], n)) or original(bgr, start, n))
    picture = _clutter(480, 640, 6)
    for top, side in ((200, 60), (90, 300)):  # second-pass boxes of 96 x 96 and (shrunk) 192 x 192 pixels
        first = np.zeros((480, 640), bool)
        first[top:top + side, 170:170 + side] = True
        foreground._refine(picture, first)
    (small, two), (large, one) = iterations
    assert small[0] * small[1] <= foreground._REFINE_PIXELS < large[0] * large[1]
    assert (two, one) == (2, 1)


def test_grabcut_gives_the_same_mask_whatever_ran_before() -> None:
    """OpenCV's k-means (ours and GrabCut's) draws random numbers: the generator is seeded per picture."""
    cv2 = pytest.importorskip("cv2")
    from pix2vox.foreground import grabcut_matte

    picture, _ = _composite(12, scale=1.1, at=(0.5, 0.5), name="chair/02.png")
    rgb = load_image(picture)[..., :3]
    first = grabcut_matte(rgb)
    cv2.kmeans(np.random.default_rng(0).random((50, 3), dtype=np.float32), 4, None,
               (cv2.TERM_CRITERIA_MAX_ITER, 5, 1.0), 3, cv2.KMEANS_PP_CENTERS)  # moves the generator on
    assert (first > 0.5).any() and np.array_equal(first, grabcut_matte(rgb))


def test_grabcut_runs_at_most_max_starts_and_one_refinement(monkeypatch) -> None:
    """The time per picture is bounded: no more than MAX_STARTS first-pass runs, then one refinement."""
    pytest.importorskip("cv2")
    import pix2vox.foreground as foreground

    calls = []
    original = foreground._grabcut
    monkeypatch.setattr(foreground, "_grabcut", lambda *a, **k: calls.append(a[0].shape) or original(*a, **k))
    monkeypatch.setattr(foreground, "MAX_STARTS", 2)
    picture, truth = _composite(13, scale=1.2, name="sofa/01.png")
    alpha = foreground.grabcut_matte(load_image(picture)[..., :3])
    assert len(calls) == 3, calls
    assert _iou(alpha, truth) > 0.5


def test_grabcut_falls_back_to_the_salient_region_when_every_run_is_empty(monkeypatch) -> None:
    """Where GrabCut keeps nothing from any start, the salient region (refined) is the object, not nothing."""
    pytest.importorskip("cv2")
    import pix2vox.foreground as foreground

    def nothing_kept(small, iterations):
        return [], foreground._starts(_lab(small))[1]

    monkeypatch.setattr(foreground, "_candidates", nothing_kept)
    picture, truth = _composite(11, scale=1.2, at=(0.45, 0.5), name="sofa/00.png")
    alpha = foreground.grabcut_matte(load_image(picture)[..., :3])
    assert _iou(alpha, truth) > 0.5


def test_grabcut_network_input_is_close_to_that_of_the_true_mask() -> None:
    pytest.importorskip("cv2")
    picture, truth = _composite(11, scale=1.2, at=(0.45, 0.5), name="sofa/00.png")
    image = load_image(picture)
    found = auto_transform(image, CONFIG)
    true = auto_transform(image, CONFIG, foreground=Foreground(truth, "mask"))
    assert (found - true).abs().mean() < 0.05


# ----------------------------------------------------------------------------------------------
# Masks and segmenters given by the user


def test_user_mask_is_used_as_given(tmp_path: Path) -> None:
    """The object's RGB with a user mask gives exactly the input of the RGBA cut-out with that alpha."""
    picture, truth = _composite(4)
    hard = truth > 0.5
    rgba = np.concatenate([picture, (hard * 255).astype(np.uint8)[..., None]], 2)
    expected = preprocess(rgba, CONFIG, "auto")
    torch.testing.assert_close(preprocess(picture, CONFIG, "auto", masks=[hard]), expected)
    path = tmp_path / "mask.png"
    Image.fromarray((hard * 255).astype(np.uint8)).save(path)
    found = []
    torch.testing.assert_close(preprocess(picture, CONFIG, "auto", masks=path, foregrounds=found), expected)
    assert found[0].source == "mask"


def test_segmenter_is_called_on_cluttered_views_only() -> None:
    picture, truth = _composite(5)
    calls = []

    def segmenter(rgb: np.ndarray) -> np.ndarray:
        calls.append(rgb.shape)
        assert rgb.dtype == np.float32 and rgb.max() <= 1
        return truth > 0.5

    found = []
    preprocess([picture, _rendering()], CONFIG, "auto", segmenter=segmenter, foregrounds=found)
    assert calls == [picture.shape] and [f.source for f in found] == ["segmenter", "alpha"]


def test_reconstructor_takes_masks_and_a_segmenter(original_checkpoint) -> None:
    from pix2vox import Reconstructor

    picture, truth = _composite(6)
    hard = truth > 0.5
    rec = Reconstructor("pix2voxpp-f", weights=original_checkpoint("pix2voxpp-f"), device="cpu")
    by_mask = rec.predict(picture, mask=hard).probabilities
    rec.segmenter = lambda rgb: hard
    try:
        by_segmenter = rec.predict(picture).probabilities
    finally:
        rec.segmenter = None
    np.testing.assert_allclose(by_mask, by_segmenter, atol=1e-6)
    batch = rec.predict_batch([picture, [picture, picture]], masks=[hard, [hard, None]], progress=False)
    np.testing.assert_allclose(batch[0].probabilities, by_mask, atol=1e-5)


@pytest.mark.parametrize("mask, message", [
    (np.ones((10, 10), bool), "10×10 pixels, but the view is 320×240"),
    (np.zeros((240, 320), bool), "empty"),
    (np.full((240, 320), 2.0), "must lie in \\[0, 1\\]"),
    (np.ones((240, 320, 3), bool), "expected an \\(H, W\\) mask"),
])
def test_bad_masks_are_clear_errors(mask, message) -> None:
    picture, _ = _composite(7)
    with pytest.raises(ImageError, match=message):
        preprocess(picture, CONFIG, "auto", masks=[mask])


def test_mask_count_and_files_are_checked(tmp_path: Path) -> None:
    picture, _ = _composite(7)
    with pytest.raises(ImageError, match="2 masks for 1 view"):
        preprocess(picture, CONFIG, "auto", masks=[None, None])
    with pytest.raises(ImageError, match="missing.png: no such file"):
        load_mask(tmp_path / "missing.png", (240, 320), "view.png")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"no image")
    with pytest.raises(ImageError, match="broken.png: not a readable image"):
        load_mask(broken, (240, 320), "view.png")


def test_segmenter_mistakes_name_the_view() -> None:
    picture, _ = _composite(8)
    with pytest.raises(ImageError, match="segmenter output.*10×10 pixels"):
        preprocess(picture, CONFIG, "auto", segmenter=lambda rgb: np.ones((10, 10), bool))

    def broken(rgb):
        raise RuntimeError("out of memory")

    with pytest.raises(ImageError, match="the segmenter failed \\(RuntimeError: out of memory\\)"):
        preprocess(picture, CONFIG, "auto", segmenter=broken)


def test_colour_model_log_likelihood_is_that_of_the_gaussian_mixture() -> None:
    """The features read GrabCut's colour models as Gaussian mixtures: checked against scipy's densities."""
    from scipy.stats import multivariate_normal

    from pix2vox.foreground import _colour_terms, _log_likelihood

    rng = np.random.default_rng(3)
    weights = np.array([0.5, 0.3, 0.2, 0.0, 0.0])  # two unused components, as OpenCV leaves them
    means = rng.uniform(0, 255, (5, 3))
    covariances = np.stack([a @ a.T + 20 * np.eye(3) for a in rng.normal(0, 8, (5, 3, 3))])
    model = np.concatenate([weights, means.ravel(), covariances.ravel()])[None]
    bgr = rng.integers(0, 256, (6, 7, 3)).astype(np.uint8)
    regularised = covariances + np.eye(3) * 1e-3
    expected = np.log(sum(w * multivariate_normal(m, c).pdf(bgr.reshape(-1, 3).astype(float))
                          for w, m, c in zip(weights[:3], means, regularised))).reshape(6, 7)
    # scipy's density carries the (2π)^(-3/2) factor, which the ratio of two models cancels
    np.testing.assert_allclose(_log_likelihood(_colour_terms(bgr), model), expected + 1.5 * np.log(2 * np.pi), rtol=1e-9)


def test_rectangle_starts_take_every_pixel_of_a_box() -> None:
    """Besides the salient pixels, two starts take a whole box as probable foreground (GrabCut's rectangle)."""
    cv2 = pytest.importorskip("cv2")
    from pix2vox.foreground import _starts

    picture, _ = _composite(14, scale=1.0, name="chair/00.png")
    small = cv2.resize(picture, (128, 96), interpolation=cv2.INTER_AREA)
    starts, _ = _starts(_lab(small))
    filled = []
    for start in starts:
        ys, xs = np.nonzero(start == cv2.GC_PR_FGD)
        if len(ys):
            box = start[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
            filled.append(bool((box == cv2.GC_PR_FGD).all()))
    assert 1 <= sum(filled) <= 2 < len(filled), filled


def _rectangle_starts(small: np.ndarray) -> int:
    """How many of the GrabCut starts of ``small`` (uint8 RGB) take every pixel of a box."""
    import cv2

    from pix2vox.foreground import _starts

    starts, _ = _starts(_lab(small))
    count = 0
    for start in starts:
        ys, xs = np.nonzero(start == cv2.GC_PR_FGD)
        if len(ys):
            count += bool((start[ys.min():ys.max() + 1, xs.min():xs.max() + 1] == cv2.GC_PR_FGD).all())
    return count


def test_a_second_rectangle_start_over_most_of_the_picture_is_not_run() -> None:
    """Two boxes over most of the picture would start GrabCut almost alike, in its slowest runs: one is run."""
    pytest.importorskip("cv2")
    ys, xs = np.mgrid[:96, :128]

    def picture(*discs: tuple[int, int, int]) -> np.ndarray:
        """Red discs ``(row, column, radius)`` on a slightly noisy grey."""
        rng = np.random.default_rng(0)
        small = (rng.integers(90, 110, (96, 128, 1)) * np.ones(3, int)).astype(np.uint8)
        for row, column, radius in discs:
            small[(ys - row) ** 2 + (xs - column) ** 2 <= radius**2] = (200, 40, 40)
        return small

    assert _rectangle_starts(picture((48, 64, 44), (6, 6, 3))) == 1  # an object over most of the picture, and a speck
    assert _rectangle_starts(picture((48, 64, 14), (20, 20, 4))) == 2  # the same, small: both boxes are run


def test_plain_background_drops_scenery_at_the_picture_edge_but_not_an_object_there() -> None:
    """A pole rising from the bottom edge beside an object in the middle is scenery; an object that
    itself runs off the edge keeps every part."""
    from pix2vox.foreground import plain_matte

    rgb = np.full((120, 160, 3), 0.85, np.float32)
    rgb[30:70, 60:120] = (0.2, 0.3, 0.8)  # the object, in the middle
    rgb[60:120, 20:26] = 0.4  # a pole standing on the bottom edge
    alpha, _ = plain_matte(rgb)
    assert (alpha[30:70, 60:120] == 1).all() and (alpha[60:120, 20:26] == 0).all()
    rgb[70:120, 80:100] = (0.2, 0.3, 0.8)  # now the object has a leg that runs off the bottom edge
    alpha, _ = plain_matte(rgb)
    assert (alpha[70:120, 80:100] == 1).all() and (alpha[60:120, 20:26] == 1).all()


# ----------------------------------------------------------------------------------------------
# Boundary-connectivity saliency: objects whose colours the background also has, away from them


def _box_on_clutter(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A box seen from above the front on :func:`_clutter`: its sides have one of the clutter's own
    colours, its top face is bright. ``(picture uint8 RGB, true mask bool)``."""
    picture = _clutter(240, 320, seed).copy()
    palette = np.random.default_rng(seed).uniform(30, 230, (5, 3))  # the clutter's palette
    truth = np.zeros((240, 320), bool)
    truth[70:170, 120:200] = True
    picture[truth] = palette[seed % 5].astype(np.uint8)
    picture[70:92, 120:200] = (245, 240, 200)
    return picture, truth


def test_saliency_is_high_on_an_object_of_the_border_colour_that_does_not_reach_the_border() -> None:
    """Tan ground along the bottom, green above, and a tan box in the middle (bright on top): its
    colour is the border's, but its region reaches no border, so it is salient; the ground is not."""
    pytest.importorskip("cv2")
    picture = np.zeros((96, 128, 3), np.uint8)
    picture[:] = (40, 90, 45)
    picture[80:] = (170, 140, 90)
    picture[28:72, 46:84] = (170, 140, 90)
    picture[28:36, 46:84] = (245, 235, 170)
    saliency = boundary_saliency(_lab(picture))
    assert saliency.shape == (96, 128) and saliency.dtype == np.float32
    assert 0 <= saliency.min() and saliency.max() <= 1
    assert saliency[40:70, 50:80].mean() > 0.6  # the box's tan sides
    assert saliency[84:, :].mean() < 0.2 and saliency[:20, :].mean() < 0.2  # ground and green


def test_saliency_of_a_uniform_picture_is_defined() -> None:
    """One superpixel colour everywhere: nothing stands out, and nothing fails."""
    saliency = boundary_saliency(np.full((24, 32, 3), 128, np.float32))
    assert saliency.shape == (24, 32) and np.isfinite(saliency).all() and saliency.max() < 0.1


def test_grabcut_keeps_the_sides_of_a_box_that_have_the_clutters_colours(monkeypatch) -> None:
    """Twelve boxes whose sides have a colour of their cluttered background: the boundary-saliency
    start keeps whole boxes (mask IoU ≥ 0.9) in at least eight; without it, six are kept."""
    pytest.importorskip("cv2")
    import pix2vox.foreground as foreground

    def kept() -> int:
        pictures = [_box_on_clutter(seed) for seed in range(12)]
        alphas = [foreground.grabcut_matte(picture.astype(np.float32) / 255) for picture, _ in pictures]
        return sum(_iou(alpha, truth.astype(np.float32)) >= 0.9 for alpha, (_, truth) in zip(alphas, pictures))

    assert kept() >= 8
    monkeypatch.setattr(foreground, "boundary_saliency", lambda lab: np.zeros(lab.shape[:2], np.float32))
    assert kept() <= 6  # the colour-distance starts alone: what the start above adds
