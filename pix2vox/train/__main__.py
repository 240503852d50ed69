"""``python -m pix2vox.train``."""

import sys

from .cli import main

sys.exit(main())
