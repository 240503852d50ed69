"""Procedural ShapeNet-like objects assembled from boxes, frusta and ellipsoids.

Pose: :func:`make_shape` returns objects in ShapeNet's canonical pose, the package's one pose: y up,
the object's **front faces +x** (a chair's backrest at low x, a car's bonnet and an aeroplane's
nose at high x, a cabinet's doors at high x), normalised to the unit cube.

The category builders below work in a *construction frame*: y up, the front facing +z, the width
along x, sizes in rough metres. :func:`make_shape` turns every shape by +90° about y
(right-handed, :data:`CONSTRUCTION_TO_CANONICAL`), which takes +z to +x and +x to -z, before
normalising it. The turn is an exact quarter turn, so voxels and renderings of the turned parts
are exactly those of the construction turned.

Parts that share a role (all legs of a chair, say) share a random colour. Taxonomy ids are the
ShapeNetCore synset ids of the 13 categories used by Pix2Vox.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from pix2vox.synth.solids import Part, normalize

__all__ = ["CATEGORIES", "CONSTRUCTION_TO_CANONICAL", "Category", "make_shape"]

CONSTRUCTION_TO_CANONICAL: NDArray[np.float64] = np.array(
    [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]
)
"""Rotation from the builders' frame (front +z) to the canonical pose (front +x): +90° about y.

Right-handed: ``(x, y, z) -> (z, y, -x)``. Written with exact zeros and ones rather than through
``cos(90°)``, so that turning a part changes no bit of its bounds.
"""


def _rotation(axis: int, degrees: float) -> NDArray[np.float64]:
    """Right-handed rotation about world axis 0 (x), 1 (y) or 2 (z)."""
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    rot = np.eye(3)
    rot[i, i], rot[i, j], rot[j, i], rot[j, j] = c, -s, s, c
    return rot


# Rotations taking the local y axis (frusta's axis) to world x and z.
_ALONG = {"x": _rotation(2, -90.0), "y": np.eye(3), "z": _rotation(0, 90.0)}


class _Builder:
    """Collects parts; positions are part centres, sizes are full extents."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.parts: list[Part] = []

    def u(self, low: float, high: float) -> float:
        return float(self.rng.uniform(low, high))

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def color(self) -> NDArray[np.float64]:
        return self.rng.uniform(0.12, 0.92, size=3)

    def box(self, center, size, color, rotation=None) -> None:
        self._add("box", center, np.asarray(size, float) / 2.0, color, rotation)

    def cylinder(self, center, radius, length, color, axis="y", rho=(1.0, 1.0), rotation=None):
        rot = _ALONG[axis] if rotation is None else rotation @ _ALONG[axis]
        self._add("frustum", center, [radius, length / 2.0, radius], color, rot, rho)

    def ellipsoid(self, center, radii, color, rotation=None) -> None:
        self._add("ellipsoid", center, radii, color, rotation)

    def legs(self, xs, zs, top, radius, color, round_legs) -> None:
        """Vertical legs from the floor (y = 0) to height ``top`` at all ``(x, z)`` pairs."""
        for x in xs:
            for z in zs:
                if round_legs:
                    self.cylinder((x, top / 2, z), radius, top, color)
                else:
                    self.box((x, top / 2, z), (2 * radius, top, 2 * radius), color)

    def _add(self, kind, center, half, color, rotation, rho=(1.0, 1.0)) -> None:
        rot = np.eye(3) if rotation is None else np.asarray(rotation, float)
        self.parts.append(
            Part(kind, np.asarray(center, float), np.asarray(half, float), rot, color, tuple(rho))
        )


def _chair(b: _Builder) -> None:
    w, d, h = b.u(0.4, 0.6), b.u(0.4, 0.6), b.u(0.4, 0.5)
    t, leg = b.u(0.04, 0.08), b.u(0.018, 0.03)
    seat_color, leg_color = b.color(), b.color()
    b.box((0, h - t / 2, 0), (w, t, d), seat_color)
    inset = leg + b.u(0.0, 0.04)
    b.legs((-w / 2 + inset, w / 2 - inset), (-d / 2 + inset, d / 2 - inset), h - t, leg, leg_color,
           b.chance(0.5))
    back_h, back_t = b.u(0.35, 0.6), b.u(0.03, 0.07)
    tilt = _rotation(0, -b.u(0.0, 15.0))
    pivot = np.array([0.0, h, -d / 2 + back_t / 2])
    back_color = seat_color if b.chance(0.6) else b.color()
    if b.chance(0.6):
        b.box(pivot + tilt @ (0, back_h / 2, 0), (w, back_h, back_t), back_color, tilt)
    else:
        post = b.u(0.03, 0.05)
        for x in (-w / 2 + post / 2, w / 2 - post / 2):
            b.box(pivot + tilt @ (x, back_h / 2, 0), (post, back_h, back_t), back_color, tilt)
        rail = b.u(0.06, 0.12)
        b.box(pivot + tilt @ (0, back_h - rail / 2, 0), (w, rail, back_t), back_color, tilt)
        n = int(b.rng.integers(2, 5))
        for x in np.linspace(-w / 2, w / 2, n + 2)[1:-1]:
            b.box(pivot + tilt @ (x, back_h / 2, 0), (post, back_h, back_t * 0.8), back_color, tilt)
    if b.chance(0.3):
        arm_h, arm_t = b.u(0.18, 0.28), b.u(0.04, 0.07)
        for x in (-w / 2 + arm_t / 2, w / 2 - arm_t / 2):
            b.box((x, h + arm_h - arm_t / 2, 0), (arm_t, arm_t, d), leg_color)
            b.box((x, h + arm_h / 2, d / 2 - arm_t / 2), (arm_t, arm_h, arm_t), leg_color)


def _table(b: _Builder) -> None:
    w, d, h = b.u(0.8, 1.8), b.u(0.5, 1.0), b.u(0.6, 0.8)
    t = b.u(0.03, 0.07)
    top_color, leg_color = b.color(), b.color()
    if b.chance(0.3):
        d = w = min(w, 1.2)
        b.cylinder((0, h - t / 2, 0), w / 2, t, top_color)
    else:
        b.box((0, h - t / 2, 0), (w, t, d), top_color)
    if b.chance(0.25):
        b.cylinder((0, (h - t) / 2, 0), b.u(0.03, 0.06) * max(w, 1.0), h - t, leg_color)
        b.cylinder((0, 0.02, 0), b.u(0.2, 0.3) * w, 0.04, leg_color)
        return
    leg = b.u(0.022, 0.04) * max(w, 1.0)
    inset = leg + b.u(0.0, 0.08)
    # Round tables get legs inside the disc.
    half_w, half_d = (w / 8.0 ** 0.5, d / 8.0 ** 0.5) if w == d else (w / 2, d / 2)
    b.legs((-half_w + inset, half_w - inset), (-half_d + inset, half_d - inset), h - t, leg,
           leg_color, b.chance(0.4))
    if b.chance(0.5) and w != d:
        apron = b.u(0.06, 0.12)
        b.box((0, h - t - apron / 2, 0), (w - 2 * inset, apron, d - 2 * inset), leg_color)


def _bench(b: _Builder) -> None:
    w, d, h, t = b.u(1.0, 1.8), b.u(0.3, 0.5), b.u(0.4, 0.5), b.u(0.04, 0.08)
    seat_color, leg_color = b.color(), b.color()
    b.box((0, h - t / 2, 0), (w, t, d), seat_color)
    if b.chance(0.5):
        side = b.u(0.04, 0.07)
        for x in (-w / 2 + side / 2 + 0.05, w / 2 - side / 2 - 0.05):
            b.box((x, (h - t) / 2, 0), (side, h - t, d * 0.9), leg_color)
    else:
        leg = b.u(0.025, 0.04)
        b.legs((-w / 2 + 2 * leg, w / 2 - 2 * leg), (-d / 2 + 2 * leg, d / 2 - 2 * leg), h - t, leg,
               leg_color, b.chance(0.5))
    if b.chance(0.5):
        back_h = b.u(0.3, 0.45)
        tilt = _rotation(0, -b.u(0.0, 12.0))
        pivot = np.array([0.0, h, -d / 2 + 0.025])
        for frac in (0.35, 0.85):
            b.box(pivot + tilt @ (0, back_h * frac, 0), (w, back_h * 0.3, 0.05), seat_color, tilt)
        for x in (-w / 2 + 0.1, w / 2 - 0.1):
            b.box(pivot + tilt @ (x, back_h / 2, -0.03), (0.05, back_h, 0.04), leg_color, tilt)


def _cabinet(b: _Builder) -> None:
    w, h, d = b.u(0.5, 1.2), b.u(0.6, 1.8), b.u(0.35, 0.6)
    body_color, door_color, handle_color = b.color(), b.color(), b.color()
    foot = b.u(0.05, 0.12) if b.chance(0.4) else 0.0
    b.box((0, foot + h / 2, 0), (w, h, d), body_color)
    if foot:
        b.legs((-w / 2 + 0.04, w / 2 - 0.04), (-d / 2 + 0.04, d / 2 - 0.04), foot, 0.025,
               handle_color, True)
    if b.chance(0.5):
        b.box((0, foot + h + 0.02, 0.01), (w + 0.04, 0.04, d + 0.02), body_color)
    n_doors = int(b.rng.integers(1, 4))
    if b.chance(0.5):  # Doors side by side.
        for x in (np.arange(n_doors) + 0.5) / n_doors * w - w / 2:
            b.box((x, foot + h / 2, d / 2 + 0.01), (w / n_doors - 0.03, h - 0.06, 0.02), door_color)
            b.box((x, foot + h / 2, d / 2 + 0.035), (0.025, 0.12, 0.03), handle_color)
    else:  # Drawers stacked.
        for y in (np.arange(n_doors + 1) + 0.5) / (n_doors + 1) * h + foot:
            b.box((0, y, d / 2 + 0.01), (w - 0.06, h / (n_doors + 1) - 0.03, 0.02), door_color)
            b.box((0, y, d / 2 + 0.035), (0.14, 0.025, 0.03), handle_color)


def _lamp(b: _Builder) -> None:
    pole_h = b.u(0.4, 1.5)
    base_color, pole_color, shade_color = b.color(), b.color(), b.color()
    base_r, base_t = b.u(0.1, 0.2), b.u(0.03, 0.06)
    if b.chance(0.6):
        b.cylinder((0, base_t / 2, 0), base_r, base_t, base_color)
    else:
        b.box((0, base_t / 2, 0), (2 * base_r, base_t, 2 * base_r), base_color)
    pole_r = max(b.u(0.012, 0.025), 0.014 * pole_h)
    b.cylinder((0, base_t + pole_h / 2, 0), pole_r, pole_h, pole_color)
    top = np.array([0.0, base_t + pole_h, 0.0])
    if b.chance(0.35):  # An arm tilted towards the front.
        arm = b.u(0.2, 0.45)
        tilt = _rotation(0, b.u(30.0, 80.0))
        b.cylinder(top + tilt @ (0, arm / 2, 0), pole_r, arm, pole_color, rotation=tilt)
        top = top + tilt @ (0, arm, 0)
    shade_h, shade_r = b.u(0.15, 0.3), b.u(0.12, 0.25)
    if b.chance(0.75):
        b.cylinder(top - (0, shade_h * 0.3, 0), shade_r, shade_h, shade_color,
                   rho=(1.0, b.u(0.45, 0.9)))
    else:
        b.ellipsoid(top, (shade_r, shade_r * b.u(0.6, 1.0), shade_r), shade_color)


def _sofa(b: _Builder) -> None:
    w, d, seat_h = b.u(1.4, 2.2), b.u(0.7, 1.0), b.u(0.2, 0.3)
    foot = b.u(0.04, 0.1)
    frame_color, cushion_color = b.color(), b.color()
    b.legs((-w / 2 + 0.06, w / 2 - 0.06), (-d / 2 + 0.06, d / 2 - 0.06), foot, 0.03, b.color(),
           b.chance(0.5))
    b.box((0, foot + seat_h / 2, 0), (w, seat_h, d), frame_color)
    back_h, back_t = b.u(0.35, 0.55), b.u(0.15, 0.25)
    b.box((0, foot + seat_h + back_h / 2, -d / 2 + back_t / 2), (w, back_h, back_t), frame_color)
    arm_w = b.u(0.1, 0.25)
    arm_h = b.u(0.15, 0.35)
    for x in (-w / 2 + arm_w / 2, w / 2 - arm_w / 2):
        b.box((x, foot + seat_h + arm_h / 2, 0), (arm_w, arm_h, d), frame_color)
    n = int(b.rng.integers(1, 4))
    inner = w - 2 * arm_w
    cushion_t = b.u(0.08, 0.14)
    for x in (np.arange(n) + 0.5) / n * inner - inner / 2:
        b.box((x, foot + seat_h + cushion_t / 2, back_t / 2),
              (inner / n - 0.02, cushion_t, d - back_t - 0.02), cushion_color)


def _display(b: _Builder) -> None:
    w = b.u(0.5, 0.8)
    h, t = w * b.u(0.55, 0.75), b.u(0.03, 0.06)
    frame_color, stand_color = b.color(), b.color()
    neck_h = b.u(0.08, 0.2)
    base_t = 0.03
    center_y = base_t + neck_h + h / 2
    b.box((0, center_y, 0), (w, h, t), frame_color)
    b.box((0, center_y, t / 2 + 0.004), (w * 0.93, h * 0.9, 0.01), np.full(3, b.u(0.05, 0.2)))
    b.box((0, base_t + (neck_h + h / 3) / 2, -t / 2 - 0.02), (0.06, neck_h + h / 3, 0.03),
          stand_color)
    if b.chance(0.5):
        b.cylinder((0, base_t / 2, -0.02), b.u(0.1, 0.16), base_t, stand_color)
    else:
        b.box((0, base_t / 2, -0.02), (b.u(0.2, 0.35), base_t, b.u(0.15, 0.22)), stand_color)


def _speaker(b: _Builder) -> None:
    w, h, d = b.u(0.2, 0.4), b.u(0.3, 0.9), b.u(0.2, 0.35)
    body_color, driver_color = b.color(), b.color()
    b.box((0, h / 2, 0), (w, h, d), body_color)
    n = int(b.rng.integers(1, 4))
    for i in range(n):
        r = min(w * b.u(0.28, 0.4), h / n * 0.4)
        y = h * (n - i - 0.5) / n
        b.cylinder((0, y, d / 2 + 0.01), r, 0.02 + 0.02 * (i == n - 1), driver_color, axis="z")


def _telephone(b: _Builder) -> None:
    w, h, t = b.u(0.06, 0.09), b.u(0.12, 0.16), b.u(0.008, 0.014)
    b.box((0, h / 2, 0), (w, h, t), b.color())
    b.box((0, h * b.u(0.5, 0.55), t / 2 + 0.001), (w * 0.9, h * 0.75, 0.003), np.full(3, 0.08))


def _aeroplane(b: _Builder) -> None:
    length, r = 1.0, b.u(0.04, 0.07)
    body, wing_color = b.color(), b.color()
    b.cylinder((0, 0, 0), r, length * 0.7, body, axis="z")
    b.ellipsoid((0, 0, length * 0.35), (r, r, length * 0.12), body)
    b.cylinder((0, r * 0.3, -length * 0.43), r, length * 0.16, body, axis="z", rho=(0.35, 1.0))
    span, chord, sweep = b.u(0.8, 1.1), b.u(0.12, 0.25), b.u(0.0, 30.0)
    for side in (-1, 1):
        rot = _rotation(1, side * sweep)
        b.box(rot @ (side * span / 4, -r * 0.3, 0) + (0, 0, 0.05), (span / 2, 0.02, chord),
              wing_color, rot)
        if b.chance(0.7):
            b.cylinder((side * span * 0.2, -r * 1.2, 0.1), r * 0.45, chord * 0.9, wing_color,
                       axis="z")
    b.box((0, r + 0.06, -length * 0.45), (0.02, 0.14, 0.12), wing_color)
    b.box((0, r * 0.6, -length * 0.47), (span * 0.35, 0.02, 0.08), wing_color)


def _car(b: _Builder) -> None:
    length, width = b.u(0.9, 1.1), b.u(0.4, 0.5)
    wheel_r, wheel_w = b.u(0.08, 0.11), b.u(0.05, 0.08)
    body_h = b.u(0.15, 0.22)
    paint, glass, tyre = b.color(), np.full(3, b.u(0.15, 0.35)), np.full(3, 0.1)
    b.box((0, wheel_r + body_h / 2 - 0.02, 0), (width, body_h, length), paint)
    cabin_l, cabin_h = length * b.u(0.4, 0.6), b.u(0.1, 0.17)
    # The cabin sits behind the middle: the bonnet, longer than the boot, marks the front.
    b.box((0, wheel_r + body_h - 0.02 + cabin_h / 2, -length * b.u(0.06, 0.14)),
          (width * 0.85, cabin_h, cabin_l), glass)
    for x in (-width / 2 + wheel_w / 2 - 0.01, width / 2 - wheel_w / 2 + 0.01):
        for z in (-length * 0.32, length * 0.32):
            b.cylinder((x, wheel_r, z), wheel_r, wheel_w, tyre, axis="x")


def _rifle(b: _Builder) -> None:
    metal, wood = np.full(3, b.u(0.1, 0.35)), b.color()
    barrel = b.u(0.4, 0.55)
    b.cylinder((0, 0.03, barrel / 2), b.u(0.012, 0.02), barrel, metal, axis="z")
    b.box((0, 0.02, -0.1), (0.04, 0.08, 0.3), metal)
    stock = _rotation(0, b.u(-12.0, -4.0))
    b.box((0, -0.01, -0.38) + stock @ (0, 0, 0.03), (0.04, 0.1, 0.3), wood, stock)
    grip = _rotation(0, 20.0)
    b.box((0, -0.06, -0.18), (0.035, 0.1, 0.04), wood, grip)
    if b.chance(0.6):
        b.box((0, -0.06, -0.04), (0.03, 0.12, 0.05), metal)
    if b.chance(0.5):
        b.cylinder((0, 0.09, -0.08), 0.02, 0.22, metal, axis="z")


def _watercraft(b: _Builder) -> None:
    length, width, depth = 1.0, b.u(0.2, 0.35), b.u(0.1, 0.18)
    hull, deck = b.color(), b.color()
    b.box((0, depth / 2, -0.05), (width, depth, length * 0.75), hull)
    b.ellipsoid((0, depth / 2, length * 0.32), (width / 2, depth / 2, length * 0.18), hull)
    if b.chance(0.5):
        cabin_h = b.u(0.06, 0.14)
        b.box((0, depth + cabin_h / 2, -0.1), (width * 0.7, cabin_h, length * b.u(0.2, 0.4)), deck)
    if b.chance(0.6):
        mast_h = b.u(0.3, 0.7)
        b.cylinder((0, depth + mast_h / 2, 0.05), 0.012, mast_h, deck)
        if b.chance(0.7):
            b.box((0, depth + mast_h * 0.55, -0.08), (0.012, mast_h * 0.8, 0.25), b.color())


@dataclasses.dataclass(frozen=True)
class Category:
    """A procedural object category.

    Attributes:
        taxonomy_id: ShapeNetCore synset id, e.g. ``"03001627"``.
        name: Name as in Pix2Vox's ``ShapeNet.json`` (``taxonomy_name``).
        build: Adds the parts of one random instance to a builder.
    """

    taxonomy_id: str
    name: str
    build: Callable[[_Builder], None]


CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        Category("03001627", "chair", _chair),
        Category("04379243", "table", _table),
        Category("02828884", "bench", _bench),
        Category("02933112", "cabinet", _cabinet),
        Category("03636649", "lamp", _lamp),
        Category("04256520", "sofa", _sofa),
        Category("03211117", "display", _display),
        Category("03691459", "speaker", _speaker),
        Category("04401088", "telephone", _telephone),
        Category("02691156", "aeroplane", _aeroplane),
        Category("02958343", "car", _car),
        Category("04090263", "rifle", _rifle),
        Category("04530566", "watercraft", _watercraft),
    )
}


def make_shape(category: Category | str, rng: np.random.Generator) -> list[Part]:
    """A random instance of ``category`` in the canonical pose, normalised to the unit cube.

    Args:
        category: A :class:`Category` or a key of :data:`CATEGORIES`.
        rng: Source of every random choice; the same state gives the same shape.

    Returns:
        The parts, y up and the front facing +x (see the module docstring), their union
        spanning ``[-0.5, 0.5]`` along its longest extent (see
        :func:`~pix2vox.synth.solids.normalize`).
    """
    cat = CATEGORIES[category] if isinstance(category, str) else category
    builder = _Builder(rng)
    cat.build(builder)
    return normalize([part.rotated(CONSTRUCTION_TO_CANONICAL) for part in builder.parts])

