"""Dataset readers: ShapeNet (Pix2Vox layout) and Pix3D, plus taxonomy/split files.

Readers are plain sequences of small frozen sample records holding paths; images and ground truth
are read only when asked (``load_volume()``, ``load_image()``), so wrapping them in a
``torch.utils.data.Dataset`` is a three-line class.
"""

from pix2vox.datasets.pix3d import Pix3DDataset, Pix3DSample, load_annotations, make_split
from pix2vox.datasets.missing import MissingFile
from pix2vox.datasets.shapenet import ShapeNetDataset, ShapeNetSample
from pix2vox.datasets.taxonomy import Taxonomy, load_taxonomies, split_counts, taxonomy_entry

__all__ = [
    "MissingFile",
    "Pix3DDataset",
    "Pix3DSample",
    "ShapeNetDataset",
    "ShapeNetSample",
    "Taxonomy",
    "load_annotations",
    "load_taxonomies",
    "make_split",
    "split_counts",
    "taxonomy_entry",
]
