"""``pix2vox-eval``: IoU and F-score@1% of a model on a ShapeNet-layout split, beside the papers'.

Mistakes in the command line or the inputs end with one line on stderr,
``pix2vox-eval: error: <problem>``, exit status 2, and no report file.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from typing import TYPE_CHECKING

from pix2vox.cli.runner import OneLineParser, UsageError, positive_int, run_cli, threshold
from pix2vox.metrics import DEFAULT_THRESHOLDS
from pix2vox.loading.registry import list_models

if TYPE_CHECKING:
    from pix2vox.reconstructor import Reconstructor

__all__ = ["main"]

PROG = "pix2vox-eval"

logger = logging.getLogger(__name__)

EPILOG = f"""\
data: ROOT holds ShapeNet.json, ShapeNetRendering/ and ShapeNetVox32/ (as pix2vox-synth writes
  them); --taxonomy-json, --rendering-root and --voxel-root override the three paths.

models: {", ".join(list_models())}; --weights takes one of the authors' .pth files, our
  .safetensors, or a folder with config.json + model.safetensors.

views: --view-selection first (default) takes renderings 00..N-1 like the official test script;
  random draws N per model from --seed (same seed, same views).

examples:
  {PROG} --model pix2vox-a --weights Pix2Vox-A-ShapeNet.pth --data ShapeNet --views 1
  {PROG} --weights checkpoints/mine --data synth --views 3 --view-selection random --seed 1 \\
      --json report.json --markdown report.md
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pix2vox-eval``."""
    p = OneLineParser(prog=PROG, description="Evaluate a Pix2Vox model on a ShapeNet-layout dataset.",
                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help=f"registered model name, a pix2vox folder (config.json + model.safetensors) or a Hub repository id (without it, an authors' .pth given as --weights is read as the network it fits)")
    p.add_argument("--weights", help="weights file or folder")
    p.add_argument("--data", required=True, metavar="ROOT", help="dataset folder")
    p.add_argument("--taxonomy-json", help="taxonomy file (default ROOT/ShapeNet.json)")
    p.add_argument("--rendering-root", help="default ROOT/ShapeNetRendering")
    p.add_argument("--voxel-root", help="default ROOT/ShapeNetVox32")
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--views", type=positive_int, default=1, help="views per object (default 1)")
    p.add_argument("--view-selection", default="first", choices=("first", "random"))
    p.add_argument("--seed", type=int, default=0, help="seed of --view-selection random")
    p.add_argument("--thresholds", type=threshold, nargs="+", default=list(DEFAULT_THRESHOLDS),
                   metavar="T", help="IoU thresholds (default: 0.2 0.3 0.4 0.5)")
    p.add_argument("--fscore-threshold", type=threshold,
                   help="threshold of the F-score@1%% (default: the checkpoint's)")
    p.add_argument("--fscore-sampling", default="mesh", choices=("mesh", "what3d", "voxels"),
                   help="surface points of the F-score (see pix2vox.metrics.f_score; default mesh)")
    p.add_argument("--no-fscore", action="store_true", help="skip the F-score")
    p.add_argument("--batch-size", type=positive_int, default=8, help="objects per forward pass")
    p.add_argument("--limit", type=positive_int, metavar="K", help="only the first K objects")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--preprocess", default="official", choices=("official", "auto"),
                   help="official (default): the authors' transforms for ShapeNet renderings")
    p.add_argument("--json", type=Path, metavar="OUT.json", help="write the full report")
    p.add_argument("--markdown", type=Path, metavar="OUT.md", help="write the Markdown table")
    return p


def _reconstructor(args: argparse.Namespace) -> Reconstructor:
    from pix2vox.reconstructor import Reconstructor

    if args.weights is None and args.model is None:
        raise UsageError("give --model, --weights, or both")
    if args.weights is not None and not Path(args.weights).exists():
        raise UsageError(f"{args.weights}: no such file or folder")
    return Reconstructor(args.model, weights=args.weights, device=args.device, preprocess=args.preprocess)


def _check_output(path: Path | None) -> None:
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"{path}: is a folder, expected a file name")
    if not path.parent.is_dir():
        raise UsageError(f"{path}: its folder does not exist")


def _run(args: argparse.Namespace) -> int:
    from pix2vox.atomic import StagedFiles
    from pix2vox.datasets import ShapeNetDataset
    from pix2vox.evaluate import evaluate

    for path in (args.json, args.markdown):
        _check_output(path)
    dataset = ShapeNetDataset(
        args.data, args.split, taxonomy_json=args.taxonomy_json, rendering_root=args.rendering_root,
        voxel_root=args.voxel_root, n_views=args.views, view_selection=args.view_selection,
        seed=args.seed,
    )
    if len(dataset) == 0:
        raise UsageError(f"{args.data}: no {args.split} samples with {args.views} view(s) found")
    report = evaluate(
        _reconstructor(args), dataset, thresholds=args.thresholds,
        f_score_threshold=args.fscore_threshold, f_score_sampling=args.fscore_sampling,
        compute_f_score=not args.no_fscore,
        batch_size=args.batch_size, limit=args.limit, progress=not args.quiet,
    )
    markdown = report.to_markdown()
    reports = {args.json: json.dumps(report.to_dict(), indent=2) + "\n", args.markdown: markdown}
    with StagedFiles() as files:  # both reports, or neither
        for path, text in reports.items():
            if path is not None:
                files.stage(path).write_text(text, encoding="utf-8")
    if not args.quiet:  # -q: nothing but errors, as in every command
        sys.stdout.write(markdown)
    for path in reports:
        if path is not None:
            logger.info("wrote %s", path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pix2vox-eval``.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        0 on success; 2 for a mistake in the arguments or inputs (one line on stderr, no report
        file); 130 when interrupted.
    """
    return run_cli(PROG, build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
