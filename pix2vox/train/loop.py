"""The training loop: the papers' recipe for any of the four variants.

Recipe (Pix2Vox / Pix2Vox++ ``core/train.py``): the authors' weight initialisation, voxel-wise
binary cross-entropy, Adam (betas 0.9/0.999), learning rate halved at milestone epochs
(``MultiStepLR``, gamma 0.5). Pix2Vox++ schedule (``docs/architecture.md``, "Training"), in two stages:

1. *single view*: one rendering per object, so no fusion (with one view it is the identity);
   encoder, decoder (and refiner) learn;
2. *multi view*: ``multiview_views`` renderings per object, fused by the merger, which now
   learns too. ``multiview_train="fusion"`` freezes encoder and decoder (batch-norm statistics
   included) in this stage: far cheaper (no backward through the backbone), and the
   single-view results of stage 1 are kept exactly.

A variants add the BCE of the refined volume to that of the fused one, as the authors do.

Outputs under ``out``: ``model/`` (the published layout: ``config.json``,
``model.safetensors`` and a generated ``README.md``, rewritten after every epoch), ``training_state.pt`` (weights, optimizer,
scheduler, epoch, history: what ``resume`` needs; not for publication) and ``history.json``
(per-epoch loss and validation IoU).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from pix2vox.loading.checkpoint import load_into
from pix2vox.datasets import ShapeNetDataset
from pix2vox.datasets.shapenet import ShapeNetSample
from pix2vox.errors import UnknownModelError
from pix2vox.atomic import atomic_write, write_bytes_atomic
from pix2vox.loading.loader import load_checkpoint
from pix2vox.loading.layout import write_folder
from pix2vox.metrics import iou
from pix2vox.models import ARCHITECTURES, Pix2Vox
from pix2vox.preprocess import PreprocessConfig
from pix2vox.reconstructor import resolve_device
from pix2vox.loading.registry import ModelRecord, get_record

from .data import Augmentation, TrainViews

__all__ = ["TrainConfig", "init_weights", "save_pretrained", "train"]

logger = logging.getLogger(__name__)

MODEL_DIR = "model"
BEST_DIR = "best"
"""Run sub-folder with the epoch that scored best on validation within the last stage so far."""
STATE_NAME = "training_state.pt"
HISTORY_NAME = "history.json"
VAL_THRESHOLDS = (0.2, 0.3, 0.4, 0.5)
DTYPES = ("float32", "bfloat16")
"""Precisions of the forward pass in training (:attr:`TrainConfig.dtype`)."""


@dataclass
class TrainConfig:
    """Everything a training run depends on (saved in the training state and history).

    Attributes:
        data: dataset root in the ShapeNet layout (``ShapeNet.json``, renderings, voxels), or
            several: their splits are joined (each root keeps its own split of its models).
        out: run folder (see the module docstring).
        model: architecture name (``pix2vox-f``, ``pix2vox-a``, ``pix2voxpp-f``, ``pix2voxpp-a``).
        name: name written into ``config.json`` (default: ``model``).
        init: weights to fine-tune from: a registered name (e.g. ``pix2voxpp-f-furniture``), a folder,
            a Hub repository id, or a weights file read as ``model``; default the authors' random init.
        epochs: epochs of the single-view stage.
        multiview_epochs: epochs of the multi-view stage (0 for a single-view model).
        multiview_views: renderings per object in the multi-view stage.
        multiview_train: ``"all"`` (the papers) or ``"fusion"`` (encoder and decoder frozen).
        batch_size: objects per batch in the single-view stage.
        multiview_batch_size: objects per batch in the multi-view stage (default: about the
            same number of views per batch as the first stage).
        lr: initial learning rate.
        milestones: epochs (counted over both stages) after which the rate is multiplied by ``gamma``.
        gamma: learning-rate decay factor.
        betas: Adam betas.
        augment: use the training augmentations of :mod:`pix2vox.train.data`.
        threshold: occupancy threshold written into ``config.json`` and used for validation.
        epoch_size: objects per epoch (``None``: the whole train split). Epochs then take
            consecutive chunks of one seeded permutation per pass over the data, so no object
            repeats within a pass; milestones count these epochs.
        val_limit: validate on at most this many objects of the val split, evenly spaced over it
            (``None``: all).
        train_limit: train on at most this many objects of the train split, evenly spaced (smoke tests).
        seed: seed of the initialisation, shuffling, view choice and augmentation.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ...
        num_workers: data-loader processes (0: load in the training process).
        threads: CPU threads for torch (``None``: torch's default).
        dtype: ``"float32"``, or ``"bfloat16"`` for the network's forward pass under autocast
            (master weights, loss and optimizer stay float32). Faster only where the processor
            has bfloat16 instructions (AVX-512 BF16, AMX) or on a GPU.
    """

    data: str | tuple[str, ...]
    out: str
    model: str = "pix2voxpp-f"
    name: str | None = None
    init: str | None = None
    epochs: int = 250
    multiview_epochs: int = 100
    multiview_views: int = 3
    multiview_train: Literal["all", "fusion"] = "all"
    batch_size: int = 32
    multiview_batch_size: int | None = None
    lr: float = 1e-3
    milestones: tuple[int, ...] = (150,)
    gamma: float = 0.5
    betas: tuple[float, float] = (0.9, 0.999)
    augment: bool = True
    threshold: float = 0.3
    epoch_size: int | None = None
    val_limit: int | None = None
    train_limit: int | None = None
    seed: int = 0
    device: str = "auto"
    num_workers: int = 0
    threads: int | None = None
    dtype: Literal["float32", "bfloat16"] = "float32"

    def __post_init__(self) -> None:
        if self.model not in ARCHITECTURES:
            raise ValueError(f"unknown model {self.model!r}; expected one of {', '.join(ARCHITECTURES)}")
        if self.epochs < 0 or self.multiview_epochs < 0 or self.epochs + self.multiview_epochs < 1:
            raise ValueError("epochs and multiview_epochs must be >= 0 and not both 0")
        if self.multiview_views < 2:
            raise ValueError(f"multiview_views must be at least 2, got {self.multiview_views}")
        if self.multiview_train not in ("all", "fusion"):
            raise ValueError(f"multiview_train must be 'all' or 'fusion', got {self.multiview_train!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        self.milestones = tuple(int(m) for m in self.milestones)
        self.betas = (float(self.betas[0]), float(self.betas[1]))

    @property
    def total_epochs(self) -> int:
        return self.epochs + self.multiview_epochs

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def init_weights(model: nn.Module) -> None:
    """The authors' ``init_weights``: Kaiming-normal convolutions, unit batch norms, small linears."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
            nn.init.kaiming_normal_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm3d)):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0, 0.01)
            nn.init.zeros_(module.bias)


def save_pretrained(
    model: Pix2Vox, folder: str | os.PathLike, *, name: str, preprocess: PreprocessConfig, threshold: float
) -> Path:
    """Write ``model`` as a folder :meth:`pix2vox.Reconstructor.from_pretrained` loads.

    ``model.safetensors`` (flat :class:`Pix2Vox` state dict), ``config.json`` and the generated
    ``README.md`` card, all or nothing (:func:`pix2vox.loading.layout.write_folder`). A registered
    ``name`` of the same architecture keeps the registry's metadata in the card.
    """
    try:
        record = get_record(name)
    except UnknownModelError:
        record = None
    if record is None or record.architecture != model.architecture:
        record = ModelRecord(name=name, architecture=model.architecture, training_data="trained with pix2vox-train")
    record = record.replace(preprocess=preprocess, threshold=threshold)
    return write_folder(folder, model.state_dict(), record)


def split_samples(data: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], split: str,
                  limit: int | None = None) -> list[ShapeNetSample]:
    """The objects of ``split`` of one dataset root or of several joined (in the order given), at
    most ``limit`` of them, evenly spaced."""
    return _spread([sample for root in _roots(data) for sample in ShapeNetDataset(root, split)], limit)


def _roots(data: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str | os.PathLike[str]]:
    """``TrainConfig.data`` as a list of dataset roots."""
    return [data] if isinstance(data, (str, os.PathLike)) else list(data)


def _spread(samples: list, limit: int | None) -> list:
    """At most ``limit`` samples, evenly spaced (samples are grouped by category)."""
    samples = list(samples)
    if limit is None or limit >= len(samples):
        return samples
    return [samples[i] for i in np.linspace(0, len(samples) - 1, limit).round().astype(int)]


def _epoch_order(n: int, epoch: int, epoch_size: int | None, seed: int) -> list[int]:
    """Indices of the objects of an epoch: chunks of seeded permutations, one per pass over the data."""
    size = min(epoch_size or n, n)
    per_pass = n // size
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch // per_pass)
    chunk = epoch % per_pass
    return torch.randperm(n, generator=generator)[chunk * size : (chunk + 1) * size].tolist()


def _forward(model: Pix2Vox, views: torch.Tensor, dtype: str = "float32") -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(B, V, 3, 224, 224)`` views → fused volumes ``(B, 32³)`` and refined ones (A variants),
    float32; under ``dtype="bfloat16"`` the network runs in bfloat16 autocast."""
    b, v = views.shape[:2]
    with torch.autocast(views.device.type, dtype=torch.bfloat16, enabled=dtype == "bfloat16"):
        out = model.reconstruct(views.flatten(0, 1), [v] * b)
    refined = out.volumes.float() if model.refiner is not None else None
    return out.fused.float(), refined


def _loss(fused: torch.Tensor, refined: torch.Tensor | None, volumes: torch.Tensor) -> torch.Tensor:
    loss = F.binary_cross_entropy(fused, volumes)
    if refined is not None:
        loss = loss + F.binary_cross_entropy(refined, volumes)
    return loss


@torch.no_grad()
def _validate(model: Pix2Vox, data: TrainViews, batch_size: int, device: torch.device, dtype: str) -> np.ndarray:
    """Mean IoU over ``data`` at :data:`VAL_THRESHOLDS`."""
    model.eval()
    scores = []
    for views, volumes in DataLoader(data, batch_size=batch_size):
        fused, refined = _forward(model, views.to(device), dtype)
        final = refined if refined is not None else fused
        scores.append(iou(final.cpu().numpy(), volumes.numpy(), VAL_THRESHOLDS))
    return np.concatenate(scores).mean(axis=0)


def _set_mode(model: Pix2Vox, multiview: bool, config: TrainConfig) -> None:
    """Train mode and gradients for the learning parts.

    Frozen encoder and decoder run in eval mode (batch-norm statistics kept) without gradients,
    so that autograd records nothing through them and the optimizer leaves them unchanged.
    """
    frozen = multiview and config.multiview_train == "fusion"
    model.train().requires_grad_(True)
    if frozen:
        for part in (model.encoder, model.decoder):
            part.eval().requires_grad_(False)


def _build_model(config: TrainConfig, device: torch.device) -> Pix2Vox:
    torch.manual_seed(config.seed)
    model = Pix2Vox(ARCHITECTURES[config.model])
    init_weights(model)
    if config.init:
        # A weights file is read as ``config.model``; a name, folder or Hub id as everywhere else.
        init = Path(config.init)
        checkpoint = load_checkpoint(config.model, init) if init.is_file() else load_checkpoint(config.init)
        load_into(model, checkpoint.state, model_name=config.model, source=checkpoint.source)
        model.requires_grad_(True)
    return model.to(device)


def train(config: TrainConfig, *, resume: str | os.PathLike | None = None, progress: bool = True) -> Path:
    """Train (or fine-tune, or resume) a network; returns the published ``model/`` folder.

    Args:
        config: the run (see :class:`TrainConfig`).
        resume: a ``training_state.pt`` (or the run folder holding it) to continue from; the
            saved weights, optimizer, scheduler and history are restored and training goes on
            at the next epoch of ``config``, whose epoch counts, milestones and gamma may differ
            from the saved run's (the learning rate reached so far is kept).
        progress: show tqdm progress bars.
    """
    if config.threads:
        torch.set_num_threads(config.threads)
    device = resolve_device(config.device)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    name = config.name or config.model
    preprocess = PreprocessConfig()

    train_samples = split_samples(config.data, "train", config.train_limit)
    val_samples = split_samples(config.data, "val", config.val_limit)
    if not train_samples:
        raise ValueError(f"{', '.join(map(str, _roots(config.data)))}: no training objects")
    augmentation = Augmentation() if config.augment else Augmentation.none()
    single = TrainViews(train_samples, preprocess, n_views=1, augmentation=augmentation, seed=config.seed)
    multi = (
        TrainViews(train_samples, preprocess, n_views=config.multiview_views, augmentation=augmentation, seed=config.seed)
        if config.multiview_epochs
        else None
    )
    val_single = TrainViews(val_samples, preprocess, n_views=1, seed=config.seed)
    val_multi = TrainViews(val_samples, preprocess, n_views=config.multiview_views, seed=config.seed)
    multi_batch = config.multiview_batch_size or max(1, config.batch_size // config.multiview_views)

    model = _build_model(config, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, betas=config.betas)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(config.milestones), gamma=config.gamma)
    start, history = 0, []
    if resume is not None:
        state_path = Path(resume) / STATE_NAME if Path(resume).is_dir() else Path(resume)
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        if state["model"] != config.model:
            raise ValueError(f"{state_path}: a {state['model']} run cannot be resumed as {config.model}")
        model.load_state_dict(state["weights"], strict=True)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        # The run may be resumed with another schedule (more epochs, other milestones).
        scheduler.milestones = Counter(config.milestones)
        scheduler.gamma = config.gamma
        start, history = int(state["epoch"]) + 1, json.loads(state["history"])
        logger.info("resumed %s at epoch %d", state_path, start)
    logger.info(
        "training %s on %d objects (%d val) on %s: %d single-view + %d multi-view epochs",
        config.model, len(train_samples), len(val_samples), device, config.epochs, config.multiview_epochs,
    )

    for epoch in range(start, config.total_epochs):
        multiview = epoch >= config.epochs
        data, batch_size = (multi, multi_batch) if multiview else (single, config.batch_size)
        data.set_epoch(epoch)
        _set_mode(model, multiview, config)
        order = _epoch_order(len(data), epoch, config.epoch_size, config.seed)
        loader = DataLoader(data, batch_size=batch_size, sampler=order, num_workers=config.num_workers, drop_last=len(order) > batch_size)
        began, losses, lr = time.time(), [], optimizer.param_groups[0]["lr"]
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{config.total_epochs}", disable=None if progress else True, mininterval=5)
        for views, volumes in bar:
            views, volumes = views.to(device), volumes.to(device)
            fused, refined = _forward(model, views, config.dtype)
            loss = _loss(fused, refined, volumes)
            if not math.isfinite(loss.item()):
                raise FloatingPointError(f"epoch {epoch + 1}: loss is {loss.item()}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
        scheduler.step()
        record: dict[str, Any] = {
            "epoch": epoch + 1,
            "stage": "multi-view" if multiview else "single-view",
            "loss": float(np.mean(losses)) if losses else None,
            "lr": lr,
            "seconds": round(time.time() - began, 1),
        }
        if len(val_single):
            record["val_iou_1"] = dict(zip(map(str, VAL_THRESHOLDS), _validate(model, val_single, config.batch_size, device, config.dtype).round(4).tolist()))
            if multiview:
                key = f"val_iou_{config.multiview_views}"
                record[key] = dict(zip(map(str, VAL_THRESHOLDS), _validate(model, val_multi, multi_batch, device, config.dtype).round(4).tolist()))
        history.append(record)
        logger.info("epoch %d: %s", epoch + 1, json.dumps(record))
        save_pretrained(model, out / MODEL_DIR, name=name, preprocess=preprocess, threshold=config.threshold)
        if _is_best(history, config):
            save_pretrained(model, out / BEST_DIR, name=name, preprocess=preprocess, threshold=config.threshold)
            logger.info("epoch %d is the best of its stage on validation: saved to %s", epoch + 1, out / BEST_DIR)
        _save_state(out, model, optimizer, scheduler, epoch, history, config)
    return out / MODEL_DIR


def _val_score(record: dict[str, Any], config: TrainConfig) -> float | None:
    """Validation IoU at the checkpoint's threshold, with the views of the record's stage."""
    key = f"val_iou_{config.multiview_views}" if record["stage"] == "multi-view" else "val_iou_1"
    scores = record.get(key)
    if not scores:
        return None
    return scores.get(str(config.threshold), max(scores.values()))


def _is_best(history: list[dict[str, Any]], config: TrainConfig) -> bool:
    """Whether the last epoch scored best on validation among the epochs of its stage."""
    last = history[-1]
    score = _val_score(last, config)
    if score is None:
        return False
    earlier = [_val_score(r, config) for r in history[:-1] if r["stage"] == last["stage"]]
    return all(e is None or score > e for e in earlier)


def _save_state(out: Path, model: Pix2Vox, optimizer, scheduler, epoch: int, history: list, config: TrainConfig) -> None:
    state = {
        "model": config.model,
        "epoch": epoch,
        "weights": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "history": json.dumps(history),
        "config": json.dumps(config.to_dict()),
    }
    with atomic_write(out / STATE_NAME) as stream:
        torch.save(state, stream)
    write_bytes_atomic(out / HISTORY_NAME, (json.dumps({"config": config.to_dict(), "epochs": history}, indent=2) + "\n").encode())
