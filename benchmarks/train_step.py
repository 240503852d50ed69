"""Training speed: samples per second of one Pix2Vox training step (forward, backward, Adam) in
float32 and under bfloat16 autocast, the way ``pix2vox-train`` runs it.

    python benchmarks/train_step.py --model pix2voxpp-f --batch-size 8 --threads 2 --steps 20

Random views and volumes, so that only the network is timed (not loading); the first steps are
warm-up. Run it alone on the machine. It also prints whether the processor has bfloat16
instructions (``avx512_bf16``, ``amx_bf16``), without which bfloat16 is usually not faster on CPU.

With ``--data ROOT`` (a ShapeNet-layout dataset) it also times what loading one training sample costs
in one thread, as ``pix2vox-train``'s data loader does it: decoding the PNG, the augmented transform
and reading the voxels; so that decoding can be weighed against the network (is it worth keeping
the views decoded in memory?).
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch

from pix2vox.config import ARCHITECTURES
from pix2vox.models import Pix2Vox
from pix2vox.train.loop import _forward, _loss, init_weights


def cpu_flags() -> set[str]:
    """The processor's flags from /proc/cpuinfo (empty where there is none)."""
    info = Path("/proc/cpuinfo")
    if not info.is_file():
        return set()
    for line in info.read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def step_time(model_name: str, dtype: str, batch_size: int, steps: int, warmup: int, device: str) -> float:
    """Median seconds of one training step."""
    torch.manual_seed(0)
    model = Pix2Vox(ARCHITECTURES[model_name])
    init_weights(model)
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    views = torch.rand(batch_size, 1, 3, 224, 224, device=device)
    volumes = (torch.rand(batch_size, 32, 32, 32, device=device) > 0.8).float()
    times = []
    for i in range(warmup + steps):
        began = time.perf_counter()
        fused, refined = _forward(model, views, dtype)
        loss = _loss(fused, refined, volumes)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - began)
    return sorted(times)[len(times) // 2]


def loading_times(root: Path, samples: int) -> dict[str, float]:
    """Mean milliseconds per training sample of each loading step, over ``samples`` training objects."""
    import numpy as np

    from pix2vox.config import PreprocessConfig
    from pix2vox.datasets import ShapeNetDataset
    from pix2vox.datasets.shapenet import view_files
    from pix2vox.preprocess import load_image
    from pix2vox.train.data import Augmentation, train_transform

    objects = list(ShapeNetDataset(root, split="train"))[:samples]
    rng, config = np.random.default_rng(0), PreprocessConfig()
    totals = {"decode": 0.0, "transform": 0.0, "voxels": 0.0}
    for sample in objects:
        began = time.perf_counter()
        image = load_image(view_files(sample.view_paths[0].parent)[0], exif_transpose=False)
        decoded = time.perf_counter()
        train_transform(image, config, Augmentation(), rng)
        transformed = time.perf_counter()
        sample.load_volume()
        totals["decode"] += decoded - began
        totals["transform"] += transformed - decoded
        totals["voxels"] += time.perf_counter() - transformed
    return {step: 1000 * total / len(objects) for step, total in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="pix2voxpp-f", choices=sorted(ARCHITECTURES))
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data", type=Path, metavar="ROOT", help="also time loading samples of this ShapeNet-layout dataset")
    parser.add_argument("--samples", type=int, default=200, help="with --data: training objects to load (default 200)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    flags = cpu_flags()
    bf16 = sorted(flags & {"avx512_bf16", "amx_bf16", "amx_tile"}) or ["none"]
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"device {args.device}; bfloat16 instructions: {', '.join(bf16)}")
    print(f"{args.model}, batch {args.batch_size}, 224x224, {args.steps} steps after {args.warmup} warm-up")
    print("| dtype | s/step | samples/s |\n|---|---:|---:|")
    network_ms = {}
    for dtype in ("float32", "bfloat16"):
        seconds = step_time(args.model, dtype, args.batch_size, args.steps, args.warmup, args.device)
        network_ms[dtype] = 1000 * seconds / args.batch_size
        print(f"| {dtype} | {seconds:.3f} | {args.batch_size / seconds:.1f} |")
    if args.data:
        torch.set_num_threads(1)  # as in a data-loader process
        times = loading_times(args.data, args.samples)
        total = sum(times.values())
        print(f"\nloading one sample of {args.data} (one thread, mean of {args.samples}), against the float32 step's "
              f"{network_ms['float32']:.0f} ms per sample:")
        print("| step | ms/sample | share of loading + float32 step |\n|---|---:|---:|")
        for step, ms in times.items():
            print(f"| {step} | {ms:.1f} | {ms / (total + network_ms['float32']):.0%} |")
        print(f"| all loading | {total:.1f} | {total / (total + network_ms['float32']):.0%} |")


if __name__ == "__main__":
    main()
