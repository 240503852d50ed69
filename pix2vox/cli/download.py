"""``pix2vox-download``: fetch registered checkpoints now, for offline machines and containers.

Each model is resolved as ``Reconstructor(name)`` would resolve it (shipped in the package, the
Hub, or the authors' server; see :mod:`pix2vox.loading.authors`) and the folder holding its files is
printed. Mistakes (an unknown name, an unreachable server, an HTML page instead of the file)
end with one line on stderr and exit status 2; nothing half-downloaded is kept.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pix2vox.cli.runner import OneLineParser, UsageError, run_cli, say

__all__ = ["main"]

PROG = "pix2vox-download"

EPILOG = f"""\
examples:
  {PROG} pix2voxpp-a                 (the authors' Pix2Vox++/A, 385.4 MB, into the cache)
  {PROG} --all                       (every registered model)
  PIX2VOX_CACHE=/models {PROG} pix2vox-f pix2voxpp-f

The authors' four ShapeNet-trained checkpoints come from their own server
(PIX2VOX_AUTHORS_ENDPOINT, default https://gateway.infinitescript.com; a mirror answering
/?fileName=FILE works too), under the authors' and ShapeNet's terms of use. Each is checked
(safe unpickler, the variant's exact keys and shapes), converted once into config.json +
model.safetensors and kept in PIX2VOX_CACHE (default ~/.cache/pix2vox), with the SHA-256 of
the downloaded file in source.json. Afterwards HF_HUB_OFFLINE=1 loads them with no network.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pix2vox-download``."""
    parser = OneLineParser(
        prog=PROG,
        description="Download registered checkpoints into the local cache and print where they are.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("models", nargs="*", metavar="MODEL", help="registered model names (see --all)")
    parser.add_argument("--all", action="store_true", help="every registered model")
    parser.add_argument("--sha256", metavar="HEX", help="expected SHA-256 of the downloaded file (one MODEL only)")
    parser.add_argument("--force-download", action="store_true", help="download again even when cached")
    return parser


def _run(args: argparse.Namespace) -> int:
    from pix2vox.loading.hub import resolve_weights
    from pix2vox.loading.registry import get_record, list_models

    if args.all == bool(args.models):
        raise UsageError("name one or more MODELs, or --all (see --help)")
    names = list_models() if args.all else args.models
    if args.sha256 and len(names) != 1:
        raise UsageError("--sha256 pins the file of one MODEL")
    records = [get_record(name) for name in names]  # an unknown name fails before any download
    for record in records:
        path = resolve_weights(record, sha256=args.sha256, force_download=args.force_download)
        say(args, f"{record.name}: {path.parent}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pix2vox-download``.

    Returns:
        0 on success; 2 for a mistake (one line on stderr, nothing half-downloaded kept);
        130 when interrupted.
    """
    return run_cli(PROG, build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
