"""The ``README.md`` model card of a checkpoint folder, generated from its registry record.

Every card, whether written by :meth:`Reconstructor.save_pretrained`, by ``pix2vox-convert`` or
committed under ``weights/``, comes from :func:`model_card`, so the numbers in it are the
registry's.
"""

from __future__ import annotations

import re

from .registry import ModelRecord

__all__ = ["ARXIV", "CITATIONS", "SHAPENET_DATASET", "arxiv_links", "display_name", "model_card"]

ARXIV = {"pix2vox": "1901.11153", "pix2voxpp": "2006.12250"}
"""arXiv ids of the papers, by fusion (``Architecture.fusion``): Pix2Vox (ICCV 2019), Pix2Vox++ (IJCV 2020)."""

SHAPENET_DATASET = "ShapeNet/ShapeNetCore"
"""Hub id of ShapeNet, named in the ``datasets:`` and ``model-index`` of cards of weights trained on it."""

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


def display_name(record: ModelRecord) -> str:
    """``"Pix2Vox++/A"`` for ``pix2voxpp-a``; the registry name for checkpoints of other names."""
    names = {"pix2vox-f": "Pix2Vox-F", "pix2vox-a": "Pix2Vox-A", "pix2voxpp-f": "Pix2Vox++/F", "pix2voxpp-a": "Pix2Vox++/A"}
    return names.get(record.name, record.name)


def arxiv_links(text: str) -> str:
    """Turn ``arXiv:1901.11153`` (or ``arXiv 1901.11153``) in ``text`` into Markdown links to arxiv.org.

    The Hub lists a model under the papers its card links to on arxiv.org.
    """
    return re.sub(r"\barXiv[: ](\d{4}\.\d{4,5})\b", r"[arXiv:\1](https://arxiv.org/abs/\1)", text)


def _on_shapenet(record: ModelRecord) -> bool:
    return "shapenet" in record.training_data.lower()


def _eval_results(record: ModelRecord) -> list:
    """The paper's IoU by number of views, as ``model-index`` results (the Hub's results widget)."""
    from huggingface_hub import EvalResult

    if not (record.reported_iou and _on_shapenet(record)):
        return []
    arxiv = ARXIV.get(record.architecture.fusion)
    network = "Pix2Vox++" if record.architecture.fusion == "pix2voxpp" else "Pix2Vox"
    return [
        EvalResult(
            task_type="image-to-3d",
            task_name="3D reconstruction (32³ voxels)",
            dataset_type=SHAPENET_DATASET,
            dataset_name="ShapeNet, 13 categories (3D-R2N2 renderings and split)",
            dataset_split="test",
            metric_type="iou",
            metric_name=f"IoU, {views} view{'s' if views > 1 else ''}",
            metric_value=value,
            source_name=f"{network} paper" + (f" (arXiv:{arxiv})" if arxiv else ""),
            source_url=f"https://arxiv.org/abs/{arxiv}" if arxiv else None,
        )
        for views, value in sorted(record.reported_iou.items())
    ]


def _front_matter(record: ModelRecord) -> str:
    from huggingface_hub import ModelCardData

    licence = record.license.lower()
    known = licence in _HUB_LICENSES
    tags = ["pix2vox", "3d-reconstruction", "voxels", "multi-view", "pytorch", "safetensors"]
    if _on_shapenet(record):
        tags.append("shapenet")
    results = _eval_results(record)
    data = ModelCardData(
        library_name="pix2vox",
        pipeline_tag="image-to-3d",
        license=licence if known else "other",
        license_name=None if known else licence,
        tags=tags,
        datasets=[SHAPENET_DATASET] if _on_shapenet(record) else None,
        model_name=record.name if results else None,
        eval_results=results or None,
    )
    return f"---\n{data.to_yaml()}\n---"


def _description(record: ModelRecord) -> str:
    arch = record.architecture
    network = "Pix2Vox++" if arch.fusion == "pix2voxpp" else "Pix2Vox"
    parts = [
        f"{network} network with a {_BACKBONES.get(arch.backbone, arch.backbone)} encoder, "
        f"{'a' if arch.refiner else 'no'} refiner"
        + (f" and {record.num_params / 1e6:.1f} M parameters" if record.num_params else "")
        + ". From one or more images of an object it predicts a 32×32×32 occupancy grid "
        f"(probabilities; voxels at or above {record.threshold:g} are filled)."
    ]
    if record.original_file:
        parts.append(
            f"The weights are the authors' released `{record.original_file}`, converted to safetensors with "
            "`pix2vox-convert` (same values, same outputs)."
        )
    if record.paper:
        parts.append(f"Paper: {arxiv_links(record.paper)}.")
    return "\n".join(parts)


def _usage(record: ModelRecord) -> str:
    load = f'Reconstructor("{record.name}")' if record.repo_id else 'Reconstructor.from_pretrained("path/to/this/folder")'
    lines = [
        "```python",
        "from pix2vox import Reconstructor",
        "",
        f"rec = {load}",
    ]
    if record.repo_id:
        lines.append(f'# or: Reconstructor.from_pretrained("{record.repo_id}")')
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


def _preprocessing(record: ModelRecord) -> str:
    p = record.preprocess
    return (
        f"Inputs are {p.image_size}×{p.image_size} {p.channel_order.upper()} images on a grey "
        f"{round(p.background * 255)}/255 background, normalised with mean {list(p.mean)} and std {list(p.std)}. "
        '`preprocess="official"` reproduces the authors\' test-time transforms on ShapeNet renderings '
        f"(central {p.crop_size}×{p.crop_size} crop); the default `\"auto\"` crops your own pictures around the object."
    )


def _results(record: ModelRecord) -> str:
    if not record.reported_iou:
        return "The paper reports no per-view IoU table for this variant."
    views = sorted(record.reported_iou)
    return "\n".join(
        [
            "Intersection over union on the ShapeNet test set (3D-R2N2 split), as reported in the paper"
            + (f" ([arXiv:{ARXIV[record.architecture.fusion]}](https://arxiv.org/abs/{ARXIV[record.architecture.fusion]}))"
               if record.architecture.fusion in ARXIV else "")
            + ":",
            "",
            "| views | " + " | ".join(str(v) for v in views) + " |",
            "|---|" + "---|" * len(views),
            "| IoU | " + " | ".join(f"{record.reported_iou[v]:.3f}" for v in views) + " |",
        ]
    )


def model_card(record: ModelRecord) -> str:
    """The ``README.md`` of the folder or Hub repository holding the weights of ``record``.

    Hub YAML front matter (``library_name: pix2vox``, ``pipeline_tag: image-to-3d``, licence,
    tags, ``datasets`` and a ``model-index`` with the paper's IoU by number of views for weights
    trained on ShapeNet), a description, a usage snippet, the preprocessing, the paper's IoU table when known,
    the training data, and citations of both papers.
    """
    training = record.training_data or "not recorded"
    sections = [
        _front_matter(record),
        f"# {display_name(record)}",
        _description(record),
        "## Usage",
        _usage(record),
        "## Preprocessing",
        _preprocessing(record),
        "## Results",
        _results(record),
        "## Training data",
        f"{training}."
        + (" ShapeNet is distributed under its own terms of use (shapenet.org)." if "shapenet" in training.lower() else ""),
        "## Files",
        "- `model.safetensors`: one flat state dict with the parameter names of `pix2vox.models.Pix2Vox`.\n"
        "- `config.json`: architecture, preprocessing and threshold, read by `pix2vox`.",
        "## Licence",
        f"Weights: {'not stated' if record.license == 'unknown' else record.license}. Code: MIT (https://github.com/hzxie/Pix2Vox and the `pix2vox` library).",
        "## Citation",
        f"Pix2Vox: [arXiv:{ARXIV['pix2vox']}](https://arxiv.org/abs/{ARXIV['pix2vox']}); "
        f"Pix2Vox++: [arXiv:{ARXIV['pix2voxpp']}](https://arxiv.org/abs/{ARXIV['pix2voxpp']}).",
        f"```bibtex\n{CITATIONS}\n```",
    ]
    return "\n\n".join(sections) + "\n"
