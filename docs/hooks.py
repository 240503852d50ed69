"""MkDocs hooks: the parts of pages that come from the code, so that they cannot go stale.

A line holding only one of these comments is replaced when the site is built:

* ``<!-- cli-help MODULE -->``: the ``--help`` text of the command whose parser
  ``MODULE.build_parser()`` makes, in a code block;
* ``<!-- models-table -->``: the registered checkpoints, from :mod:`pix2vox.loading.registry`;
* ``<!-- iou-table -->``: the IoU the papers report for the authors' checkpoints, by number of views.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # document this checkout, installed or not
    sys.path.insert(0, str(ROOT))

_MARKER = re.compile(r"^<!-- (cli-help|models-table|iou-table)(?: ([\w.]+))? -->$", re.MULTILINE)
_HELP_WIDTH = "100"


def _cli_help(module_name: str) -> str:
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise PluginError(f"cli-help: cannot import {module_name} ({error})") from None
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = _HELP_WIDTH  # argparse wraps to the terminal width
    try:
        text = module.build_parser().format_help()
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return f"```text\n{text.rstrip()}\n```"


def _records():
    from pix2vox.loading.registry import get_record, list_models

    return [get_record(name) for name in list_models()]


def _network(architecture) -> str:
    """``"Pix2Vox++/F"`` etc.: the name of the published network with this architecture."""
    from pix2vox.loading.model_card import display_name
    from pix2vox.models import ARCHITECTURES
    from pix2vox.loading.registry import get_record

    names = [name for name, known in ARCHITECTURES.items() if known == architecture]
    return display_name(get_record(names[0])) if names else "custom"


def _models_table() -> str:
    backbones = {"vgg16_bn": "VGG16-bn", "resnet18": "ResNet-18", "resnet50": "ResNet-50"}
    rows = [
        "| name | network | backbone | fusion | refiner | parameters | threshold | weights |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for w in _records():
        arch = w.architecture
        size = f", {w.original_size_mb:g} MB" if w.original_size_mb else ""
        source = f"`{w.original_file}` (the authors'{size}, fetched on first use)" if w.original_file else "shipped" if w.local_dir else "—"
        rows.append(
            f"| `{w.name}` | {_network(arch)} | {backbones.get(arch.backbone, arch.backbone)} "
            f"| {'Pix2Vox++ multi-scale' if arch.fusion == 'pix2voxpp' else 'Pix2Vox'} "
            f"| {'yes' if arch.refiner else 'no'} | {w.num_params / 1e6:.1f} M | {w.threshold:g} | {source} |"
        )
    return "\n".join(rows)


def _iou_table() -> str:
    records = [w for w in _records() if w.reported_iou or w.original_file]  # the papers' checkpoints
    views = sorted({n for w in records for n in w.reported_iou})
    rows = ["| name | " + " | ".join(f"{n} view{'s' if n > 1 else ''}" for n in views) + " |"]
    rows.append("|---|" + "---|" * len(views))
    for w in records:
        cells = [f"{w.reported_iou[n]:.3f}" if n in w.reported_iou else "—" for n in views]
        rows.append(f"| `{w.name}` | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _expand(match: re.Match) -> str:
    kind, argument = match.groups()
    if kind == "cli-help":
        if not argument:
            raise PluginError("cli-help needs a module name")
        return _cli_help(argument)
    return _models_table() if kind == "models-table" else _iou_table()


def on_page_markdown(markdown: str, **kwargs) -> str:
    """Replace the marker lines of a page (MkDocs event)."""
    return _MARKER.sub(_expand, markdown)
