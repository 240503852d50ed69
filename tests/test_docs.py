"""The documentation site builds with warnings as errors, and documents every command."""

from __future__ import annotations

import configparser
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS_TOOLS = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")


def console_scripts() -> dict[str, str]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    lines = parser["options.entry_points"]["console_scripts"].strip().splitlines()
    return dict((part.strip() for part in line.split("=", 1)) for line in lines)


@pytest.mark.slow
def test_strict_build(tmp_path: Path):
    missing = [name for name in DOCS_TOOLS if importlib.util.find_spec(name.split(".")[0]) is None]
    if missing:
        pytest.skip(f"the docs tools are not installed ({', '.join(missing)}): pip install -e '.[docs]'")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert (tmp_path / "site" / "api" / "reconstructor" / "index.html").is_file()
    assert not list((tmp_path / "site").rglob("*.py")), "docs/*.py must not be published"
    cli = (tmp_path / "site" / "cli" / "index.html").read_text()
    for name in console_scripts():
        assert f"usage: {name}" in cli, f"no --help text of {name} on the command-line page"


def test_every_command_has_a_section():
    page = (ROOT / "docs" / "cli.md").read_text()
    for name, target in console_scripts().items():
        module = target.split(":")[0]
        assert f"## {name}\n" in page and f"<!-- cli-help {module} -->" in page, (
            f"docs/cli.md: add a '## {name}' section with a line '<!-- cli-help {module} -->'"
        )


def test_readme_test_command_is_the_one_ci_runs():
    command = 'pip install -e ".[dev]" && python3 -m pytest -q'
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    assert quick_start.splitlines()[1] == command  # the second of the two set-up commands
    assert f"## Test\n\n```bash\n{command}\n```" in readme
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()  # release checks follow it
