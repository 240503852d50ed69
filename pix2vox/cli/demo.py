"""``pix2vox-demo``: the web demo on this machine (Gradio; ``pip install "pix2vox[demo]"``).

Serves the page of :func:`pix2vox.demo.build_app` on ``--host`` (127.0.0.1: this machine only)
and ``--port`` until interrupted. ``--share`` also asks Gradio for a temporary public link (off by
default: it sends the page through Gradio's servers).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pix2vox.cli.runner import OneLineParser, run_cli, say

__all__ = ["main"]

PROG = "pix2vox-demo"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860

EPILOG = f"""\
examples:
  {PROG}                                   http://127.0.0.1:{DEFAULT_PORT}, the shipped checkpoint on the CPU
  {PROG} --port 8080 --model pix2voxpp-a   another port, another default model
  {PROG} --host 0.0.0.0                    reachable from other machines of the network
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pix2vox-demo``."""
    parser = OneLineParser(
        prog=PROG,
        description="Web demo: upload pictures of an object, turn its 3D reconstruction in the browser, download it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default: %(default)s, this machine only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default: %(default)s)")
    parser.add_argument("--share", action="store_true", help="also create a temporary public gradio.live link (off by default)")
    parser.add_argument("--model", help="model selected at start (default: the checkpoint shipped with the package)")
    parser.add_argument("--device", default="cpu", help="where the networks run: cpu, cuda, auto, ... (default: %(default)s)")
    parser.add_argument("--examples", metavar="DIR", help="folder of example objects, DIR/<name>/*.png (default: the checkout's examples/)")
    return parser


def _run(args: argparse.Namespace) -> int:
    from pix2vox.demo import Demo, build_app
    from pix2vox.reconstructor import resolve_device

    resolve_device(args.device)  # a mistake here is one line, before the server starts
    app = build_app(Demo(device=args.device), model=args.model, examples=args.examples)
    demo = app.pix2vox_demo
    # Gradio's own start-up lines (and its advice to edit launch()) are replaced by ours.
    app.queue().launch(server_name=args.host, server_port=args.port, share=args.share, show_error=False,
                       allowed_paths=[str(demo.workdir)], quiet=True, prevent_thread_lock=True)
    say(args, f"serving the demo on {app.local_url} (Ctrl-C to stop)")
    if args.share and app.share_url:
        say(args, f"public link, valid for a few days: {app.share_url}")
    elif not args.share:
        say(args, f"only {'this machine' if args.host == DEFAULT_HOST else 'this network'} can reach it; "
                  f"{PROG} --share also creates a temporary public link")
    app.block_thread()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pix2vox-demo`` until interrupted; 2 for bad arguments (or without Gradio), 130 on Ctrl-C."""
    return run_cli(PROG, build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
