"""Import Sweet Home 3D furniture catalogues (``*.sh3f``) into a ``MESHES/<category>/`` folder.

A catalogue is a zip archive holding ``PluginFurnitureCatalog.properties`` (Java properties with
numbered keys ``name#N``, ``category#N``, ``model#N``, ``creator#N``, ``modelRotation#N``, …) and
one folder per model (OBJ, MTL and textures). Debian's ``sweethome3d-furniture`` package installs
five of them under ``/usr/share/sweethome3d/furniture``; its copyright file gives their licences,
recorded in :data:`CATALOGUES`.

Each model becomes ``MESHES/<category>/<catalogue>-<N>-<slug>/`` with its files and a
``meta.json`` (name, creator, licence, catalogue, and ``rotation``: the catalogue's
``modelRotation``, which brings the OBJ into Sweet Home 3D's frame, y up, front towards +z; the
dataset builder's default ``--front +z`` then turns it to +x). The category comes from
:func:`category_of`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import zipfile
from pathlib import Path, PurePosixPath

from pix2vox.loading.layout import write_files

__all__ = ["CATALOGUES", "DEFAULT_FOLDER", "category_of", "import_catalogues", "read_catalogue"]

logger = logging.getLogger(__name__)

DEFAULT_FOLDER = Path("/usr/share/sweethome3d/furniture")

CATALOGUES = {
    "BlendSwap-CC-0": ("CC0-1.0", "collected by eTeks"),
    "BlendSwap-CC-BY": ("CC-BY-3.0", "the BlendSwap contributors"),
    "KatorLegaz": ("CC-BY-3.0-US", "Andrew Kator & Jennifer Legaz"),
    "Reallusion": ("CC-BY-3.0-US", "Reallusion"),
    "Scopia": ("CC-BY-3.0", "Scopia Visual Interfaces Systems, s.l."),
}
"""Catalogue stem -> (SPDX licence id, copyright holder), from the Debian package's copyright file."""

# (category, words): the first rule with a word in the lower-cased name wins. A word matches whole
# words, optionally plural ("chair" matches "Oak chair" and "chairs", not "Wheelchair").
_NAME_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("other", ("table fan", "table tennis bat", "chest freezer", "car model", "screen door", "flashlight",
               "intercom", "remote control", "cup cake", "range hood", "hood", "video projector")),
    ("car", ("chevrolet", "sedan", "ford focus", "peugeot", "renault", "suv", "seat leon", "smart car",
             "beetle", "van")),
    ("lamp", ("lamp", "light", "lantern", "chandelier", "lamppost", "spotlight")),
    ("bed", ("bed", "crib", "futon", "mattress", "cot", "bunk bed")),
    ("sofa", ("sofa", "couch", "settee")),
    ("chair", ("chair", "armchair", "stool", "seat", "ottoman", "puff")),
    ("bench", ("bench",)),
    ("table", ("table", "desk")),
    ("bathtub", ("bath", "bathtub", "jacuzzi")),
    ("cabinet", ("cabinet", "cupboard", "wardrobe", "dresser", "drawers", "chest", "vanity", "locker",
                 "sideboard", "tv stand", "island")),
    ("bookshelf", ("bookcase", "shelves", "shelf")),
    ("display", ("tv", "imac", "screen", "monitor", "television")),
    ("plant", ("plant", "tree", "ficus", "bamboo", "palm", "pine", "cactus", "bonsai", "yucca",
               "orchids", "flowers", "tulips", "lily", "spathiphyllum", "maple", "cypress", "poplar",
               "beech", "acacia", "blossom", "bush", "hedge", "flower box")),
    ("motorbike", ("motorbike", "scooter", "yamaha")),
    ("bus", ("bus",)),
    ("stove", ("oven", "stove", "cooker", "cooktop")),
    ("washer", ("washing machine", "dryer machine")),
    ("piano", ("piano",)),
    ("clock", ("clock",)),
    ("loudspeaker", ("speaker", "stereo")),
    ("laptop", ("laptop", "ibook")),
    ("telephone", ("phone", "iphone")),
    ("bottle", ("bottle",)),
    ("mug", ("mug", "cup")),
    ("bowl", ("bowl",)),
    ("trash_bin", ("trashcan", "trash can", "dustbin", "recycling bin")),
    ("bag", ("bag", "backpack", "suitcase", "briefcase")),
    ("vessel", ("rowboat",)),
    ("aeroplane", ("biplane",)),
)

_CATALOGUE_CATEGORIES = {
    "Characters": "person", "Doors and windows": "door_window", "Lights": "lamp", "Staircases": "staircase",
}


def category_of(name: str, catalogue_category: str) -> str:
    """Our category of a catalogue entry: the first name rule that matches, else the catalogue's
    own category for people, doors and windows, lights and staircases, else ``other``."""
    text = name.lower()
    for category, words in _NAME_RULES:
        if any(re.search(rf"\b{re.escape(word)}s?\b", text) for word in words):
            return category
    return _CATALOGUE_CATEGORIES.get(catalogue_category, "other")


def _unescape(value: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), value).replace("\\:", ":").replace("\\=", "=")


def read_catalogue(archive: zipfile.ZipFile) -> dict[int, dict[str, str]]:
    """Entries of ``PluginFurnitureCatalog.properties``, by number."""
    text = archive.read("PluginFurnitureCatalog.properties").decode("latin-1")
    entries: dict[int, dict[str, str]] = {}
    for line in text.splitlines():
        match = re.match(r"\s*(\w+)#(\d+)\s*=\s*(.*)$", line)
        if match:
            entries.setdefault(int(match[2]), {})[match[1]] = _unescape(match[3].strip())
    return entries


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "model"


def _rotation(entry: dict[str, str]) -> list[list[float]]:
    values = [float(v) for v in entry.get("modelRotation", "1 0 0 0 1 0 0 0 1").split()]
    return [values[0:3], values[3:6], values[6:9]]


def import_catalogues(
    out: str | os.PathLike[str], catalogues: list[Path] | None = None
) -> dict[str, int]:
    """Extracts every model of the catalogues into ``out/<category>/<model>/``.

    Args:
        out: Output folder (created if missing).
        catalogues: ``.sh3f`` files (default: the five of :data:`CATALOGUES` in
            :data:`DEFAULT_FOLDER`).

    Returns:
        Model count per category.

    Raises:
        FileNotFoundError: A catalogue is missing (``apt-get install sweethome3d-furniture``).
    """
    out = Path(out)
    paths = catalogues or [DEFAULT_FOLDER / f"{stem}.sh3f" for stem in CATALOGUES]
    counts: dict[str, int] = {}
    for path in paths:
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: no such catalogue (apt-get install sweethome3d-furniture)")
        license_id, holder = CATALOGUES.get(Path(path).stem, ("unknown", "unknown"))
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            for number, entry in sorted(read_catalogue(archive).items()):
                model = PurePosixPath(entry["model"].lstrip("/"))
                category = category_of(entry["name"], entry.get("category", ""))
                folder = out / category / f"{Path(path).stem}-{number:03d}-{_slug(entry['name'])}"
                meta = {
                    "name": entry["name"], "creator": entry.get("creator", holder), "license": license_id,
                    "copyright": holder, "source_catalogue": f"{Path(path).stem}.sh3f",
                    "catalogue_category": entry.get("category", ""), "rotation": _rotation(entry),
                    "size_cm": [float(entry.get(k, "nan")) for k in ("width", "height", "depth")],
                }
                prefix = f"{model.parent}/"
                files = {n[len(prefix):]: n for n in names if n.startswith(prefix) and not n.endswith("/")}
                writers = {rel: (lambda p, n=n: p.write_bytes(archive.read(n))) for rel, n in files.items() if "/" not in rel}
                writers["meta.json"] = lambda p, m=meta: p.write_text(json.dumps(m, indent=2) + "\n", encoding="utf-8")
                write_files(folder, writers)
                counts[category] = counts.get(category, 0) + 1
    logger.info("imported %d models into %s", sum(counts.values()), out)
    return counts
