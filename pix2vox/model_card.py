"""The ``README.md`` model card of a checkpoint folder, generated from its registry record.

Every card, whether written by :meth:`Reconstructor.save_pretrained`, by ``pix2vox-convert`` or
committed under ``weights/``, comes from :func:`model_card`, so the numbers in it are the
registry's.
"""

from __future__ import annotations

from .registry import ModelRecord

__all__ = ["CITATIONS", "display_name", "model_card"]

CITATIONS = """\
@inproceedings{xie2019pix2vox,
  title={Pix2Vox: Context-aware 3D Reconstruction from Single and Multi-view Images},
  author={Xie, Haozhe and Yao, Hongxun and Sun, Xiaoshuai and Zhou, Shangchen and Zhang, Shengping},
  booktitle={IEEE/CVF International Conference on Computer Vision (ICCV)},
  year={2019}
}

@article{xie2020pix2voxpp,
  title={Pix2Vox++: Multi-scale Context-aware 3D Object Reconstruction from Single and Multiple Images},
  author={Xie, Haozhe and Yao, Hongxun and Zhang, Shengping and Zhou, Shangchen and Sun, Wenxiu},
  journal={International Journal of Computer Vision (IJCV)},
  year={2020},
  doi={10.1007/s11263-020-01347-6}
}"""

_BACKBONES = {"vgg16_bn": "VGG16-bn", "resnet18": "ResNet-18", "resnet50": "ResNet-50"}
_HUB_LICENSES = {"unknown", "mit", "apache-2.0", "bsd-3-clause", "cc-by-4.0", "cc-by-nc-4.0", "cc-by-nc-sa-4.0"}


def display_name(weights: ModelRecord) -> str:
    """``"Pix2Vox++/A"`` for ``pix2voxpp-a``; the registry name for checkpoints of other names."""
    names = {"pix2vox-f": "Pix2Vox-F", "pix2vox-a": "Pix2Vox-A", "pix2voxpp-f": "Pix2Vox++/F", "pix2voxpp-a": "Pix2Vox++/A"}
    return names.get(weights.name, weights.name)


def _front_matter(weights: ModelRecord) -> str:
    licence = weights.license.lower()
    lines = ["---", "library_name: pix2vox", "pipeline_tag: image-to-3d"]
    if licence in _HUB_LICENSES:
        lines.append(f"license: {licence}")
    else:
        lines += ["license: other", f"license_name: {licence}"]
    tags = ["pix2vox", "3d-reconstruction", "voxels", "multi-view", "pytorch", "safetensors"]
    if "shapenet" in weights.training_data.lower():
        tags.append("shapenet")
    lines += ["tags:", *(f"- {tag}" for tag in tags), "---"]
    return "\n".join(lines)


def _description(weights: ModelRecord) -> str:
    arch = weights.architecture
    network = "Pix2Vox++" if arch.fusion == "pix2voxpp" else "Pix2Vox"
    parts = [
        f"{network} network with a {_BACKBONES.get(arch.backbone, arch.backbone)} encoder, "
        f"{'a' if arch.refiner else 'no'} refiner"
        + (f" and {weights.num_params / 1e6:.1f} M parameters" if weights.num_params else "")
        + ". From one or more images of an object it predicts a 32×32×32 occupancy grid "
        f"(probabilities; voxels at or above {weights.threshold:g} are filled)."
    ]
    if weights.original_file:
        parts.append(
            f"The weights are the authors' released `{weights.original_file}`, converted to safetensors with "
            "`pix2vox-convert` (same values, same outputs)."
        )
    if weights.paper:
        parts.append(f"Paper: {weights.paper}.")
    return "\n".join(parts)


def _usage(weights: ModelRecord) -> str:
    load = f'Reconstructor("{weights.name}")' if weights.repo_id else 'Reconstructor.from_pretrained("path/to/this/folder")'
    lines = [
        "```python",
        "from pix2vox import Reconstructor",
        "",
        f"rec = {load}",
    ]
    if weights.repo_id:
        lines.append(f'# or: Reconstructor.from_pretrained("{weights.repo_id}")')
    lines += [
        'result = rec.predict(["front.png", "side.png"])  # one object, any number of views',
        "result.probabilities  # numpy float32 (32, 32, 32) in [0, 1]",
        "result.occupancy()    # bool grid",
        "```",
        "",
        "Install with `pip install pix2vox`. Offline, set `HF_HUB_OFFLINE=1` once the files are in the "
        "Hugging Face cache (`HF_HUB_CACHE`), or load a downloaded copy of this folder with "
        "`Reconstructor.from_pretrained(folder)`.",
    ]
    return "\n".join(lines)


def _preprocessing(weights: ModelRecord) -> str:
    p = weights.preprocess
    return (
        f"Inputs are {p.image_size}×{p.image_size} {p.channel_order.upper()} images on a grey "
        f"{round(p.background * 255)}/255 background, normalised with mean {list(p.mean)} and std {list(p.std)}. "
        '`preprocess="official"` reproduces the authors\' test-time transforms on ShapeNet renderings '
        f"(central {p.crop_size}×{p.crop_size} crop); the default `\"auto\"` crops your own pictures around the object."
    )


def _results(weights: ModelRecord) -> str:
    if not weights.reported_iou:
        return "The paper reports no per-view IoU table for this variant."
    views = sorted(weights.reported_iou)
    return "\n".join(
        [
            "Intersection over union on the ShapeNet test set (3D-R2N2 split), as reported in the paper:",
            "",
            "| views | " + " | ".join(str(v) for v in views) + " |",
            "|---|" + "---|" * len(views),
            "| IoU | " + " | ".join(f"{weights.reported_iou[v]:.3f}" for v in views) + " |",
        ]
    )


def model_card(weights: ModelRecord) -> str:
    """The ``README.md`` of the folder or Hub repository holding ``weights``.

    Hub YAML front matter (``library_name: pix2vox``, ``pipeline_tag: image-to-3d``, licence,
    tags), a description, a usage snippet, the preprocessing, the paper's IoU table when known,
    the training data, and citations of both papers.
    """
    training = weights.training_data or "not recorded"
    sections = [
        _front_matter(weights),
        f"# {display_name(weights)}",
        _description(weights),
        "## Usage",
        _usage(weights),
        "## Preprocessing",
        _preprocessing(weights),
        "## Results",
        _results(weights),
        "## Training data",
        f"{training}."
        + (" ShapeNet is distributed under its own terms of use (shapenet.org)." if "shapenet" in training.lower() else ""),
        "## Files",
        "- `model.safetensors`: one flat state dict with the parameter names of `pix2vox.models.Pix2Vox`.\n"
        "- `config.json`: architecture, preprocessing and threshold, read by `pix2vox`.",
        "## Licence",
        f"Weights: {'not stated' if weights.license == 'unknown' else weights.license}. Code: MIT (https://github.com/hzxie/Pix2Vox and the `pix2vox` library).",
        "## Citation",
        f"```bibtex\n{CITATIONS}\n```",
    ]
    return "\n\n".join(sections) + "\n"
