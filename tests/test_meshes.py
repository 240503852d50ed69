"""pix2vox-dataset: mesh loading, pose, rasteriser, solid voxels, layout, determinism, skipping, importer."""

import dataclasses
import json
import logging
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from pix2vox.cli.dataset import main
from pix2vox.exchange.binvox import read_binvox
from pix2vox.meshes.builder import MeshDatasetConfig, build_dataset, find_models
from pix2vox.meshes.categories import taxonomy_id
from pix2vox.meshes.load import MeshError, load_mesh
from pix2vox.meshes.raster import rasterize
from pix2vox.meshes.sweethome3d import category_of, import_catalogues
from pix2vox.meshes.voxelize import voxelize_mesh, winding_numbers
from pix2vox.synth.render import Camera, project

CONFIG = MeshDatasetConfig(views=3, size=48, supersample=1, splits=(0.0, 0.0, 1.0))

# An L-shaped "chair" in Sweet Home 3D's frame (y up, front +z): a seat slab and a backrest at -z.
SEAT = trimesh.creation.box(extents=(0.5, 0.1, 0.5), transform=trimesh.transformations.translation_matrix((0, 0.45, 0)))
BACK = trimesh.creation.box(extents=(0.5, 0.5, 0.1), transform=trimesh.transformations.translation_matrix((0, 0.75, -0.2)))


def write_textured_obj(folder: Path, mesh: trimesh.Trimesh) -> Path:
    """An OBJ with an MTL and a PNG texture: left half of the texture red, right half blue."""
    folder.mkdir(parents=True, exist_ok=True)
    texture = np.zeros((8, 8, 3), np.uint8)
    texture[:, :4] = (230, 20, 20)
    texture[:, 4:] = (20, 20, 230)
    Image.fromarray(texture).save(folder / "wood.png")
    (folder / "model.mtl").write_text("newmtl wood\nKd 0.8 0.8 0.8\nmap_Kd wood.png\n")
    v = mesh.vertices
    uv = (v[:, [0, 2]] - v[:, [0, 2]].min(axis=0)) / np.ptp(v[:, [0, 2]], axis=0)  # planar map over x, z
    lines = ["mtllib model.mtl", "usemtl wood"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in v]
    lines += [f"vt {a:.6f} {b:.6f}" for a, b in uv]
    lines += [f"f {a}/{a} {b}/{b} {c}/{c}" for a, b, c in mesh.faces + 1]
    path = folder / "model.obj"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def meshes(tmp_path_factory):
    root = tmp_path_factory.mktemp("meshes")
    write_textured_obj(root / "chair" / "lchair", trimesh.util.concatenate([SEAT, BACK]))
    box = trimesh.creation.box(extents=(0.8, 0.4, 0.6))
    box.visual = trimesh.visual.ColorVisuals(box, face_colors=np.tile([40, 160, 60, 255], (len(box.faces), 1)))
    (root / "table").mkdir()
    box.export(root / "table" / "box.glb")
    (root / "table" / "broken.obj").write_text("this is not an obj file\nf 1 2 3\n")
    return root


@pytest.fixture(scope="module")
def built(meshes, tmp_path_factory):
    root = tmp_path_factory.mktemp("built")
    path, skipped = build_dataset(meshes, root, seed=5, config=CONFIG, progress=False)
    return root, path, skipped


def model_dirs(root: Path) -> list[Path]:
    return sorted((root / "ShapeNetVox32").glob("*/*"))


def test_layout_and_taxonomy(built):
    root, path, skipped = built
    entries = {e["taxonomy_name"]: e for e in json.loads(path.read_text())}
    assert set(entries) == {"chair", "table"}
    assert entries["chair"]["taxonomy_id"] == "03001627" and entries["table"]["taxonomy_id"] == "04379243"
    assert len(entries["chair"]["test"]) == 1 and len(entries["table"]["test"]) == 1
    for name, entry in entries.items():
        (model_id,) = entry["test"]
        folder = root / "ShapeNetRendering" / entry["taxonomy_id"] / model_id / "rendering"
        assert (folder / "renderings.txt").read_text().split() == ["00.png", "01.png", "02.png"]
        meta = [line.split() for line in (folder / "rendering_metadata.txt").read_text().splitlines()]
        assert len(meta) == 3 and all(len(m) == 5 and float(m[4]) == 25.0 for m in meta)
        image = np.asarray(Image.open(folder / "00.png"))
        assert image.shape == (48, 48, 4)
        assert image[0, 0, 3] == 0 and image[24, 24, 3] == 255  # transparent background, object in the middle
        grid = read_binvox(root / "ShapeNetVox32" / entry["taxonomy_id"] / model_id / "model.binvox")
        assert grid.occupancy.shape == (32, 32, 32)
    records = json.loads((root / "models.json").read_text())
    assert sorted(r["source"] for r in records.values()) == ["chair/lchair/model.obj", "table/box.glb"]


def test_broken_mesh_is_skipped_with_its_name(built):
    root, _, skipped = built
    assert len(skipped) == 1 and "broken.obj" in skipped[0]
    assert len(model_dirs(root)) == 2


def test_box_voxels_match_its_volume(built):
    root, path, _ = built
    entry = next(e for e in json.loads(path.read_text()) if e["taxonomy_name"] == "table")
    grid = read_binvox(root / "ShapeNetVox32" / "04379243" / entry["test"][0] / "model.binvox").occupancy
    # 0.8 (x) x 0.4 (y) x 0.6 (z), turned from front +z to +x (so 0.6 along x, 0.8 along z) and
    # scaled to a longest side of 1: 24 x 16 x 32 voxels exactly; faces on voxel boundaries may
    # touch the next voxel, at most one more layer per side.
    assert 24 * 16 * 32 <= grid.sum() <= 26 * 18 * 32
    assert grid[4:28, 8:24, :].all()  # solid, not a shell
    assert not grid[:3].any() and not grid[:, :7].any()


def test_same_seed_gives_identical_files(meshes, built, tmp_path):
    root, _, _ = built
    build_dataset(meshes, tmp_path, seed=5, config=CONFIG, progress=False)
    first = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert first == second


def test_an_interrupted_build_resumes_with_the_same_files(meshes, built, tmp_path, caplog):
    root, _, _ = built
    build_dataset(meshes, tmp_path, seed=5, config=CONFIG, progress=False)
    chair, table = (next((tmp_path / "ShapeNetRendering" / t).iterdir()) for t in ("03001627", "04379243"))
    shutil.rmtree(chair / "rendering")  # as if killed between the chair's voxels and its renderings
    (tmp_path / "ShapeNet.json").unlink()
    kept = (table / "rendering" / "00.png").stat().st_mtime_ns
    with caplog.at_level(logging.INFO, logger="pix2vox.meshes.builder"):
        build_dataset(meshes, tmp_path, seed=5, config=CONFIG, progress=False)
    assert "1 of 3 models already built" in caplog.text
    assert (table / "rendering" / "00.png").stat().st_mtime_ns == kept  # left as it was
    first = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == first
    with pytest.raises(ValueError, match=r"built before with other settings \(seed, views\)"):
        build_dataset(meshes, tmp_path, seed=6, config=dataclasses.replace(CONFIG, views=2), progress=False)


def test_progress_bars_stay_out_of_logs_that_are_not_terminals(meshes, tmp_path, capsys):
    build_dataset(meshes, tmp_path, seed=5, config=CONFIG, progress=True)  # stderr is captured: not a terminal
    assert "\r" not in capsys.readouterr().err


def test_chair_faces_plus_x_and_renderings_agree_with_voxels(built):
    root, path, _ = built
    entry = next(e for e in json.loads(path.read_text()) if e["taxonomy_name"] == "chair")
    model = entry["test"][0]
    grid = read_binvox(root / "ShapeNetVox32" / "03001627" / model / "model.binvox").occupancy
    cells = np.argwhere(grid)
    top = cells[cells[:, 1] >= np.quantile(cells[:, 1], 0.85)]
    assert top[:, 0].mean() < 15.5 - 2 and abs(top[:, 2].mean() - 15.5) < 1.5  # backrest at low x
    folder = root / "ShapeNetRendering" / "03001627" / model / "rendering"
    for line, name in zip((folder / "rendering_metadata.txt").read_text().splitlines(), ["00.png", "01.png", "02.png"]):
        az, el, _, dist, fov = map(float, line.split())
        alpha = np.asarray(Image.open(folder / name))[..., 3] > 0
        centres = (cells + 0.5) / 32 - 0.5
        cols, rows = project(centres, Camera(az, el, dist, fov), 48).T.astype(int)
        covered = np.zeros_like(alpha)
        covered[rows.clip(0, 47), cols.clip(0, 47)] = True
        # Every object pixel lies within a pixel of a projected voxel centre.
        near = np.zeros_like(alpha)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                near |= np.roll(np.roll(covered, dr, 0), dc, 1)
        assert (alpha & ~near).sum() <= 0.02 * alpha.sum()


def test_texture_colours_reach_the_rendering(meshes):
    mesh = load_mesh(meshes / "chair" / "lchair" / "model.obj")
    image = rasterize(mesh, Camera(0.0, 80.0, 2.5, 25.0), 64, supersample=1)  # from above: the seat
    rgb = image[image[..., 3] == 255][:, :3].astype(int)
    assert ((rgb[:, 0] > 2 * rgb[:, 2]) & (rgb[:, 0] > 60)).sum() > 50  # red texels
    assert ((rgb[:, 2] > 2 * rgb[:, 0]) & (rgb[:, 2] > 60)).sum() > 50  # blue texels


def test_open_box_still_voxelises_solid():
    box = trimesh.creation.box(extents=(0.8, 0.6, 0.4))
    open_top = box.triangles[box.face_normals[:, 1] < 0.5]  # two triangles of the +y face removed
    assert len(open_top) == 10
    # At the centre: 1 minus the missing face's solid angle over 4π; a centred a x b rectangle at
    # distance d subtends 4 arcsin(ab / sqrt((a² + 4d²)(b² + 4d²))).
    a, b, d = 0.8, 0.4, 0.3
    missing = 4 * np.arcsin(a * b / np.sqrt((a * a + 4 * d * d) * (b * b + 4 * d * d))) / (4 * np.pi)
    assert winding_numbers(np.zeros((1, 3)), open_top)[0] == pytest.approx(1 - missing, abs=1e-9)
    np.testing.assert_array_equal(voxelize_mesh(open_top), voxelize_mesh(box.triangles))
    shell = voxelize_mesh(open_top)
    assert shell[4:28, 7:25, 10:22].all()  # the box spans voxels 3.2-28.8, 6.4-25.6, 9.6-22.4


def test_degenerate_and_unreadable_meshes(tmp_path):
    flat = tmp_path / "line.obj"
    flat.write_text("v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n")
    with pytest.raises(MeshError, match="line.obj"):
        load_mesh(flat)
    with pytest.raises(MeshError, match="missing.obj"):
        load_mesh(tmp_path / "missing.obj")


def test_category_map():
    assert category_of("Desk lamp", "Lights") == "lamp"
    assert category_of("Rattan armchair", "Exterior") == "chair"
    assert category_of("Wheelchair", "Miscellaneous") == "other"
    assert category_of("Seat Leon", "Vehicles") == "car"
    assert category_of("Bedside table", "Bedroom") == "table"
    assert category_of("Upper shelves cabinet", "Kitchen") == "cabinet"
    assert category_of("Male", "Characters") == "person"
    assert taxonomy_id("chair") == "03001627"
    assert taxonomy_id("person") == taxonomy_id("person") and taxonomy_id("person").startswith("9")
    assert len(taxonomy_id("person")) == 8


def test_sweethome3d_import(tmp_path):
    catalogue = tmp_path / "Scopia.sh3f"
    obj = (trimesh.util.concatenate([SEAT, BACK]).export(file_type="obj"))
    with zipfile.ZipFile(catalogue, "w") as archive:
        archive.writestr("PluginFurnitureCatalog.properties",
                         "name#1=Oak chair\ncategory#1=Living room\nmodel#1=/scopia/oak/oak.obj\n"
                         "creator#1=Scopia\nwidth#1=50\nheight#1=80\ndepth#1=50\n"
                         "modelRotation#1=1 0 0 0 0 1 0 -1 0\n")
        archive.writestr("scopia/oak/oak.obj", obj)
    counts = import_catalogues(tmp_path / "meshes", [catalogue])
    assert counts == {"chair": 1}
    (model,) = find_models(tmp_path / "meshes")
    assert model.category == "chair" and model.path.name == "oak.obj"
    assert model.meta["license"] == "CC-BY-3.0" and model.meta["name"] == "Oak chair"
    assert model.meta["rotation"] == [[1, 0, 0], [0, 0, 1], [0, -1, 0]]


def test_cli_usage_error_and_success(meshes, tmp_path, capsys):
    assert main([str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
    assert "nowhere" in capsys.readouterr().err
    assert main([str(meshes), "--out", str(tmp_path / "o"), "--split", "0.5,0.6,0.1"]) == 2
    assert main([str(meshes), "--out", str(tmp_path / "o"), "--views", "1", "--size", "32", "--supersample", "1",
                 "--split", "test", "--quiet"]) == 0
    assert len(json.loads((tmp_path / "o" / "ShapeNet.json").read_text())) == 2


def test_attribution_lists_every_cc_by_model(tmp_path):
    from pix2vox.meshes.attribution import attribution_markdown

    records = {
        "a": {"source": "chair/a/a.obj", "name": "Oak chair", "creator": "Jo", "license": "CC-BY-3.0", "source_catalogue": "Scopia.sh3f"},
        "b": {"source": "lamp/b/b.obj", "name": "Lamp", "creator": "Kim", "license": "CC0-1.0", "source_catalogue": "BlendSwap-CC-0.sh3f"},
        "c": {"source": "bed/c/c.obj", "name": "Bed", "creator": "Reallusion", "license": "CC-BY-3.0-US", "source_catalogue": "Reallusion.sh3f"},
    }
    path = tmp_path / "models.json"
    path.write_text(json.dumps(records))
    text = attribution_markdown(path)
    assert '- "Oak chair" by Jo' in text and '- "Bed" by Reallusion' in text
    assert "Lamp" not in text  # CC0 asks for no credit
    assert "1 CC-BY-3.0, 1 CC-BY-3.0-US, 1 CC0-1.0" in text
    assert "https://creativecommons.org/licenses/by/3.0/us/" in text


@pytest.mark.slow
def test_inference_path_does_not_import_the_dataset_builder():
    import subprocess
    import sys

    code = "import sys, pix2vox; from pix2vox import Reconstructor; import pix2vox.cli.export; print('pix2vox.meshes' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
