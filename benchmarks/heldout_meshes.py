"""Link the test models of the furniture split into a folder of their own, to build only the held-out renderings.

``pix2vox-dataset`` splits each category's models at random with the seed (0) and fractions
(0.75, 0.05, 0.2) the shipped checkpoint's dataset used; this script computes the same split from the
mesh folder and links its test models into ``OUT/<category>/<model>``. Built with ``--split test``,
they get the very renderings and voxels of the full build (everything random is seeded per model).

    python benchmarks/heldout_meshes.py meshes/ meshes_test/
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pix2vox.meshes.builder import _splits, find_models


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("meshes", type=Path, help="the folder pix2vox-sweethome3d wrote")
    parser.add_argument("out", type=Path, help="folder for links to the test models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", default="0.75,0.05,0.2")
    args = parser.parse_args()
    fractions = tuple(float(v) for v in args.split.split(","))
    models = find_models(args.meshes)
    test = {model_id for split in _splits(models, args.seed, fractions).values() for model_id in split["test"]}
    count = 0
    for model in models:
        if model.model_id not in test:
            continue
        source = model.path.parent if model.path.parent.name == model.name else model.path
        target = args.out / model.category / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.symlink(source.resolve(), target)
        count += 1
    print(f"linked {count} test models of {len(models)} into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
