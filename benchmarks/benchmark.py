"""Benchmark: ``Reconstructor.predict_batch`` against the networks run in the authors' execution order.

Prints Markdown tables (and writes them with ``--out``): throughput and latency of both
formulations on the same image files, peak memory, per-stage GFLOP/s against a measured
matrix-product peak, checkpoint load times and ``import pix2vox`` time. The baseline
("per-view") reads images with OpenCV and preprocesses them as the original code does, then
runs each object alone, each view through encoder and decoder with batch size 1 and the
generic transposed convolution, the fusion scores view by view (``tests/reference.py``, which
this script imports from the repository it lives in).

    python benchmarks/benchmark.py                      # CPU, 2 threads, all four variants
    python benchmarks/benchmark.py --device cuda        # GPU: also bf16/fp16, compile, batch 64

Each measurement runs in a fresh subprocess so that its peak memory is its own. Random weights
in the original layout are used (speed does not depend on their values); the script checks
that both formulations give the same probabilities (max difference ≤ 1e-4).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))  # the baseline lives in the test suite: tests/reference.py

VARIANTS = ("pix2vox-f", "pix2vox-a", "pix2voxpp-f", "pix2voxpp-a")
CASES = ((1, 1), (5, 1), (1, 8), (5, 8))  # (views per object, objects per run)


def _device_name(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    return f"{model}, {torch.get_num_threads()} threads"


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _best_time(run, repeats: int, device: str) -> float:
    run()  # warm-up
    _sync(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return best


def _peak_memory_mb(device: str) -> float:
    """Peak GPU memory allocated, or the process's peak resident memory (VmHWM) on CPU.

    ``getrusage``'s ``ru_maxrss`` would carry over the parent's peak across ``exec``; the
    kernel's ``VmHWM`` belongs to this process's own address space.
    """
    import torch

    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024


# ----------------------------------------------------------------------------------------------
# Worker: one (variant, formulation, case) in its own process


def worker(spec: dict) -> dict:
    """Time one formulation on one case; returns seconds per run, peak memory and the outputs."""
    import numpy as np
    import torch

    from pix2vox import Reconstructor
    from tests.reference import opencv_official, per_view_forward

    torch.set_num_threads(spec["threads"])
    device, dtype = spec["device"], getattr(torch, spec["dtype"])
    rec = Reconstructor(spec["variant"], weights=spec["checkpoint"], device=device, preprocess="official", dtype=dtype, compile=spec["compile"])
    objects = [spec["images"][i][: spec["views"]] for i in range(spec["objects"])]
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()

    if spec["formulation"] == "ours":
        def run():
            return np.stack([r.probabilities for r in rec.predict_batch(objects, batch_size=spec["batch_size"], progress=False)])
    else:
        def run():
            outputs = []
            with torch.inference_mode():
                for views in objects:
                    x = torch.stack([opencv_official(path) for path in views]).to(device, dtype)
                    outputs.append(per_view_forward(rec.model, x[None]).float().cpu().numpy()[0])
            return np.stack(outputs)

    seconds = _best_time(run, spec["repeats"], device)
    probabilities = run()
    return {"seconds": seconds, "peak_mb": _peak_memory_mb(device), "probabilities": probabilities.tolist() if spec["return_outputs"] else None}


def _spawn(spec: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"worker failed for {spec['variant']} {spec['formulation']}:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------------------------
# Measurements in the parent


def matmul_peak(device: str) -> float:
    """Measured float32 matrix-product GFLOP/s (2048² × 2048²): the faster of the default BLAS and oneDNN."""
    import torch

    a = torch.randn(2048, 2048, device=device)
    runs = [lambda: a @ a]
    if device == "cpu" and torch.backends.mkldnn.is_available():
        runs.append(lambda: torch.ops.mkldnn._linear_pointwise(a, a, None, "none", [], ""))
    return max(2 * 2048**3 / _best_time(run, 5, device) / 1e9 for run in runs)


def _direct_gflop(run) -> float:
    """GFLOP of ``run`` on the plain network, computed as written (direct convolutions)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.enable_grad(), FlopCounterMode(display=False) as counter:
        run()
    return counter.get_total_flops() / 1e9


def stage_profile(variant: str, checkpoint: Path, device: str, views: int, objects: int, peak: float) -> list[tuple]:
    """Seconds, GFLOP and effective GFLOP/s of each stage of our batched path.

    On a CPU each stage runs as ``predict_batch`` runs it: ``pix2vox.cpu.optimize``'s copy of
    the network, the objects shared among workers (``pix2vox.cpu.workers``), side by side. GFLOP
    are those of the plain network (what a convolution computed as written costs), so a stage
    that uses Winograd's algorithm can exceed the matrix-product peak.
    """
    import torch

    from pix2vox import Reconstructor
    from pix2vox.cpu import optimize
    from pix2vox.cpu.workers import run_side_by_side, split_evenly
    from pix2vox.models.merger import fuse

    rec = Reconstructor(variant, weights=checkpoint, device=device)
    plain = rec.model
    model = optimize(plain) if device == "cpu" else plain
    x = torch.randn(views * objects, 3, 224, 224, device=device)
    counts = [views] * objects
    chunk = rec.encoder_batch or len(x)
    workers = min(torch.get_num_threads(), objects) if device == "cpu" else 1
    groups = split_evenly(counts, workers)  # objects of each worker
    images = [x[group.start * views : group.stop * views] for group in groups]

    def encode(i: int) -> torch.Tensor:
        return torch.cat([model.encoder(c) for c in images[i].split(chunk)])

    def merge(i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return fuse(decoded[i][1], model.merger(decoded[i][0]), counts[groups[i]])

    def side_by_side(stage):
        def in_inference_mode(i: int):
            with torch.inference_mode():
                return stage(i)

        tasks = [functools.partial(in_inference_mode, i) for i in range(len(groups))]
        return lambda: run_side_by_side(tasks) if len(tasks) > 1 else tasks[0]()

    with torch.inference_mode():
        features = [encode(i) for i in range(len(groups))]
        decoded = [model.decoder(f) for f in features]
        fused = [merge(i)[0] for i in range(len(groups))]
    # (stage, timed run over all views, the stage on one view or object (inference tensors cloned
    # for autograd), how many of those)
    first = features[0][:1].clone(), decoded[0][0][:views].clone(), decoded[0][1][:views].clone(), fused[0][:1].clone()
    stages = [
        ("encoder", side_by_side(encode), lambda: plain.encoder(x[:1]), len(x)),
        ("decoder", side_by_side(lambda i: model.decoder(features[i])), lambda: plain.decoder(first[0]), len(x)),
        ("merger", side_by_side(merge), lambda: fuse(first[2], plain.merger(first[1]), counts[:1]), objects),
    ]
    if model.refiner is not None:
        stages.append(("refiner", side_by_side(lambda i: model.refiner(fused[i])), lambda: plain.refiner(first[3]), objects))
    rows = []
    for name, run, unit, units in stages:
        gflop = _direct_gflop(unit) * units
        seconds = _best_time(run, 3, device)
        rows.append((name, seconds, gflop, gflop / seconds, 100 * gflop / seconds / peak))
    return rows


def load_times(variant: str, pth: Path, folder: Path, device: str) -> tuple[float, float]:
    """Seconds to build a ``Reconstructor`` from the original ``.pth`` and from our folder."""
    from pix2vox import Reconstructor

    start = time.perf_counter()
    Reconstructor(variant, weights=pth, device=device)
    middle = time.perf_counter()
    Reconstructor.from_pretrained(folder, device=device)
    return middle - start, time.perf_counter() - middle


def import_time(statement: str) -> float:
    """Seconds for ``statement`` in a fresh interpreter (best of three)."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    return min(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout) for _ in range(3))


def prepare(folder: Path, variants: list[str], objects: int) -> tuple[list[list[str]], dict]:
    """Write 5-view renderings of ``objects`` objects and each variant's checkpoints."""
    from PIL import Image

    from pix2vox import Reconstructor
    from pix2vox.testing import make_rendering, save_random_original_checkpoint

    images = []
    for obj in range(objects):
        views = []
        for view in range(5):
            path = folder / f"object{obj}_{view:02d}.png"
            Image.fromarray(make_rendering(100 * obj + view), "RGBA").save(path)
            views.append(str(path))
        images.append(views)
    checkpoints = {}
    for variant in variants:
        pth = save_random_original_checkpoint(folder / f"{variant}.pth", variant, seed=0)
        out = Reconstructor(variant, weights=pth, device="cpu").save_pretrained(folder / variant)
        checkpoints[variant] = (pth, out)
    return images, checkpoints


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case; the best is kept")
    parser.add_argument("--gpu-objects", type=int, default=64, help="objects per batch in the GPU throughput table")
    parser.add_argument("-o", "--out", type=Path, help="also write the tables to this Markdown file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    gpu = args.device.startswith("cuda")
    lines = [f"Device: {_device_name(args.device)}; torch {torch.__version__}; {time.strftime('%Y-%m-%d')}", ""]

    def emit(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    with tempfile.TemporaryDirectory() as tmp:
        images, checkpoints = prepare(Path(tmp), args.variants, max(8, args.gpu_objects if gpu else 8))
        peak = matmul_peak(args.device)
        emit(
            f"Matrix-product peak (float32, 2048³): {peak:.0f} GFLOP/s. `import pix2vox`: {import_time('import pix2vox'):.3f} s; "
            f"`from pix2vox import Reconstructor` (loads torch): {import_time('from pix2vox import Reconstructor'):.2f} s."
        )
        emit()
        emit("| variant | views × objects | per-view, objects/s | ours, objects/s | speed-up | latency per run, per-view → ours | peak memory MB (process RSS on CPU), per-view → ours | max diff |")
        emit("|---|---|---|---|---|---|---|---|")
        base = {"device": args.device, "threads": args.threads, "repeats": args.repeats, "images": images, "dtype": "float32", "compile": False}
        for variant in args.variants:
            for views, objects in CASES:
                spec = {**base, "variant": variant, "checkpoint": str(checkpoints[variant][0]), "views": views, "objects": objects, "batch_size": objects, "return_outputs": True}
                theirs = _spawn({**spec, "formulation": "per-view"})
                ours = _spawn({**spec, "formulation": "ours"})
                diff = float(np.abs(np.array(theirs["probabilities"]) - np.array(ours["probabilities"])).max())
                emit(
                    f"| {variant} | {views} × {objects} | {objects / theirs['seconds']:.2f} | {objects / ours['seconds']:.2f} "
                    f"| {theirs['seconds'] / ours['seconds']:.2f}x | {theirs['seconds']:.3f} s → {ours['seconds']:.3f} s "
                    f"| {theirs['peak_mb']:.0f} → {ours['peak_mb']:.0f} | {diff:.1e} |"
                )
        emit()
        emit("Stages of our path, 5 views × 8 objects (effective GFLOP/s against the matrix-product peak):")
        emit()
        emit("| variant | stage | seconds | GFLOP | GFLOP/s | % of peak |")
        emit("|---|---|---|---|---|---|")
        for variant in args.variants:
            for name, seconds, gflop, rate, share in stage_profile(variant, checkpoints[variant][0], args.device, 5, 8, peak):
                emit(f"| {variant} | {name} | {seconds:.3f} | {gflop:.1f} | {rate:.0f} | {share:.0f} % |")
        emit()
        emit("| variant | load original .pth | load our folder (safetensors) |")
        emit("|---|---|---|")
        for variant in args.variants:
            pth_s, st_s = load_times(variant, *checkpoints[variant], args.device)
            emit(f"| {variant} | {pth_s:.2f} s | {st_s:.2f} s |")
        if gpu:
            emit()
            emit(f"GPU throughput, {args.gpu_objects} objects × 5 views per batch (objects/s):")
            emit()
            emit("| variant | per-view fp32 | ours fp32 | ours bf16 | ours fp16 | ours fp32 compiled | best speed-up |")
            emit("|---|---|---|---|---|---|---|")
            for variant in args.variants:
                spec = {**base, "variant": variant, "checkpoint": str(checkpoints[variant][0]), "views": 5, "objects": args.gpu_objects, "batch_size": args.gpu_objects, "return_outputs": False, "repeats": 2}
                rates = [args.gpu_objects / _spawn({**spec, "formulation": "per-view"})["seconds"]]
                for extra in ({}, {"dtype": "bfloat16"}, {"dtype": "float16"}, {"compile": True}):
                    rates.append(args.gpu_objects / _spawn({**spec, **extra, "formulation": "ours"})["seconds"])
                emit(f"| {variant} | " + " | ".join(f"{r:.1f}" for r in rates) + f" | {max(rates[1:]) / rates[0]:.1f}x |")
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    sys.exit(main())
