"""``pix2vox-train``: train or fine-tune a network on a ShapeNet-layout dataset.

Mistakes in the command line end with one line on stderr, ``pix2vox-train: error: <problem>``,
exit status 2. Progress (one line per epoch) is logged on stderr; ``-q`` keeps only errors.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pix2vox.cli.runner import OneLineParser, run_cli, say

__all__ = ["main"]

PROG = "pix2vox-train"

EPILOG = f"""\
output: OUT/model/ (config.json + model.safetensors, loadable with
  Reconstructor.from_pretrained), OUT/training_state.pt (for --resume; not for publication) and
  OUT/history.json (loss and validation IoU per epoch).

example (the Pix2Vox++ schedule: 250 single-view epochs, then 100 multi-view epochs with fusion):
  {PROG} --data data/synth --out runs/ppf --model pix2voxpp-f --epochs 250 --multiview-epochs 100 --milestones 150
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pix2vox-train``."""
    from pix2vox.models import ARCHITECTURES
    from pix2vox.train.loop import DTYPES, TrainConfig

    defaults = TrainConfig(data="", out="")
    p = OneLineParser(prog=PROG, description="Train or fine-tune Pix2Vox / Pix2Vox++ on a ShapeNet-layout dataset.",
                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, nargs="+", metavar="ROOT",
                   help="dataset folder (ShapeNet.json, ShapeNetRendering/, ShapeNetVox32/); several are joined, each with its own split")
    p.add_argument("-o", "--out", required=True, metavar="DIR", help="run folder")
    p.add_argument("--model", default=defaults.model, choices=sorted(ARCHITECTURES), help="architecture (default: %(default)s)")
    p.add_argument("--name", help="name written into config.json (default: the architecture)")
    p.add_argument("--init", metavar="WEIGHTS", help="fine-tune from these weights: a model name, folder, Hub repository id or weights file")
    p.add_argument("--resume", metavar="STATE", help="continue a run from OUT/training_state.pt (or OUT)")
    p.add_argument("--epochs", type=int, default=defaults.epochs, help="single-view epochs (default: %(default)s)")
    p.add_argument("--multiview-epochs", type=int, default=defaults.multiview_epochs, help="multi-view epochs (default: %(default)s)")
    p.add_argument("--multiview-views", type=int, default=defaults.multiview_views, help="views per object in the multi-view stage (default: %(default)s)")
    p.add_argument("--multiview-train", choices=("all", "fusion"), default=defaults.multiview_train,
                   help="what learns in the multi-view stage: all (the papers) or fusion (encoder/decoder frozen)")
    p.add_argument("--batch-size", type=int, default=defaults.batch_size, help="objects per single-view batch (default: %(default)s)")
    p.add_argument("--multiview-batch-size", type=int, help="objects per multi-view batch (default: batch size / views)")
    p.add_argument("--lr", type=float, default=defaults.lr, help="learning rate (default: %(default)s)")
    p.add_argument("--milestones", type=int, nargs="*", default=list(defaults.milestones), metavar="EPOCH",
                   help="epochs after which the rate is multiplied by --gamma (default: %(default)s)")
    p.add_argument("--gamma", type=float, default=defaults.gamma, help="(default: %(default)s)")
    p.add_argument("--no-augment", action="store_true", help="no training augmentations")
    p.add_argument("--threshold", type=float, default=defaults.threshold, help="occupancy threshold of the checkpoint (default: %(default)s)")
    p.add_argument("--epoch-size", type=int, metavar="K", help="objects per epoch (default: the whole train split)")
    p.add_argument("--val-limit", type=int, metavar="K", help="validate on the first K val objects")
    p.add_argument("--train-limit", type=int, metavar="K", help="train on the first K train objects")
    p.add_argument("--seed", type=int, default=defaults.seed, help="(default: %(default)s)")
    p.add_argument("--device", default=defaults.device, help="auto, cpu, cuda, cuda:1, ... (default: %(default)s)")
    p.add_argument("--workers", type=int, default=defaults.num_workers, help="data-loader processes (default: %(default)s)")
    p.add_argument("--threads", type=int, help="CPU threads for torch")
    p.add_argument("--dtype", choices=DTYPES, default=defaults.dtype,
                   help="precision of the forward pass: bfloat16 runs it under autocast, weights and optimizer "
                        "stay float32; faster only on processors with bfloat16 instructions or a GPU (default: %(default)s)")
    return p


def _run(args: argparse.Namespace) -> int:
    from pix2vox.train.loop import TrainConfig, train

    config = TrainConfig(
        data=args.data[0] if len(args.data) == 1 else tuple(args.data), out=args.out, model=args.model, name=args.name, init=args.init,
        epochs=args.epochs, multiview_epochs=args.multiview_epochs, multiview_views=args.multiview_views,
        multiview_train=args.multiview_train, batch_size=args.batch_size,
        multiview_batch_size=args.multiview_batch_size, lr=args.lr, milestones=tuple(args.milestones),
        gamma=args.gamma, augment=not args.no_augment, threshold=args.threshold, epoch_size=args.epoch_size, val_limit=args.val_limit,
        train_limit=args.train_limit, seed=args.seed, device=args.device, num_workers=args.workers,
        threads=args.threads, dtype=args.dtype,
    )
    folder = train(config, resume=args.resume, progress=not args.quiet)
    say(args, f"wrote {folder}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pix2vox-train``; returns the exit status (0 done, 2 usage or data error, 130 interrupted)."""
    return run_cli(PROG, build_parser(), _run, argv, default_level=logging.INFO)


if __name__ == "__main__":
    sys.exit(main())
