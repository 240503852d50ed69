"""The example notebooks run from start to end, offline, and are committed with their outputs.

``python examples/run_notebooks.py`` executes them in place; commit what it writes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))
# Each notebook takes well under a minute on two CPU cores; a hang should not stall CI.
TIMEOUT_S = 180
# Pictures are small PNGs; a notebook past this has printed an array or drawn too large a figure.
MAX_BYTES = 400_000

nbformat = pytest.importorskip("nbformat", reason="running the notebooks needs nbformat (pip install -e '.[dev]')")


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_outputs(path: Path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    rerun = f"{path.name}: run python examples/run_notebooks.py and commit the notebook"
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), f"{rerun} (not run in order)"
    for number, cell in enumerate(code, start=1):
        errors = [output for output in cell.outputs if output.output_type == "error"]
        assert not errors, f"{path.name}, code cell {number}: {errors[0].ename}: {errors[0].evalue}"
        stderr = [output.text for output in cell.outputs if output.output_type == "stream" and output.name == "stderr"]
        assert not stderr, f"{path.name}, code cell {number} wrote to stderr: {stderr[0][:200]}"
    assert any(cell.outputs for cell in code), f"{rerun} (no outputs)"
    assert path.stat().st_size < MAX_BYTES, f"{path.name}: {path.stat().st_size} bytes; keep outputs small"


# All four together take about 45 s on two cores: they run with -m slow, as CI does (.ci/run).
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    pytest.importorskip("matplotlib", reason="the notebooks draw with pix2vox.viz (pip install -e '.[dev]')")
    nbclient = pytest.importorskip("nbclient", reason="running the notebooks needs nbclient (pip install -e '.[dev]')")
    pytest.importorskip("ipykernel", reason="running the notebooks needs ipykernel (pip install -e '.[dev]')")
    # The kernel imports this checkout, whether or not it is installed, and never goes online.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    start = time.perf_counter()
    client.execute()
    print(f"{path.name}: {time.perf_counter() - start:.1f} s")
