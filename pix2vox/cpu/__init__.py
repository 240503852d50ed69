"""Opt-in CPU inference: :func:`optimize` swaps faster, equivalent parts into a network.

Nothing in :mod:`pix2vox.models` imports this package; :class:`pix2vox.Reconstructor` uses it
on CPUs only (training and GPUs run the plain networks). Modules:

- :mod:`.optimized`: :func:`optimize` and the weight-tracking :func:`cached_copy`;
- :mod:`.folding`: batch norms folded into 2D convolutions (the encoder);
- :mod:`.winograd`: 3×3 convolutions by Winograd's F(4×4, 3×3);
- :mod:`.fast_decoder`: the decoder with a sparse first layer;
- :mod:`.fusion`: the fusion blocks, folded, with depth-split convolutions;
- :mod:`.onednn`: oneDNN matrix products, probed once, with a public fallback;
- :mod:`.workers`: a batch's objects shared among threads.
"""

from .optimized import cached_copy, optimize, weights_key

__all__ = ["cached_copy", "optimize", "weights_key"]
