"""``pix2vox-convert``: turn one of the authors' ``.pth`` files into a folder ready for the Hub.

Mistakes (unknown model, missing or truncated file, a file of another variant) end with one line
on stderr, ``pix2vox-convert: error: <problem>``, exit status 2, and no output folder.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pix2vox.cli.runner import OneLineParser, UsageError, run_cli, say
from pix2vox.loading.convert import TOLERANCE, convert_original, write_cards
from pix2vox.errors import Pix2VoxError
from pix2vox.loading.registry import find_repo, get_record, list_models

__all__ = ["main"]

PROG = "pix2vox-convert"

EPILOG = f"""\
examples:
  {PROG} Pix2Vox++-A-ShapeNet.pth --model pix2voxpp-a --out weights/pix2voxpp-a
  {PROG} Pix2Vox++-A-ShapeNet.pth --model pix2voxpp-a --out weights/pix2voxpp-a \
      --push-to-hub pix2vox/pix2voxpp-a-shapenet      (a release: convert, check, upload)
  {PROG} --write-cards weights          (regenerate weights/*/config.json and README.md)

The folder gets model.safetensors, config.json and README.md. The converted model is run
against the original file on random views (outputs must agree within {TOLERANCE:g}); the
SHA-256 of model.safetensors is printed. With --push-to-hub the folder is then committed to
the repository (created if needed; token from HF_TOKEN or `hf auth login`), and the commit
hash, the SHA-256 and the change of the registry record that pins them are printed; without
it, the `hf upload` command. See weights/README.md.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pix2vox-convert``."""
    parser = OneLineParser(
        prog=PROG,
        description="Convert one of the authors' .pth checkpoints into a folder ready for the Hugging Face Hub.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("original", nargs="?", metavar="ORIGINAL.pth", help="the authors' checkpoint file")
    parser.add_argument("--model", choices=list_models(), metavar="NAME", help=f"registry name: {', '.join(list_models())}")
    parser.add_argument("-o", "--out", metavar="DIR", help="folder to write (created if needed)")
    parser.add_argument("--push-to-hub", metavar="REPO", help="after converting, commit the folder to this Hub repository ('org/name')")
    parser.add_argument("--revision", metavar="BRANCH", help="with --push-to-hub: branch to commit to (default main; created if missing)")
    parser.add_argument("--private", action="store_true", help="with --push-to-hub: create the repository private")
    parser.add_argument("--write-cards", metavar="DIR", help="write DIR/<name>/config.json and README.md for every published model, then exit")
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.write_cards:
        if args.original or args.out or args.model or args.push_to_hub:
            raise UsageError("--write-cards takes no other argument (see --help)")
        for folder in write_cards(args.write_cards):
            say(args, f"wrote {folder}")
        return 0
    if not (args.original and args.model and args.out):
        raise UsageError("ORIGINAL.pth, --model and --out are required (see --help)")
    if (args.revision or args.private) and not args.push_to_hub:
        raise UsageError("--revision and --private go with --push-to-hub")
    report = convert_original(args.original, args.model, args.out)
    for file in report.files:
        say(args, f"wrote {file}")
    say(args, f"checked against {report.source}: largest output difference {report.max_abs_diff:.3g} (tolerance {TOLERANCE:g})")
    say(args, f"sha256 of model.safetensors: {report.sha256}")
    if args.push_to_hub:
        return _push(args, report.output)
    if report.upload_command:
        say(args, f"upload with:\n  {report.upload_command}")
        say(args, "then pin the commit it prints and this sha256 in pix2vox/loading/registry.py")
    return 0


def _push(args: argparse.Namespace, folder: object) -> int:
    from huggingface_hub.errors import HfHubHTTPError

    from pix2vox.loading.hub import push_folder

    try:
        pushed = push_folder(folder, args.push_to_hub, private=args.private, revision=args.revision)
    except HfHubHTTPError as error:
        raise Pix2VoxError(f"pushing {folder} to {args.push_to_hub} failed: {str(error).splitlines()[0]}") from None
    record = find_repo(args.push_to_hub) or get_record(args.model)
    say(args, f"pushed to {pushed.repo_id}@{pushed.branch}: {pushed.commit_url}")
    say(args, f"revision (commit): {pushed.commit}")
    say(args, f"sha256: {pushed.sha256}")
    say(args, f"pin in pix2vox/loading/registry.py: {pushed.registry_change(record)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pix2vox-convert``.

    Args:
        argv: arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        0 on success; 2 for a mistake in the arguments or the input file (one line on stderr,
        no output folder left behind); 130 when interrupted.
    """
    return run_cli(PROG, build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
