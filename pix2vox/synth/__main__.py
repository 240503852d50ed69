"""``python -m pix2vox.synth``: the same as ``pix2vox-synth``."""

import sys

from pix2vox.cli.synth import main

sys.exit(main())
