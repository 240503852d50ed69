"""PNG pictures of reconstructions: shaded voxels and meshes, input views, the fusion weights.

Needs matplotlib (``pip install "pix2vox[viz]"``), imported only when a picture is drawn, never by
``import pix2vox``. Figures are drawn on matplotlib's Agg canvas without ``pyplot``, so nothing here
touches the interactive backend of a notebook or script.

Axes: volumes are indexed ``[x, y, z]`` with y up (see :class:`pix2vox.Result`). 3D panels show
y vertical, seen from ``elevation`` degrees above the xz plane and ``azimuth`` degrees about y,
measured from +z towards +x: the camera of ``pix2vox-synth``'s renderings, so azimuth 0 looks at
the object from +z and azimuth 90 from +x. The projection is orthographic with a fixed scale, the
same in every panel: the whole unit cube fits at any azimuth for elevations up to 30°.

Surfaces are rasterised here, with a depth buffer (exact occlusion), 2× supersampling and Lambert
shading from a light above and to the left of the viewer; voxels are drawn as their exposed
faces, outlined.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from .atomic import write_bytes_atomic
from .geometry import check_threshold, check_volume
from .raster import nearest_triangles
from .result import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .preprocess import View

__all__ = ["comparison", "fusion_figure", "preview", "render_surface", "voxel_faces"]

Panel = Literal["voxels", "mesh"]
Axis = Literal["x", "y", "z"]

VOXEL_COLOUR = (0.30, 0.50, 0.80)
MESH_COLOUR = (0.85, 0.55, 0.30)
_AMBIENT = 0.35
_EDGE_DARKENING = 0.55
_SUPERSAMPLING = 2
_HALF_WINDOW = 0.8  # the whole unit cube fits at any azimuth for elevations up to 30°
_ARRAY_THRESHOLD = 0.5


def _matplotlib():
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            f"pix2vox.viz needs matplotlib ({error}); install it with: pip install \"pix2vox[viz]\""
        ) from None
    return matplotlib, FigureCanvasAgg, Figure


def _as_result(result: Result | np.ndarray) -> Result:
    if isinstance(result, Result):
        return result
    return Result(probabilities=check_volume(result), threshold=_ARRAY_THRESHOLD)


def _figure(rows: int, cols: int, panel_size: float, dpi: int) -> Figure:
    _, FigureCanvasAgg, Figure = _matplotlib()
    figure = Figure(figsize=(cols * panel_size, rows * panel_size), dpi=dpi, facecolor="white")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path: str | os.PathLike[str]) -> Path:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi, facecolor="white")
    return write_bytes_atomic(path, buffer.getvalue())


def _show_view(ax: Axes, view: View, title: str) -> None:
    from .preprocess import load_image  # imports PyTorch, which pictures of volumes do not need

    ax.imshow(np.clip(load_image(view), 0, 1), interpolation="antialiased")
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()


# ----------------------------------------------------------------------------------------------
# Rasterising


def voxel_faces(occupancy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exposed faces of the occupied voxels, in the unit cube.

    Args:
        occupancy: ``(D, D, D)`` bool, indexed ``[x, y, z]``.

    Returns:
        ``(quads, normals)``: ``(F, 4, 3)`` float64 corners, in order around each face, and
        ``(F, 3)`` outward unit normals, in array axes; voxel ``[i, j, k]`` spans
        ``[i/D, (i+1)/D] x [j/D, (j+1)/D] x [k/D, (k+1)/D]``.
    """
    occupied = np.pad(np.asarray(occupancy, dtype=bool), 1)
    size = occupied.shape[0] - 2
    square = np.array([(0, 0), (1, 0), (1, 1), (0, 1)])
    quads, normals = [], []
    for axis in range(3):
        u, w = [a for a in range(3) if a != axis]
        for sign in (-1, 1):
            exposed = occupied & ~np.roll(occupied, -sign, axis=axis)
            cells = np.argwhere(exposed[1:-1, 1:-1, 1:-1]).astype(np.float64)
            cells[:, axis] += sign > 0
            corners = np.repeat(cells[:, None, :], 4, axis=1)
            corners[:, :, u] += square[:, 0]
            corners[:, :, w] += square[:, 1]
            quads.append(corners / size)
            normal = np.zeros(3)
            normal[axis] = sign
            normals.append(np.broadcast_to(normal, (len(cells), 3)))
    return np.concatenate(quads), np.concatenate(normals)


def _camera(elevation: float, azimuth: float) -> np.ndarray:
    """Rows: right, up and towards-the-viewer unit vectors, in array axes (y up)."""
    el, az = np.radians(elevation), np.radians(azimuth)
    back = np.array([np.cos(el) * np.sin(az), np.sin(el), np.cos(el) * np.cos(az)])
    right = np.array([np.cos(az), 0.0, -np.sin(az)])  # horizontal, so y stays up in the picture
    return np.stack([right, np.cross(back, right), back])


def render_surface(
    polygons: np.ndarray,
    normals: np.ndarray,
    *,
    colour: Sequence[float] = MESH_COLOUR,
    elevation: float = 25.0,
    azimuth: float = 30.0,
    pixels: int = 250,
    outline: Literal["faces", "silhouette"] = "silhouette",
) -> np.ndarray:
    """Render a closed surface inside the unit cube as an RGBA image.

    Args:
        polygons: ``(F, K, 3)`` convex polygons (K = 3 for triangles, 4 for voxel faces), corners in
            array axes ``(x, y, z)``, y up, in the unit cube.
        normals: ``(F, 3)`` outward unit normals; faces turned away from the viewer are skipped.
        colour: RGB in [0, 1] of a fully lit face.
        elevation: degrees above the xz plane.
        azimuth: degrees about y, from +z towards +x.
        pixels: image side.
        outline: ``"faces"`` draws every polygon's border, ``"silhouette"`` only the outline of
            the shape.

    Returns:
        ``(pixels, pixels, 4)`` float32 RGBA in [0, 1], transparent where nothing is drawn.
    """
    polygons = np.asarray(polygons, dtype=np.float64)
    normals = np.asarray(normals, dtype=np.float64)
    camera = _camera(elevation, azimuth)
    front = normals @ camera[2] > 1e-9
    polygons, normals = polygons[front], normals[front]
    # Fan triangulation of each convex polygon; triangles remember their polygon.
    corners = polygons.shape[1]
    fans = np.stack([np.zeros(corners - 2, int), np.arange(1, corners - 1), np.arange(2, corners)], axis=1)
    triangles = polygons[:, fans].reshape(-1, 3, 3)
    polygon_of = np.repeat(np.arange(len(polygons)), corners - 2)
    size = pixels * _SUPERSAMPLING
    local = (triangles - 0.5) @ camera.T
    screen = np.stack([(local[..., 0] / _HALF_WINDOW + 1) / 2 * size, (1 - local[..., 1] / _HALF_WINDOW) / 2 * size], -1)
    pixel, triangle, _ = nearest_triangles(screen, local[..., 2], size)
    owner = np.full(size * size, -1, dtype=np.int64)
    owner[pixel] = triangle
    owner = owner.reshape(size, size)
    light = camera[2] + 0.6 * camera[1] - 0.4 * camera[0]
    light /= np.linalg.norm(light)
    shade = _AMBIENT + (1 - _AMBIENT) * np.clip(normals @ light, 0, 1)
    face = np.where(owner >= 0, polygon_of[np.maximum(owner, 0)], -1)
    image = np.zeros((size, size, 4), np.float32)
    covered = face >= 0
    image[covered, :3] = np.asarray(colour, np.float32)[None] * shade[face[covered], None].astype(np.float32)
    image[covered, 3] = 1
    region = face if outline == "faces" else covered.astype(np.int64)
    border = np.zeros_like(covered)
    border[:-1] |= region[:-1] != region[1:]
    border[:, :-1] |= region[:, :-1] != region[:, 1:]
    border &= covered
    image[border, :3] *= _EDGE_DARKENING
    return image.reshape(pixels, _SUPERSAMPLING, pixels, _SUPERSAMPLING, 4).mean(axis=(1, 3))


def _surface(result: Result, kind: Panel, threshold: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The polygons and normals of one panel kind, or None when nothing reaches the threshold."""
    occupancy = result.occupancy(threshold)
    if not occupancy.any():
        return None
    if kind == "voxels":
        return voxel_faces(occupancy)
    mesh = result.to_mesh(threshold=threshold)
    return mesh.triangles, mesh.face_normals


def _draw_panel(
    ax: Axes,
    surface: tuple[np.ndarray, np.ndarray] | None,
    kind: Panel,
    threshold: float,
    elevation: float,
    azimuth: float,
    pixels: int,
) -> None:
    ax.set_axis_off()
    ax.set_title(f"{kind}, {azimuth:.0f}°", fontsize=9)
    if surface is None:
        ax.text(0.5, 0.5, f"nothing ≥ {threshold:g}", transform=ax.transAxes, ha="center", va="center")
        return
    colour, outline = (VOXEL_COLOUR, "faces") if kind == "voxels" else (MESH_COLOUR, "silhouette")
    image = render_surface(
        *surface, colour=colour, elevation=elevation, azimuth=azimuth, pixels=pixels, outline=outline
    )
    ax.imshow(image, interpolation="antialiased")


def preview(
    result: Result | np.ndarray,
    path: str | os.PathLike[str],
    *,
    views: Sequence[View] | None = None,
    threshold: float | None = None,
    elevation: float = 25.0,
    azimuths: Sequence[float] = (30.0, 120.0, 210.0),
    panels: Sequence[Panel] = ("voxels", "mesh"),
    panel_size: float = 2.5,
    dpi: int = 100,
) -> Path:
    """Save a PNG of a reconstruction from several viewpoints, with its input views.

    The picture has one row of input views (when ``views`` are given), then one row per entry of
    ``panels``: ``"voxels"`` draws the occupied voxels (:meth:`Result.occupancy`), ``"mesh"`` the
    marching-cubes surface (:meth:`Result.to_mesh`), each from every azimuth. It is
    ``columns * panel_size * dpi`` pixels wide and ``rows * panel_size * dpi`` high, where
    ``columns = max(len(azimuths), len(views))``.

    Args:
        result: a :class:`~pix2vox.Result`, or a ``(D, D, D)`` volume in [0, 1] indexed
            ``[x, y, z]`` (e.g. a ground-truth grid; its threshold is 0.5).
        path: PNG file to write (atomically; its folder must exist).
        views: the pictures given to ``predict`` (paths, ``PIL.Image``s, arrays or tensors).
        threshold: occupancy threshold in (0, 1); default: the result's.
        elevation: degrees above the horizontal (xz) plane.
        azimuths: degrees about the vertical y axis, from +z towards +x (see the module docstring).
        panels: which 3D rows to draw, ``"voxels"`` and/or ``"mesh"``.
        panel_size: side of one panel in inches.
        dpi: pixels per inch.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        ImportError: matplotlib is not installed.
        ValueError: bad threshold, panels or volume.
        pix2vox.ImageError: a view cannot be read.

    Example:
        >>> result = rec.predict(["front.png", "side.png"])  # doctest: +SKIP
        >>> preview(result, "chair.png", views=["front.png", "side.png"])  # doctest: +SKIP
    """
    result = _as_result(result)
    threshold = check_threshold(result.threshold if threshold is None else threshold)
    views = list(views or [])
    if any(p not in ("voxels", "mesh") for p in panels) or not (panels or views):
        raise ValueError(f"panels must be 'voxels' and/or 'mesh', got {list(panels)!r}")
    if panels and not azimuths:
        raise ValueError("give at least one azimuth")
    rows = (1 if views else 0) + len(panels)
    cols = max(len(azimuths) if panels else 0, len(views))
    figure = _figure(rows, cols, panel_size, dpi)
    title = 0.3 / panel_size  # room for a title line, as a fraction of a panel
    grid = figure.add_gridspec(
        rows, cols, left=0.01, right=0.99, bottom=0.01, top=1 - title / rows, wspace=0.02, hspace=title
    )
    pixels = int(round(panel_size * dpi))
    for i, view in enumerate(views):
        _show_view(figure.add_subplot(grid[0, i]), view, f"view {i + 1}")
    for row, kind in enumerate(panels, start=1 if views else 0):
        surface = _surface(result, kind, threshold)
        for col, azimuth in enumerate(azimuths):
            ax = figure.add_subplot(grid[row, col])
            _draw_panel(ax, surface, kind, threshold, elevation, float(azimuth), pixels)
    return _save(figure, path)


def comparison(
    result: Result,
    truth: np.ndarray,
    path: str | os.PathLike[str],
    *,
    views: Sequence[View] = (),
    title: str = "",
    elevation: float = 25.0,
    azimuths: Sequence[float] = (30.0, 120.0, 210.0),
    panel_size: float = 2.0,
    dpi: int = 100,
) -> Path:
    """Save a PNG of a reconstruction beside its ground truth: the input views, then the
    predicted voxels and the true voxels, each from every azimuth.

    Args:
        result: The reconstruction.
        truth: ``(D, D, D)`` bool ground truth, ``[x, y, z]``.
        path: PNG file to write (atomically; its folder must exist).
        views: The pictures given to ``predict``.
        title: A line above the picture (e.g. the category and the IoU).
        elevation: Degrees above the horizontal plane.
        azimuths: Degrees about y, from +z towards +x.
        panel_size: Side of one panel in inches.
        dpi: Pixels per inch.

    Returns:
        ``path`` as a :class:`pathlib.Path`.
    """
    rows = (1 if views else 0) + 2
    cols = max(len(azimuths), len(views))
    figure = _figure(rows, cols, panel_size, dpi)
    top = 0.3 / panel_size
    grid = figure.add_gridspec(rows, cols, left=0.01, right=0.99, bottom=0.01,
                               top=1 - 2 * top / rows, wspace=0.02, hspace=top)
    if title:
        figure.suptitle(title, fontsize=10)
    pixels = int(round(panel_size * dpi))
    for i, view in enumerate(views):
        _show_view(figure.add_subplot(grid[0, i]), view, f"view {i + 1}")
    rows_of = [("prediction", result, result.threshold), ("ground truth", _as_result(truth.astype(np.float32)), 0.5)]
    for row, (name, shown, threshold) in enumerate(rows_of, start=1 if views else 0):
        surface = _surface(shown, "voxels", threshold)
        for col, azimuth in enumerate(azimuths):
            ax = figure.add_subplot(grid[row, col])
            _draw_panel(ax, surface, "voxels", threshold, elevation, float(azimuth), pixels)
            ax.set_title(f"{name}, {azimuth:.0f}°", fontsize=8)
    return _save(figure, path)


# Looking from +axis towards the origin: (how the 2D array is laid out for ``origin="lower"``,
# (horizontal, vertical) names). From +z, x is to the right (azimuth 0); from +x, -z (azimuth 90);
# from above, x to the right and -z up, so that +z is at the bottom. Objects in the canonical
# pose face +x: "z" shows their right-hand side, "x" their front.
_LAYOUTS = {
    "z": (lambda image: image.T, ("x", "y")),
    "x": (lambda image: image[:, ::-1], ("-z", "y")),
    "y": (lambda image: image.T[::-1], ("x", "-z")),
}


def _flatten(volume: np.ndarray, along: Axis, mode: str, mask: np.ndarray | None = None) -> np.ndarray:
    """A 2D picture of one volume seen from the ``along`` side, laid out for ``origin="lower"``.

    ``"slice"``: the middle slice. ``"projection"``: the maximum along the line of sight, or with
    ``mask`` (bool, same shape) the mean over the masked voxels on it (NaN where there are none).
    """
    axis = "xyz".index(along)
    if mode == "slice":
        image = np.take(volume, volume.shape[axis] // 2, axis=axis)
    elif mask is None:
        image = volume.max(axis=axis)
    else:
        count = mask.sum(axis=axis)
        total = np.where(mask, volume, 0).sum(axis=axis)
        image = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return _LAYOUTS[along][0](image)


def _show_map(ax: Axes, image: np.ndarray, cmap, title: str, along: Axis, vmax: float = 1.0):
    shown = ax.imshow(image, origin="lower", cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest")
    horizontal, vertical = _LAYOUTS[along][1]
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(horizontal, fontsize=8, labelpad=1)
    ax.set_ylabel(vertical, fontsize=8, labelpad=1)
    ax.set_title(title, fontsize=9)
    return shown


def fusion_figure(
    result: Result,
    path: str | os.PathLike[str],
    *,
    views: Sequence[View] | None = None,
    along: Axis = "z",
    mode: Literal["projection", "slice"] = "projection",
    panel_size: float = 2.2,
    dpi: int = 100,
) -> Path:
    """Save a PNG of the context-aware fusion: each view's coarse volume and its fusion weights.

    The fusion gives every view a score per voxel; a softmax over the views turns the scores into
    fusion weights (``result.fusion_weights``, summing to 1 at every voxel) and the fused volume is the weighted
    sum of the per-view coarse volumes (``result.coarse``). One row per view shows the input view
    (when given), its coarse volume and its weights; a last row shows the fused volume.

    With ``mode="projection"`` volumes are seen from the ``along`` side: coarse and fused volumes as
    their maximum along the line of sight, weights as their mean over the voxels of the fused
    shape on the line of sight (the voxels whose weights matter; blank where there are none).
    ``mode="slice"`` shows the middle slice across ``along`` of every volume instead, weights
    everywhere. Weights are coloured from 0 to 2/V, so that an equal share, 1/V, is the middle
    colour. From ``"z"``, x runs to the right and y up; from ``"x"``, -z to the right and y up;
    from ``"y"`` (above), x to the right and -z up.

    The picture is ``columns * panel_size * dpi`` pixels wide and ``(V + 1) * panel_size * dpi``
    high, with 3 columns when ``views`` are given and 2 otherwise.

    Args:
        result: from ``predict(..., details=True)``.
        path: PNG file to write (atomically; its folder must exist).
        views: the pictures given to ``predict``, in the same order.
        along: the axis to look along: ``"x"``, ``"y"`` or ``"z"``.
        mode: ``"projection"`` or ``"slice"``.
        panel_size: side of one panel in inches.
        dpi: pixels per inch.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        ImportError: matplotlib is not installed.
        ValueError: the result has no per-view details, or ``views`` do not match them.
        pix2vox.ImageError: a view cannot be read.

    Example:
        >>> result = rec.predict(["a.png", "b.png", "c.png"], details=True)  # doctest: +SKIP
        >>> fusion_figure(result, "fusion.png", views=["a.png", "b.png", "c.png"])  # doctest: +SKIP
    """
    if result.coarse is None or result.fusion_weights is None:
        raise ValueError("the result has no per-view volumes: call predict(..., details=True)")
    if along not in _LAYOUTS:
        raise ValueError(f"along must be 'x', 'y' or 'z', got {along!r}")
    if mode not in ("projection", "slice"):
        raise ValueError(f"mode must be 'projection' or 'slice', got {mode!r}")
    count = result.coarse.shape[0]
    views = list(views or [])
    if views and len(views) != count:
        raise ValueError(f"{len(views)} views given for a result of {count} views")
    matplotlib, *_ = _matplotlib()
    probability_map = matplotlib.colormaps["Greys"]
    weight_map = matplotlib.colormaps["viridis"].with_extremes(bad="white")
    equal = 1 / count  # weights sum to 1 over the views: centre the colours on an equal share
    cols = 3 if views else 2
    figure = _figure(count + 1, cols, panel_size, dpi)
    grid = figure.add_gridspec(count + 1, cols, left=0.06, right=0.95, bottom=0.07, top=0.95, wspace=0.25, hspace=0.35)
    fused = result.occupancy()
    first = 1 if views else 0
    probability_axes, weight_axes = [], []
    for v in range(count):
        if views:
            _show_view(figure.add_subplot(grid[v, 0]), views[v], f"view {v + 1}")
        ax = figure.add_subplot(grid[v, first])
        probabilities = _show_map(ax, _flatten(result.coarse[v], along, mode), probability_map, f"coarse volume {v + 1}", along)
        probability_axes.append(ax)
        ax = figure.add_subplot(grid[v, first + 1])
        mask = fused if mode == "projection" else None
        weights = _show_map(
            ax, _flatten(result.fusion_weights[v], along, mode, mask), weight_map, f"weight of view {v + 1}", along, equal * 2
        )
        weight_axes.append(ax)
    ax = figure.add_subplot(grid[count, first])
    _show_map(ax, _flatten(result.probabilities, along, mode), probability_map, "fused", along)
    probability_axes.append(ax)
    figure.colorbar(probabilities, ax=probability_axes, location="bottom", fraction=0.03, pad=0.04, label="occupancy")
    bar = figure.colorbar(weights, ax=weight_axes, location="bottom", fraction=0.03, pad=0.04, extend="max")
    bar.set_ticks([0, equal, 2 * equal], labels=["0", f"1/{count}", f"2/{count}"])
    bar.set_label("fusion weight")
    return _save(figure, path)
