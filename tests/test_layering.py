"""The package's layering: plain networks below, the optional CPU package and the façade above."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pix2vox"
FORBIDDEN_IN_MODELS = (
    "pix2vox.cpu",  # the optimised inference package
    "pix2vox.onnx",  # ONNX export and the onnxruntime runner wrap the networks, never the reverse
    "pix2vox.demo",  # the web demo
    "pix2vox.reconstructor",
    "pix2vox.cli",
    "pix2vox.train",
    "pix2vox.exchange",  # file formats
    "pix2vox.loading",  # records, the Hub, checkpoint files
    "pix2vox.preprocess",
)


def imported_modules(path: Path) -> set[str]:
    """Absolute names of the modules a file of the package imports (relative imports resolved)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_the_parser_resolves_relative_imports() -> None:
    names = imported_modules(PACKAGE / "cpu" / "fast_decoder.py")
    assert "pix2vox.models.decoder" in names and "pix2vox.cpu.folding" in names


@pytest.mark.parametrize("path", sorted((PACKAGE / "models").glob("*.py")), ids=lambda p: p.name)
def test_models_import_nothing_above_them(path: Path) -> None:
    names = imported_modules(path)
    for name in names:
        assert not name.startswith(FORBIDDEN_IN_MODELS), f"{path.name} imports {name}"
    above = {n for n in names if n.startswith("pix2vox.") and not n.startswith(("pix2vox.models", "pix2vox.config"))}
    assert not above  # the networks use only each other and the torch-free configuration types


@pytest.mark.slow
def test_importing_the_networks_loads_neither_the_cpu_package_nor_io() -> None:
    code = (
        "import sys, pix2vox.models; "
        "print(sorted(m for m in sys.modules if m.startswith(('pix2vox.cpu', 'pix2vox.reconstructor', 'pix2vox.cli', "
        "'pix2vox.exchange', 'pix2vox.loading', 'pix2vox.train', 'torchvision'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    assert out.stdout.strip() == "[]"
