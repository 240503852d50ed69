"""``pix2vox-heldout``: the held-out results and pictures of a checkpoint, as its model card shows them.

Writes ``OUT/heldout.json`` (overall, per category and per model), ``OUT/heldout.md`` (the card's
tables), ``OUT/pose_check.json`` (one-view IoU with the output turned about y by 0/90/180/270°:
highest unturned when checkpoint and data share a pose) and ``OUT/pictures/<category>.png`` (the median test model of the six largest categories
beside its ground truth; the rule is :func:`pix2vox.heldout.median_objects`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pix2vox.cli.runner import OneLineParser, positive_int, run_cli, say

__all__ = ["main"]

PROG = "pix2vox-heldout"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pix2vox-heldout``."""
    parser = OneLineParser(prog=PROG, description="Held-out results (IoU, F-score, mean-shape baselines) and pictures of a checkpoint.")
    parser.add_argument("--model", required=True, help="registered model name, a pix2vox folder (config.json + model.safetensors) or a Hub repository id")
    parser.add_argument("--weights", help="weights file or folder for --model")
    parser.add_argument("--data", required=True, metavar="ROOT", help="ShapeNet-layout dataset with train and test splits")
    parser.add_argument("-o", "--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument("--views", type=positive_int, nargs="+", default=[1, 3, 5], help="view counts (default: 1 3 5)")
    parser.add_argument("--min-test", type=positive_int, default=5, help="test models a category needs for its own row (default: 5)")
    parser.add_argument("--pictures", type=int, default=6, help="categories to picture (default: 6; 0: none)")
    return parser


def _pictures(results, root: Path, out: Path, official, count: int) -> list[Path]:
    from pix2vox.datasets.shapenet import ShapeNetDataset
    from pix2vox.heldout import median_objects
    from pix2vox.metrics import iou
    from pix2vox.viz import comparison

    most = max(results.official)
    wanted = dict(median_objects(results, count))
    written = []
    for sample in ShapeNetDataset(root, "test", n_views=most):
        if wanted.get(sample.taxonomy_id) != sample.model_id:
            continue
        truth = sample.load_volume()
        result = official.predict(list(sample.view_paths))
        score = float(iou(result.probabilities, truth, (official.threshold,))[0])
        title = f"{sample.taxonomy_name} (median test model by 1-view IoU): {most} views, IoU {score:.3f}"
        written.append(comparison(result, truth, out / f"{sample.taxonomy_name}.png", views=list(sample.view_paths), title=title))
    return written


def _run(args: argparse.Namespace) -> int:
    from pix2vox.atomic import write_bytes_atomic
    from pix2vox.heldout import heldout_results, save_json, turned_ious
    from pix2vox.reconstructor import Reconstructor

    def load(mode: str) -> Reconstructor:
        return Reconstructor(args.model, weights=args.weights, preprocess=mode)

    official = load("official")
    results = heldout_results(official, load("auto"), args.data, views=args.views, min_test=args.min_test,
                              progress=not args.quiet)
    out = Path(args.out)
    (out / "pictures").mkdir(parents=True, exist_ok=True)
    say(args, f"wrote {save_json(results, out / 'heldout.json')}")
    say(args, f"wrote {write_bytes_atomic(out / 'heldout.md', results.to_markdown().encode())}")
    turns = turned_ious(official, args.data)
    say(args, "pose check, mean 1-view IoU with the output turned about y: "
        + ", ".join(f"{angle}°: {score:.3f}" for angle, score in turns.items()))
    write_bytes_atomic(out / "pose_check.json", (json.dumps(turns, indent=2) + "\n").encode())
    if args.pictures:
        for path in _pictures(results, Path(args.data), out / "pictures", official, args.pictures):
            say(args, f"wrote {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pix2vox-heldout``; 0 on success, 2 for bad arguments or inputs, 130 when interrupted."""
    return run_cli(PROG, build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
