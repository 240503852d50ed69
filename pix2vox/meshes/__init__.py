"""Datasets in the ShapeNet layout from folders of real 3D models (``pix2vox-dataset``).

- :mod:`~pix2vox.meshes.load`: a mesh file as one triangle soup with its materials, in the
  canonical pose (y up, front towards +x), normalised to the unit cube.
- :mod:`~pix2vox.meshes.raster`: renderings of a textured mesh with lights, on the z-buffer of
  :mod:`pix2vox.raster`.
- :mod:`~pix2vox.meshes.voxelize`: solid 32³ occupancy, also for meshes that are not watertight.
- :mod:`~pix2vox.meshes.builder`: the dataset builder (renderings, voxels, splits).
- :mod:`~pix2vox.meshes.sweethome3d`: the importer of Sweet Home 3D furniture catalogues.

Nothing here is imported by the inference path.
"""
