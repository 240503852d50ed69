"""``pix2vox-synth``: write a procedural ShapeNet-layout dataset (renderings, voxels, splits).

Mistakes in the command line end with one line on stderr, ``pix2vox-synth: error: <problem>``,
exit status 2, before anything is written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pix2vox.cli.runner import OneLineParser, positive_int, run_cli, say
from pix2vox.synth.shapes import CATEGORIES

__all__ = ["main"]

PROG = "pix2vox-synth"

EPILOG = f"""\
categories: {", ".join(CATEGORIES)} (names or ShapeNet taxonomy ids)

output: ROOT/ShapeNet.json, ROOT/ShapeNetRendering/<taxonomy>/<model>/rendering/NN.png with
  rendering_metadata.txt (azimuth elevation 0 distance fov per view) and
  ROOT/ShapeNetVox32/<taxonomy>/<model>/model.binvox. Objects are in ShapeNet's pose: voxels
  [x, y, z], y up, the front facing +x. The same seed gives identical files.

example:
  {PROG} --out data/synth --objects 2600 --seed 0 --workers 2
"""


def _category(text: str) -> str:
    by_id = {c.taxonomy_id: name for name, c in CATEGORIES.items()}
    if text in CATEGORIES:
        return text
    if text in by_id:
        return by_id[text]
    raise argparse.ArgumentTypeError(f"unknown category {text!r}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pix2vox-synth``."""
    parser = OneLineParser(
        prog=PROG,
        description="Generate a procedural dataset in the ShapeNetRendering/ShapeNetVox32 layout.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-o", "--out", required=True, metavar="ROOT", help="output folder")
    parser.add_argument("--objects", required=True, type=positive_int, metavar="N",
                        help="number of objects (categories are assigned round-robin)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--views", type=positive_int, default=24, help="renderings per object (default: 24)")
    parser.add_argument("--size", type=positive_int, default=137, help="image side in pixels (default: 137)")
    parser.add_argument("--categories", nargs="+", type=_category, metavar="NAME",
                        help="categories to generate (default: all)")
    parser.add_argument("--workers", type=positive_int, default=1,
                        help="worker processes (default: 1; the output does not depend on it)")
    return parser


def _run(args: argparse.Namespace) -> int:
    from pix2vox.synth.dataset import SynthConfig, generate_dataset

    config = SynthConfig(views=args.views, size=args.size)
    path = generate_dataset(
        args.out, args.objects, seed=args.seed, categories=args.categories, config=config,
        workers=args.workers, progress=not args.quiet,
    )
    say(args, f"wrote {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pix2vox-synth``.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        0 on success, 2 for a mistake in the arguments or an output folder that cannot be
        written (one line on stderr), 130 when interrupted.
    """
    return run_cli(PROG, build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
