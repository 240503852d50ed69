"""ONNX export of the whole network, and a runner of the exported file on ``onnxruntime``.

The exported graph is the plain network — encoder → decoder → context-aware fusion → refiner —
for any number of objects and views:

==============  ========  =================================  ===============================================
 name            kind      shape (float32)                    meaning
==============  ========  =================================  ===============================================
views           input     ``(batch, views, 3, 224, 224)``    preprocessed views (:func:`pix2vox.preprocess.preprocess`)
volumes         output    ``(batch, 32, 32, 32)``            final occupancy probabilities in [0, 1]
coarse          output    ``(batch, views, 32, 32, 32)``     each view's decoded volume
fusion_weights  output    ``(batch, views, 32, 32, 32)``     fusion weights, summing to 1 over the views
==============  ========  =================================  ===============================================

``batch`` and ``views`` are dynamic axes (each from 1 up). Axes of the volumes are those of
:class:`pix2vox.Result` (``[x, y, z]``, y up). The file's metadata (``metadata_props``) holds
our ``config.json`` under the key ``pix2vox_config`` (name, architecture, preprocessing,
threshold), which :class:`OnnxReconstructor` reads back. The default opset is :data:`OPSET`.

Exporting needs the ``onnx`` and ``onnxscript`` packages, running needs ``onnxruntime``:
``pip install "pix2vox[onnx]"``. Neither is imported by ``import pix2vox`` nor by
:mod:`pix2vox.models`; this module imports them when a function needs them.

Example:
    >>> Reconstructor("pix2voxpp-f-furniture").export_onnx("model.onnx")   # doctest: +SKIP
    >>> OnnxReconstructor("model.onnx").predict(["front.png", "side.png"])  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import CheckpointError, Pix2VoxError
from .result import Result

if TYPE_CHECKING:

    from .models import Pix2Vox
    from .preprocess import Mode, View
    from .reconstructor import Reconstructor

logger = logging.getLogger(__name__)

__all__ = ["INPUT_NAME", "METADATA_KEY", "OPSET", "OUTPUT_NAMES", "OnnxReconstructor", "export_network", "max_difference"]

OPSET = 18
"""Default ONNX opset of exported files (onnxruntime ≥ 1.14 runs it)."""

INPUT_NAME = "views"
"""Name of the graph's input: ``(batch, views, 3, 224, 224)`` float32."""

OUTPUT_NAMES = ("volumes", "coarse", "fusion_weights")
"""Names of the graph's outputs, in order (see the module docstring)."""

METADATA_KEY = "pix2vox_config"
"""Key of the ``metadata_props`` entry holding the model's ``config.json`` (JSON text)."""

_MAX_AXIS = 4096  # upper bound of the dynamic axes declared to the exporter


def _missing(package: str, purpose: str) -> Pix2VoxError:
    return Pix2VoxError(f"{purpose} needs the {package!r} package: pip install \"pix2vox[onnx]\"")


def export_network(
    model: Pix2Vox,
    path: str | os.PathLike,
    *,
    config: dict[str, Any] | None = None,
    opset: int = OPSET,
) -> Path:
    """Write ``model`` as an ONNX file with dynamic batch and view axes.

    The plain network of :mod:`pix2vox.models` is exported in eval mode with ``torch.export``
    (never :mod:`pix2vox.cpu`'s optimised copy), on a float32 CPU copy when the model lives
    elsewhere. The file is written all or nothing.

    Args:
        model: the network (its mode and device are left as they were).
        path: the ``.onnx`` file to write (its folder must exist; an existing file is replaced).
        config: our ``config.json`` content (:meth:`pix2vox.Reconstructor.config`), stored in the
            file's metadata so that :class:`OnnxReconstructor` knows the preprocessing and threshold.
        opset: ONNX opset version (default :data:`OPSET`).

    Returns:
        The path written.

    Raises:
        Pix2VoxError: ``onnx`` or ``onnxscript`` is not installed.
    """
    import torch

    try:
        import onnx
        import onnxscript  # noqa: F401  (torch.onnx's exporter needs it)
    except ImportError as error:
        raise _missing(error.name or "onnx", "ONNX export") from None
    from .atomic import write_bytes_atomic

    target = Path(path)
    source = next(model.parameters())
    if source.device.type != "cpu" or source.dtype != torch.float32:
        model = copy.deepcopy(model).to("cpu", torch.float32)
    was_training = model.training
    from .onnx_model import Pix2VoxOnnxModel

    network = Pix2VoxOnnxModel(model).eval()
    example = torch.zeros(1, 2, 3, 224, 224)
    batch = torch.export.Dim("batch", min=1, max=_MAX_AXIS)
    views = torch.export.Dim("views", min=1, max=_MAX_AXIS)
    chatter = io.StringIO()
    try:
        # Gradients on while tracing: any module that checks for inference picks its plain path.
        # The exporter prints its progress on stdout: kept for the debug log instead.
        with torch.enable_grad(), contextlib.redirect_stdout(chatter), warnings.catch_warnings():
            # The decoder's fold matrix is cached with lru_cache; traced, it becomes a constant of the graph.
            warnings.filterwarnings("ignore", message="Dynamo detected a call to a `functools.lru_cache`", category=UserWarning)
            program = torch.onnx.export(
                network,
                (example,),
                input_names=[INPUT_NAME],
                output_names=list(OUTPUT_NAMES),
                opset_version=opset,
                dynamo=True,
                dynamic_shapes=({0: batch, 1: views},),
                optimize=True,
                verbose=False,
            )
    finally:
        model.train(was_training)
        if chatter.getvalue().strip():
            logger.debug("torch.onnx.export: %s", chatter.getvalue().strip())
    proto = program.model_proto
    proto.producer_name = "pix2vox"
    if config is not None:
        proto.doc_string = f"pix2vox {config.get('name', '')}: views (batch, views, 3, 224, 224) -> volumes, coarse, fusion_weights"
        onnx.helper.set_model_props(proto, {METADATA_KEY: json.dumps(config, sort_keys=True)})
    write_bytes_atomic(target, proto.SerializeToString())
    logger.info("wrote %s (opset %d)", target, opset)
    return target


def _read_config(session: Any, source: str) -> dict[str, Any]:
    meta = session.get_modelmeta().custom_metadata_map
    if METADATA_KEY not in meta:
        raise CheckpointError(f"{source}: no {METADATA_KEY!r} metadata; export it with pix2vox-onnx or Reconstructor.export_onnx")
    try:
        return json.loads(meta[METADATA_KEY])
    except ValueError as error:
        raise CheckpointError(f"{source}: unreadable {METADATA_KEY!r} metadata ({error})") from None


class OnnxReconstructor:
    """Runs an exported file on ``onnxruntime``, with the preprocessing and results of :class:`pix2vox.Reconstructor`.

    Args:
        path: an ``.onnx`` file written by :func:`export_network` (``pix2vox-onnx``,
            :meth:`pix2vox.Reconstructor.export_onnx`).
        preprocess: ``"auto"`` or ``"official"``, as for :class:`pix2vox.Reconstructor`.
        threads: onnxruntime's intra-op threads (default: its own choice, one per core).
        providers: onnxruntime execution providers (default: ``["CPUExecutionProvider"]``).

    Attributes:
        name: the model's name (from the file's metadata).
        threshold: the checkpoint's occupancy threshold (may be changed).
        preprocess_config: the checkpoint's preprocessing.
        preprocess_mode: ``"auto"`` or ``"official"``.
        session: the ``onnxruntime.InferenceSession``.

    Raises:
        Pix2VoxError: ``onnxruntime`` is not installed.
        CheckpointError: the file is missing, not ONNX, or not written by pix2vox.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        preprocess: Mode = "auto",
        threads: int | None = None,
        providers: Sequence[str] | None = None,
    ):
        from .preprocess import MODES, PreprocessConfig

        if preprocess not in MODES:
            raise ValueError(f"unknown preprocess mode {preprocess!r}; expected one of {', '.join(MODES)}")
        try:
            import onnxruntime
        except ImportError:
            raise _missing("onnxruntime", "OnnxReconstructor") from None
        source = os.fspath(path)
        if not Path(source).is_file():
            raise CheckpointError(f"{source}: no such file")
        options = onnxruntime.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        try:
            self.session = onnxruntime.InferenceSession(source, options, providers=list(providers or ["CPUExecutionProvider"]))
        except Exception as error:  # onnxruntime raises its own (unexported) exception types
            raise CheckpointError(f"{source}: not a readable ONNX model ({error})") from None
        config = _read_config(self.session, source)
        try:
            self.name = str(config["name"])
            self.threshold = float(config["threshold"])
            self.preprocess_config = PreprocessConfig.from_dict(config["preprocess"])
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(f"{source}: incomplete {METADATA_KEY!r} metadata ({type(error).__name__}: {error})") from None
        self.preprocess_mode: Mode = preprocess
        self.path = Path(source)
        logger.info("loaded %s from %s (%s)", self.name, source, ", ".join(self.session.get_providers()))

    def preprocess(self, views: View | Iterable[View]) -> np.ndarray:
        """One object's views as the network sees them: ``(V, 3, 224, 224)`` float32 (:func:`pix2vox.preprocess.preprocess`)."""
        from .preprocess import preprocess

        return preprocess(views, self.preprocess_config, self.preprocess_mode).numpy()

    def predict(self, views: View | Iterable[View], *, details: bool = False) -> Result:
        """Reconstruct one object from one or more views, as :meth:`pix2vox.Reconstructor.predict`.

        Args:
            views: paths, ``PIL.Image``s, arrays or tensors (see :mod:`pix2vox.preprocess`).
            details: also return the per-view coarse volumes and fusion weights.
        """
        return self.predict_batch([views], details=details)[0]

    def predict_batch(self, objects: Sequence[View | Iterable[View]], *, details: bool = False) -> list[Result]:
        """Reconstruct many objects; those with the same number of views run in one pass.

        Args:
            objects: one entry per object, each a view or a sequence of views.
            details: also return per-view coarse volumes and fusion weights.

        Returns:
            One :class:`pix2vox.Result` per object, in order.
        """
        from .preprocess import is_single_view

        arrays = [self.preprocess([views] if is_single_view(views) else list(views)) for views in objects]
        results: list[Result | None] = [None] * len(arrays)
        for count in sorted({array.shape[0] for array in arrays}):
            members = [i for i, array in enumerate(arrays) if array.shape[0] == count]
            volumes, coarse, fusion_weights = self.session.run(list(OUTPUT_NAMES), {INPUT_NAME: np.stack([arrays[i] for i in members])})
            for row, i in enumerate(members):
                results[i] = Result(
                    probabilities=volumes[row],
                    threshold=self.threshold,
                    coarse=coarse[row] if details else None,
                    fusion_weights=fusion_weights[row] if details else None,
                )
        return [result for result in results if result is not None]


def max_difference(reconstructor: Reconstructor, path: str | os.PathLike, *, view_counts: Sequence[int] = (1, 3), seed: int = 0) -> float:
    """Largest absolute difference between PyTorch and an exported file on random inputs.

    Random views in [-1, 1] (one object per count in ``view_counts``) go through
    ``reconstructor``'s network and through the file on ``onnxruntime``; all three outputs
    (volumes, coarse volumes, fusion weights) are compared.

    Args:
        reconstructor: the model the file was exported from.
        path: the ``.onnx`` file.
        view_counts: numbers of views to try.
        seed: seed of the random views.
    """
    import torch

    session = OnnxReconstructor(path).session
    generator = torch.Generator().manual_seed(seed)
    worst = 0.0
    for count in view_counts:
        views = torch.rand(count, 3, 224, 224, generator=generator) * 2 - 1
        with torch.inference_mode():
            expected = reconstructor.model.reconstruct(views.to(reconstructor.device, reconstructor.dtype), [count])
        got = session.run(list(OUTPUT_NAMES), {INPUT_NAME: views[None].numpy()})
        for reference, value in zip((expected.volumes, expected.coarse[None], expected.fusion_weights[None]), got):
            worst = max(worst, float(np.abs(reference.float().cpu().numpy() - value).max()))
    return worst
