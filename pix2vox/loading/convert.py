"""Converting the authors' ``.pth`` checkpoints into our folder layout, and checking the result.

A release of a checkpoint is: :func:`convert_original` → :func:`pix2vox.loading.hub.push_folder` (or
``hf upload``) → pin the commit and the SHA-256 in :mod:`pix2vox.loading.registry`; ``pix2vox-convert
--push-to-hub`` does the first two and prints the third (see ``weights/README.md``).
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

import torch

from ..atomic import StagedFiles
from .checkpoint import load_into, read_safetensors
from ..errors import CheckpointError
from .hub import sha256_of
from .layout import CARD_NAME, CONFIG_NAME, WEIGHTS_NAME, folder_writers, parse_config, write_metadata
from ..models import Pix2Vox
from ..reconstructor import Reconstructor
from .registry import get_record, list_models

__all__ = ["TOLERANCE", "ConversionReport", "convert_original", "max_output_difference", "upload_command", "write_cards"]

TOLERANCE = 1e-6
"""Largest output difference accepted between the original file and the converted folder."""


@dataclass(frozen=True)
class ConversionReport:
    """What :func:`convert_original` wrote and checked.

    Attributes:
        source: the authors' ``.pth`` file.
        output: the folder written.
        model: registry name.
        files: the files written in ``output``.
        sha256: SHA-256 of ``model.safetensors`` (goes into the registry record on release).
        max_abs_diff: largest difference between the outputs of the original file and of the
            converted folder on the check inputs (0.0 expected: the values are copied).
        upload_command: the ``hf upload`` command for the registry's repository, or ``None``
            when the record has no ``repo_id``.
    """

    source: Path
    output: Path
    model: str
    files: tuple[Path, ...]
    sha256: str
    max_abs_diff: float
    upload_command: str | None


def upload_command(repo_id: str, folder: str | os.PathLike) -> str:
    """``hf upload REPO FOLDER .`` (older huggingface_hub: ``huggingface-cli upload``, same arguments)."""
    return f"hf upload {shlex.quote(repo_id)} {shlex.quote(os.fspath(folder))} . --commit-message 'Add pix2vox weights'"


@torch.inference_mode()
def max_output_difference(a: Pix2Vox, b: Pix2Vox, *, seed: int = 0, view_counts: tuple[int, ...] = (1, 2)) -> float:
    """Largest absolute difference between the volumes of two networks on random views.

    The inputs are ``sum(view_counts)`` deterministic random ``(3, 224, 224)`` images in
    [-1, 1] (the range of preprocessed views), grouped into objects of ``view_counts`` views.
    """
    generator = torch.Generator().manual_seed(seed)
    views = torch.rand(sum(view_counts), 3, 224, 224, generator=generator) * 2 - 1
    counts = list(view_counts)
    first = a.reconstruct(views.to(next(a.parameters()).device), counts).volumes.float().cpu()
    second = b.reconstruct(views.to(next(b.parameters()).device), counts).volumes.float().cpu()
    return float((first - second).abs().max())


def _load_staged(config: Path, weights: Path) -> Pix2Vox:
    """The network described by a staged ``config.json`` with the weights of a staged ``model.safetensors``."""
    record = parse_config(config)
    with torch.device("meta"):
        network = Pix2Vox(record.architecture)
    load_into(network, read_safetensors(weights), model_name=record.name, source=str(weights))
    return network.eval()


def convert_original(path: str | os.PathLike, model: str, output: str | os.PathLike, *, seed: int = 0) -> ConversionReport:
    """Convert one of the authors' ``.pth`` files into a folder in our layout, and check it.

    The file is read (safely, strictly) as ``model``, written with
    :meth:`Reconstructor.save_pretrained`, loaded back with :meth:`Reconstructor.from_pretrained`,
    and both are run on the same random views: the outputs must agree within :data:`TOLERANCE`.

    Args:
        path: e.g. ``Pix2Vox++-A-ShapeNet.pth``.
        model: registry name, e.g. ``"pix2voxpp-a"``.
        output: folder to write (created if needed; existing files of the same names are replaced,
            and only once the converted files have passed the check).
        seed: seed of the check inputs.

    Raises:
        UnknownModelError: ``model`` is not registered.
        CheckpointError: the file is missing, unreadable, of another variant (nothing is written),
            or the converted files do not reproduce it (the folder is then left as it was).
    """
    record = get_record(model)
    original = Reconstructor(model, weights=path, device="cpu")
    output = Path(output)
    state = {key: value.float() if value.is_floating_point() else value for key, value in original.model.state_dict().items()}
    with StagedFiles(make_folders=True) as files:
        staged = {}
        for name, write in folder_writers(state, original.record).items():
            staged[name] = files.stage(output / name)
            write(staged[name])
        # The check reads the staged files: nothing is renamed into place unless they pass.
        converted = _load_staged(staged[CONFIG_NAME], staged[WEIGHTS_NAME])
        difference = max_output_difference(original.model, converted, seed=seed)
        if not difference <= TOLERANCE:
            raise CheckpointError(f"{output}: the converted weights differ from {path} by {difference:.3g} (tolerance {TOLERANCE:g})")
    written = [output / name for name in (WEIGHTS_NAME, CONFIG_NAME, CARD_NAME)]
    return ConversionReport(
        source=Path(path),
        output=output,
        model=record.name,
        files=tuple(written),
        sha256=sha256_of(output / WEIGHTS_NAME),
        max_abs_diff=difference,
        upload_command=upload_command(record.repo_id, output) if record.repo_id else None,
    )


def write_cards(directory: str | os.PathLike, names: list[str] | None = None) -> list[Path]:
    """Write ``<directory>/<name>/{config.json,README.md}`` for registered checkpoints.

    This generates the committed ``weights/`` folders (``pix2vox-convert --write-cards weights``).

    Args:
        directory: parent folder.
        names: registry names (default: every registered checkpoint published on the Hub).

    Returns:
        The folders written.
    """
    names = names if names is not None else [n for n in list_models() if get_record(n).repo_id]
    return [write_metadata(Path(directory) / name, get_record(name)) for name in names]
