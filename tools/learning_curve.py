"""Learning curves: held-out IoU against the number of procedural training models, at a fixed budget.

Each arm trains Pix2Vox++/F for the same number of training samples on a base dataset (Sweet Home
3D, with its own split) joined with the first ``K`` training models of the procedural datasets
(Infinigen), spread evenly over their categories, fine-tuning from ``--init`` or from scratch; then
it is evaluated with ``official`` preprocessing and one view on the base test split and on the
procedural test split (both the same for every arm: ``K`` only trims the procedural *train* split).
A Markdown table of overall and per-category IoU beside the mean-shape baselines is printed and
written to ``OUT/curve.md`` (``OUT/curve.json`` holds every figure).

    python tools/learning_curve.py --base data/furniture --procedural data/ig_cts data/ig_rest \\
        --sizes 0 600 2000 all --samples 40000 --init pix2voxpp-f-furniture --out runs/curve

Every arm keeps its own folder under ``OUT/``: a finished arm (its ``figures.json`` written) is not
run again, and an interrupted one resumes its training (``training_state.pt``), so the command can
be repeated across sessions; the table holds every finished arm in ``OUT``, so arms that are not a
full grid (say scratch only at one size) are run by a second command with the same ``--out``.
``--base-share`` keeps the base dataset's share of the training objects (it is listed several times,
and the arm's name says how many: ``all-finetune-base3x``) instead of letting it fall as ``K`` grows.
Train alone on the machine: other jobs slow training several times. Not part of the package; it
uses ``pix2vox.train`` and ``pix2vox.heldout``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path

import numpy as np

from pix2vox.datasets.taxonomy import SPLITS
from pix2vox.train.loop import DTYPES

logger = logging.getLogger("learning_curve")

SUBSET_DIR = "subsets"
RENDERING_DIR, VOXEL_DIR, TAXONOMY_FILE = "ShapeNetRendering", "ShapeNetVox32", "ShapeNet.json"


def procedural_subset(roots: list[Path], size: int | None, out: Path) -> Path:
    """A dataset folder of the procedural ``roots`` joined, with ``size`` of their training models
    (``None``: all), evenly spread over the categories; val and test splits whole.

    The folder holds links to each category's renderings and voxels and its own ``ShapeNet.json``;
    categories must not repeat across ``roots``.
    """
    entries, sources = [], {}
    for root in roots:
        for entry in json.loads((root / TAXONOMY_FILE).read_text()):
            if entry["taxonomy_id"] in sources:
                raise ValueError(f"{root}: category {entry['taxonomy_name']} is also in {sources[entry['taxonomy_id']]}")
            sources[entry["taxonomy_id"]] = root
            entries.append(entry)
    total = sum(len(e["train"]) for e in entries)
    keep = total if size is None else min(size, total)
    # Largest remainders: each category keeps its share of ``keep``, in proportion to its train split.
    shares = np.array([len(e["train"]) for e in entries], float) * keep / max(1, total)
    counts = np.floor(shares).astype(int)
    for index in np.argsort(-(shares - counts))[: keep - counts.sum()]:
        counts[index] += 1
    out.mkdir(parents=True, exist_ok=True)
    for kind in (RENDERING_DIR, VOXEL_DIR):
        (out / kind).mkdir(exist_ok=True)
        for taxonomy_id, root in sources.items():
            link = out / kind / taxonomy_id
            if not link.exists():
                link.symlink_to((root / kind / taxonomy_id).resolve(), target_is_directory=True)
    subset = []
    for entry, count in zip(entries, counts):
        ids = entry["train"]
        picked = [ids[i] for i in np.linspace(0, len(ids) - 1, count).round().astype(int)] if count else []
        subset.append({**entry, "train": picked, **{s: entry[s] for s in SPLITS if s != "train"}})
    (out / TAXONOMY_FILE).write_text(json.dumps(subset, indent=2) + "\n")
    return out


def arm_name(size: int | None, init: str | None, repeats: int = 1) -> str:
    name = f"{'all' if size is None else size}-{'scratch' if init is None else 'finetune'}"
    return name if repeats == 1 else f"{name}-base{repeats}x"


def base_repeats(share: float | None, base_objects: int, procedural_objects: int) -> int:
    """How many times the base dataset is listed so that its objects are about ``share`` of the
    training objects beside ``procedural_objects`` (``None``: once, the share falls as they grow)."""
    if share is None or procedural_objects == 0:
        return 1
    return max(1, round(share / (1 - share) * procedural_objects / base_objects))


def run_arm(args: argparse.Namespace, size: int | None, init: str | None) -> dict:
    """Train one arm (or resume it) and evaluate it; returns its figures."""
    from pix2vox import Reconstructor
    from pix2vox.heldout import heldout_results, save_json
    from pix2vox.train.loop import STATE_NAME, TrainConfig, split_samples, train

    everything = procedural_subset(args.procedural, None, args.out / SUBSET_DIR / "all")
    procedural = []
    if size != 0:
        procedural.append(str(procedural_subset(args.procedural, size, args.out / SUBSET_DIR / ("all" if size is None else str(size)))))
    base_objects = len(split_samples(str(args.base), "train"))
    procedural_objects = len(split_samples(procedural, "train")) if procedural else 0
    repeats = base_repeats(args.base_share, base_objects, procedural_objects)
    name = arm_name(size, init, repeats)
    folder = args.out / name
    result_file = folder / "figures.json"
    if result_file.is_file():
        logger.info("%s: done before", name)
        return json.loads(result_file.read_text())
    data = [str(args.base)] * repeats + procedural
    objects = len(split_samples(data, "train"))
    epoch_size = min(objects, args.epoch_size)
    epochs = math.ceil(args.samples / epoch_size)
    config = TrainConfig(
        data=tuple(data), out=str(folder), model="pix2voxpp-f", name=f"curve-{name}", init=init, epochs=epochs,
        multiview_epochs=0, batch_size=args.batch_size, lr=args.lr, milestones=(), epoch_size=epoch_size,
        val_limit=args.val_limit, seed=args.seed, threads=args.threads, dtype=args.dtype,
    )
    state = folder / STATE_NAME
    logger.info("%s: %d training objects, %d epochs of %d", name, objects, epochs, epoch_size)
    trained = train(config, resume=state if state.is_file() else None, progress=not args.quiet)
    figures = {"arm": name, "procedural_train": procedural_objects, "base_repeats": repeats,
               "init": init, "samples": epochs * epoch_size}
    official = Reconstructor.from_pretrained(trained, device="cpu", preprocess="official")
    auto = Reconstructor.from_pretrained(trained, device="cpu", preprocess="auto")
    for label, root in (("base", args.base), ("procedural", everything)):
        results = heldout_results(official, auto, root, views=(1,), progress=not args.quiet)
        save_json(results, folder / f"heldout-{label}.json")
        figures[label] = results.to_dict()
    result_file.write_text(json.dumps(figures, indent=2) + "\n")
    return figures


def table(arms: list[dict], categories: list[str]) -> str:
    """Markdown: one row per arm and a mean-shape baseline row; first the base test split (overall
    and ``categories``) with the procedural overall, then the procedural test split per category."""
    return _table(arms, "base", categories, extra="procedural") + "\n" + _table(
        arms, "procedural", [c["taxonomy_name"] for c in arms[0]["procedural"]["categories"]] if arms else [])


def _table(arms: list[dict], split: str, categories: list[str], extra: str | None = None) -> str:
    head = ["arm", "procedural train models", "samples", f"{split} IoU", *categories, *([f"{extra} IoU"] if extra else [])]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for arm in arms:
        per = {c["taxonomy_name"]: c["iou_1"] for c in arm[split]["categories"]}
        cells = [arm["arm"], str(arm["procedural_train"]), str(arm["samples"]), f"{arm[split]['overall']['iou_1']:.3f}",
                 *[f"{per[c]:.3f}" if c in per else "" for c in categories],
                 *([f"{arm[extra]['overall']['iou_1']:.3f}"] if extra else [])]
        lines.append("| " + " | ".join(cells) + " |")
    if arms:
        base = {c["taxonomy_name"]: c["baseline_iou"] for c in arms[0][split]["categories"]}
        cells = ["mean-shape baseline", "", "", "", *[f"{base[c]:.3f}" if base.get(c) is not None else "" for c in categories],
                 *([""] if extra else [])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, type=Path, help="base dataset (Sweet Home 3D), with its own split")
    parser.add_argument("--procedural", required=True, type=Path, nargs="+", help="procedural datasets (Infinigen)")
    parser.add_argument("--sizes", nargs="+", default=["0", "600", "2000", "all"], help="procedural training models per arm")
    parser.add_argument("--init", nargs="+", default=["pix2voxpp-f-furniture"],
                        help="weights to fine-tune from, or 'scratch' (default: pix2voxpp-f-furniture)")
    parser.add_argument("--samples", type=int, default=40_000, help="training samples per arm (default: 40000)")
    parser.add_argument("--base-share", type=float, metavar="S",
                        help="list the base dataset several times, so that its objects are about this share "
                             "(0-1) of each arm's training objects (default: once)")
    parser.add_argument("--epoch-size", type=int, default=2000, help="objects per epoch (default: 2000)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2.5e-4)
    parser.add_argument("--val-limit", type=int, default=200)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--dtype", choices=DTYPES, default="float32",
                        help="precision of the forward pass (bfloat16 pays only with bfloat16 instructions)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--categories", nargs="+", default=["chair", "table", "sofa", "bed", "cabinet", "lamp"],
                        help="base categories with their own column")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.base_share is not None and not 0 < args.base_share < 1:
        parser.error(f"--base-share must be between 0 and 1, got {args.base_share}")
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(asctime)s %(message)s")
    for init in args.init:
        for size in args.sizes:
            run_arm(args, None if size == "all" else int(size), None if init == "scratch" else init)
            arms = finished_arms(args.out)
            (args.out / "curve.md").write_text(table(arms, args.categories))
            (args.out / "curve.json").write_text(json.dumps(arms, indent=2) + "\n")
    print(table(finished_arms(args.out), args.categories), end="")
    return 0


def finished_arms(out: Path) -> list[dict]:
    """The figures of every finished arm under ``out`` (also those of earlier commands): fine-tuned
    arms first, each group by its number of procedural models."""
    arms = [json.loads(path.read_text()) for path in out.glob("*/figures.json")]
    return sorted(arms, key=lambda arm: (arm["init"] is None, arm["procedural_train"], arm["samples"], arm.get("base_repeats", 1)))


if __name__ == "__main__":
    sys.exit(main())
