"""Benchmark: onnxruntime against our PyTorch CPU path on the same image files.

For each variant, random weights in the authors' layout are loaded into a ``Reconstructor`` on the
CPU and exported with ``Reconstructor.export_onnx``; the same example views then go through
``Reconstructor.predict`` and ``pix2vox.onnx.OnnxReconstructor.predict`` (both including the
preprocessing of the files), with the same number of threads. Prints a Markdown table: the best
of ``--repeats`` latencies per object, and the largest difference of the probabilities.

    python benchmarks/benchmark_onnx.py                             # all four variants, 1 and 5 views, 2 threads
    python benchmarks/benchmark_onnx.py --variants pix2voxpp-f --views 1 3 --threads 1

Needs ``pip install "pix2vox[onnx]"``.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

VARIANTS = ("pix2vox-f", "pix2vox-a", "pix2voxpp-f", "pix2voxpp-a")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "chair"

logger = logging.getLogger("benchmarks.benchmark_onnx")


def _best(run, repeats: int) -> float:
    run()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def measure(name: str, views: list[Path], counts: list[int], threads: int, repeats: int, folder: Path) -> list[str]:
    """Markdown rows for one variant: views, PyTorch ms, onnxruntime ms, ratio, max difference."""
    import numpy as np
    import torch

    from pix2vox import Reconstructor
    from pix2vox.onnx import OnnxReconstructor
    from pix2vox.testing import save_random_original_checkpoint

    torch.set_num_threads(threads)
    checkpoint = save_random_original_checkpoint(folder / f"{name}.pth", name, seed=0)
    reconstructor = Reconstructor(name, weights=checkpoint, device="cpu")
    runner = OnnxReconstructor(reconstructor.export_onnx(folder / f"{name}.onnx"), threads=threads)
    rows = []
    for count in counts:
        files = views[:count]
        difference = float(np.abs(reconstructor.predict(files).probabilities - runner.predict(files).probabilities).max())
        torch_s = _best(lambda: reconstructor.predict(files), repeats)
        onnx_s = _best(lambda: runner.predict(files), repeats)
        rows.append(f"| {name} | {count} | {torch_s * 1e3:.0f} | {onnx_s * 1e3:.0f} | {onnx_s / torch_s:.2f} | {difference:.1e} |")
        logger.info(rows[-1])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--views", nargs="+", type=int, default=[1, 5], help="views per object (default: 1 5)")
    parser.add_argument("--threads", type=int, default=2, help="threads of PyTorch and onnxruntime (default: 2)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case; the best counts (default: 3)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")  # the ONNX optimiser is chatty at INFO
    logger.setLevel(logging.INFO)
    views = sorted(EXAMPLES.glob("*.png"))
    if max(args.views) > len(views):
        parser.error(f"{EXAMPLES} has {len(views)} views")
    lines = [
        f"onnxruntime vs PyTorch (CPU, {args.threads} threads), one object from {EXAMPLES.relative_to(EXAMPLES.parents[1])}, "
        "latency per object including preprocessing, best of "
        f"{args.repeats}",
        "",
        "| model | views | PyTorch ms | onnxruntime ms | onnxruntime / PyTorch | max difference |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory(prefix="pix2vox-onnx-bench-") as scratch:
        for name in args.variants:
            lines += measure(name, views, args.views, args.threads, args.repeats, Path(scratch))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
