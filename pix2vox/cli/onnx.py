"""``pix2vox-onnx``: write a model as an ONNX file, for deployment without PyTorch.

The file holds the whole network (encoder → decoder → fusion → refiner) for any number of
objects and views; input and output names, shapes and the opset are those of :mod:`pix2vox.onnx`.
With ``--verify`` the file is run on ``onnxruntime`` beside PyTorch on random inputs (1 and 3
views) and the largest difference printed; above ``--tolerance`` the exit status is 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pix2vox.cli.runner import OneLineParser, UsageError, run_cli, say

__all__ = ["main"]

PROG = "pix2vox-onnx"
DEFAULT_TOLERANCE = 1e-4

EPILOG = f"""\
graph: input  views   (batch, views, 3, 224, 224) float32, preprocessed as pix2vox.preprocess does
       output volumes (batch, 32, 32, 32) probabilities, coarse and weights (batch, views, 32, 32, 32)
       batch and views are dynamic; the model's config.json is in the metadata (key pix2vox_config)

examples:
  {PROG} -o pix2voxpp-f.onnx --model pix2voxpp-f-furniture --verify
  {PROG} -o pix2vox-a.onnx --model pix2vox-a --weights Pix2Vox-A-ShapeNet.pth --opset 17
  {PROG} -o mine.onnx --model runs/ppf/best
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pix2vox-onnx``."""
    from pix2vox.onnx import OPSET

    parser = OneLineParser(
        prog=PROG,
        description="Write a Pix2Vox / Pix2Vox++ network as an ONNX file (needs pix2vox[onnx]).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-o", "--out", required=True, metavar="OUT", help="the .onnx file to write")
    parser.add_argument("--model", help="registered model name, a pix2vox folder (config.json + model.safetensors) or a Hub repository id (default: the library's default model)")
    parser.add_argument("--weights", metavar="PATH", help="local checkpoint for --model (.safetensors, the authors' .pth, or a folder)")
    parser.add_argument("--opset", type=int, default=OPSET, help="ONNX opset version (default: %(default)s)")
    parser.add_argument("--verify", action="store_true", help="compare onnxruntime with PyTorch on random inputs (needs onnxruntime)")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                        help="largest difference --verify accepts (default: %(default)s)")
    return parser


def _load(args: argparse.Namespace):
    from pix2vox.reconstructor import Reconstructor

    if args.weights is not None and not Path(args.weights).exists():
        raise UsageError(f"{args.weights}: no such file or folder")
    return Reconstructor(args.model, weights=args.weights, device="cpu")


def _run(args: argparse.Namespace) -> int:
    output = Path(args.out)
    if output.is_dir():
        raise UsageError(f"{output}: a folder; give the .onnx file to write")
    if not output.parent.is_dir():
        raise UsageError(f"{output.parent}: no such folder")
    reconstructor = _load(args)
    say(args, f"wrote {reconstructor.export_onnx(output, opset=args.opset)}")
    if not args.verify:
        return 0
    from pix2vox.onnx import max_difference

    difference = max_difference(reconstructor, output)
    say(args, f"largest difference from PyTorch: {difference:.2e} (tolerance {args.tolerance:g})")
    if difference > args.tolerance:
        print(f"{PROG}: onnxruntime differs from PyTorch by {difference:.2e} > {args.tolerance:g}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pix2vox-onnx``; 0 on success, 1 when ``--verify`` finds a difference, 2 for bad arguments."""
    return run_cli(PROG, build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
