"""Griffe extension: show the Sphinx roles of our docstrings as inline code.

Docstrings say ``:class:`Result``` or ``:func:`~pix2vox.exchange.save_volume```, which Sphinx
resolves but mkdocstrings prints literally. Each role becomes inline code of its target (the last
component for ``~`` targets), e.g. ``Result`` and ``save_volume``.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|meth|class|mod|attr|data|obj|exc|const|term):`([^`]+)`")


def _code(match: re.Match) -> str:
    target = match.group(1)
    if target.startswith("~"):
        target = target[1:].rsplit(".", 1)[-1]
    return f"`{target}`"


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles in every docstring before it is parsed."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(_code, obj.docstring.value)
