"""Benchmark: objects per second of batch reconstruction, one process against Ray Data.

The same objects (by default 64, three 137×137 renderings each, made from the example views in
``examples/``) are reconstructed by

* ``pix2vox-export FOLDER -o OUT`` (folder mode),
* ``pix2vox-batch FOLDER --out OUT --engine local``,
* ``pix2vox-batch FOLDER --out OUT --engine ray --workers 1`` and ``--workers 2``
  (each actor single-threaded, on a local Ray instance),

with the shipped default checkpoint, writing one ``.npz`` per object. Two figures per run:
**end to end**, the command's wall-clock time from start to exit (Python and PyTorch start-up,
loading the weights, for Ray starting the instance and its actors), and **pipeline**, the
reconstruction as ``pix2vox-batch`` reports it (reading, network, writing; the actors' start-up
included, the Ray instance's not: on a cluster it is already running). Prints a Markdown table
and the ratio of Ray with 2 workers to the local engine.

    python benchmarks/benchmark_batch.py                 # 64 objects
    python benchmarks/benchmark_batch.py --objects 256 --repeats 3

Needs ``pip install 'pix2vox[ray]'``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPOSITORY / "examples").glob("*/*.png"))
SUMMARY = re.compile(r"([\d.]+) objects/s")


def make_objects(folder: Path, count: int, views: int) -> None:
    """``folder/objectNNN/0K.png``: ``views`` example renderings per object, cycling through them."""
    for i in range(count):
        target = folder / f"object{i:03d}"
        target.mkdir(parents=True)
        for k in range(views):
            shutil.copy(EXAMPLES[(i + k) % len(EXAMPLES)], target / f"{k:02d}.png")


def run(command: list[str], env: dict[str, str]) -> tuple[float, float | None]:
    """(wall-clock seconds, objects/s the command reported or None)."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    found = SUMMARY.search(done.stdout)
    return seconds, float(found.group(1)) if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=64)
    parser.add_argument("--views", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU threads of the local runs")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each command; the fastest is reported")
    args = parser.parse_args()

    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OMP_WAIT_POLICY="PASSIVE")
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "objects"
        make_objects(folder, args.objects, args.views)
        commands = {
            "pix2vox-export (folder mode)": [str(bin_dir / "pix2vox-export"), str(folder), "-o", "OUT", "--format", "npz", "-q"],
            "pix2vox-batch --engine local": [str(bin_dir / "pix2vox-batch"), str(folder), "--out", "OUT", "--format", "npz"],
            "pix2vox-batch --engine ray --workers 1": [str(bin_dir / "pix2vox-batch"), str(folder), "--out", "OUT",
                                                      "--format", "npz", "--engine", "ray", "--workers", "1"],
            "pix2vox-batch --engine ray --workers 2": [str(bin_dir / "pix2vox-batch"), str(folder), "--out", "OUT",
                                                      "--format", "npz", "--engine", "ray", "--workers", "2"],
        }
        figures = {}
        for name, command in commands.items():
            best = (float("inf"), None)
            for repeat in range(args.repeats):
                out = Path(scratch) / f"out-{len(figures)}-{repeat}"
                wall, rate = run([part if part != "OUT" else str(out) for part in command], env)
                best = min(best, (wall, rate), key=lambda pair: pair[0])
            figures[name] = best
            print(f"{name}: {best[0]:.1f} s", file=sys.stderr, flush=True)

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    print(f"{args.objects} objects × {args.views} views, default checkpoint, .npz outputs; {cpu}, "
          f"{os.cpu_count()} cores; local runs with {args.threads} threads, Ray actors 1 thread each\n")
    print("| command | end to end (s) | objects/s end to end | objects/s pipeline |")
    print("|---|---|---|---|")
    for name, (wall, rate) in figures.items():
        pipeline = f"{rate:.2f}" if rate is not None else "–"
        print(f"| `{name}` | {wall:.1f} | {args.objects / wall:.2f} | {pipeline} |")
    local = figures["pix2vox-batch --engine local"]
    ray2 = figures["pix2vox-batch --engine ray --workers 2"]
    print(f"\nRay, 2 workers / local engine: {local[0] / ray2[0]:.2f}× end to end, "
          f"{(ray2[1] or 0) / (local[1] or 1):.2f}× pipeline")


if __name__ == "__main__":
    main()
