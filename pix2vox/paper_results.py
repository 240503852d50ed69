"""Numbers reported by the Pix2Vox and Pix2Vox++ papers, for side-by-side evaluation reports.

Sources (see ``docs/architecture.md``, "Paper numbers"): Pix2Vox (arXiv 1901.11153) Table 1, single-view
ShapeNet IoU per category, as quoted by third-party READMEs and matching an official Pix2Vox-A run
at threshold 0.3 (hzxie/Pix2Vox issue 122); Pix2Vox++ (arXiv 2006.12250) F-score@1% by number of
views, the row labelled "Pix2Vox++" (presumably Pix2Vox++/A) in the UMIFormer and LRGT READMEs.
Overall IoU by number of views is each checkpoint's ``reported_iou`` in :mod:`pix2vox.loading.registry`
(kept there, not repeated here). Not found, hence absent: per-category numbers for Pix2Vox++,
anything for Pix2Vox++/F, Pix3D numbers.
"""

from __future__ import annotations

import dataclasses

from pix2vox.loading.registry import get_record, list_models

__all__ = ["PAPER_THRESHOLD", "PaperNumbers", "SINGLE_VIEW_IOU", "TAXONOMY_NAMES", "paper_numbers"]

#: Threshold the papers' IoUs correspond to (inferred from the official Pix2Vox-A run).
PAPER_THRESHOLD = 0.3

#: Category names of the 13 ShapeNet taxonomies in the papers' tables, by synset id (the first spelled as
#: in the original code's taxonomy file and everywhere in this package).
TAXONOMY_NAMES: dict[str, str] = {
    "02691156": "aeroplane",
    "02828884": "bench",
    "02933112": "cabinet",
    "02958343": "car",
    "03001627": "chair",
    "03211117": "display",
    "03636649": "lamp",
    "03691459": "speaker",
    "04090263": "rifle",
    "04256520": "sofa",
    "04379243": "table",
    "04401088": "telephone",
    "04530566": "watercraft",
}

_IDS = tuple(TAXONOMY_NAMES)

#: Single-view ShapeNet IoU per category (Pix2Vox Table 1), by model name, then synset id.
#: ``"3d-r2n2"`` is the paper's baseline column.
SINGLE_VIEW_IOU: dict[str, dict[str, float]] = {
    name: dict(zip(_IDS, values))
    for name, values in {
        "3d-r2n2": (0.513, 0.421, 0.716, 0.798, 0.466, 0.468, 0.381, 0.662, 0.544, 0.628, 0.513,
                    0.661, 0.513),
        "pix2vox-f": (0.600, 0.538, 0.765, 0.837, 0.535, 0.511, 0.435, 0.707, 0.598, 0.687, 0.587,
                      0.770, 0.582),
        "pix2vox-a": (0.684, 0.616, 0.792, 0.854, 0.567, 0.537, 0.443, 0.714, 0.615, 0.709, 0.601,
                      0.776, 0.594),
    }.items()
}

#: ShapeNet F-score@1% by number of views (Pix2Vox++ paper), by model name.
F_SCORE: dict[str, dict[int, float]] = {
    "pix2voxpp-a": dict(zip((1, 2, 3, 4, 5, 8, 12, 16, 20),
                            (0.436, 0.452, 0.455, 0.457, 0.458, 0.459, 0.460, 0.461, 0.462))),
}


@dataclasses.dataclass(frozen=True)
class PaperNumbers:
    """What a paper reports for one model and number of views on the ShapeNet test split.

    Attributes:
        model: Registry name.
        n_views: Number of input views.
        threshold: Threshold of the IoUs (:data:`PAPER_THRESHOLD`).
        overall_iou: Mean IoU over all test samples, if reported.
        category_iou: IoU per synset id (single view, Pix2Vox only), else empty.
        f_score: F-score@1%, if reported.
    """

    model: str
    n_views: int
    threshold: float
    overall_iou: float | None
    category_iou: dict[str, float]
    f_score: float | None


def paper_numbers(model: str, n_views: int) -> PaperNumbers | None:
    """The papers' ShapeNet numbers for a registered model, or ``None`` if there are none.

    Args:
        model: Registry name, e.g. ``"pix2vox-a"``.
        n_views: Number of views per object.
    """
    if model not in list_models():
        return None
    overall = get_record(model).reported_iou.get(n_views)
    categories = SINGLE_VIEW_IOU.get(model, {}) if n_views == 1 else {}
    f_score = F_SCORE.get(model, {}).get(n_views)
    if overall is None and not categories and f_score is None:
        return None
    return PaperNumbers(model, n_views, PAPER_THRESHOLD, overall, dict(categories), f_score)
