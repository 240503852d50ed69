"""Execute the example notebooks in place, so that they are committed with fresh outputs.

Run from anywhere in a checkout (needs ``pip install -e ".[dev]"``: nbclient, ipykernel, matplotlib)::

    python examples/run_notebooks.py                          # all examples/*.ipynb
    python examples/run_notebooks.py examples/02_fusion.ipynb # some of them

Each notebook runs top to bottom in a fresh ``python3`` kernel that imports this checkout's
``pix2vox`` (whatever is installed), offline, in a temporary working folder (the files the
notebooks write never land in ``examples/``), and is saved back with its outputs. Re-run it
after changing the shipped checkpoint or the examples, and commit the notebooks.
``tests/test_notebooks.py`` checks that every committed notebook has its outputs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))


def kernel_environment() -> None:
    """Sets what the kernels inherit: this checkout first on the path, offline, no GUI backend."""
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["MPLBACKEND"] = "Agg"
    # tqdm.auto warns when ipywidgets is missing; that warning is about this machine, not the notebook.
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), "ignore:IProgress not found"]))


def run(path: Path, timeout: int) -> float:
    """Executes ``path`` and writes it back with its outputs; returns the seconds it took."""
    import nbclient
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="pix2vox-notebook-") as folder:
        client = nbclient.NotebookClient(
            notebook, timeout=timeout, kernel_name="python3", record_timing=False,
            resources={"metadata": {"path": folder}},
        )
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    nbformat.validate(notebook)
    nbformat.write(notebook, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: examples/*.ipynb)")
    parser.add_argument("--timeout", type=int, default=180, help="seconds per cell (default: %(default)s)")
    args = parser.parse_args(argv)
    kernel_environment()
    for path in args.notebooks or NOTEBOOKS:
        print(f"{path.name}: {run(path, args.timeout):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
