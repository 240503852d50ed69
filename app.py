"""Hugging Face Space entry point of the pix2vox web demo (``sdk: gradio``, ``app_file: app.py``).

Locally: ``pip install -e ".[demo]" && python app.py`` (or ``pix2vox-demo``). See docs/demo.md.
"""

from pix2vox.demo import build_app

demo = build_app()

if __name__ == "__main__":
    demo.queue().launch(allowed_paths=[str(demo.pix2vox_demo.workdir)])
