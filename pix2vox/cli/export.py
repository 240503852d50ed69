"""``pix2vox-export``: reconstruct objects from their views and save meshes, grids or arrays.

Three modes, chosen by the inputs:

* views of one object (image files) -> one output file;
* one folder whose sub-folders each hold one object's views -> one file per object;
* one ``.binvox`` / ``.npy`` / ``.npz`` file -> another format, without any network.

Mistakes in the command line or the inputs end with one line on stderr,
``pix2vox-export: error: <file>: <problem>``, exit status 2, and no output file.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from pix2vox import Reconstructor, Result, __version__, get_record
from pix2vox.cli.args import OneLineParser, UsageError, positive_int, run_cli, threshold
from pix2vox.preprocess import load_image
from pix2vox.exchange import (
    SUPPORTED_FORMATS,
    VOLUME_FORMATS,
    load_threshold,
    load_volume,
    save_volume,
)

__all__ = ["main"]

PROG = "pix2vox-export"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
DEFAULT_BATCH_FORMAT = "obj"
# A binvox grid holds only 0 and 1, so any threshold selects the same voxels;
# 0.5 puts the marching-cubes surface halfway between voxel centres.
BINVOX_THRESHOLD = 0.5

logger = logging.getLogger(__name__)

EPILOG = f"""\
modes:
  views of one object      -> OUT is one file
  one folder of folders    -> OUT is a folder; FOLDER/<name>/*.png becomes OUT/<name>.<format>
  one .binvox/.npy/.npz    -> converted to another format, no network involved

formats: {", ".join(SUPPORTED_FORMATS)}
  meshes (obj ply stl glb off) are in the unit cube, axes x, y (up), z as in ShapeNetVox32;
  binvox holds the occupancy (probability >= threshold); npy the float32 probabilities;
  npz the probabilities, the occupancy and the threshold.

threshold: by default the checkpoint's own; when converting, the one stored in an .npz,
  {BINVOX_THRESHOLD} for .binvox (any value gives the same voxels), else the --model's.

examples:
  {PROG} front.png side.png -o chair.obj --preview chair.png
  {PROG} photo.jpg -o chair.ply --model pix2vox-a --threshold 0.4 --smooth
  {PROG} photo.jpg -o chair --format binvox           (writes chair.binvox)
  {PROG} renders/ -o meshes/ --format stl --batch-size 16
  {PROG} chair.npz -o chair.glb --method voxels
  {PROG} chair.binvox -o chair.obj
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pix2vox-export``."""
    parser = OneLineParser(
        prog=PROG,
        description="Reconstruct 32^3 occupancy volumes from images with Pix2Vox / Pix2Vox++\n"
        "and save them as meshes, binvox grids or NumPy arrays.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="VIEWS",
        help="image files of one object; or one folder of per-object folders; "
        "or one .binvox/.npy/.npz file to convert",
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output file (folder in batch mode)")
    parser.add_argument(
        "--format",
        choices=SUPPORTED_FORMATS,
        help=f"output format (default: OUT's suffix; {DEFAULT_BATCH_FORMAT} in batch mode)",
    )
    parser.add_argument("--model", default="pix2voxpp-a", help="registered model name (default: %(default)s)")
    parser.add_argument("--weights", metavar="PATH", help="local checkpoint (.safetensors, the authors' .pth, or a folder)")
    parser.add_argument("--threshold", type=threshold, metavar="T", help="occupancy threshold in (0, 1)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ... (default: %(default)s)")
    parser.add_argument(
        "--preprocess",
        choices=("auto", "official"),
        default="auto",
        help="auto for photos and renderings; official to reproduce the papers' test transforms "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--method",
        choices=("marching_cubes", "voxels"),
        default="marching_cubes",
        help="mesh surface: smooth marching cubes or blocky voxels (default: %(default)s)",
    )
    parser.add_argument("--smooth", action="store_true", help="Taubin-smooth the marching-cubes mesh")
    parser.add_argument(
        "--preview", metavar="PNG", type=Path,
        help="also save a PNG picture of the input views and the reconstruction (one object; needs pix2vox[viz])",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=8, metavar="N", help="objects per forward pass (default: %(default)s)"
    )
    return parser


def _output_path(output: Path, file_format: str | None) -> Path:
    """OUT with a suffix naming its format, or a UsageError."""
    suffix = output.suffix.lower().lstrip(".")
    if file_format is None:
        if suffix not in SUPPORTED_FORMATS:
            raise UsageError(
                f"{output}: cannot tell the format from the suffix; use one of "
                f"{', '.join('.' + f for f in SUPPORTED_FORMATS)} or --format"
            )
        return output
    if suffix == file_format:
        return output
    if suffix in SUPPORTED_FORMATS:
        raise UsageError(f"{output}: the suffix .{suffix} contradicts --format {file_format}")
    return output.with_name(f"{output.name}.{file_format}")


def _check_writable(target: Path) -> None:
    # The writers check this too, but only after the network has run.
    if target.is_dir():
        raise UsageError(f"{target}: is a folder, expected a file name")
    if not target.parent.is_dir():
        raise UsageError(f"{target}: the folder {target.parent} does not exist")


def _object_folders(folder: Path) -> list[tuple[str, list[Path]]]:
    """(name, sorted image paths) for each non-hidden sub-folder of ``folder``."""
    objects = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        views = sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not views:
            raise UsageError(f"{sub}: no images ({', '.join(IMAGE_SUFFIXES)})")
        objects.append((sub.name, views))
    if not objects:
        raise UsageError(f"{folder}: no sub-folders with images (batch mode expects FOLDER/<object>/<view>.png)")
    return objects


def _convert(args: argparse.Namespace) -> int:
    source = Path(args.inputs[0])
    if not source.is_file():
        raise UsageError(f"{source}: no such file")
    target = _output_path(Path(args.output), args.format)
    _check_writable(target)
    volume = load_volume(source)
    threshold = args.threshold if args.threshold is not None else load_threshold(source)
    if threshold is None:
        threshold = BINVOX_THRESHOLD if source.suffix.lower() == ".binvox" else get_record(args.model).threshold
    save_volume(target, volume, threshold=threshold, method=args.method, smooth=args.smooth)
    if args.preview is not None:
        from pix2vox.viz import preview

        preview(volume, args.preview, threshold=threshold)
    return 0


def _check_images(views: list[Path]) -> None:
    """Decode every image once, so that a bad file is reported before any weights are loaded."""
    for view in views:
        load_image(view)


def _reconstructor(args: argparse.Namespace) -> Reconstructor:
    if args.weights is not None and not Path(args.weights).exists():
        raise UsageError(f"{args.weights}: no such file")
    return Reconstructor(args.model, weights=args.weights, device=args.device, preprocess=args.preprocess)


def _single(args: argparse.Namespace) -> int:
    views = [Path(p) for p in args.inputs]
    # Checked before loading any weights; the image reader reports corrupt files.
    for view in views:
        if view.is_dir():
            raise UsageError(f"{view}: is a folder; pass a folder alone for batch mode, or the image files")
        if not view.is_file():
            raise UsageError(f"{view}: no such file")
    target = _output_path(Path(args.output), args.format)
    _check_writable(target)
    _check_images(views)
    result = _reconstructor(args).predict(views)
    result.save(target, threshold=args.threshold, method=args.method, smooth=args.smooth)
    if args.preview is not None:
        from pix2vox.viz import preview

        preview(result, args.preview, views=views, threshold=args.threshold)
    return 0


def _batch(args: argparse.Namespace) -> int:
    if args.preview is not None:
        raise UsageError("--preview pictures one object; batch mode writes meshes only")
    objects = _object_folders(Path(args.inputs[0]))
    folder = Path(args.output)
    file_format = args.format or DEFAULT_BATCH_FORMAT
    if folder.suffix.lower().lstrip(".") in SUPPORTED_FORMATS or folder.is_file():
        raise UsageError(f"{folder}: batch mode writes one file per object; OUT must be a folder")
    _check_images([view for _, views in objects for view in views])
    reconstructor = _reconstructor(args)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    skipped: list[str] = []
    try:
        # disable=None: no bar when stderr is not a terminal (logs, pipes, CI).
        with tqdm(total=len(objects), unit="object", desc=PROG, disable=None) as bar:
            for start in range(0, len(objects), args.batch_size):
                chunk = objects[start : start + args.batch_size]
                results = reconstructor.predict_batch(
                    [views for _, views in chunk], batch_size=args.batch_size, progress=False
                )
                for (name, _), result in zip(chunk, results):
                    target = folder / f"{name}.{file_format}"
                    if _save_or_skip(result, target, file_format, args):
                        written.append(target)
                    else:
                        skipped.append(name)
                bar.update(len(chunk))
    except KeyboardInterrupt:
        raise  # keep what is done: every file written so far is complete
    except BaseException:
        # A bad input found late: leave no partial set of outputs behind.
        for path in written:
            path.unlink(missing_ok=True)
        if created and not any(folder.iterdir()):
            folder.rmdir()
        raise
    if skipped:
        logger.error("no file for %d of %d objects (nothing reached the threshold): %s",
                     len(skipped), len(objects), ", ".join(skipped))
        return 1
    return 0


def _save_or_skip(result: Result, target: Path, file_format: str, args: argparse.Namespace) -> bool:
    """Save one batch result; False (with a warning) when a mesh would be empty."""
    threshold = result.threshold if args.threshold is None else args.threshold
    if file_format not in VOLUME_FORMATS and not result.occupancy(threshold).any():
        logger.warning("%s: skipped, no voxel reaches the threshold %g", target, threshold)
        return False
    result.save(target, threshold=args.threshold, method=args.method, smooth=args.smooth)
    return True


def _run(args: argparse.Namespace) -> int:
    if args.smooth and args.method != "marching_cubes":
        raise UsageError("--smooth only applies to --method marching_cubes")
    if args.preview is not None and args.preview.suffix.lower() != ".png":
        raise UsageError(f"{args.preview}: --preview writes a .png file")
    inputs = [Path(p) for p in args.inputs]
    if len(inputs) == 1 and inputs[0].is_dir():
        return _batch(args)
    volume_inputs = [p for p in inputs if p.suffix.lower().lstrip(".") in VOLUME_FORMATS]
    if volume_inputs:
        if len(inputs) > 1:
            raise UsageError(f"{volume_inputs[0]}: convert one .binvox/.npy/.npz file at a time")
        return _convert(args)
    return _single(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pix2vox-export``.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        0 on success; 1 when some objects of a batch had nothing above the
        threshold; 2 for a mistake in the arguments or inputs (one line on
        stderr, no output file); 130 when interrupted.
    """
    return run_cli(PROG, build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
