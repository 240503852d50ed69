"""Fit ``pix2vox.foreground.CHOICE_WEIGHTS``: how GrabCut's candidate masks of a photo are rated.

Composites are made as in ``composites.py`` but from other pictures (``FITTING_PHOTOS``) and other
held-out renderings (test models that ``composites.py`` does not use, any view), so that the figures
``composites.py`` prints are measured on pictures the weights never saw. For each composite,
``grabcut_matte``'s candidates are computed with their features and their IoU against the true
mask (at GrabCut's working size); the weights are those of a softmax over each picture's candidates
that aims at the candidate closest to the true mask (pictures whose best candidate has IoU < 0.5
are left out), with a little L2. Prints the weights as Python, and how often the chosen candidate
is good on the fitting composites.

    python benchmarks/grabcut_weights.py --data /path/to/furniture_test --count 600

Needs ``pip install "pix2vox[photo]"`` and ``apt-get install plasma-workspace-wallpapers``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from photo_cases import FITTING_PHOTOS, make_composite, other_views, photo_backgrounds
from tqdm import tqdm

from pix2vox.foreground import CHOICE_WEIGHTS, GRABCUT_SIDE, _candidates


def candidates_with_iou(picture: np.ndarray, alpha: np.ndarray) -> list[tuple[np.ndarray, float]]:
    import cv2

    h, w = alpha.shape
    scale = min(1.0, GRABCUT_SIDE / max(h, w))
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    small = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
    truth = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA) > 0.5
    cv2.setRNGSeed(0)  # as grabcut_matte does
    return [(f, float((m & truth).sum() / max(1, (m | truth).sum()))) for f, m in _candidates(small, 3)[0]]


def fit(pictures: list[list[tuple[np.ndarray, float]]], l2: float = 1e-2, steps: int = 2000, rate: float = 0.3) -> np.ndarray:
    """Weights on the raw features (the standardisation folded in) of the listwise softmax."""
    features = np.concatenate([[f for f, _ in p] for p in pictures if p])
    mean, std = features.mean(axis=0), features.std(axis=0) + 1e-6
    data = []
    for picture in pictures:
        ious = np.array([v for _, v in picture])
        if len(picture) > 1 and ious.max() >= 0.5:
            target = np.exp(20 * (ious - ious.max()))
            data.append(((np.array([f for f, _ in picture]) - mean) / std, target / target.sum()))
    weights = np.zeros(features.shape[1])
    for _ in range(steps):
        gradient = l2 * weights
        for z, target in data:
            scores = z @ weights
            p = np.exp(scores - scores.max())
            gradient = gradient + z.T @ (p / p.sum() - target) / len(data)
        weights -= rate * gradient
    return weights / std


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="ShapeNet-layout dataset with held-out test models")
    parser.add_argument("--count", type=int, default=600, help="fitting composites (default: 600)")
    parser.add_argument("--skip", type=int, default=100, help="views composites.py uses (its --views), left out (default: 100)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    import cv2

    cv2.setNumThreads(1)
    rng = np.random.default_rng(args.seed)
    backgrounds = photo_backgrounds(FITTING_PHOTOS)
    views = other_views(args.data, args.skip, args.count, rng)
    pictures = []
    for view in tqdm(views, desc="composites", unit="picture"):
        composite = make_composite(view, backgrounds[rng.integers(len(backgrounds))], rng)
        pictures.append(candidates_with_iou(composite.picture, composite.alpha))
    weights = fit(pictures)
    names = list(CHOICE_WEIGHTS)
    chosen = np.array([p[int(np.argmax([f @ weights for f, _ in p]))][1] if p else 0.0 for p in pictures])
    best = np.array([max((v for _, v in p), default=0.0) for p in pictures])
    print(f"{len(pictures)} composites, {np.mean([len(p) for p in pictures]):.1f} candidates each; chosen candidate's "
          f"IoU mean {chosen.mean():.3f} (≥ 0.8: {np.mean(chosen >= 0.8):.0%}), best candidate's {best.mean():.3f} "
          f"(≥ 0.8: {np.mean(best >= 0.8):.0%})\n")
    print("CHOICE_WEIGHTS = {")
    print("".join(f'    "{n}": {w:.4g},\n' for n, w in zip(names, weights)), end="")
    print("}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
