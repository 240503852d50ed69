"""Pix2Vox and Pix2Vox++: 3D occupancy volumes from one or more images."""

__version__ = "0.1.0"
