"""Generate ``MESHES/<category>/<model>/`` folders with Infinigen, for ``pix2vox-dataset``.

Run it with the Infinigen environment's Python (see docs/infinigen.md)::

    INFINIGEN_PYTHON tools/infinigen/generate.py --out meshes/ --per-category 100 --workers 2

This process plans the jobs and supervises worker processes (``worker.py``, the same Python), each
of which runs Blender and Infinigen. Every model folder holds ``model.obj``, ``model.mtl`` and
``meta.json`` (:mod:`postprocess`). It resumes: a folder whose ``meta.json`` exists is skipped, and
so is a model recorded as broken in ``OUT/infinigen-broken.jsonl``. Workers restart after
``--assets-per-worker`` assets (Blender's memory grows ~30 MB per asset) and when an asset runs past
``--time-limit`` (the worker is killed, the asset counted as timed out). The last line on stdout is
the summary; progress goes to stderr, the workers' own output to ``OUT/infinigen-workers.log``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import queue
import select
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import postprocess  # noqa: E402  (beside this file: this runs with Infinigen's Python, not ours)

logger = logging.getLogger("infinigen.generate")

BROKEN_FILE = "infinigen-broken.jsonl"
LOG_FILE = "infinigen-workers.log"
STARTUP_LIMIT_S = 300.0


class WorkerDied(RuntimeError):
    """The worker process ended or wrote something that is not a result."""


class Worker:
    """One worker process: sends a job as a JSON line on its stdin, reads the result line."""

    def __init__(self, command: Sequence[str], log) -> None:
        self.process = subprocess.Popen(list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        self.assets = 0
        self._buffer = b""

    def _read(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            if select.select([fd], [], [], remaining)[0]:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise WorkerDied(f"worker exited with status {self.process.wait()}")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError:
            raise WorkerDied(f"worker wrote {line[:80]!r}") from None

    def ready(self, timeout: float) -> dict:
        """Waits for the worker's first line (Blender and Infinigen loaded)."""
        return self._read(timeout)

    def run(self, message: dict, timeout: float) -> dict:
        """Sends one job and returns its result.

        Raises:
            TimeoutError: No result within ``timeout`` seconds.
            WorkerDied: The worker ended.
        """
        try:
            self.process.stdin.write((json.dumps(message) + "\n").encode())
            self.process.stdin.flush()
        except BrokenPipeError:
            raise WorkerDied(f"worker exited with status {self.process.wait()}") from None
        self.assets += 1
        return self._read(timeout)

    def stop(self, *, kill: bool = False) -> None:
        """Ends the process: closes its stdin (it exits after the current job), or kills it."""
        if kill:
            self.process.kill()
        else:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait()
        self.process.stdout.close()


@dataclasses.dataclass
class Summary:
    """What a run did; :meth:`line` is the closing line."""

    planned: int = 0
    made: int = 0
    done_before: int = 0
    known_broken: int = 0
    broken: Counter = dataclasses.field(default_factory=Counter)
    timed_out: int = 0
    crashed: int = 0
    seconds: float = 0.0
    times: dict[str, list[float]] = dataclasses.field(default_factory=lambda: defaultdict(list))

    def line(self) -> str:
        broken = sum(self.broken.values())
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.broken.items()))
        return (f"made {self.made}, already done {self.done_before}, broken {broken}"
                + (f" ({reasons})" if reasons else "")
                + f", known broken {self.known_broken}, timed out {self.timed_out}, worker crashes {self.crashed}"
                + f"; {self.made + self.done_before} of {self.planned} models present, {self.seconds / 60:.1f} min")


def run_jobs(
    jobs: Sequence[postprocess.Job],
    out: str | os.PathLike[str],
    *,
    command: Sequence[str],
    workers: int = 1,
    assets_per_worker: int = 150,
    time_limit: float = 120.0,
    startup_limit: float = STARTUP_LIMIT_S,
    max_triangles: int = 100_000,
    base_seed: int = 0,
    log_path: str | os.PathLike[str] | None = None,
) -> Summary:
    """Makes every job whose folder is not finished, with ``workers`` worker processes.

    Args:
        jobs: From :func:`postprocess.plan`.
        out: The ``MESHES`` folder (created if missing).
        command: The worker's command line (``[python, worker.py]``).
        workers: Worker processes at a time.
        assets_per_worker: Assets a worker makes before it is replaced.
        time_limit: Seconds an asset may take; past it the worker is killed and replaced.
        startup_limit: Seconds a worker may take to start.
        max_triangles: Triangle budget of a model (:func:`postprocess.decimate`).
        base_seed: Recorded in ``meta.json``.
        log_path: Where the workers' stdout/stderr go (default ``OUT/infinigen-workers.log``).

    Returns:
        The counts; also logged.
    """
    started = time.monotonic()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for path in postprocess.leftovers(out):
        shutil.rmtree(path, ignore_errors=True)
    broken_path = out / BROKEN_FILE
    known = set()
    if broken_path.is_file():
        records = [json.loads(line) for line in broken_path.read_text(encoding="utf-8").splitlines() if line.strip()]
        known = {(r["category"], r["name"]) for r in records}
    summary = Summary(planned=len(jobs))
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        if postprocess.is_done(out, job):
            summary.done_before += 1
        elif (job.category, job.name) in known:
            summary.known_broken += 1
        else:
            todo.put(job)
    total = todo.qsize()
    logger.info("%d models planned: %d already done, %d known broken, %d to make with %d worker(s)",
                len(jobs), summary.done_before, summary.known_broken, total, workers)
    lock = threading.Lock()
    log = open(log_path or out / LOG_FILE, "ab")  # noqa: SIM115  (shared by every worker, closed below)
    last_report = [time.monotonic()]

    def record_broken(job: postprocess.Job, reason: str) -> None:
        with broken_path.open("a", encoding="utf-8") as file:
            file.write(json.dumps({"category": job.category, "name": job.name, "factory": job.factory,
                                   "seed": job.seed, "reason": reason}) + "\n")

    def finish(job: postprocess.Job, outcome: str, detail: str = "", seconds: float = 0.0) -> None:
        with lock:
            label = f"{job.category}/{job.name}"
            if outcome == "made":
                summary.made += 1
                summary.times[job.category].append(seconds)
                logger.debug("%s: made in %.2f s", label, seconds)
            elif outcome == "broken":
                summary.broken[postprocess.reason_kind(detail)] += 1
                record_broken(job, detail)
                logger.warning("skipped %s (%s seed %d): %s", label, job.factory, job.seed, detail)
            elif outcome == "timed out":
                summary.timed_out += 1
                logger.warning("skipped %s (%s seed %d): over the time limit of %g s", label, job.factory, job.seed, time_limit)
            else:
                summary.crashed += 1
                logger.warning("skipped %s (%s seed %d): %s", label, job.factory, job.seed, detail)
            handled = summary.made + sum(summary.broken.values()) + summary.timed_out + summary.crashed
            if time.monotonic() - last_report[0] > 30 or handled == total:
                last_report[0] = time.monotonic()
                logger.info("%d of %d handled (%d made), %.1f min", handled, total, summary.made,
                            (time.monotonic() - started) / 60)

    def slot() -> None:
        worker = None
        try:
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                if worker is not None and worker.assets >= assets_per_worker:
                    worker.stop()
                    worker = None
                if worker is None:
                    worker = Worker(command, log)
                    try:
                        worker.ready(startup_limit)
                    except (TimeoutError, WorkerDied) as error:
                        worker.stop(kill=True)
                        worker = None
                        finish(job, "crashed", f"worker did not start ({error or 'timed out'})")
                        continue
                message = {**dataclasses.asdict(job), "name": job.name, "folder": str(out / job.category / job.name),
                           "max_triangles": max_triangles, "base_seed": base_seed}
                sent = time.monotonic()
                try:
                    result = worker.run(message, time_limit)
                except TimeoutError:
                    worker.stop(kill=True)
                    worker = None
                    _remove_partial(out / job.category, job.name)
                    finish(job, "timed out")
                    continue
                except WorkerDied as error:
                    worker.stop(kill=True)
                    worker = None
                    _remove_partial(out / job.category, job.name)
                    finish(job, "crashed", str(error))
                    continue
                finish(job, result["status"], result.get("reason", ""), time.monotonic() - sent)
        finally:
            if worker is not None:
                worker.stop()

    threads = [threading.Thread(target=slot, name=f"slot-{i}") for i in range(max(1, workers))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        log.close()
    summary.seconds = time.monotonic() - started
    for category, times in sorted(summary.times.items()):
        times = sorted(times)
        logger.info("%s: %d made, %.2f s per asset (median, written files included; %.2f–%.2f)", category, len(times),
                    times[len(times) // 2], times[0], times[-1])
    return summary


def _remove_partial(category: Path, name: str) -> None:
    for path in category.glob(f".{name}{postprocess.PARTIAL}*"):
        shutil.rmtree(path, ignore_errors=True)


def _categories(text: str) -> list[str]:
    names = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in names if c not in postprocess.CATEGORIES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown categories {', '.join(unknown) or '(none)'}; known: {', '.join(postprocess.CATEGORIES)}")
    return names


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``generate.py``."""
    parser = argparse.ArgumentParser(
        prog="generate.py",
        description="Generate MESHES/<category>/<model>/ folders (model.obj, model.mtl, meta.json) with Infinigen.",
        epilog="categories and their Infinigen factories:\n" + "\n".join(
            f"  {c}: {', '.join(f.removesuffix('Factory') for f in fs)}" for c, fs in postprocess.CATEGORIES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", required=True, metavar="MESHES", help="output folder (resumed if it exists)")
    parser.add_argument("--per-category", type=_positive, default=10, metavar="N", help="models per category (default: 10)")
    parser.add_argument("--categories", type=_categories, default=list(postprocess.CATEGORIES), metavar="A,B",
                        help="comma-separated categories (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="base seed (default: 0); the same seed gives the same meshes")
    parser.add_argument("--start", type=int, default=0, metavar="I", help="first model number (default: 0)")
    parser.add_argument("--workers", type=_positive, default=1, help="worker processes (default: 1)")
    parser.add_argument("--assets-per-worker", type=_positive, default=150, metavar="N",
                        help="assets a worker makes before it restarts, to bound memory (default: 150)")
    parser.add_argument("--time-limit", type=float, default=120.0, metavar="S",
                        help="seconds per asset before it is killed and skipped (default: 120)")
    parser.add_argument("--max-triangles", type=_positive, default=100_000, metavar="N",
                        help="decimate models with more triangles by vertex clustering (default: 100000)")
    parser.add_argument("--log", metavar="FILE", help=f"the workers' output (default: MESHES/{LOG_FILE})")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per model made")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the generator; 0 when it ran to the end (broken models included), 2 for bad arguments."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        jobs = postprocess.plan(args.categories, args.per_category, args.seed, start=args.start)
    except ValueError as error:
        print(f"generate.py: error: {error}", file=sys.stderr)
        return 2
    command = [sys.executable, str(HERE / "worker.py")]
    summary = run_jobs(jobs, args.out, command=command, workers=args.workers, assets_per_worker=args.assets_per_worker,
                       time_limit=args.time_limit, max_triangles=args.max_triangles, base_seed=args.seed,
                       log_path=args.log)
    print(summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
