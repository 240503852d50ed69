"""Evaluate a :class:`~pix2vox.Reconstructor` on a ShapeNet-layout split: IoU and F-score@1%.

The protocol is the official test script's: for every test model, its selected views are
reconstructed together, IoU is computed at each threshold (:func:`pix2vox.metrics.iou`), category
results are means over their models and "overall" is the mean over all models. F-score@1% is
computed at one threshold, by default the checkpoint's (:func:`pix2vox.metrics.f_score`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence


from pix2vox.datasets.missing import MissingFile
from pix2vox.datasets.shapenet import ShapeNetDataset
from pix2vox.metrics import (
    DEFAULT_THRESHOLDS,
    SurfaceSampling,
    category_means,
    f_score,
    iou,
    overall_mean,
)
from pix2vox.paper_results import PaperNumbers, paper_numbers
from pix2vox.reconstructor import Reconstructor

__all__ = ["EvaluationReport", "SampleScore", "evaluate"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class SampleScore:
    """Scores of one test model.

    Attributes:
        taxonomy_id: Category id.
        taxonomy_name: Category name.
        model_id: Model id.
        views: File names of the views used.
        iou: IoU at each of the report's thresholds.
        f_score: F-score@tau at the report's F-score threshold, or ``None`` if not computed.
    """

    taxonomy_id: str
    taxonomy_name: str
    model_id: str
    views: tuple[str, ...]
    iou: tuple[float, ...]
    f_score: float | None


@dataclasses.dataclass(frozen=True)
class EvaluationReport:
    """Everything an evaluation run measured, plus its settings.

    Attributes:
        model: The reconstructor's name.
        split: Dataset split.
        n_views: Views per model.
        view_selection: ``"first"`` or ``"random"``.
        seed: Seed of a random view selection.
        thresholds: IoU thresholds.
        f_score_threshold: Threshold of the F-score, or ``None`` if it was not computed.
        tau: F-score distance threshold (unit cube).
        f_score_sampling: Surface sampling of the F-score (see :func:`pix2vox.metrics.f_score`).
        samples: Per-model scores, in dataset order.
        missing: Models left out by the reader for missing files.
        paper: The papers' numbers for this model and view count, if any.
    """

    model: str
    split: str
    n_views: int
    view_selection: str
    seed: int
    thresholds: tuple[float, ...]
    f_score_threshold: float | None
    tau: float
    f_score_sampling: str
    samples: tuple[SampleScore, ...]
    missing: tuple[MissingFile, ...] = ()
    paper: PaperNumbers | None = None

    def _f_scores(self) -> list[float] | None:
        return None if self.f_score_threshold is None else [float(s.f_score) for s in self.samples]

    def categories(self) -> list[dict]:
        """Per category, in dataset order: ``taxonomy_id``, ``taxonomy_name``, ``n``, mean ``iou``
        per threshold and mean ``f_score`` (``None`` if not computed)."""
        ids = [s.taxonomy_id for s in self.samples]
        names = {s.taxonomy_id: s.taxonomy_name for s in self.samples}
        ious = category_means([s.iou for s in self.samples], ids) if ids else {}
        f_scores = self._f_scores()
        f_means = category_means(f_scores, ids) if f_scores and ids else {}
        return [
            {"taxonomy_id": t, "taxonomy_name": names[t], "n": ids.count(t),
             "iou": ious[t].tolist(), "f_score": float(f_means[t]) if f_means else None}
            for t in ious
        ]

    def overall(self) -> dict:
        """``n``, mean ``iou`` per threshold over all samples (the official "overall") and mean
        ``f_score``."""
        if not self.samples:
            raise ValueError("no samples were evaluated")
        f_scores = self._f_scores()
        return {
            "n": len(self.samples),
            "iou": overall_mean([s.iou for s in self.samples]).tolist(),
            "f_score": float(overall_mean(f_scores)) if f_scores else None,
        }

    def to_dict(self) -> dict:
        """A JSON-serialisable dictionary of the settings, results, paper numbers and samples."""
        return {
            "model": self.model,
            "split": self.split,
            "views": self.n_views,
            "view_selection": self.view_selection,
            "seed": self.seed,
            "thresholds": list(self.thresholds),
            "f_score": {"threshold": self.f_score_threshold, "tau": self.tau,
                        "sampling": self.f_score_sampling},
            "overall": self.overall(),
            "categories": self.categories(),
            "paper": dataclasses.asdict(self.paper) if self.paper else None,
            "missing": [{**dataclasses.asdict(m), "path": str(m.path)} for m in self.missing],
            "samples": [dataclasses.asdict(s) for s in self.samples],
        }

    def to_markdown(self) -> str:
        """A Markdown table: IoU per category and threshold, overall, F-score, paper numbers."""
        paper = self.paper
        show_iou = paper is not None and (paper.overall_iou is not None or bool(paper.category_iou))
        show_f = paper is not None and paper.f_score is not None
        f_label = f"F@{self.tau:g} (t={self.f_score_threshold:g})" if self.f_score_threshold else None
        head = ["category", "n"] + [f"IoU@{t:g}" for t in self.thresholds]
        head += [f_label] if f_label else []
        head += ["paper IoU"] if show_iou else []
        head += ["paper F"] if show_f else []
        lines = [
            f"## {self.model}: {self.split} split, {self.n_views} view(s), {self.view_selection} views",
            "",
            "| " + " | ".join(head) + " |",
            "|" + "---|" * len(head),
        ]

        def row(label: str, summary: dict, iou_value: float | None, f_value: float | None) -> str:
            cells = [label, str(summary["n"])] + [f"{v:.4f}" for v in summary["iou"]]
            cells += [_fmt(summary["f_score"])] if f_label else []
            cells += [_fmt(iou_value, 3)] if show_iou else []
            cells += [_fmt(f_value, 3)] if show_f else []
            return "| " + " | ".join(cells) + " |"

        for cat in self.categories():
            category_iou = paper.category_iou.get(cat["taxonomy_id"]) if paper else None
            lines.append(row(f"{cat['taxonomy_name']} ({cat['taxonomy_id']})", cat, category_iou, None))
        lines.append(row("**overall**", self.overall(), paper.overall_iou if paper else None,
                         paper.f_score if paper else None))
        lines.append("")
        if paper:
            lines.append(f"Paper columns: {self.model} with {paper.n_views} view(s) on the ShapeNet "
                         f"test split; IoU at t={paper.threshold:g} (threshold inferred).")
        if self.missing:
            lines.append(f"{len(self.missing)} model(s) left out for missing files.")
        return "\n".join(lines) + "\n"


def _fmt(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def evaluate(
    reconstructor: Reconstructor,
    dataset: ShapeNetDataset,
    *,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    f_score_threshold: float | None = None,
    tau: float = 0.01,
    f_score_sampling: SurfaceSampling = "mesh",
    compute_f_score: bool = True,
    batch_size: int = 8,
    limit: int | None = None,
    progress: bool = True,
) -> EvaluationReport:
    """Reconstructs every sample of ``dataset`` and scores it against its ground truth.

    Samples are read, reconstructed (``batch_size`` objects per forward pass) and scored one
    batch at a time, so memory does not grow with the dataset.

    Args:
        reconstructor: The model to evaluate.
        dataset: Samples with their selected views.
        thresholds: IoU thresholds.
        f_score_threshold: Threshold of the F-score (default: ``reconstructor.threshold``).
        tau: F-score distance threshold in unit-cube units.
        f_score_sampling: Surface sampling of the F-score (``"mesh"``, ``"what3d"``, ``"voxels"``).
        compute_f_score: Whether to compute the F-score (marching cubes and nearest-neighbour
            search take about as long as a small network's forward pass).
        batch_size: Objects per forward pass.
        limit: Evaluate only the first ``limit`` samples.
        progress: Show a progress bar over samples (on terminals).

    Returns:
        The report.

    Raises:
        ValueError: Bad arguments, or no samples to evaluate.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    samples = list(dataset)[:limit] if limit is not None else list(dataset)
    if not samples:
        raise ValueError(f"no samples to evaluate in the {dataset.split} split")
    t_f = (reconstructor.threshold if f_score_threshold is None else f_score_threshold) if compute_f_score else None
    scores: list[SampleScore] = []
    results = reconstructor.iter_predict([list(s.view_paths) for s in samples], batch_size=batch_size, progress=progress)
    for sample, result in zip(samples, results):
        gt = sample.load_volume()
        pred = result.probabilities
        scores.append(SampleScore(
            sample.taxonomy_id, sample.taxonomy_name, sample.model_id,
            tuple(p.name for p in sample.view_paths),
            tuple(float(v) for v in iou(pred, gt, thresholds)),
            float(f_score(pred, gt, threshold=t_f, tau=tau, sampling=f_score_sampling))
            if t_f is not None else None,
        ))
    report = EvaluationReport(
        model=reconstructor.name, split=dataset.split, n_views=dataset.n_views,
        view_selection=dataset.view_selection, seed=dataset.seed,
        thresholds=tuple(float(t) for t in thresholds), f_score_threshold=t_f, tau=tau,
        f_score_sampling=f_score_sampling, samples=tuple(scores), missing=tuple(dataset.missing),
        paper=paper_numbers(reconstructor.name, dataset.n_views),
    )
    logger.info("evaluated %d samples: overall IoU %s", len(scores), report.overall()["iou"])
    return report
