"""Held-out results of a checkpoint, as its model card reports them.

On the test split of a ShapeNet-layout dataset (models never seen in training), for each number of
views (the first ``V`` renderings of every model), with ``official`` preprocessing: IoU at the
checkpoint's threshold and F-score@1 %, per category and over all models; the same at one view
with ``auto`` preprocessing; and each category's **mean-shape baseline**: the average training
occupancy of the category, thresholded at the value that gives it the best mean test IoU (so the
baseline is as strong as it can be). Also: the share of models whose IoU improves from one view to
the most views.

Categories with fewer than ``min_test`` test models are left out of the per-category checks but
counted in "all".
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from pix2vox.datasets.shapenet import ShapeNetDataset
from pix2vox.evaluate import EvaluationReport, evaluate
from pix2vox.metrics import iou
from pix2vox.reconstructor import Reconstructor

__all__ = ["HeldoutResults", "heldout_results", "mean_shape_baselines", "median_objects", "turned_ious"]

logger = logging.getLogger(__name__)

_BASELINE_THRESHOLDS = tuple(np.round(np.arange(0.05, 1.0, 0.05), 2))


def mean_shape_baselines(root: str | os.PathLike[str]) -> dict[str, tuple[float, float]]:
    """Per category id: ``(best threshold, mean test IoU)`` of its average training occupancy."""
    sums: dict[str, NDArray[np.float64]] = {}
    counts: dict[str, int] = {}
    for sample in ShapeNetDataset(root, "train"):
        volume = sample.load_volume().astype(np.float64)
        sums[sample.taxonomy_id] = sums.get(sample.taxonomy_id, 0.0) + volume
        counts[sample.taxonomy_id] = counts.get(sample.taxonomy_id, 0) + 1
    scores: dict[str, list[NDArray[np.float64]]] = {}
    for sample in ShapeNetDataset(root, "test"):
        if sample.taxonomy_id in sums:
            mean = sums[sample.taxonomy_id] / counts[sample.taxonomy_id]
            scores.setdefault(sample.taxonomy_id, []).append(iou(mean, sample.load_volume(), _BASELINE_THRESHOLDS))
    result = {}
    for taxonomy, values in scores.items():
        means = np.mean(values, axis=0)
        best = int(np.argmax(means))
        result[taxonomy] = (float(_BASELINE_THRESHOLDS[best]), float(means[best]))
    return result


@dataclasses.dataclass(frozen=True)
class HeldoutResults:
    """What :func:`heldout_results` measured.

    Attributes:
        threshold: The checkpoint's occupancy threshold (IoU and F-score use it).
        official: Report per number of views, ``official`` preprocessing.
        auto: One-view report with ``auto`` preprocessing.
        baselines: Per category id, ``(threshold, IoU)`` of the mean shape.
        min_test: Test models a category needs to be checked on its own.
    """

    threshold: float
    official: dict[int, EvaluationReport]
    auto: EvaluationReport
    baselines: dict[str, tuple[float, float]]
    min_test: int

    def _column(self, report: EvaluationReport) -> int:
        return report.thresholds.index(self.threshold)

    def per_object(self, views: int) -> NDArray[np.float64]:
        """IoU of every test model at ``views`` views (dataset order)."""
        report = self.official[views]
        return np.array([s.iou[self._column(report)] for s in report.samples])

    def improved_share(self) -> float | None:
        """Share of models whose IoU is higher with the most views than with one; ``None`` when only
        one view was measured."""
        most = max(self.official)
        if most == 1:
            return None
        return float(np.mean(self.per_object(most) > self.per_object(1)))

    def to_dict(self) -> dict:
        """Summary (overall and per category) as plain JSON values."""
        one = self.official[1]
        rows = []
        for category in one.categories():
            row = {"taxonomy_id": category["taxonomy_id"], "taxonomy_name": category["taxonomy_name"], "n": category["n"]}
            for views, report in self.official.items():
                match = next(c for c in report.categories() if c["taxonomy_id"] == category["taxonomy_id"])
                row[f"iou_{views}"] = match["iou"][self._column(report)]
                row[f"f_score_{views}"] = match["f_score"]
            row["baseline_threshold"], row["baseline_iou"] = self.baselines.get(category["taxonomy_id"], (None, None))
            rows.append(row)
        overall = {f"iou_{v}": r.overall()["iou"][self._column(r)] for v, r in self.official.items()}
        overall |= {f"f_score_{v}": r.overall()["f_score"] for v, r in self.official.items()}
        overall["auto_iou_1"] = self.auto.overall()["iou"][self._column(self.auto)]
        overall["improved_share"] = self.improved_share()
        overall["n"] = one.overall()["n"]
        return {"threshold": self.threshold, "min_test": self.min_test, "overall": overall, "categories": rows}

    def to_markdown(self) -> str:
        """The model card's tables: all models, then categories with at least ``min_test`` models."""
        data = self.to_dict()
        views = sorted(self.official)
        o = data["overall"]
        lines = [
            f"| views | IoU@{self.threshold:g} | F-score@1% |",
            "|---|---|---|",
            *[f"| {v} | {o[f'iou_{v}']:.3f} | {o[f'f_score_{v}']:.3f} |" for v in views],
            "",
            f"{o['n']} test models. `auto` preprocessing, 1 view: IoU {o['auto_iou_1']:.3f} "
            f"(`official`: {o['iou_1']:.3f})."
            + (f" {views[-1]} views beat 1 view on {100 * o['improved_share']:.0f} % of the models."
               if o["improved_share"] is not None else ""),
            "",
            "| category | test models | " + " | ".join(f"IoU {v} view{'s' if v > 1 else ''}" for v in views)
            + " | mean-shape baseline (threshold) |",
            "|---|---|" + "---|" * len(views) + "---|",
        ]
        for row in data["categories"]:
            if row["n"] < self.min_test:
                continue
            cells = " | ".join(f"{row[f'iou_{v}']:.3f}" for v in views)
            base = "n/a" if row["baseline_iou"] is None else f"{row['baseline_iou']:.3f} ({row['baseline_threshold']:g})"
            lines.append(f"| {row['taxonomy_name']} | {row['n']} | {cells} | {base} |")
        return "\n".join(lines) + "\n"


def heldout_results(
    official: Reconstructor,
    auto: Reconstructor,
    root: str | os.PathLike[str],
    *,
    views: Sequence[int] = (1, 3, 5),
    min_test: int = 5,
    progress: bool = True,
) -> HeldoutResults:
    """Evaluates one checkpoint on the test split of ``root``.

    Args:
        official: The checkpoint with ``preprocess="official"``.
        auto: The same checkpoint with ``preprocess="auto"``.
        root: Dataset folder (``ShapeNet.json`` with train and test splits).
        views: View counts to evaluate; must include 1.
        min_test: Test models a category needs for its own row.
        progress: Progress bars.

    Raises:
        ValueError: ``views`` lacks 1, or the test split is empty.
    """
    if 1 not in views:
        raise ValueError(f"views must include 1, got {list(views)}")
    thresholds = (official.threshold,)
    reports = {}
    for count in sorted(views):
        data = ShapeNetDataset(root, "test", n_views=count)
        reports[count] = evaluate(official, data, thresholds=thresholds, progress=progress)
        logger.info("%d view(s): IoU %.4f", count, reports[count].overall()["iou"][0])
    auto_report = evaluate(auto, ShapeNetDataset(root, "test", n_views=1), thresholds=thresholds,
                           compute_f_score=False, progress=progress)
    return HeldoutResults(official.threshold, reports, auto_report, mean_shape_baselines(root), min_test)


def turned_ious(reconstructor: Reconstructor, root: str | os.PathLike[str], batch_size: int = 8) -> dict[int, float]:
    """Mean one-view test IoU with the prediction turned about y by 0, 90, 180 and 270 degrees.

    A checkpoint and a dataset in the same pose score best unturned; a 90° mismatch of frames (an
    object facing +z against ground truth facing +x) shows as a higher score at 90 or 270.
    """
    samples = list(ShapeNetDataset(root, "test", n_views=1))
    scores: dict[int, list[float]] = {0: [], 90: [], 180: [], 270: []}
    for start in range(0, len(samples), batch_size):
        chunk = samples[start : start + batch_size]
        results = reconstructor.predict_batch([list(s.view_paths) for s in chunk], progress=False)
        for sample, result in zip(chunk, results):
            truth = sample.load_volume()
            for angle in scores:
                # np.rot90 over axes (z, x) turns +x towards -z: a right-handed turn about +y.
                turned = np.rot90(result.probabilities, k=angle // 90, axes=(2, 0))
                scores[angle].append(float(iou(turned, truth, (reconstructor.threshold,))[0]))
    return {angle: float(np.mean(values)) for angle, values in scores.items()}


def median_objects(results: HeldoutResults, count: int = 6) -> list[tuple[str, str]]:
    """The rule for the card's pictures: in each of the ``count`` categories with the most test
    models (ties by name), the model with the median one-view IoU (the lower middle one).

    Returns:
        ``(taxonomy_id, model_id)`` pairs.
    """
    samples = results.official[1].samples
    scores = results.per_object(1)
    by_category: dict[str, list[int]] = {}
    for index, sample in enumerate(samples):
        by_category.setdefault(sample.taxonomy_id, []).append(index)
    names = {s.taxonomy_id: s.taxonomy_name for s in samples}
    chosen = sorted(by_category, key=lambda t: (-len(by_category[t]), names[t]))[:count]
    picks = []
    for taxonomy in chosen:
        members = sorted(by_category[taxonomy], key=lambda i: (scores[i], samples[i].model_id))
        picks.append((taxonomy, samples[members[(len(members) - 1) // 2]].model_id))
    return picks


def save_json(results: HeldoutResults, path: str | os.PathLike[str]) -> Path:
    """Writes :meth:`HeldoutResults.to_dict` plus per-model IoUs as JSON (atomically)."""
    from pix2vox.atomic import write_bytes_atomic

    data = results.to_dict()
    data["samples"] = {str(v): r.to_dict()["samples"] for v, r in results.official.items()}
    return write_bytes_atomic(path, (json.dumps(data, indent=2) + "\n").encode())
