"""``python -m pix2vox.train``: the same as ``pix2vox-train``."""

import sys

from pix2vox.cli.train import main

sys.exit(main())
