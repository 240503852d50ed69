"""Read and write the files pix2vox produces: binvox grids, meshes and arrays."""
