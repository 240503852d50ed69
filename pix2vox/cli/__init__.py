"""Command-line programs of pix2vox."""
