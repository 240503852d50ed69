"""The all-or-nothing writer: groups of files, failures, interrupts and leftovers of killed runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pix2vox.atomic import TEMPORARY_MARK, StagedFiles, resume_writing, stop_writing, write_together


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_group_appears_together_with_the_umask_mode(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("old a")
    with StagedFiles() as files:
        files.stage(tmp_path / "a.txt").write_text("new a")
        files.stage(tmp_path / "b.txt").write_text("new b")
        assert (tmp_path / "a.txt").read_text() == "old a" and not (tmp_path / "b.txt").exists()
    assert (tmp_path / "a.txt").read_text() == "new a" and (tmp_path / "b.txt").read_text() == "new b"
    assert names(tmp_path) == ["a.txt", "b.txt"]
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "b.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_failure_in_the_second_file_leaves_the_first_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("old a")

    def fail(path: Path) -> None:
        path.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        write_together({tmp_path / "a.txt": lambda p: p.write_text("new a"), tmp_path / "b.txt": fail})
    assert names(tmp_path) == ["a.txt"] and (tmp_path / "a.txt").read_text() == "old a"


def test_created_folders_are_removed_on_failure(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        with StagedFiles(make_folders=True) as files:
            files.stage(tmp_path / "new" / "deeper" / "x.bin")
            raise RuntimeError
    assert names(tmp_path) == []


def test_nothing_commits_after_stop_writing(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("old")
    try:
        with pytest.raises(KeyboardInterrupt):
            with StagedFiles() as files:
                files.stage(tmp_path / "x.txt").write_text("new")
                stop_writing()  # as on Ctrl-C swallowed by some library
    finally:
        resume_writing()
    assert names(tmp_path) == ["x.txt"] and (tmp_path / "x.txt").read_text() == "old"


def test_leftover_of_a_killed_run_is_named_clearly_and_removed_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "chair.obj"
    target.write_text("old")
    script = (
        "import os, sys\n"
        "from pix2vox.atomic import StagedFiles\n"
        "files = StagedFiles()\n"
        f"files.stage({str(target)!r}).write_text('partial')\n"
        "os._exit(9)  # like SIGKILL: no clean-up runs\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    subprocess.run([sys.executable, "-c", script], env=env, check=False, timeout=60)
    leftovers = [n for n in names(tmp_path) if n != "chair.obj"]
    assert len(leftovers) == 1 and leftovers[0].startswith(f".chair.obj{TEMPORARY_MARK}") and leftovers[0].endswith(".obj")
    with StagedFiles() as files:
        files.stage(target).write_text("new")
    assert names(tmp_path) == ["chair.obj"] and target.read_text() == "new"


def test_nested_leftovers_of_a_killed_writer_are_removed_too(tmp_path: Path) -> None:
    """A writer that stages a file inside a staged one (save_volume inside StagedFiles) leaves two when killed."""
    outer = f".chair.npz{TEMPORARY_MARK}999999999-7f240e8c.npz"
    inner = f".{outer}{TEMPORARY_MARK}999999999-cdff7a93.npz"
    alive = f".chair.npz{TEMPORARY_MARK}{os.getpid()}-00000000.npz"  # a running writer's: kept
    other = f"..other.npz{TEMPORARY_MARK}999999999-00000000.npz"  # another target's: kept
    for name in (outer, inner, alive, other):
        (tmp_path / name).write_bytes(b"partial")
    with StagedFiles() as files:
        files.stage(tmp_path / "chair.npz").write_bytes(b"new")
    assert names(tmp_path) == sorted([alive, other, "chair.npz"])


def test_a_folder_in_place_of_the_target_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out.obj").mkdir()
    with pytest.raises(IsADirectoryError):
        StagedFiles().stage(tmp_path / "out.obj")


def test_writes_in_progress_while_a_group_holds_temporaries(tmp_path: Path) -> None:
    """What lets the command-line runner end at once on a signal when nothing is being written."""
    from pix2vox.atomic import writes_in_progress

    assert not writes_in_progress()
    with StagedFiles() as files:
        assert not writes_in_progress()  # nothing staged yet
        files.stage(tmp_path / "a.txt").write_text("a")
        assert writes_in_progress()
    assert not writes_in_progress() and (tmp_path / "a.txt").read_text() == "a"
    files = StagedFiles(make_folders=True)
    files.stage(tmp_path / "new" / "b.txt")
    assert writes_in_progress()
    files.discard()
    assert not writes_in_progress() and not (tmp_path / "new").exists()
