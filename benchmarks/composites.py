"""Objects on cluttered photographs: the foreground step of ``auto`` (GrabCut), measured.

Held-out renderings (their alpha is the true mask) are pasted onto photographs (Debian's
``plasma-workspace-wallpapers``, GPL-2+) at random places, scales and brightness, saved as JPEG
(640×480). For each composite: the mask ``auto`` finds (``pix2vox.foreground.find_foreground``)
against the true alpha (IoU at 0.5), its time on one core, and the one-view reconstruction IoU
against the same object at the same place on a plain white background. Prints a Markdown table;
``--pictures DIR`` also writes a few composites beside their masks.

    python benchmarks/composites.py --data /path/to/furniture_test --count 200

Needs ``pip install "pix2vox[photo]"`` (OpenCV) and ``apt-get install plasma-workspace-wallpapers``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from photo_cases import held_out_views, make_composite, photo_backgrounds

from pix2vox import Reconstructor
from pix2vox.foreground import find_foreground
from pix2vox.metrics import iou
from pix2vox.preprocess import auto_transform, load_image


def mask_iou(alpha: np.ndarray | None, truth: np.ndarray) -> float:
    if alpha is None:
        return 0.0
    a, b = alpha > 0.5, truth > 0.5
    return float((a & b).sum() / max(1, (a | b).sum()))


def _pictures(rows, folder: Path, count: int) -> None:
    """A sheet of composites (top), the masks found (middle) and the true masks (bottom)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    picked = rows[:: max(1, len(rows) // count)][:count]
    w, h = 200, 150
    sheet = Image.new("RGB", (w * len(picked), h * 3), "white")
    for i, (composite, foreground, _) in enumerate(picked):
        found = foreground.alpha if foreground.alpha is not None else np.zeros(composite.alpha.shape, np.float32)
        for row, array in enumerate((composite.picture, (found * 255).astype(np.uint8), (composite.alpha * 255).astype(np.uint8))):
            sheet.paste(Image.fromarray(array).convert("RGB").resize((w, h), Image.BILINEAR), (i * w, row * h))
    sheet.save(folder / "composites.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="ShapeNet-layout dataset with held-out test models")
    parser.add_argument("--count", type=int, default=200, help="composites (default: 200)")
    parser.add_argument("--views", type=int, default=100, help="held-out views they are made from (default: 100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pictures", type=Path, metavar="DIR", help="also write a sheet of composites and masks")
    parser.add_argument("--max-starts", type=int, help="GrabCut starts to run (default: pix2vox.foreground.MAX_STARTS)")
    args = parser.parse_args()
    if args.max_starts:
        import pix2vox.foreground

        pix2vox.foreground.MAX_STARTS = args.max_starts
    logging.basicConfig(level=logging.ERROR)
    import cv2

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    backgrounds = photo_backgrounds()
    views = held_out_views(args.data, args.views)
    rec = Reconstructor("pix2voxpp-f-furniture", device="cpu")
    config = rec.preprocess_config
    rows, seconds, ious = [], [], []
    photo_inputs, plain_inputs = [], []
    for index in range(args.count):
        view = views[index % len(views)]
        composite = make_composite(view, backgrounds[rng.integers(len(backgrounds))], rng)
        image = load_image(composite.picture)
        start = time.perf_counter()
        foreground = find_foreground(image, name=f"composite {index}")
        seconds.append(time.perf_counter() - start)
        ious.append(mask_iou(foreground.alpha, composite.alpha))
        rows.append((composite, foreground, ious[-1]))
        photo_inputs.append(auto_transform(image, config, foreground=foreground)[None])
        plain = load_image(composite.plain)
        plain_inputs.append(auto_transform(plain, config)[None])
    torch.set_num_threads(2)

    def scores(inputs):
        results = rec.predict_batch(inputs, preprocessed=True, batch_size=16, progress=False)
        return np.array([iou(r.probabilities, c.view.truth, (rec.threshold,))[0] for r, (c, _, _) in zip(results, rows)])

    photo, plain = scores(photo_inputs), scores(plain_inputs)
    ious_a, seconds_a = np.array(ious), np.array(seconds)
    sources = {}
    for _, foreground, _ in rows:
        sources[foreground.source] = sources.get(foreground.source, 0) + 1
    print(f"{args.count} composites (640×480 JPEG) of {len(views)} held-out views on {len(backgrounds)} photographs, "
          f"seed {args.seed}; paths taken: {', '.join(f'{k} {v}' for k, v in sorted(sources.items()))}.\n")
    print("| measure | value |")
    print("|---|---|")
    print(f"| mask IoU against the true alpha, median | {np.median(ious_a):.3f} |")
    print(f"| mask IoU, mean / 10th percentile | {ious_a.mean():.3f} / {np.percentile(ious_a, 10):.3f} |")
    print(f"| composites with mask IoU ≥ 0.85 | {np.mean(ious_a >= 0.85):.0%} |")
    print(f"| reconstruction IoU on the composites, mean | {photo.mean():.3f} |")
    print(f"| reconstruction IoU, same views on plain white, mean | {plain.mean():.3f} |")
    print(f"| gap (plain − composite) | {plain.mean() - photo.mean():+.3f} |")
    good = ious_a >= 0.85
    print(f"| gap where the mask IoU ≥ 0.85 ({good.sum()}) / below ({(~good).sum()}) | "
          f"{(plain - photo)[good].mean():+.3f} / {(plain - photo)[~good].mean():+.3f} |")
    print(f"| seconds per photo for the mask, one core: median / 95th percentile / max | "
          f"{np.median(seconds_a):.3f} / {np.percentile(seconds_a, 95):.3f} / {seconds_a.max():.3f} |")
    per_background: dict[str, list[float]] = {}
    for composite, _, value in rows:
        per_background.setdefault(composite.background, []).append(value)
    print("\n| photograph | composites | median mask IoU |")
    print("|---|---|---|")
    for name, values in sorted(per_background.items()):
        print(f"| {name} | {len(values)} | {np.median(values):.3f} |")
    if args.pictures is not None:
        _pictures(rows, args.pictures, 6)
    return 0


if __name__ == "__main__":
    sys.exit(main())
