"""Procedural ShapeNet-like datasets: primitive-built objects, their voxels and renderings.

Objects of 13 categories are assembled from boxes, frusta and ellipsoids (:mod:`.shapes`) in
ShapeNet's canonical pose (y up, the front facing +x), normalised to the unit cube and voxelised
like ShapeNetVox32 (:mod:`.geometry`), rendered by a numpy ray caster (:mod:`.render`) and written
in the ShapeNetRendering/ShapeNetVox32 layout with a Pix2Vox taxonomy JSON (:mod:`.dataset`).
Command line: ``pix2vox-synth`` (:mod:`pix2vox.cli.synth`).
"""

from pix2vox.synth.dataset import SynthConfig, SynthObject, generate_dataset, generate_object
from pix2vox.synth.solids import Part, voxelize
from pix2vox.synth.render import Camera, project, render
from pix2vox.synth.shapes import CATEGORIES, Category, make_shape

__all__ = [
    "CATEGORIES",
    "Category",
    "Part",
    "SynthConfig",
    "SynthObject",
    "Camera",
    "generate_dataset",
    "generate_object",
    "make_shape",
    "project",
    "render",
    "voxelize",
]
