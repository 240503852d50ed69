"""The web demo: its functions without a server, then the page served on 127.0.0.1.

Runs the shipped checkpoint on the shipped example views, on the CPU.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import trimesh

from pix2vox.demo import EXAMPLES, Demo, build_app, default_model, example_sets
from pix2vox.errors import Pix2VoxError
from pix2vox.exchange import load_volume

CHAIR = sorted((EXAMPLES / "chair").glob("*.png"))


class CountingLoader:
    """Loads reconstructors as the demo does and counts their runs of the network (``predict_batch``)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, name: str, mode: str):
        from pix2vox import Reconstructor

        reconstructor = Reconstructor(name, device="cpu", preprocess=mode)
        predict_batch = reconstructor.predict_batch  # predict() runs the network through it

        def counted(*args, **kwargs):
            self.calls += 1
            return predict_batch(*args, **kwargs)

        reconstructor.predict_batch = counted
        return reconstructor


@pytest.fixture(scope="module")
def loader() -> CountingLoader:
    return CountingLoader()


@pytest.fixture(scope="module")
def demo(loader, tmp_path_factory) -> Demo:
    return Demo(loader=loader, workdir=tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def prediction(demo):
    return demo.predict(CHAIR[:3], default_model())


def test_default_model_is_the_shipped_checkpoint():
    from pix2vox import get_record

    assert get_record(default_model()).local_dir is not None
    assert set(example_sets()) == {"chair", "sofa"} and example_sets()["chair"] == CHAIR


def test_predict_writes_the_files(prediction, demo):
    assert prediction.result.probabilities.shape == (32, 32, 32)
    assert prediction.result.coarse.shape == prediction.result.fusion_weights.shape == (3, 32, 32, 32)
    rendering = demo.render(prediction)
    assert rendering.threshold == pytest.approx(prediction.result.threshold)
    assert rendering.voxels == int(prediction.result.occupancy().sum()) > 0
    assert [p.suffix for p in rendering.downloads] == [".obj", ".glb", ".binvox"]
    np.testing.assert_array_equal(load_volume(rendering.downloads[2]) >= 0.5, prediction.result.occupancy())
    mesh = trimesh.load(rendering.mesh_glb, force="mesh")
    assert len(mesh.faces) > 0 and mesh.is_watertight
    voxels = trimesh.load(rendering.voxels_glb, force="mesh")
    assert voxels.is_watertight and np.allclose(voxels.volume, rendering.voxels / 32**3)  # one cube per voxel
    assert len(trimesh.load(rendering.downloads[0], force="mesh").faces) == len(mesh.faces)


def test_threshold_changes_without_running_the_network(prediction, demo, loader):
    assert loader.calls >= 1  # the prediction ran the network
    calls = loader.calls
    counts = [demo.render(prediction, t).voxels for t in (0.2, 0.4, 0.6)]
    assert counts[0] > counts[1] > counts[2]
    assert demo.render(prediction, 0.4) is demo.render(prediction, 0.4)  # files written once per threshold
    empty = demo.render(prediction, 0.999)
    assert empty.voxels == 0 and empty.mesh_glb is None and [p.suffix for p in empty.downloads] == [".binvox"]
    assert loader.calls == calls


def test_network_input_views_are_what_it_sees(prediction, demo):
    from pix2vox.preprocess import normalise

    reconstructor = demo.model(default_model())
    expected = reconstructor.preprocess(CHAIR[:3])
    assert len(prediction.inputs) == 3
    for picture, tensor in zip(prediction.inputs, expected):
        assert picture.shape == (224, 224, 3) and picture.dtype == np.uint8
        import torch

        back = normalise(torch.from_numpy(picture).permute(2, 0, 1).float() / 255, reconstructor.preprocess_config)
        assert float((back - tensor).abs().max()) <= 2 / 255 / min(reconstructor.preprocess_config.std) + 1e-6


def test_fusion_figure(prediction, demo):
    pytest.importorskip("matplotlib")
    from PIL import Image

    path = demo.fusion(prediction)
    assert Image.open(path).size[1] > Image.open(path).size[0]  # one row per view and the fused row


def test_bad_uploads_get_the_package_message(demo, tmp_path, loader):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    calls = loader.calls
    with pytest.raises(Pix2VoxError, match="broken.png"):
        demo.predict([broken], default_model())
    with pytest.raises(Pix2VoxError, match="upload at least one view"):
        demo.predict([], default_model())
    assert loader.calls == calls


@pytest.mark.slow
def test_import_pix2vox_and_the_demo_imports_no_gradio():
    code = "import sys, pix2vox, pix2vox.demo, pix2vox.cli.demo\nassert 'gradio' not in sys.modules\n"
    subprocess.run([sys.executable, "-c", code], check=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(demo):
    pytest.importorskip("gradio")
    app = build_app(demo)
    port = _free_port()
    app.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                       show_error=False, allowed_paths=[str(demo.workdir)])
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()


@pytest.mark.slow
def test_page_is_served(server):
    with urllib.request.urlopen(server, timeout=30) as response:
        assert response.status == 200
        page = response.read().decode("utf-8", "replace")
    assert "pix2vox" in page


@pytest.mark.slow
def test_reconstruct_through_gradio_client(server, tmp_path, loader):
    from gradio_client import Client, handle_file

    client = Client(server, verbose=False, download_files=str(tmp_path))
    outputs = client.predict([handle_file(str(p)) for p in CHAIR[:2]], default_model(), "auto", 0.3, api_name="/reconstruct")
    gallery, fusion, mesh, voxels, downloads, summary = outputs
    assert len(gallery) == 2 and Path(fusion).is_file()
    assert Path(mesh).suffix == ".glb" and trimesh.load(mesh, force="mesh").faces.size
    assert Path(voxels).is_file()
    assert sorted(Path(f).suffix for f in downloads) == [".binvox", ".glb", ".obj"]
    assert "2 views" in summary and "threshold 0.30" in summary

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image at all")
    # A user's mistake is a status line naming the upload by its own name (not the server's
    # temporary path, once, not twice); the other panels keep what they showed.
    *_, message = client.predict([handle_file(str(broken))], default_model(), "auto", 0.3, api_name="/reconstruct")
    assert "Could not reconstruct" in message and "broken.png" in message
    assert message.count("broken.png") == 1 and "/" not in message.split("broken.png")[0][-2:]


def test_downloads_are_named_after_the_object(tmp_path):
    from pix2vox.demo import example_sets, object_name

    sets = example_sets()
    upload = tmp_path / "0123456789abcdef0123456789abcdef" / "00.png"  # Gradio's upload folder
    upload.parent.mkdir()
    upload.write_bytes((EXAMPLES / "sofa" / "00.png").read_bytes())
    assert object_name([upload], sets) == "sofa"  # a copy of an example
    photo = tmp_path / "0123456789abcdef0123456789abcdee" / "My armchair.jpg"
    photo.parent.mkdir()
    photo.write_bytes(b"x")
    assert object_name([photo], sets) == "My-armchair"
    shots = tmp_path / "stool"
    shots.mkdir()
    (shots / "1.jpg").write_bytes(b"xy")
    assert object_name([shots / "1.jpg"], sets) == "stool"
    assert object_name([tmp_path / "0123456789abcdef0123456789abcdef" / "7.png"], {}) == "object"


def test_user_message_names_uploads_once_without_server_paths():
    from pix2vox.demo import user_message

    upload = Path("/tmp/gradio/0123456789abcdef/broken.png")
    assert user_message(Pix2VoxError(f"{upload}: not a readable image"), [upload]) == "broken.png: not a readable image"
