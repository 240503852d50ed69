"""``pix2vox-dataset``: a ShapeNet-layout dataset (renderings, voxels, splits) from a folder of meshes.

Mistakes in the command line end with one line on stderr, ``pix2vox-dataset: error: <problem>``,
exit status 2, before anything is written. A mesh that cannot be used is skipped with one line
naming it, and counted in the closing summary.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

from pix2vox.cli.runner import OneLineParser, positive_int, run_cli, say
from pix2vox.meshes.load import FRONTS

__all__ = ["main"]

PROG = "pix2vox-dataset"

EPILOG = f"""\
input: MESHES/<category>/<model>.{{obj,glb,gltf,ply,off,stl}} (an OBJ with its .mtl and textures
  beside it), or MESHES/<category>/<model>/<one mesh file> with an optional meta.json
  (name, creator, license, rotation). Category names map to ShapeNet taxonomy ids where ShapeNet has
  the category (chair 03001627, sofa 04256520, table 04379243, ...); others get ids of their own.

pose: the files are y up with their front towards --front (default +z: glTF's and Sweet Home 3D's
  convention); each model is turned so that its front faces +x (ShapeNet's pose), centred and
  scaled to a longest side of 1.

output: the layout of pix2vox-synth: ROOT/ShapeNet.json (written last), ROOT/ShapeNetRendering/
  <taxonomy>/<model>/rendering/NN.png (RGBA, transparent background) with rendering_metadata.txt,
  ROOT/ShapeNetVox32/<taxonomy>/<model>/model.binvox (solid 32^3), and ROOT/models.json (source,
  name, creator, licence of each model). The same seed gives identical files.

resume: ROOT/build.json records the seed and settings; the same command run again into the same
  ROOT keeps the models already complete and builds the rest (other settings are refused).

example:
  pix2vox-sweethome3d meshes/          # Debian's sweethome3d-furniture catalogues -> meshes/
  {PROG} meshes/ --out data/furniture --views 12 --split 0.75,0.05,0.2 --randomize --workers 2
"""


def _split(text: str) -> tuple[float, float, float]:
    if text == "test":
        return (0.0, 0.0, 1.0)
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected TRAIN,VAL,TEST fractions or 'test', got {text!r}") from None
    if len(values) != 3 or min(values) < 0 or not math.isclose(sum(values), 1.0):
        raise argparse.ArgumentTypeError(f"expected three non-negative fractions summing to 1, got {text!r}")
    return values  # type: ignore[return-value]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pix2vox-dataset``."""
    parser = OneLineParser(
        prog=PROG,
        description="Render and voxelise a folder of 3D models into the ShapeNetRendering/ShapeNetVox32 layout.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("meshes", metavar="MESHES", help="folder of category folders of mesh files")
    parser.add_argument("-o", "--out", required=True, metavar="ROOT", help="output folder")
    parser.add_argument("--views", type=positive_int, default=24, help="renderings per model (default: 24)")
    parser.add_argument("--size", type=positive_int, default=137, help="image side in pixels (default: 137)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--split", type=_split, default=(0.8, 0.1, 0.1), metavar="TRAIN,VAL,TEST",
                        help="fractions of each category's models per split, or 'test' for all in test (default: 0.8,0.1,0.1)")
    parser.add_argument("--front", choices=sorted(FRONTS), default="+z",
                        help="which way the files' fronts face (default: +z)")
    parser.add_argument("--randomize", action="store_true",
                        help="domain randomisation: random lights and material tints per view")
    parser.add_argument("--supersample", type=positive_int, default=2,
                        help="anti-aliasing samples per pixel along each axis (default: 2)")
    parser.add_argument("--workers", type=positive_int, default=1,
                        help="worker processes (default: 1; the output does not depend on it)")
    return parser


def _run(args: argparse.Namespace) -> int:
    from pix2vox.meshes.builder import MeshDatasetConfig, build_dataset

    config = MeshDatasetConfig(views=args.views, size=args.size, splits=args.split, front=args.front,
                               randomize=args.randomize, supersample=args.supersample)
    path, skipped = build_dataset(args.meshes, args.out, seed=args.seed, config=config,
                                  workers=args.workers, progress=not args.quiet)
    say(args, f"wrote {path} ({len(skipped)} model(s) skipped)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pix2vox-dataset``.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        0 on success (skipped meshes included), 2 for a mistake in the arguments or an unusable
        input folder (one line on stderr), 130 when interrupted.
    """
    return run_cli(PROG, build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
