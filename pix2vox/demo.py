"""The web demo (``pix2vox-demo``): upload views, turn the mesh and voxels in the browser, download them.

The page is built with Gradio (``pip install "pix2vox[demo]"``), imported only by :func:`build_app`
so that ``import pix2vox`` never loads it. The work is done by :class:`Demo`, whose methods are
plain functions of files and arrays (tested without a server):

* :meth:`Demo.predict` runs the network once per upload and keeps the probabilities, the
  per-view details and the network's input views (what ``auto`` preprocessing cropped);
* :meth:`Demo.render` thresholds the kept probabilities and writes the files the page shows and
  offers (mesh and voxel GLB, OBJ, binvox): moving the threshold slider never re-runs the network;
* :meth:`Demo.fusion` draws the fusion weights (:func:`pix2vox.viz.fusion_figure`).

Mistakes in the inputs (no view, a corrupt or unreadable image, weights that cannot be loaded)
raise :class:`~pix2vox.errors.Pix2VoxError`, which the page shows as its one-line message.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .batch.inputs import IMAGE_SUFFIXES
from .errors import Pix2VoxError
from .preprocess import network_picture

if TYPE_CHECKING:
    from .reconstructor import Reconstructor
    from .result import Result

logger = logging.getLogger(__name__)

__all__ = ["Demo", "Prediction", "Rendering", "build_app", "default_model", "example_sets"]

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
"""The examples folder of a checkout (``examples/<object>/*.png``); absent from installed wheels."""

MAX_VIEWS = 24
"""Most views one upload may have (the network's cost grows with each)."""

Loader = Callable[[str, str], "Reconstructor"]


def default_model() -> str:
    """The model the demo starts with: the package's default, shipped with it (no download needed)."""
    from .loading.registry import DEFAULT_MODEL

    return DEFAULT_MODEL


def example_sets(folder: str | os.PathLike | None = None) -> dict[str, list[Path]]:
    """Shipped example objects: ``{name: [view files]}`` from ``folder/<name>/*.png`` (default: :data:`EXAMPLES`)."""
    root = Path(folder) if folder is not None else EXAMPLES
    if not root.is_dir():
        return {}
    sets = {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        views = sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if views:
            sets[sub.name] = views
    return sets


def _load(name: str, mode: str, device: str) -> Reconstructor:
    from .reconstructor import Reconstructor

    return Reconstructor(name, device=device, preprocess=mode)  # type: ignore[arg-type]


@dataclass
class Prediction:
    """One upload's reconstruction, kept so that thresholds can change without the network.

    Attributes:
        result: the :class:`~pix2vox.Result`, with per-view details.
        model: name of the model that made it.
        views: the uploaded files, in order.
        inputs: the network's input views as ``(224, 224, 3)`` uint8 RGB pictures.
        folder: where the files of this prediction are written.
    """

    result: Result
    model: str
    views: list[Path]
    inputs: list[np.ndarray]
    folder: Path
    renderings: dict[float, Rendering] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendering:
    """The files of one prediction at one threshold.

    Attributes:
        threshold: the occupancy threshold.
        voxels: occupied voxels at that threshold.
        mesh_glb: marching-cubes surface, GLB (``None`` when no voxel is occupied).
        voxels_glb: blocky voxel surface, GLB (``None`` when no voxel is occupied).
        downloads: the OBJ, GLB and binvox files.
    """

    threshold: float
    voxels: int
    mesh_glb: Path | None
    voxels_glb: Path | None
    downloads: tuple[Path, ...]

    def summary(self, model: str, views: int) -> str:
        """One line for the page."""
        return f"{model}, {views} view{'s' if views != 1 else ''}: {self.voxels} voxels at threshold {self.threshold:.2f}"


class Demo:
    """The demo's work, independent of Gradio.

    Args:
        device: where the networks run (``"cpu"`` by default, as on a free Space).
        loader: ``loader(name, preprocess_mode)`` → :class:`~pix2vox.Reconstructor`; by default
            ``Reconstructor(name, device=device, preprocess=mode)``. Loaded models are kept.
        workdir: folder for the files shown and offered (default: a new temporary folder).
    """

    def __init__(self, *, device: str = "cpu", loader: Loader | None = None, workdir: str | os.PathLike | None = None):
        self.device = device
        self._loader = loader or (lambda name, mode: _load(name, mode, device))
        self._models: dict[tuple[str, str], Reconstructor] = {}
        self._lock = threading.Lock()
        self.workdir = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="pix2vox-demo-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._count = 0
        self.examples: dict[str, list[Path]] = example_sets()  # to name downloads of an example after it

    def model(self, name: str, mode: str = "auto") -> Reconstructor:
        """The reconstructor of ``name`` with preprocessing ``mode``, loaded on first use."""
        with self._lock:
            key = (name, mode)
            if key not in self._models:
                logger.info("loading %s (%s preprocessing)", name, mode)
                self._models[key] = self._loader(name, mode)
            return self._models[key]

    def predict(self, views: Sequence[str | os.PathLike], model: str, mode: str = "auto") -> Prediction:
        """Run the network once on one object's uploaded views.

        Raises:
            Pix2VoxError: no views, too many, a file that is not a readable image, or a model
                that cannot be loaded (its message is what the page shows).
        """
        paths = [Path(v) for v in views or []]
        if not paths:
            raise Pix2VoxError("upload at least one view of the object (PNG or JPEG; a cut-out on a transparent or plain background works best)")
        if len(paths) > MAX_VIEWS:
            raise Pix2VoxError(f"{len(paths)} views uploaded; the demo takes at most {MAX_VIEWS}")
        reconstructor = self.model(model, mode)
        inputs = reconstructor.preprocess(paths)  # reads every file first: a bad upload fails here
        result = reconstructor.predict(paths, details=True)
        with self._lock:
            self._count += 1
            folder = self.workdir / f"{self._count:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        pictures = [network_picture(view, reconstructor.preprocess_config) for view in inputs]
        return Prediction(result=result, model=reconstructor.name, views=paths, inputs=pictures, folder=folder)

    def render(self, prediction: Prediction, threshold: float | None = None) -> Rendering:
        """Threshold the kept probabilities and write the mesh, voxel and download files (no network).

        Args:
            prediction: from :meth:`predict`.
            threshold: occupancy threshold in (0, 1) (default: the checkpoint's).
        """
        from .geometry import check_threshold

        level = round(check_threshold(prediction.result.threshold if threshold is None else float(threshold)), 4)
        if level in prediction.renderings:
            return prediction.renderings[level]
        result = prediction.result
        voxels = int(result.occupancy(level).sum())
        folder = prediction.folder / f"t{level:.4f}"
        folder.mkdir(exist_ok=True)
        stem = object_name(prediction.views, self.examples)
        binvox = result.save(folder / f"{stem}.binvox", threshold=level)
        if voxels:
            download_glb = result.save(folder / f"{stem}.glb", threshold=level)
            mesh_glb = _display_glb(result, folder / "view" / "mesh.glb", level, "marching_cubes")
            voxels_glb = _display_glb(result, folder / "view" / "voxels.glb", level, "voxels")
            obj = result.save(folder / f"{stem}.obj", threshold=level)
            downloads: tuple[Path, ...] = (obj, download_glb, binvox)
        else:
            mesh_glb = voxels_glb = None
            downloads = (binvox,)
        rendering = Rendering(level, voxels, mesh_glb, voxels_glb, downloads)
        prediction.renderings[level] = rendering
        return rendering

    def fusion(self, prediction: Prediction) -> Path:
        """The fusion weights figure of a prediction (PNG, needs matplotlib)."""
        from .viz import fusion_figure

        path = prediction.folder / "fusion.png"
        if not path.exists():
            fusion_figure(prediction.result, path, views=[str(p) for p in prediction.views])
        return path


MESH_COLOUR = (0.55, 0.30, 0.12, 1.0)
"""Base colour of the surfaces shown on the page (RGBA, linear): the orange of ``pix2vox.viz``'s meshes."""

VOXEL_COLOUR = (0.13, 0.27, 0.50, 1.0)
"""Base colour of the voxels shown on the page: the blue of ``pix2vox.viz``'s voxels."""


def _display_glb(result: Result, path: Path, level: float, method: str) -> Path:
    """The GLB the page shows: coloured, with vertex normals for the smooth surface (voxels stay flat)."""
    import trimesh

    from .atomic import write_bytes_atomic

    mesh = result.to_mesh(threshold=level, method=method)  # type: ignore[arg-type]
    colour = MESH_COLOUR if method == "marching_cubes" else VOXEL_COLOUR
    material = trimesh.visual.material.PBRMaterial(baseColorFactor=colour, metallicFactor=0.0, roughnessFactor=0.7)
    mesh.visual = trimesh.visual.TextureVisuals(material=material)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_bytes_atomic(path, mesh.export(file_type="glb", include_normals=method == "marching_cubes"))


_TEMPORARY = re.compile(r"^[0-9a-f]{16,}$|^tmp|^gradio$")


def object_name(views: Sequence[Path], examples: dict[str, list[Path]] | None = None) -> str:
    """A file name for the object of ``views``.

    The example set the views are copies of (same names and sizes), else their folder's name
    (``photos/armchair/front.jpg`` → ``armchair``) unless it is a temporary upload folder, else the
    first view's name (``armchair.jpg`` → ``armchair``); ``object`` when that is only a number.
    """
    paths = [Path(v) for v in views]
    signature = {(p.name, p.stat().st_size) for p in paths if p.is_file()}
    for name, files in (examples or {}).items():
        if signature and signature <= {(f.name, f.stat().st_size) for f in files}:
            return name
    first = paths[0]
    folder = first.parent.name
    name = folder if folder and not _TEMPORARY.match(folder) and all(p.parent == first.parent for p in paths) else first.stem
    cleaned = re.sub(r"[^\w.-]+", "-", name).strip("-.")
    return cleaned if cleaned and not cleaned.isdigit() else "object"


def user_message(error: BaseException, views: Sequence[Path]) -> str:
    """The one-line message of a user's mistake, with each uploaded file named by its own name, not the server's path."""
    text = str(error)
    for view in sorted(views, key=lambda v: len(str(v)), reverse=True):
        text = text.replace(str(view), Path(view).name)
    return text


def _gradio():
    try:
        import gradio
    except ImportError:
        raise Pix2VoxError('the web demo needs Gradio: pip install "pix2vox[demo]"') from None
    return gradio


def build_app(
    demo: Demo | None = None,
    *,
    models: Sequence[str] | None = None,
    model: str | None = None,
    examples: str | os.PathLike | None = None,
) -> Any:
    """The Gradio page (a ``gradio.Blocks``), ready for ``.launch()``.

    Args:
        demo: the work behind the page (default: ``Demo()`` on the CPU).
        models: model names offered (default: the registered ones that are shipped, published on
            the Hub, or the authors' (fetched on first use); one whose weights cannot be loaded shows
            its message when used).
        model: the model selected at first (default: :func:`default_model`).
        examples: folder of example objects (default: :data:`EXAMPLES` when present).
    """
    gr = _gradio()
    from .loading.registry import get_record, list_models

    demo = demo or Demo()
    names = list(models or [name for name in list_models() if (r := get_record(name)).local_dir or r.published or r.original_file])
    first = model or default_model()
    if first not in names:
        names.insert(0, first)
    sets = example_sets(examples)
    demo.examples = sets

    def uploads(files: list | None) -> list[Path]:
        return [Path(getattr(f, "name", f)) for f in files or []]

    def outputs_of(prediction: Prediction, rendering: Rendering) -> tuple:
        mesh = str(rendering.mesh_glb) if rendering.mesh_glb else None
        voxels = str(rendering.voxels_glb) if rendering.voxels_glb else None
        files = [str(p) for p in rendering.downloads]
        return mesh, voxels, files, rendering.summary(prediction.model, len(prediction.views))

    def reconstruct(files: list | None, name: str, mode: str, threshold: float):
        views = uploads(files)
        try:
            prediction = demo.predict(views, name, mode)
            rendering = demo.render(prediction, threshold)
            fusion = str(demo.fusion(prediction)) if len(prediction.views) > 1 else None
        except (Pix2VoxError, ValueError, OSError) as error:
            # A user's mistake: one line on the page and in the log, the other panels left as they were.
            message = user_message(error, views)
            logger.info("demo: %s", message)
            return (gr.skip(),) * 6 + (f"**Could not reconstruct:** {message}",)
        gallery = [(picture, f"view {i}") for i, picture in enumerate(prediction.inputs, start=1)]
        return (prediction, gallery, fusion, *outputs_of(prediction, rendering))

    def rethreshold(prediction: Prediction | None, threshold: float):
        if prediction is None:
            return gr.skip(), gr.skip(), gr.skip(), "Upload views and press **Reconstruct**."
        try:
            return outputs_of(prediction, demo.render(prediction, threshold))
        except (Pix2VoxError, ValueError, OSError) as error:
            logger.info("demo: %s", error)
            return gr.skip(), gr.skip(), gr.skip(), f"**Could not re-threshold:** {error}"

    def model_threshold(name: str) -> float:
        try:
            return get_record(name).threshold
        except Pix2VoxError:
            return 0.3

    camera = (45, 65, 2.6)  # azimuth, polar angle (degrees), distance: the whole unit-cube object in view
    with gr.Blocks(title="pix2vox: 3D shapes from pictures") as page:
        gr.Markdown(
            "# pix2vox\nUpload one or more pictures of one object, or pick an example, then **Reconstruct**. "
            "Photos work too: the object is cut out of its background (a cut-out on a transparent or plain "
            "background is the surest). The threshold slider re-thresholds the kept probabilities without "
            "running the network again."
        )
        state = gr.State(None)
        with gr.Row():
            with gr.Column(scale=1):
                files = gr.File(label="Views of one object", file_count="multiple", file_types=["image"], elem_id="views")
                chooser = gr.Dropdown(names, value=first, label="Model", elem_id="model")
                mode = gr.Radio(["auto", "official"], value="auto", label="Preprocessing",
                                info="auto: cut the object out and frame it (photos, cut-outs); official: the papers' ShapeNet transforms")
                threshold = gr.Slider(0.05, 0.95, value=model_threshold(first), step=0.01, label="Threshold", elem_id="threshold")
                button = gr.Button("Reconstruct", variant="primary", elem_id="reconstruct")
                if sets:
                    gr.Examples([[[str(p) for p in views]] for views in sets.values()], inputs=[files],
                                example_labels=list(sets), label="Examples")
            with gr.Column(scale=2):
                summary = gr.Markdown("Upload views and press **Reconstruct**.", elem_id="summary")
                with gr.Row():
                    mesh = gr.Model3D(label="Mesh (marching cubes)", elem_id="mesh", height=400, clear_color=(1, 1, 1, 1),
                                      camera_position=camera, display_mode="solid")
                    voxels = gr.Model3D(label="Voxels", elem_id="voxels", height=400, clear_color=(1, 1, 1, 1),
                                        camera_position=camera, display_mode="solid")
                downloads = gr.File(label="Downloads (OBJ, GLB, binvox)", file_count="multiple", elem_id="downloads")
                gallery = gr.Gallery(label="What the network sees: each view cut out, framed and put on grey",
                                     columns=5, height=300, object_fit="contain", allow_preview=True, elem_id="seen")
                fusion = gr.Image(label="Fusion weights (several views)", type="filepath")
        chooser.change(model_threshold, chooser, threshold)
        button.click(reconstruct, [files, chooser, mode, threshold],
                     [state, gallery, fusion, mesh, voxels, downloads, summary], api_name="reconstruct")
        threshold.release(rethreshold, [state, threshold], [mesh, voxels, downloads, summary], api_name="rethreshold")
    page.pix2vox_demo = demo  # for tests and callers that want the state behind the page
    return page
