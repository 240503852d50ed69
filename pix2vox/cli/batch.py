"""``pix2vox-batch``: reconstruct many objects, in this process or on Ray Data, and resume.

Writes one file per object (``DIR/<object_id>.<format>``, all or nothing) and
``DIR/results.parquet`` (a row per object: status, error message, voxel count, seconds, path).
A broken image or object is a ``failed`` row and the job goes on.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pix2vox.cli.runner import OneLineParser, UsageError, positive_int, run_cli, say, threshold
from pix2vox.formats import SUPPORTED_FORMATS
from pix2vox.loading.registry import DEFAULT_MODEL

__all__ = ["main"]

PROG = "pix2vox-batch"
EXIT_SOME_FAILED = 3

logger = logging.getLogger(__name__)

EPILOG = f"""\
input:
  a folder of per-object folders (FOLDER/<object_id>/*.png), or a CSV or Parquet manifest with
  the columns object_id, view (one row per view; views are paths, relative to the manifest's
  folder, or URIs such as s3://bucket/a.png that pyarrow or fsspec reads)

output:
  DIR/<object_id>.<format> per object, written all or nothing, and DIR/results.parquet with a
  row per object: object_id, status (ok/failed), error, occupied, threshold, seconds, path

exit status:
  0 every object was reconstructed; 3 some failed (their rows say why; the others are written);
  2 a mistake in the command line or its inputs; 130 interrupted

examples:
  {PROG} renders/ --out meshes/
  {PROG} manifest.csv --out grids/ --format binvox --engine ray --workers 8
  {PROG} manifest.parquet --out meshes/ --engine ray --address auto --gpus-per-worker 1
  {PROG} renders/ --out meshes/ --resume        (only the objects without a file)
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pix2vox-batch``."""
    parser = OneLineParser(
        prog=PROG,
        description="Reconstruct many objects, each from its views, in this process or on Ray Data.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", metavar="INPUT", help="folder of per-object folders, or a .csv/.parquet manifest")
    parser.add_argument("-o", "--out", required=True, metavar="DIR", help="output folder (created if missing)")
    parser.add_argument("--format", choices=SUPPORTED_FORMATS, default="obj", help="output format (default: %(default)s)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="registered model name (default: %(default)s)")
    parser.add_argument("--weights", metavar="PATH", help="local checkpoint (every Ray node must be able to read it)")
    parser.add_argument("--preprocess", choices=("auto", "official"), default="auto", help="(default: %(default)s)")
    parser.add_argument("--threshold", type=threshold, metavar="T", help="occupancy threshold (default: the checkpoint's)")
    parser.add_argument("--method", choices=("marching_cubes", "voxels"), default="marching_cubes",
                        help="mesh surface (default: %(default)s)")
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="local: this process, no Ray; ray: Ray Data (default: %(default)s)")
    parser.add_argument("--address", metavar="ADDR",
                        help="Ray cluster to use (auto, ray://HOST:10001); default: start Ray on this machine")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="ray: actors, one CPU each (default 1); local: CPU threads side by side "
                        "(default: one per PyTorch thread)")
    parser.add_argument("--gpus-per-worker", type=float, default=0, metavar="G",
                        help="ray: GPUs per actor; the actors then run on CUDA (default: 0)")
    parser.add_argument("--device", default="auto", help="local engine: auto, cpu, cuda, ... (default: %(default)s)")
    parser.add_argument("--batch-size", type=positive_int, default=8, metavar="B", help="objects per network pass (default: %(default)s)")
    parser.add_argument("--resume", action="store_true",
                        help="skip objects whose output file exists (files are written all or nothing)")
    return parser


def _check_options(args: argparse.Namespace) -> None:
    if args.engine == "local" and (args.address is not None or args.gpus_per_worker):
        raise UsageError("--address and --gpus-per-worker apply to --engine ray")
    if args.gpus_per_worker < 0:
        raise UsageError(f"--gpus-per-worker must be 0 or more, got {args.gpus_per_worker:g}")
    if args.weights is not None and not Path(args.weights).exists():
        raise UsageError(f"{args.weights}: no such file")
    modules = ["pyarrow"] + (["ray"] if args.engine == "ray" else [])
    for module in modules:
        try:
            __import__(module)
        except ImportError:
            raise UsageError(f"{PROG} needs {module}: pip install 'pix2vox[ray]'") from None
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: is not a folder")
    existing = next(p for p in (out, *out.parents) if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{out}: cannot write into the folder {existing}")


def _run(args: argparse.Namespace) -> int:
    _check_options(args)
    from pix2vox.batch import read_objects, run_batch

    objects = read_objects(args.input)
    for item in objects:
        if (Path(args.out) / f"{item.object_id}.{args.format}").is_dir():
            raise UsageError(f"{Path(args.out) / f'{item.object_id}.{args.format}'}: is a folder, expected a file name")
    summary = run_batch(
        objects, args.out, engine=args.engine, output_format=args.format, model=args.model, weights=args.weights,
        preprocess=args.preprocess, threshold=args.threshold, method=args.method, device=args.device,
        address=args.address, workers=args.workers, gpus_per_worker=args.gpus_per_worker,
        batch_size=args.batch_size, resume=args.resume, progress=not args.quiet,
    )
    say(args, summary.describe())
    if summary.failed:
        shown = ", ".join(summary.failed[:10]) + (", …" if len(summary.failed) > 10 else "")
        logger.error("%d of %d objects failed (%s); see %s", len(summary.failed), summary.objects, shown, summary.results)
        return EXIT_SOME_FAILED
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pix2vox-batch``; returns the exit status (0, 3 when some objects failed, 2, 130)."""
    return run_cli(PROG, build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
