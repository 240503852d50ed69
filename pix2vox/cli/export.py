"""``pix2vox-export``: reconstruct objects from their views and save meshes, grids or arrays.

Three modes, chosen by the inputs:

* views of one object (image files) -> one output file (and a ``--preview`` picture);
* one folder whose sub-folders each hold one object's views -> one file per object;
* one ``.binvox`` / ``.npy`` / ``.npz`` file -> another format, without any network.

Every output location is checked before any weights are loaded. The files of one object
(the output and its preview) are written to temporary names and renamed together when both
are complete, so a failure or an interrupt never leaves a partial file, nor deletes or alters a
file that existed before. Each file written is reported as one line on stdout (``-q``: none).

Mistakes in the command line or the inputs end with one line on stderr,
``pix2vox-export: error: <file>: <problem>``, exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pix2vox.cli.runner import OneLineParser, UsageError, positive_int, run_cli, say, threshold
from pix2vox.batch.inputs import IMAGE_SUFFIXES
from pix2vox.formats import SUPPORTED_FORMATS, VOLUME_FORMATS
from pix2vox.config import MAX_PIXELS
from pix2vox.loading.registry import DEFAULT_MODEL

if TYPE_CHECKING:
    import numpy as np

    from pix2vox import Reconstructor

__all__ = ["main"]

PROG = "pix2vox-export"
DEFAULT_BATCH_FORMAT = "obj"
# A binvox grid holds only 0 and 1, so any threshold selects the same voxels;
# 0.5 puts the marching-cubes surface halfway between voxel centres.
BINVOX_THRESHOLD = 0.5
DEFAULT_MAX_BINVOX_DIM = 512

logger = logging.getLogger(__name__)

EPILOG = f"""\
modes:
  views of one object      -> OUT is one file
  one folder of folders    -> OUT is a folder; FOLDER/<name>/*.png becomes OUT/<name>.<format>
  one .binvox/.npy/.npz    -> converted to another format, no network involved

formats: {", ".join(SUPPORTED_FORMATS)}
  meshes (obj ply stl glb off) lie in the unit cube, axes x, y (up), z as in ShapeNetVox32;
  binvox holds the occupancy (probability >= threshold); npy the float32 probabilities;
  npz the probabilities, the occupancy and the threshold.

threshold: by default the checkpoint's own; when converting, the one stored in an .npz,
  {BINVOX_THRESHOLD} for .binvox (any value gives the same voxels), else the --model's.

output: one line per file written, on stdout (-q: none); files that existed are replaced only
  by complete new ones, never deleted.

examples:
  {PROG} front.png side.png -o chair.obj --preview chair.png
  {PROG} photo.jpg -o chair.ply --model pix2vox-a --weights Pix2Vox-A-ShapeNet.pth --threshold 0.4
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
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="VIEWS",
        help="image files of one object; or one folder of per-object folders; "
        "or one .binvox/.npy/.npz file to convert",
    )
    parser.add_argument("-o", "--out", required=True, metavar="OUT", help="output file (folder in batch mode)")
    parser.add_argument(
        "--format",
        choices=SUPPORTED_FORMATS,
        help=f"output format (default: OUT's suffix; {DEFAULT_BATCH_FORMAT} in batch mode)",
    )
    parser.add_argument("--model", default=DEFAULT_MODEL, help="registered model name, a pix2vox folder (config.json + model.safetensors) or a Hub repository id (default: %(default)s)")
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
        help="also save a PNG picture of what the network saw (the cut-out views) and the reconstruction "
        "(one object; needs pix2vox[viz])",
    )
    parser.add_argument(
        "--mask", nargs="+", metavar="MASK",
        help="the object's mask in each view, one image file per view in the same order (white or opaque: the "
        "object; 'none': no mask for that view); used as given instead of finding the object",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=8, metavar="N", help="objects per forward pass (default: %(default)s)"
    )
    parser.add_argument(
        "--max-pixels", type=int, default=MAX_PIXELS, metavar="N",
        help="refuse images of more pixels, read from the file's header (0: no limit; default: %(default)s)",
    )
    parser.add_argument(
        "--max-binvox-dim", type=int, default=DEFAULT_MAX_BINVOX_DIM, metavar="D",
        help="refuse .binvox grids larger than D^3, read from the header (0: no limit; default: %(default)s)",
    )
    return parser


def _output_path(output: Path, file_format: str | None) -> Path:
    """OUT with a suffix naming its format, or a UsageError."""
    suffix = output.suffix.lower().lstrip(".")
    if file_format is None:
        if suffix not in SUPPORTED_FORMATS:
            problem = f"unsupported format .{suffix}" if suffix else "cannot tell the format without a suffix"
            raise UsageError(f"{output}: {problem}; use one of {', '.join('.' + f for f in SUPPORTED_FORMATS)} or --format")
        return output
    if suffix == file_format:
        return output
    if suffix in SUPPORTED_FORMATS:
        raise UsageError(f"{output}: the suffix .{suffix} contradicts --format {file_format}")
    return output.with_name(f"{output.name}.{file_format}")


def _check_writable(target: Path) -> None:
    """A UsageError unless ``target`` can be written, its missing folders created as in batch mode
    (checked before any work is done)."""
    if target.is_dir():
        raise UsageError(f"{target}: is a folder, expected a file name")
    existing = next(p for p in target.parents if p.exists())
    if not existing.is_dir():
        raise UsageError(f"{target}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{target}: cannot write into the folder {existing}")


def _check_folder(folder: Path) -> None:
    """A UsageError unless ``folder`` is, or can be created as, a writable folder."""
    if folder.suffix.lower().lstrip(".") in SUPPORTED_FORMATS or folder.is_file():
        raise UsageError(f"{folder}: batch mode writes one file per object; OUT must be a folder")
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        raise UsageError(f"{folder}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{folder}: cannot write into the folder {existing}")


def _write(
    args: argparse.Namespace,
    target: Path,
    probabilities: np.ndarray,
    threshold: float,
    preview: tuple[object, list[Path] | None] | None = None,
) -> None:
    """Write one object's output (and its preview) all or nothing, then report each file."""
    from pix2vox.atomic import StagedFiles
    from pix2vox.exchange import save_volume

    kind = target.suffix.lower().lstrip(".")
    with StagedFiles(make_folders=True) as files:
        temporary = files.stage(target)
        try:
            saved = save_volume(temporary, probabilities, threshold=threshold, method=args.method,
                                smooth=args.smooth, file_format=kind)
        except ValueError as error:  # name the user's file, not the temporary one
            raise UsageError(str(error).replace(str(temporary), str(target))) from None
        if preview is not None:
            from pix2vox.viz import preview as draw

            source, views = preview
            draw(source, files.stage(args.preview), views=views, threshold=threshold)
    say(args, "wrote " + dataclasses.replace(saved, path=target).describe())
    if preview is not None:
        say(args, f"wrote {args.preview} (preview picture)")


def _check_preview(args: argparse.Namespace, target: Path) -> None:
    if args.preview is None:
        return
    _check_writable(args.preview)
    if args.preview.resolve() == target.resolve():
        raise UsageError(f"{args.preview}: --preview and --out name the same file")
    try:  # drawing needs matplotlib: say so before the network runs
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("--preview needs matplotlib: pip install 'pix2vox[viz]'") from None


def _convert(args: argparse.Namespace) -> int:
    from pix2vox import get_record
    from pix2vox.exchange import load_threshold, load_volume

    source = Path(args.inputs[0])
    if not source.is_file():
        raise UsageError(f"{source}: no such file")
    target = _output_path(Path(args.out), args.format)
    _check_writable(target)
    _check_preview(args, target)
    volume = load_volume(source, max_binvox_dim=args.max_binvox_dim or None)
    threshold = args.threshold if args.threshold is not None else load_threshold(source)
    if threshold is None:
        threshold = BINVOX_THRESHOLD if source.suffix.lower() == ".binvox" else get_record(args.model).threshold
    _write(args, target, volume, threshold, preview=(volume, None) if args.preview is not None else None)
    return 0


def _check_images(args: argparse.Namespace, views: list[Path], masks: list[Path | None] | None = None) -> None:
    """Decode every image (and mask) once, so that a bad file is reported before any weights are loaded."""
    from pix2vox.foreground import load_mask
    from pix2vox.preprocess import load_image

    for view, mask in zip(views, masks or [None] * len(views)):
        image = load_image(view, max_pixels=args.max_pixels or None)
        if mask is not None:
            load_mask(mask, image.shape[:2], str(view))


def _reconstructor(args: argparse.Namespace) -> Reconstructor:
    from pix2vox import Reconstructor

    if args.weights is not None and not Path(args.weights).exists():
        raise UsageError(f"{args.weights}: no such file or folder")
    reconstructor = Reconstructor(args.model, weights=args.weights, device=args.device, preprocess=args.preprocess)
    reconstructor.max_pixels = args.max_pixels or None
    return reconstructor


def _single(args: argparse.Namespace) -> int:
    views = [Path(p) for p in args.inputs]
    # Checked before loading any weights; the image reader reports corrupt files.
    for view in views:
        if view.is_dir():
            raise UsageError(f"{view}: is a folder; pass a folder alone for batch mode, or the image files")
        if not view.is_file():
            raise UsageError(f"{view}: no such file")
    target = _output_path(Path(args.out), args.format)
    _check_writable(target)
    _check_preview(args, target)
    masks = _masks(args, views)
    _check_images(args, views, masks)
    reconstructor = _reconstructor(args)
    result = reconstructor.predict(views, mask=masks)
    threshold = result.threshold if args.threshold is None else args.threshold
    preview = None
    if args.preview is not None:  # the views as the network saw them: cut out, framed, on its grey
        from pix2vox.preprocess import network_picture

        seen = [network_picture(view, reconstructor.preprocess_config) for view in reconstructor.preprocess(views, mask=masks)]
        preview = (result, seen)
    _write(args, target, result.probabilities, threshold, preview=preview)
    return 0


def _masks(args: argparse.Namespace, views: list[Path]) -> list[Path | None] | None:
    """The ``--mask`` files, one per view (``None`` for 'none'), or a UsageError."""
    if args.mask is None:
        return None
    if len(args.mask) != len(views):
        raise UsageError(f"--mask: {len(args.mask)} mask(s) for {len(views)} view(s); give one per view, 'none' for a view without")
    masks = [None if text.lower() == "none" else Path(text) for text in args.mask]
    for mask in masks:
        if mask is not None and not mask.is_file():
            raise UsageError(f"{mask}: no such file (--mask)")
    return masks


def _batch(args: argparse.Namespace) -> int:
    """Folder mode: a front of :mod:`pix2vox.batch`'s local engine that stops at the first failure."""
    from pix2vox.batch.engines import reconstruct_local
    from pix2vox.batch.inputs import object_folders
    from pix2vox.batch.worker import OK, Outputs

    if args.preview is not None:
        raise UsageError("--preview pictures one object; batch mode writes meshes only")
    if args.mask is not None:
        raise UsageError("--mask gives the masks of one object's views; in batch mode pass RGBA cut-outs")
    source = Path(args.inputs[0])
    objects = object_folders(source)
    for item in objects:
        if not item.views:
            raise UsageError(f"{source / item.object_id}: no images ({', '.join(IMAGE_SUFFIXES)})")
    folder = Path(args.out)
    outputs = Outputs(kind="files", folder=str(folder), file_format=args.format or DEFAULT_BATCH_FORMAT,
                      threshold=args.threshold, method=args.method, smooth=args.smooth)
    _check_folder(folder)
    for item in objects:
        if outputs.target(item.object_id).is_dir():
            raise UsageError(f"{outputs.target(item.object_id)}: is a folder, expected a file name")
    _check_images(args, [Path(view) for item in objects for view in item.views])
    if args.weights is not None and not Path(args.weights).exists():
        raise UsageError(f"{args.weights}: no such file or folder")
    # Each object's file is complete when it appears; the first failure ends the run (the engine
    # runs no further batch) and leaves the files written before it, and every file that existed
    # before, in place. The progress bar shows on terminals only, not under -q.
    tables = reconstruct_local(
        objects, model=args.model, weights=args.weights, preprocess=args.preprocess, device=args.device,
        batch_size=args.batch_size, outputs=outputs, max_pixels=args.max_pixels or None,
        progress=not args.quiet, desc=PROG,
    )
    meshes = outputs.file_format not in VOLUME_FORMATS
    skipped: list[str] = []
    for table in tables:
        for row in table.to_pylist():
            if row["status"] == OK:
                say(args, f"wrote {row['path']} ({row['occupied']} occupied voxels)")
            elif meshes and row["occupied"] == 0:  # nothing reached the threshold: no surface to write
                skipped.append(row["object_id"])
            else:
                raise UsageError(row["error"])
    if skipped:
        logger.error("no file for %d of %d objects (nothing reached the threshold): %s",
                     len(skipped), len(objects), ", ".join(skipped))
        return 1
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.smooth and args.method != "marching_cubes":
        raise UsageError("--smooth only applies to --method marching_cubes")
    if args.preview is not None and args.preview.suffix.lower() != ".png":
        raise UsageError(f"{args.preview}: --preview writes a .png file")
    if args.max_pixels < 0 or args.max_binvox_dim < 0:
        raise UsageError("--max-pixels and --max-binvox-dim take 0 (no limit) or a positive number")
    inputs = [Path(p) for p in args.inputs]
    if len(inputs) == 1 and inputs[0].is_dir():
        return _batch(args)
    volume_inputs = [p for p in inputs if p.suffix.lower().lstrip(".") in VOLUME_FORMATS]
    if volume_inputs:
        if len(inputs) > 1:
            raise UsageError(f"{volume_inputs[0]}: convert one .binvox/.npy/.npz file at a time")
        if args.mask is not None:
            raise UsageError("--mask applies to image views, not to converting a volume")
        return _convert(args)
    return _single(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pix2vox-export``.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        0 on success; 1 when some objects of a batch had nothing above the
        threshold; 2 for a mistake in the arguments or inputs (one line on
        stderr); 130 when interrupted, 143 when terminated (no file changed
        by the object being written).
    """
    return run_cli(PROG, build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
