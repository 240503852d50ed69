"""A worker of ``generate.py``: makes Infinigen assets in one Blender process.

Runs with the Infinigen environment's Python; ``generate.py`` starts it, sends one job per line
(JSON) on stdin and reads one result per line on stdout: first ``{"ready": ...}``, then for each job
``{"status": "made", "seconds"}`` or ``{"status": "broken", "reason"}`` (one line of text). Everything
Blender and Infinigen print goes to stderr, so stdout carries results only. The worker ends at the
end of its input.

The geometry of an asset is read as Blender would render it: every instance of the evaluated
dependency graph that belongs to the asset (modifiers and geometry-node instances realised), in
world coordinates, triangulated, with the material of each face. A material's colour is the base
colour of its Principled BSDF: a constant, or the mean of the colour ramp or mix that feeds it;
fully procedural shaders give none (grey in the files).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import postprocess  # noqa: E402

Make = Callable[[postprocess.Job], postprocess.MeshData]


def results_channel():
    """Keeps the real stdout for result lines and sends everything else written to fd 1 (Blender
    prints from C) to stderr. Call it before importing Blender."""
    results = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return results


def serve(make: Make, version: str, results) -> None:
    """The protocol loop: one result line per job line on stdin, until the input ends.

    Args:
        make: Builds a job's mesh in Infinigen's frame (z up, front +x, metres); an exception
            means a broken asset.
        version: The generator's version, for ``meta.json``.
        results: From :func:`results_channel`.
    """
    results.write(json.dumps({"ready": True, "version": version}) + "\n")
    while line := sys.stdin.readline():
        message = json.loads(line)
        results.write(json.dumps(handle(message, make, version)) + "\n")


def handle(message: dict, make: Make, version: str) -> dict:
    """Makes and writes one job of ``generate.py``; returns its result line."""
    job = postprocess.Job(message["category"], message["index"], message["factory"], message["seed"])
    started = time.perf_counter()
    try:
        mesh = make(job)
    except Exception as error:  # noqa: BLE001  (any failure inside Infinigen makes this asset unusable, not the run)
        text = " ".join(str(error).split())
        return {"status": "broken", "reason": f"{type(error).__name__} in Infinigen: {text}"[:300]}
    seconds = time.perf_counter() - started
    reason = postprocess.finish_model(job, mesh, message["folder"], version=version, max_triangles=message["max_triangles"],
                                      base_seed=message["base_seed"], seconds=seconds)
    if reason is not None:
        return {"status": "broken", "reason": reason}
    return {"status": "made", "seconds": round(seconds, 3)}


# ------------------------------------------------------------------------------------------------
# Blender and Infinigen (imported only when run as a script)


SUBPACKAGES = ("seating", "tables", "lamp", "shelves", "appliances", "bathroom", "tableware", "table_decorations")
"""The families of ``infinigen.assets.objects`` searched for factories (importing every family would
also load creatures, plants and terrain)."""


def _setup() -> str:
    """Loads Infinigen's indoor configuration into a fresh Blender; returns Infinigen's version."""
    import infinigen
    from infinigen.core import init

    # folders relative to Infinigen's root, as its own generate_individual_assets.py names them
    init.apply_gin_configs(["infinigen_examples/configs_indoor", "infinigen_examples/configs_nature"], skip_unknown=True)
    init.configure_blender()
    return infinigen.__version__


def _factory_class(name: str) -> type:
    """The class ``name`` from the modules of :data:`SUBPACKAGES`."""
    import gin

    for family in SUBPACKAGES:
        with gin.unlock_config():
            module = importlib.import_module(f"infinigen.assets.objects.{family}")
        if isinstance(getattr(module, name, None), type):
            return getattr(module, name)
    raise KeyError(f"no factory {name} in infinigen.assets.objects.{{{','.join(SUBPACKAGES)}}}")


def _clear_scene() -> None:
    import bpy

    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj, do_unlink=True)
    for collection in (bpy.data.meshes, bpy.data.materials, bpy.data.node_groups, bpy.data.images,
                       bpy.data.curves, bpy.data.textures):
        for block in list(collection):
            if block.users == 0:
                collection.remove(block)


def _factory(name: str, seed: int):
    """Factory ``name`` with ``seed``, its random choices overridden by :data:`postprocess.SETTINGS`."""
    factory = _factory_class(name)(seed)
    for key, value in postprocess.SETTINGS.get(name, {}).items():
        setattr(factory, key, value)
    return factory


def _spawn(name: str, seed: int):
    from infinigen.core.util.math import FixedSeed

    with FixedSeed(seed):
        factory = _factory(name, seed)
        obj = factory.spawn_asset(seed)
        factory.finalize_assets(obj)
    return obj


def _mean_color(node, depth: int = 0):
    """Linear RGB that a node feeds into a colour socket, where it can be read without evaluating."""
    if node.type == "VALTORGB":
        return np.mean([e.color[:3] for e in node.color_ramp.elements], axis=0)
    if node.type == "RGB":
        return np.asarray(node.outputs[0].default_value[:3])
    if node.type in ("MIX", "MIX_RGB") and depth < 3:
        colors = []
        for socket in node.inputs:
            if socket.type != "RGBA" or not socket.enabled:
                continue
            value = _mean_color(socket.links[0].from_node, depth + 1) if socket.is_linked else np.asarray(socket.default_value[:3])
            if value is not None:
                colors.append(value)
        return np.mean(colors, axis=0) if colors else None
    return None


def material_color(material) -> tuple[float, float, float] | None:
    """sRGB base colour of a material's first Principled BSDF, or ``None``."""
    if material is None or not material.use_nodes or material.node_tree is None:
        return None
    for node in material.node_tree.nodes:
        if node.type == "BSDF_PRINCIPLED":
            socket = node.inputs["Base Color"]
            value = _mean_color(socket.links[0].from_node) if socket.is_linked else np.asarray(socket.default_value[:3])
            return None if value is None else postprocess.linear_to_srgb(value)
    return None


def collect(roots) -> postprocess.MeshData:
    """Triangles of ``roots`` and their children as Blender evaluates them, in world coordinates."""
    import bpy

    owned = set()
    for root in roots:
        owned |= {root.name, *(c.name for c in root.children_recursive)}
    bpy.context.view_layer.update()
    depsgraph = bpy.context.evaluated_depsgraph_get()
    vertices, faces, material, colors, slots = [], [], [], [], {}
    count = 0
    for instance in depsgraph.object_instances:
        owner = instance.parent if instance.is_instance else instance.object
        if owner is None or owner.original.name not in owned or instance.object.type != "MESH":
            continue
        obj = instance.object
        mesh = obj.to_mesh()
        try:
            mesh.calc_loop_triangles()
            n, m = len(mesh.vertices), len(mesh.loop_triangles)
            if n == 0 or m == 0:
                continue
            co = np.empty(n * 3, np.float64)
            mesh.vertices.foreach_get("co", co)
            matrix = np.array(instance.matrix_world)
            co = co.reshape(-1, 3) @ matrix[:3, :3].T + matrix[:3, 3]
            tri = np.empty(m * 3, np.int64)
            mesh.loop_triangles.foreach_get("vertices", tri)
            mat = np.empty(m, np.int64)
            mesh.loop_triangles.foreach_get("material_index", mat)
            materials = list(mesh.materials) or [s.material for s in obj.material_slots]
            index = []
            for slot in range(max(len(materials), 1)):
                blender_material = materials[slot] if slot < len(materials) else None
                key = blender_material.name if blender_material is not None else ""
                if key not in slots:
                    slots[key] = len(colors)
                    colors.append(material_color(blender_material))
                index.append(slots[key])
            vertices.append(co)
            faces.append(tri.reshape(-1, 3) + count)
            material.append(np.asarray(index)[np.clip(mat, 0, len(index) - 1)])
            count += n
        finally:
            obj.to_mesh_clear()
    if not faces:
        return postprocess.MeshData(np.zeros((0, 3)), np.zeros((0, 3), np.int64), np.zeros(0, np.int64), [])
    return postprocess.MeshData(np.concatenate(vertices), np.concatenate(faces), np.concatenate(material), colors)


def _bed(seed: int) -> list:
    """A bed frame with a mattress on it, placed as Infinigen's ``BedFactory`` places its own
    (without the bedding, which needs a cloth simulation): the mattress 92 % of the frame's width
    and length, its bottom on the frame's support (z = 0), its middle half the frame's length in
    front of the frame's origin, turned a quarter about z."""
    from infinigen.core.util.math import FixedSeed

    with FixedSeed(seed):
        frame_factory = _factory("BedFrameFactory", seed)
        frame = frame_factory.spawn_asset(seed)
        frame_factory.finalize_assets(frame)
        mattress_factory = _factory("MattressFactory", seed)
        mattress_factory.width = frame_factory.width * 0.92
        mattress_factory.size = frame_factory.size * 0.92
        mattress = mattress_factory.spawn_asset(seed)
        mattress.location = (frame_factory.size / 2, 0.0, mattress_factory.thickness / 2)
        mattress.rotation_euler[2] = np.pi / 2
        mattress_factory.finalize_assets(mattress)
    return [frame, mattress]


def make_asset(job: postprocess.Job) -> postprocess.MeshData:
    """The mesh of one job, in Infinigen's frame."""
    _clear_scene()
    try:
        roots = _bed(job.seed) if job.factory == postprocess.BED else [_spawn(name, job.seed) for name in job.factory.split("+")]
        return collect(roots)
    finally:
        _clear_scene()


def main() -> None:
    """Loads Infinigen, then serves jobs from stdin."""
    results = results_channel()
    serve(make_asset, _setup(), results)


if __name__ == "__main__":
    main()
