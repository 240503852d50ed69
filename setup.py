"""Build-time long description: README.md with its relative links made absolute.

Everything else is declared in ``setup.cfg`` (metadata, dependencies, entry points) and
``pyproject.toml`` (build system, tools). A package index renders the README out of the
repository, so ``docs/exports.md`` must become a link into the repository there.
"""

from __future__ import annotations

import re
from pathlib import Path

from setuptools import setup

REPOSITORY = "https://github.com/pix2vox/pix2vox"
"""Source repository: links in the long description point at its ``main`` branch."""

_LINK = re.compile(r"(?P<bang>!?)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")


def absolute_links(markdown: str, repository: str = REPOSITORY, branch: str = "main") -> str:
    """Make the relative Markdown links and images of ``markdown`` absolute URLs of ``repository``.

    Links go to ``{repository}/blob/{branch}/PATH`` (GitHub shows folders at that address too),
    images to ``{repository}/raw/{branch}/PATH`` (the file itself). Absolute URLs, ``mailto:`` and
    in-page anchors (``#section``) are left alone.

    Args:
        markdown: the text, e.g. README.md.
        repository: ``https://github.com/org/name``.
        branch: the branch the links point at.

    Returns:
        The text with every relative link rewritten.
    """

    def rewrite(match: re.Match[str]) -> str:
        target = match["target"]
        if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith(("#", "/")):
            return match[0]
        kind = "raw" if match["bang"] else "blob"
        return f"{match['bang']}[{match['text']}]({repository}/{kind}/{branch}/{target.removeprefix('./')})"

    return _LINK.sub(rewrite, markdown)


if __name__ == "__main__":
    readme = (Path(__file__).resolve().parent / "README.md").read_text(encoding="utf-8")
    setup(long_description=absolute_links(readme), long_description_content_type="text/markdown")
