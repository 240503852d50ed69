"""Package-level promises: light import, public names, version."""

from __future__ import annotations

import ast
import configparser
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pix2vox


def test_import_loads_neither_torch_nor_training_code() -> None:
    code = "import sys, pix2vox; print(sorted(m for m in ('torch', 'torchvision', 'pix2vox.train') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_names_resolve() -> None:
    for name in pix2vox.__all__:
        assert getattr(pix2vox, name) is not None
    assert pix2vox.Reconstructor.__module__ == "pix2vox.reconstructor"
    assert "Reconstructor" in dir(pix2vox)


def test_unknown_attribute() -> None:
    try:
        pix2vox.NoSuchThing  # noqa: B018
    except AttributeError as error:
        assert "NoSuchThing" in str(error)
    else:
        raise AssertionError("expected AttributeError")


# ------------------------------------------------------------------------------------------------
# Release metadata: dependencies, README links on a package index, licence (setup.cfg, setup.py)

ROOT = Path(__file__).resolve().parents[1]
# import name → distribution name, where they differ
DISTRIBUTIONS = {"PIL": "pillow", "skimage": "scikit-image", "cv2": "opencv-python-headless", "yaml": "pyyaml"}


def _requirements() -> tuple[set[str], set[str]]:
    """Distribution names of install_requires and of all extras, from setup.cfg."""
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")

    def names(text: str) -> set[str]:
        return {re.split(r"[<>=!~\[;\s]", line.strip(), maxsplit=1)[0].lower().replace("_", "-") for line in text.strip().splitlines()}

    extras = set().union(*(names(value) for value in parser["options.extras_require"].values()))
    return names(parser["options"]["install_requires"]), extras


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level third-party modules imported by the package: {"always": …, "lazily": …}.

    "always" are imports run when a module is imported (module level, not under ``if TYPE_CHECKING``);
    "lazily" are the others (inside functions).
    """
    found: dict[str, set[str]] = {"always": set(), "lazily": set()}
    for path in (ROOT / "pix2vox").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top != "pix2vox":
                    found["always" if id(node) in module_level else "lazily"].add(DISTRIBUTIONS.get(top, top).lower().replace("_", "-"))
    return found


def test_every_imported_package_is_declared() -> None:
    required, extras = _requirements()
    imports = _third_party_imports()
    assert "scipy" in imports["always"] and {"torch", "numpy"} <= imports["always"]  # the scan sees real imports
    assert imports["always"] <= required, f"imported when pix2vox loads, missing from install_requires: {imports['always'] - required}"
    assert imports["lazily"] <= required | extras, f"imported, declared nowhere: {imports['lazily'] - required - extras}"


def test_licence_and_project_metadata() -> None:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    metadata = parser["metadata"]
    assert metadata["license_expression"] == "MIT" and metadata["license_files"] == "LICENSE"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "License ::" not in metadata["classifiers"]  # superseded by the SPDX expression (PEP 639)
    urls = dict(line.split(" = ", 1) for line in metadata["project_urls"].strip().splitlines())
    assert set(urls) >= {"Documentation", "Source", "Issues"} and all(u.startswith("https://github.com/pix2vox/pix2vox") for u in urls.values())
    assert "long_description" not in metadata  # setup.py builds it (absolute links)


def _setup_module():
    spec = importlib.util.spec_from_file_location("pix2vox_setup", ROOT / "setup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # not __main__: setup() does not run
    return module


def test_readme_links_are_made_absolute_for_the_package_index() -> None:
    absolute_links = _setup_module().absolute_links
    text = (
        "see [docs](docs/exports.md#pose), ![pose](docs/images/pose.png), [ex](./examples/), "
        "[up](https://gitlab.com/hzxie/Pix2Vox), [here](#test) and [mail](mailto:a@b.c)"
    )
    assert absolute_links(text, "https://github.com/o/r") == (
        "see [docs](https://github.com/o/r/blob/main/docs/exports.md#pose), ![pose](https://github.com/o/r/raw/main/docs/images/pose.png), "
        "[ex](https://github.com/o/r/blob/main/examples/), [up](https://gitlab.com/hzxie/Pix2Vox), [here](#test) and [mail](mailto:a@b.c)"
    )
    readme = (ROOT / "README.md").read_text()
    relative = re.findall(r"\]\((?![a-z]+:|#)([^)\s#]+)", readme)
    assert relative, "the README has relative links: the test would check nothing"
    for target in relative:
        assert (ROOT / target).exists(), f"README.md links to {target}, which is not in the repository"
    assert not re.findall(r"\]\((?![a-z]+:|#)", absolute_links(readme))


def test_no_deprecated_aliases() -> None:
    assert not hasattr(pix2vox, "Weights") and not hasattr(pix2vox, "get_weights")
    assert not hasattr(pix2vox.Result, "scores") and not hasattr(pix2vox.Reconstructor, "weights")
