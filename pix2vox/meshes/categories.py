"""Taxonomy ids of category names: ShapeNetCore's synset ids where ShapeNet has the category,
stable ids of our own otherwise."""

from __future__ import annotations

import hashlib

__all__ = ["SHAPENET_IDS", "taxonomy_id"]

SHAPENET_IDS = {
    "aeroplane": "02691156", "bag": "02773838", "basket": "02801938", "bathtub": "02808440",
    "bed": "02818832", "bench": "02828884", "bookshelf": "02871439",
    "bottle": "02876657", "bowl": "02880940", "bus": "02924116", "cabinet": "02933112",
    "camera": "02942699", "car": "02958343", "chair": "03001627", "clock": "03046257",
    "dishwasher": "03207941", "display": "03211117", "faucet": "03325088", "guitar": "03467517",
    "helmet": "03513137", "keyboard": "03085013", "knife": "03624134", "lamp": "03636649",
    "laptop": "03642806", "loudspeaker": "03691459", "microwave": "03761084", "motorbike": "03790512",
    "mug": "03797390", "piano": "03928116", "plant": "03991062", "printer": "04004475",
    "sofa": "04256520", "stove": "04330267", "table": "04379243", "telephone": "04401088",
    "trash_bin": "02747177", "vessel": "04530566", "washer": "04554684",
}
"""ShapeNetCore synset ids (``plant`` is ShapeNet's "pot", potted plants)."""


def taxonomy_id(category: str) -> str:
    """ShapeNet's id for ``category``, or ``"9"`` + 7 digits of the name's SHA-1 (stable, and
    never a ShapeNetCore id, which all start with 0)."""
    if category in SHAPENET_IDS:
        return SHAPENET_IDS[category]
    return "9" + str(int(hashlib.sha1(category.encode()).hexdigest(), 16) % 10**7).zfill(7)
