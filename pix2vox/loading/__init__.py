"""Loading checkpoints: from a name, a folder, a Hub repository or a weights file to a network's record and weights.

* :mod:`~pix2vox.loading.loader`: :func:`~pix2vox.loading.loader.load_checkpoint`, the one entry point;
* :mod:`~pix2vox.loading.registry`: the named checkpoints (:class:`~pix2vox.loading.registry.ModelRecord`);
* :mod:`~pix2vox.loading.hub`: downloading from, and pushing to, the Hugging Face Hub;
* :mod:`~pix2vox.loading.authors`: the authors' four ``.pth`` files, fetched from their server on first use;
* :mod:`~pix2vox.loading.checkpoint`: reading weights files (ours and the authors') safely;
* :mod:`~pix2vox.loading.layout`: our folder layout (``config.json``, ``model.safetensors``, ``README.md``);
* :mod:`~pix2vox.loading.convert`: an authors' ``.pth`` file to a folder in our layout;
* :mod:`~pix2vox.loading.model_card`: the ``README.md`` model card of such a folder.

Importing this package imports none of them (nor PyTorch); the registry needs no PyTorch either.
"""
