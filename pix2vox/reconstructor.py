"""``Reconstructor``: weights, device, preprocessing and batching around a :class:`Pix2Vox` network."""

from __future__ import annotations

import functools
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import torch
from tqdm.auto import tqdm

from .cpu import cached_copy, optimize
from .cpu.workers import run_side_by_side, split_evenly
from .errors import CheckpointError
from .foreground import MaskSource, Segmenter
from .loading.checkpoint import load_into
from .loading.hub import PushReport, push_folder
from .loading.layout import FORMAT_VERSION, make_config, write_folder
from .loading.loader import HubOptions, is_repo_id, load_checkpoint
from .loading.registry import ModelRecord, list_models
from .models import Architecture, Pix2Vox
from .preprocess import MAX_PIXELS, MODES, Mode, View, is_single_view, preprocess
from .result import Result

logger = logging.getLogger(__name__)

__all__ = ["FORMAT_VERSION", "Reconstructor"]



def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; other names checked (``ValueError`` if invalid or unavailable)."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"invalid device {device!r} ({error})") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available")
    return resolved


def _check_options(mode: str, dtype: torch.dtype, device: str | torch.device) -> torch.device:
    """Validate the options before any weights are read; returns the resolved device."""
    if mode not in MODES:
        raise ValueError(f"unknown preprocess mode {mode!r}; expected one of {', '.join(MODES)}")
    resolved = resolve_device(device)
    if dtype not in (torch.float32, torch.float16, torch.bfloat16):
        raise ValueError(f"dtype must be torch.float32, torch.float16 or torch.bfloat16, not {dtype}")
    if dtype != torch.float32 and resolved.type != "cuda":
        raise ValueError(f"dtype={dtype} is only supported on CUDA devices; use float32 on {resolved}")
    return resolved


class _Masked(list):
    """One object's views with their masks (one per view, ``None`` for a view without)."""

    def __init__(self, views: list, masks: list):
        super().__init__(views)
        self.masks = masks


class Reconstructor:
    """Reconstruct 32³ occupancy volumes from one or more views of an object.

    Args:
        model: registry name (see :func:`pix2vox.list_models`); default
            ``"pix2voxpp-f-furniture"`` (:data:`pix2vox.loading.registry.DEFAULT_MODEL`), shipped in the package.
        weights: a local weights file, our ``.safetensors`` or one of the authors' ``.pth``
            files (e.g. ``Pix2Vox++-A-ShapeNet.pth``), or a folder in our layout; ``None``
            resolves the registered checkpoint: shipped with the package, from the Hub, or, for
            the authors' four models, fetched from the authors' server on first use and cached
            in ``PIX2VOX_CACHE`` (see :mod:`pix2vox.loading.authors`).
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda:1"``, …
        preprocess: ``"auto"`` for users' pictures, ``"official"`` to reproduce the authors'
            test-time transforms on ShapeNet-like renderings (see :mod:`pix2vox.preprocess`).
        revision: Hub revision overriding the registry's (the SHA-256 is then not checked).
        cache_dir: Hub cache folder (default: ``HF_HUB_CACHE``).
        local_files_only: never download, as with ``HF_HUB_OFFLINE=1``.
        token: Hub access token for a private or gated repository (default: ``HF_TOKEN`` or
            ``hf auth login``).
        force_download: download again even when the files are cached.
        sha256: expected SHA-256 of the file read or downloaded (``weights=``, the Hub's
            ``model.safetensors``, or the authors' ``.pth``); a mismatch is refused. For the
            authors' models it is recorded at the first download and checked at every load.
        dtype: ``torch.float32`` (default), or ``torch.bfloat16`` / ``torch.float16`` on CUDA
            (faster; thresholded outputs agree with float32 to an IoU above 0.99).
        compile: compile the network parts with ``torch.compile`` (slow first call).

    Attributes:
        encoder_batch: views encoded at once (2 on CPU, all on GPU); results do not depend on it.
        prefetch: in :meth:`predict_batch`, decode the next batch's images in a background thread
            while the current batch runs (default: on GPU).
        workers: on a CPU, split each batch's objects among this many threads, each running the
            network with an equal share of PyTorch's threads (default ``None``: one per PyTorch
            thread, ``torch.get_num_threads()``; 1: the whole batch in one pass). Separate
            single-threaded passes are 8–21 % faster than one pass over all cores, since the
            small and memory-bound operations scale poorly across threads. Results agree with
            one pass to float rounding. A single object always runs as one pass.
        segmenter: ``auto`` preprocessing: ``segmenter(rgb) -> mask`` (``(H, W, 3)`` float32 RGB in
            [0, 1] → ``(H, W)`` bool or float mask) for views that are neither cut-outs nor on a
            plain background, e.g. a segmentation network of your choice; ``None`` (default):
            OpenCV's GrabCut when ``pix2vox[photo]`` is installed (see :mod:`pix2vox.foreground`).
        max_pixels: largest image file (width × height) decoded, checked from its header
            (default :data:`pix2vox.preprocess.MAX_PIXELS`, 40 million; ``None``: no limit).

    Raises:
        UnknownModelError: ``model`` is not registered.
        DownloadError: the weights are neither cached nor downloadable (the message says how
            to work offline).
        CheckpointError: the file is unreadable, does not fit ``model``, or fails its SHA-256.

    Example:
        >>> rec = Reconstructor("pix2voxpp-a")  # the authors' file, fetched and cached on first use  # doctest: +SKIP
        >>> rec.predict(["front.png", "side.png"]).probabilities.shape  # doctest: +SKIP
        (32, 32, 32)
    """

    def __init__(
        self,
        model: str | os.PathLike | None = None,
        *,
        weights: str | os.PathLike | None = None,
        device: str | torch.device = "auto",
        preprocess: Mode = "auto",
        revision: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        local_files_only: bool = False,
        token: str | bool | None = None,
        force_download: bool = False,
        sha256: str | None = None,
        dtype: torch.dtype = torch.float32,
        compile: bool = False,
    ):
        resolved = _check_options(preprocess, dtype, device)
        hub = HubOptions(revision=revision, cache_dir=cache_dir, local_files_only=local_files_only, token=token,
                         force_download=force_download, sha256=sha256)
        found = load_checkpoint(model, weights, hub=hub)
        self._setup(found.record, found.state, found.source, device=resolved, mode=preprocess, dtype=dtype, compile=compile)

    @classmethod
    def from_pretrained(cls, repo_id_or_path: str | os.PathLike, **options: Any) -> Reconstructor:
        """Load a folder or Hub repository in our layout (``config.json`` + ``model.safetensors``).

        Args:
            repo_id_or_path: a local folder (e.g. written by :meth:`save_pretrained` or
                ``pix2vox-convert``, or a snapshot folder of the Hub cache), or a Hub repository
                id such as ``"org/name"`` (``"hf-hub:org/name"`` also works).
            **options: the keyword arguments of :class:`Reconstructor` (``device``, ``preprocess``,
                the Hub's ``revision``, ``cache_dir``, ``local_files_only``, ``token``,
                ``force_download``, ``sha256``, ``dtype``, ``compile``) but ``weights``. For a
                repository of the registry the default revision is its pinned one, whose
                SHA-256 is checked.

        Raises:
            CheckpointError: a folder lacks a file, the config is not ours, or the weights do
                not fit it or fail the checksum.
            DownloadError: a repository that is neither cached nor downloadable.
        """
        if "weights" in options:
            raise TypeError("from_pretrained() takes the weights' folder or repository as its argument, not weights=")
        text = os.fspath(repo_id_or_path)
        local = Path(text).exists()  # a folder, or a file that the loader refuses as one
        if not local and not is_repo_id(text):
            hint = f"; for the registered model use Reconstructor({text!r})" if text in list_models() else ""
            raise CheckpointError(f"{text}: no such folder (nor a Hub repository id like 'org/name'){hint}")
        return cls(Path(text) if local else text, **options)

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write this model as a folder in our layout, ready for the Hub or :meth:`from_pretrained`.

        Writes ``model.safetensors`` (one flat state dict, contiguous CPU tensors, metadata
        ``{"format": "pt"}``), ``config.json`` (:meth:`config`) and a ``README.md`` model card.
        Files are written to temporary names and renamed when all are complete, so an error
        leaves no half-written file. Existing files of these names are replaced.

        Returns:
            The folder.
        """
        state = {key: value.float() if value.is_floating_point() else value for key, value in self.model.state_dict().items()}
        return write_folder(directory, state, self.record)

    def push_to_hub(
        self,
        repo_id: str,
        *,
        token: str | bool | None = None,
        private: bool = False,
        revision: str | None = None,
        commit_message: str = "Upload pix2vox weights",
    ) -> PushReport:
        """Publish this model to a Hugging Face Hub repository, in the layout :meth:`from_pretrained` reads.

        Writes the folder of :meth:`save_pretrained` to a temporary directory and commits it with
        ``huggingface_hub``'s ``create_repo`` and ``upload_folder`` (see :func:`pix2vox.loading.hub.push_folder`).

        Args:
            repo_id: ``"org/name"``; created when missing.
            token: access token with write permission (default: ``HF_TOKEN`` or ``hf auth login``).
            private: create the repository private (an existing one keeps its visibility).
            revision: branch to commit to, created from ``main`` when missing (default ``main``).
            commit_message: summary of the commit.

        Returns:
            The commit hash and the SHA-256 of ``model.safetensors``: pin both in a registry record
            (``report.registry_change(record)`` says how) to make ``Reconstructor(name)`` load
            exactly this commit.
        """
        import tempfile

        with tempfile.TemporaryDirectory(prefix="pix2vox-push-") as scratch:
            folder = self.save_pretrained(Path(scratch) / "model")
            return push_folder(folder, repo_id, token=token, private=private, revision=revision, commit_message=commit_message)

    def export_onnx(self, path: str | os.PathLike, *, opset: int | None = None) -> Path:
        """Write the network as an ONNX file for any number of objects and views (``pip install "pix2vox[onnx]"``).

        Input ``views`` ``(batch, views, 3, 224, 224)`` (what :meth:`preprocess` returns, per
        object), outputs ``volumes`` ``(batch, 32, 32, 32)``, ``coarse`` and ``weights``
        ``(batch, views, 32, 32, 32)``; the file's metadata holds :meth:`config`. Run it with
        :class:`pix2vox.onnx.OnnxReconstructor` (see :mod:`pix2vox.onnx`).

        Args:
            path: the ``.onnx`` file to write (replaced all or nothing).
            opset: ONNX opset version (default :data:`pix2vox.onnx.OPSET`).

        Returns:
            The path written.
        """
        from .onnx import OPSET, export_network

        return export_network(self.model, path, config=self.config(), opset=OPSET if opset is None else opset)

    @property
    def record(self) -> ModelRecord:
        """The record of the loaded checkpoint (registry metadata when known), with the current threshold."""
        return self._record.replace(threshold=self.threshold)

    def _setup(
        self,
        record: ModelRecord,
        state: dict[str, torch.Tensor],
        source: str,
        *,
        device: torch.device,
        mode: Mode,
        dtype: torch.dtype,
        compile: bool,
    ) -> None:
        self._record = record
        self.name = record.name
        self.threshold = record.threshold
        self.preprocess_config = record.preprocess
        self.preprocess_mode: Mode = mode
        self.device = device
        self.dtype = dtype
        # A few views at a time keep CPU caches warm; a GPU takes them all at once.
        self.encoder_batch: int | None = 2 if self.device.type == "cpu" else None
        # A GPU waits for images decoded on the CPU; on a CPU each worker decodes its own objects.
        self.prefetch = self.device.type != "cpu"
        self.workers: int | None = None  # CPU: one single-threaded worker per PyTorch thread
        self.segmenter: Segmenter | None = None
        self.max_pixels: int | None = MAX_PIXELS  # largest image file decoded (None: no limit)
        with torch.device("meta"):
            network = Pix2Vox(record.architecture)
        load_into(network, state, model_name=record.name, source=source)
        self.model = network.to(self.device, dtype).eval().requires_grad_(False)
        if compile:
            for part in (self.model.encoder, self.model.decoder, self.model.merger, self.model.refiner):
                if part is not None:
                    part.compile(dynamic=True)
        # Chosen once: on a CPU (uncompiled) the network runs as pix2vox.cpu.optimize's copy,
        # made on first use and remade if the weights of self.model change; elsewhere as it is.
        self._optimize = self.device.type == "cpu" and not compile
        logger.info("loaded %s from %s on %s (%s)", record.name, source, self.device, str(dtype).removeprefix("torch."))

    @property
    def architecture(self) -> Architecture:
        """The network variant."""
        return self.model.architecture

    def config(self) -> dict:
        """Our ``config.json`` content for these weights (format version, name, architecture, preprocessing, threshold)."""
        return make_config(self.record)

    def preprocess(
        self,
        views: View | Iterable[View],
        *,
        mask: MaskSource | Sequence[MaskSource | None] | None = None,
        foregrounds: list | None = None,
    ) -> torch.Tensor:
        """Preprocess one object's views: ``(V, 3, 224, 224)`` float32 on the model's device, exactly what the network sees.

        Args:
            views: paths, ``PIL.Image``s, arrays or tensors (see :mod:`pix2vox.preprocess`).
            mask: the object's mask in each view (one per view, ``None`` for a view without; a
                single view's mask may be passed bare): an ``(H, W)`` array or an image file of
                the view's size, nonzero on the object. Used as given.
            foregrounds: a list that receives each view's :class:`~pix2vox.foreground.Foreground`
                (``auto`` mode: where its matte came from).
        """
        if mask is not None and is_single_view(views) and not isinstance(mask, (list, tuple)):
            mask = [mask]
        return preprocess(views, self.preprocess_config, self.preprocess_mode, device=self.device, masks=mask,
                          segmenter=self.segmenter, foregrounds=foregrounds, max_pixels=self.max_pixels)

    def predict(
        self,
        views: View | Iterable[View],
        *,
        mask: MaskSource | Sequence[MaskSource | None] | None = None,
        details: bool = False,
    ) -> Result:
        """Reconstruct one object from one or more views (a single view may be passed bare).

        Args:
            views: paths, ``PIL.Image``s, arrays or tensors (see :mod:`pix2vox.preprocess`).
            mask: the object's mask in each view, as in :meth:`preprocess`.
            details: also return the per-view coarse volumes and fusion weights.
        """
        if mask is None:
            return self.predict_batch([views], batch_size=1, progress=False, details=details)[0]
        return self.predict_batch([views], masks=[mask], batch_size=1, progress=False, details=details)[0]

    def predict_batch(
        self,
        objects: Sequence[View | Iterable[View]],
        *,
        batch_size: int = 8,
        progress: bool | None = None,
        details: bool = False,
        preprocessed: bool = False,
        masks: Sequence[MaskSource | Sequence[MaskSource | None] | None] | None = None,
    ) -> list[Result]:
        """Reconstruct many objects, ``batch_size`` objects per forward pass: :meth:`iter_predict` as a list.

        Takes the same arguments as :meth:`iter_predict`.

        Returns:
            One :class:`Result` per object, in order.
        """
        return list(self.iter_predict(objects, batch_size=batch_size, progress=progress, details=details,
                                      preprocessed=preprocessed, masks=masks))

    def iter_predict(
        self,
        objects: Sequence[View | Iterable[View]],
        *,
        batch_size: int = 8,
        progress: bool | None = None,
        details: bool = False,
        preprocessed: bool = False,
        masks: Sequence[MaskSource | Sequence[MaskSource | None] | None] | None = None,
    ) -> Iterator[Result]:
        """Reconstruct many objects, ``batch_size`` objects per forward pass, yielding each result
        as its batch is done (so that results can be written or scored while the next batch runs,
        and memory stays bounded by ``batch_size`` however many objects there are).

        Objects may have different numbers of views. Images are read and preprocessed one batch at
        a time. The arguments are checked at once, before anything is read.

        Args:
            objects: one entry per object, each a view or a sequence of views.
            batch_size: objects per forward pass.
            progress: show a progress bar on terminals (default: when there is more than one batch).
            details: also return per-view coarse volumes and fusion weights.
            preprocessed: each object is already the ``(V, 3, S, S)`` tensor that
                :meth:`preprocess` returned for it (checked by shape).
            masks: one entry per object (``None`` for an object without), each its views'
                masks as in :meth:`preprocess`.

        Returns:
            An iterator over one :class:`Result` per object, in order.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if preprocessed:
            side = self.preprocess_config.image_size
            for views in objects:
                if not isinstance(views, torch.Tensor) or views.dim() != 4 or tuple(views.shape[1:]) != (3, side, side):
                    shape = tuple(views.shape) if isinstance(views, torch.Tensor) else type(views).__name__
                    raise ValueError(f"preprocessed objects are (V, 3, {side}, {side}) tensors from preprocess(), got {shape}")
        else:
            objects = [[views] if is_single_view(views) else list(views) for views in objects]
        if masks is not None:
            if preprocessed:
                raise ValueError("masks apply to images, not to preprocessed tensors")
            if len(masks) != len(objects):
                raise ValueError(f"{len(masks)} entries in masks for {len(objects)} objects: give one per object (None for none)")
            objects = [_Masked(views, [m] if len(views) == 1 and not isinstance(m, (list, tuple)) else list(m))
                       if m is not None else views for views, m in zip(objects, masks)]
        show = len(objects) > batch_size if progress is None else progress
        chunks = [objects[start : start + batch_size] for start in range(0, len(objects), batch_size)]
        return self._iter_chunks(chunks, len(objects), details, show)

    def _iter_chunks(self, chunks: list[list], total: int, details: bool, show: bool) -> Iterator[Result]:
        # With prefetch the next batch's images are decoded while the current batch runs; at
        # most two batches are held at once. Without, each forward pass decodes its own objects.
        with ThreadPoolExecutor(max_workers=1) as pool, tqdm(total=total, unit="object", disable=None if show else True, desc=self.name) as bar:
            prefetch = self.prefetch
            pending = pool.submit(self._prepare, chunks[0]) if prefetch and chunks else None
            for index, chunk in enumerate(chunks):
                prepared = pending.result() if pending is not None else chunk
                if prefetch and index + 1 < len(chunks):
                    pending = pool.submit(self._prepare, chunks[index + 1])
                results = self._run(prepared, details)
                bar.update(len(chunk))
                yield from results

    def _prepare(self, chunk: Sequence[list[View] | torch.Tensor]) -> list[torch.Tensor]:
        return [views if isinstance(views, torch.Tensor) else self.preprocess(views, mask=getattr(views, "masks", None))
                for views in chunk]

    def _run(self, chunk: Sequence[list[View] | torch.Tensor], details: bool) -> list[Result]:
        """Reconstruct a batch of objects (views as given, or already preprocessed).

        On a CPU the objects are shared among :attr:`workers` threads, each decoding its
        objects and running the network with its share of PyTorch's threads.
        """
        counts = [len(views) for views in chunk]
        workers = min(self.workers or torch.get_num_threads(), len(chunk)) if self.device.type == "cpu" else 1
        if workers < 2:
            return self._forward(chunk, details)
        groups = [chunk[part] for part in split_evenly(counts, workers)]
        parts = run_side_by_side([functools.partial(self._forward, group, details) for group in groups])
        return [result for part in parts for result in part]

    @torch.inference_mode()
    def _forward(self, chunk: Sequence[list[View] | torch.Tensor], details: bool) -> list[Result]:
        chunk = self._prepare(chunk)
        counts = [views.shape[0] for views in chunk]
        batch = torch.cat(chunk).to(self.dtype)
        network = cached_copy(self, "_optimized", self.model, optimize) if self._optimize else self.model
        out = network.reconstruct(batch, counts, encoder_batch=self.encoder_batch)
        volumes = out.volumes.float().cpu().numpy()
        coarse = out.coarse.float().cpu().numpy() if details else None
        fusion_weights = out.fusion_weights.float().cpu().numpy() if details else None
        results, offset = [], 0
        for i, count in enumerate(counts):
            views = slice(offset, offset + count)
            results.append(
                Result(
                    probabilities=volumes[i],
                    threshold=self.threshold,
                    coarse=coarse[views] if coarse is not None else None,
                    fusion_weights=fusion_weights[views] if fusion_weights is not None else None,
                )
            )
            offset += count
        return results
