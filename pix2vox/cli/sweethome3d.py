"""``pix2vox-sweethome3d``: extract Sweet Home 3D furniture catalogues into ``MESHES/<category>/``.

The catalogues come from Debian's ``sweethome3d-furniture`` package
(``apt-get install sweethome3d-furniture``). The result is the input of ``pix2vox-dataset``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pix2vox.cli.runner import OneLineParser, run_cli, say
from pix2vox.meshes.sweethome3d import CATALOGUES, DEFAULT_FOLDER, import_catalogues

__all__ = ["main"]

PROG = "pix2vox-sweethome3d"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pix2vox-sweethome3d``."""
    parser = OneLineParser(
        prog=PROG,
        description="Extract Sweet Home 3D furniture catalogues (*.sh3f) into MESHES/<category>/<model>/.",
        epilog=f"default catalogues: {', '.join(f'{s}.sh3f' for s in CATALOGUES)} in {DEFAULT_FOLDER}",
    )
    parser.add_argument("out", metavar="MESHES", help="output folder")
    parser.add_argument("--catalogues", nargs="+", type=Path, metavar="SH3F", help="catalogue files (default: Debian's five)")
    return parser


def _run(args: argparse.Namespace) -> int:
    counts = import_catalogues(args.out, args.catalogues)
    summary = ", ".join(f"{c} {n}" for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    say(args, f"wrote {sum(counts.values())} models into {args.out}: {summary}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pix2vox-sweethome3d``; 0 on success, 2 for a missing catalogue or bad arguments."""
    return run_cli(PROG, build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
