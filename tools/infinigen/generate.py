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


@dataclasses.dataclass(frozen=True)
class Settings:
    """How :class:`Supervisor` runs its workers.

    Attributes:
        command: The worker's command line (``[python, worker.py]``).
        workers: Worker processes at a time.
        assets_per_worker: Assets a worker makes before it is replaced.
        time_limit: Seconds an asset may take; past it the worker is killed and replaced.
        startup_limit: Seconds a worker may take to start.
        max_triangles: Triangle budget of a model (:func:`postprocess.decimate`).
        base_seed: Recorded in ``meta.json``.
    """

    command: tuple[str, ...]
    workers: int = 1
    assets_per_worker: int = 150
    time_limit: float = 120.0
    startup_limit: float = STARTUP_LIMIT_S
    max_triangles: int = 100_000
    base_seed: int = 0


class Supervisor:
    """Makes the unfinished jobs of one ``MESHES`` folder with worker processes, one thread per
    worker; the workers' output goes to ``log``."""

    def __init__(self, out: Path, settings: Settings, log) -> None:
        self.out, self.settings, self.log = out, settings, log
        self.summary = Summary()
        self.todo: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.live: set[Worker] = set()
        self.started = self.last_report = time.monotonic()
        self.total = 0
        self.failure: str | None = None

    def plan(self, jobs: Sequence[postprocess.Job]) -> None:
        """Queues every job that is neither finished nor known to be broken."""
        known = {(r["category"], r["name"]) for r in _broken_records(self.out)}
        self.summary.planned = len(jobs)
        for job in jobs:
            if postprocess.is_done(self.out, job):
                self.summary.done_before += 1
            elif (job.category, job.name) in known:
                self.summary.known_broken += 1
            else:
                self.todo.put(job)
        self.total = self.todo.qsize()
        logger.info("%d models planned: %d already done, %d known broken, %d to make with %d worker(s)",
                    len(jobs), self.summary.done_before, self.summary.known_broken, self.total, self.settings.workers)

    def run(self) -> None:
        """Runs the queue to its end; on Ctrl-C kills the workers and re-raises.

        Raises:
            RuntimeError: A worker did not start (a broken environment: nothing would work).
        """
        # Waiting on events, not on Thread.join: a join that Ctrl-C interrupts can leave the thread
        # looking finished while it runs (Python 3.11).
        ends = [threading.Event() for _ in range(self.settings.workers)]
        threads = [threading.Thread(target=self._slot, args=(end,), name=f"slot-{i}") for i, end in enumerate(ends)]
        try:
            for thread in threads:
                thread.start()
            for end in ends:
                while not end.wait(0.5):  # a timeout, so that Ctrl-C reaches this thread
                    pass
        except KeyboardInterrupt:
            self.stopping.set()
            with self.lock:
                for worker in self.live:
                    worker.process.kill()
            for end in ends:
                end.wait()
            raise
        self.summary.seconds = time.monotonic() - self.started
        if self.failure:
            raise RuntimeError(self.failure)

    def _start_worker(self) -> Worker | None:
        worker = Worker(self.settings.command, self.log)
        with self.lock:
            self.live.add(worker)
        try:
            worker.ready(self.settings.startup_limit)
        except (TimeoutError, WorkerDied) as error:
            self._stop_worker(worker, kill=True)
            self.failure = f"a worker did not start ({error or 'timed out'}); see {self.log.name}"
            self.stopping.set()
            return None
        return worker

    def _stop_worker(self, worker: Worker, *, kill: bool = False) -> None:
        with self.lock:
            self.live.discard(worker)
        worker.stop(kill=kill)

    def _slot(self, end: threading.Event) -> None:
        worker = None
        try:
            while not self.stopping.is_set():
                try:
                    job = self.todo.get_nowait()
                except queue.Empty:
                    return
                if worker is not None and worker.assets >= self.settings.assets_per_worker:
                    self._stop_worker(worker)
                    worker = None
                worker = worker or self._start_worker()
                if worker is None:
                    return
                worker = self._make(worker, job)
        finally:
            if worker is not None:
                self._stop_worker(worker, kill=self.stopping.is_set())
            end.set()

    def _make(self, worker: Worker, job: postprocess.Job) -> Worker | None:
        """Runs one job; returns the worker, or ``None`` when it had to be killed."""
        message = {**dataclasses.asdict(job), "name": job.name, "folder": str(self.out / job.category / job.name),
                   "max_triangles": self.settings.max_triangles, "base_seed": self.settings.base_seed}
        sent = time.monotonic()
        try:
            result = worker.run(message, self.settings.time_limit)
        except (TimeoutError, WorkerDied) as error:
            self._stop_worker(worker, kill=True)
            _remove_partial(self.out / job.category, job.name)
            timed_out = isinstance(error, TimeoutError)
            self._finish(job, "timed out" if timed_out else "crashed", str(error))
            return None
        self._finish(job, result["status"], result.get("reason", ""), time.monotonic() - sent)
        return worker

    def _finish(self, job: postprocess.Job, outcome: str, detail: str = "", seconds: float = 0.0) -> None:
        if self.stopping.is_set():  # interrupted: the asset was not judged
            return
        label = f"{job.category}/{job.name} ({job.factory} seed {job.seed})"
        with self.lock:
            if outcome == "made":
                self.summary.made += 1
                self.summary.times[job.category].append(seconds)
                logger.debug("%s: made in %.2f s", label, seconds)
            elif outcome == "broken":
                self.summary.broken[postprocess.reason_kind(detail)] += 1
                _record_broken(self.out, job, detail)
                logger.warning("skipped %s: %s", label, detail)
            elif outcome == "timed out":
                self.summary.timed_out += 1
                logger.warning("skipped %s: over the time limit of %g s", label, self.settings.time_limit)
            else:
                self.summary.crashed += 1
                logger.warning("skipped %s: %s", label, detail)
            self._report()

    def _report(self) -> None:
        s = self.summary
        handled = s.made + sum(s.broken.values()) + s.timed_out + s.crashed
        if time.monotonic() - self.last_report > 30 or handled == self.total:
            self.last_report = time.monotonic()
            logger.info("%d of %d handled (%d made), %.1f min", handled, self.total, s.made,
                        (self.last_report - self.started) / 60)


def _broken_records(out: Path) -> list[dict]:
    path = out / BROKEN_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _record_broken(out: Path, job: postprocess.Job, reason: str) -> None:
    with (out / BROKEN_FILE).open("a", encoding="utf-8") as file:
        file.write(json.dumps({"category": job.category, "name": job.name, "factory": job.factory,
                               "seed": job.seed, "reason": reason}) + "\n")


def run_jobs(
    jobs: Sequence[postprocess.Job],
    out: str | os.PathLike[str],
    *,
    command: Sequence[str],
    log_path: str | os.PathLike[str] | None = None,
    **settings,
) -> Summary:
    """Makes every job whose folder is not finished (see the module docstring).

    Args:
        jobs: From :func:`postprocess.plan`.
        out: The ``MESHES`` folder (created if missing).
        command: The worker's command line (``[python, worker.py]``).
        log_path: Where the workers' stdout/stderr go (default ``OUT/infinigen-workers.log``).
        **settings: The other fields of :class:`Settings`.

    Returns:
        The counts; also logged, with the median time per asset of each category.

    Raises:
        KeyboardInterrupt: After the workers were killed; finished folders stay.
        RuntimeError: A worker did not start.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for path in postprocess.leftovers(out):
        shutil.rmtree(path, ignore_errors=True)
    with open(log_path or out / LOG_FILE, "ab") as log:
        supervisor = Supervisor(out, Settings(tuple(command), **settings), log)
        supervisor.plan(jobs)
        supervisor.run()
    for category, times in sorted(supervisor.summary.times.items()):
        times = sorted(times)
        logger.info("%s: %d made, %.2f s per asset (median, written files included; %.2f–%.2f)", category,
                    len(times), times[len(times) // 2], times[0], times[-1])
    return supervisor.summary


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
            f"  {c}: {', '.join(map(postprocess.short_name, fs))}" for c, fs in postprocess.CATEGORIES.items()),
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
    """Runs the generator; 0 when it ran to the end (broken models included), 1 when a worker
    could not start, 2 for bad arguments, 130 when interrupted."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        jobs = postprocess.plan(args.categories, args.per_category, args.seed, start=args.start)
    except ValueError as error:
        print(f"generate.py: error: {error}", file=sys.stderr)
        return 2
    command = [sys.executable, str(HERE / "worker.py")]
    try:
        summary = run_jobs(jobs, args.out, command=command, workers=args.workers, assets_per_worker=args.assets_per_worker,
                           time_limit=args.time_limit, max_triangles=args.max_triangles, base_seed=args.seed,
                           log_path=args.log)
    except KeyboardInterrupt:
        print("generate.py: interrupted (finished models are kept; run again to resume)", file=sys.stderr)
        return 130
    except RuntimeError as error:
        print(f"generate.py: error: {error}", file=sys.stderr)
        return 1
    print(summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
