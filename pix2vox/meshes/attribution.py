"""Credits for weights trained on a built dataset: every model whose licence asks for attribution.

CC-BY 3.0 asks, in any work that reproduces the material, for credit to the creator, a link to the
licence and an indication of changes. A model card that lists every CC-BY model's title, creator
and catalogue, links the licences and says how the models were changed satisfies it for weights
trained on them. CC0 asks nothing; such models are counted, not listed.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

__all__ = ["LICENSE_URLS", "attribution_markdown"]

LICENSE_URLS = {
    "CC-BY-3.0": "https://creativecommons.org/licenses/by/3.0/",
    "CC-BY-3.0-US": "https://creativecommons.org/licenses/by/3.0/us/",
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
}

CHANGES = (
    "Changes made to every model: turned to face +x, centred and scaled to the unit cube, rendered "
    "from random viewpoints (with random lights and material tints) and voxelised at 32³; the "
    "weights were trained on those renderings and voxels. No model is redistributed with the weights."
)


def attribution_markdown(models_json: str | os.PathLike[str]) -> str:
    """The attribution section of a model card, from a dataset's ``models.json``.

    Returns:
        Markdown: licence counts, the licence links, the changes, and one line per model that
        needs attribution (name, creator, catalogue), grouped by licence and catalogue.
    """
    records = json.loads(Path(models_json).read_text(encoding="utf-8")).values()
    counts = Counter(r.get("license", "unknown") for r in records)
    lines = [
        "Models by licence: " + ", ".join(f"{n} {lic}" for lic, n in sorted(counts.items())) + ".",
        "",
        *[f"- {lic}: {url}" for lic, url in LICENSE_URLS.items() if lic in counts],
        "",
        CHANGES,
    ]
    needing = sorted((r for r in records if str(r.get("license", "")).startswith("CC-BY")),
                     key=lambda r: (r["license"], r.get("source_catalogue", ""), r.get("name", "").lower()))
    group = None
    for record in needing:
        key = (record["license"], record.get("source_catalogue", ""))
        if key != group:
            group = key
            lines += ["", f"**{key[1] or 'unknown catalogue'}** ({key[0]}):", ""]
        lines.append(f"- \"{record.get('name', record['source'])}\" by {record.get('creator', 'unknown')}")
    return "\n".join(lines) + "\n"
