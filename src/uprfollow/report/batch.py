"""`upr mia --all`: every assessed State's digest, on all cores, one failure never stopping the others.

Each worker process opens the store read-only once and renders States one at a time;
a State that fails (bad data, template error, even a crash of its worker) is recorded
with its message and the others go on. Files are written atomically under stable names.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from ..store import Store, open_store
from . import data


@dataclass
class BatchResult:
    state: str
    file: str | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict:
        return {"state": self.state, "file": self.file, "ok": self.ok, "error": self.error}


@dataclass(frozen=True)
class Job:
    db: str
    out_dir: str
    fmt: str
    lang: str
    session: int | None
    cycle: int | None
    template_dir: str | None
    sample: bool | None


_store: Store | None = None


def _worker_store(db: str) -> Store:
    global _store
    if _store is None or str(_store.path) != db:
        _store = open_store(db, readonly=True)
    return _store


def render_one(job: Job, state: str) -> BatchResult:
    """Render one State; never raises (the error text goes into the result)."""
    from . import write_digest

    try:
        path = write_digest(
            _worker_store(job.db), state, out_dir=Path(job.out_dir), fmt=job.fmt, lang=job.lang, session=job.session,
            cycle=job.cycle, template_dir=Path(job.template_dir) if job.template_dir else None, sample=job.sample,
        )
        return BatchResult(state, str(path))
    except _Stopped:  # the .part file is gone (replace_atomically unwound); the worker ends here
        os._exit(1)
    except Exception as e:  # one State's failure must not stop the batch
        message = getattr(e, "message", None) or f"{type(e).__name__}: {e}"
        return BatchResult(state, None, message)


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def states_to_render(store: Store, *, session: int | None = None, cycle: int | None = None) -> list[str]:
    return [iso3 for iso3, _ in data.assessed_states(store, session=session, cycle=cycle)]


def render_all(
    db: Path,
    out_dir: Path,
    *,
    fmt: str = "pdf",
    lang: str = "en",
    session: int | None = None,
    cycle: int | None = None,
    template_dir: Path | None = None,
    sample: bool | None = None,
    workers: int | None = None,
    states: list[str] | None = None,
    progress: Callable[[BatchResult], None] | None = None,
) -> list[BatchResult]:
    """Render the digest of every State with assessments (or `states`); results in State order."""
    if states is None:
        with open_store(db, readonly=True) as store:
            states = states_to_render(store, session=session, cycle=cycle)
    out_dir.mkdir(parents=True, exist_ok=True)
    job = Job(str(Path(db).resolve()), str(out_dir), fmt, lang, session, cycle, str(template_dir) if template_dir else None, sample)
    workers = max(1, min(workers or default_workers(), len(states) or 1))
    results: dict[str, BatchResult] = {}

    def done(r: BatchResult) -> None:
        results[r.state] = r
        if progress is not None:
            progress(r)

    if workers == 1:
        for state in states:
            done(render_one(job, state))
    else:
        # Import the heavy libraries, compile the templates and load the locale once here: forked workers inherit them
        # instead of each doing it again.
        from . import render

        render.preload(lang, template_dir)
        # Everything imported so far moves to the collector's permanent generation: forked workers then never walk
        # (nor copy, page by page) the parent's objects. 24 States, 2 runs each: 5-6% less CPU than without.
        gc.freeze()

        try:
            _run_pool(job, states, workers, done)
        finally:
            gc.unfreeze()
    return [results[s] for s in states if s in results]


def _stop(signum: int, frame: object) -> None:
    """SIGTERM as Ctrl+C: unwinds, so the `.part` file being written is removed and the pool is stopped."""
    raise KeyboardInterrupt


class _Stopped(BaseException):
    """SIGTERM in a worker: unwind (removing the `.part` file being written), then exit."""


def _stop_worker(signum: int, frame: object) -> None:
    import signal

    signal.alarm(5)  # if something swallows the unwinding (a library's broad except), SIGALRM still ends the worker
    raise _Stopped


def _worker_init(parent: int) -> None:
    """In each worker: die with the parent, and let SIGTERM unwind (cleaning the `.part` file) and exit."""
    import signal

    signal.signal(signal.SIGTERM, _stop_worker)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG: SIGTERM when the parent dies (Linux)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _run_pool(job: Job, states: list[str], workers: int, done: Callable[[BatchResult], None]) -> None:
    """Render `states` on `workers` processes; a worker that dies costs only the States it was rendering.

    SIGTERM or Ctrl+C in the parent stops every worker (each removes its unfinished `.part`
    file) and ends the command as interrupted; workers also stop if the parent is killed.
    """
    import signal

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        _run_pool_until_done(job, states, workers, done)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _new_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, initializer=_worker_init, initargs=(os.getpid(),))


def _interrupt(pool: ProcessPoolExecutor) -> None:
    """Stop the pool now: cancel what has not started, ask running workers to stop, wait for them."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        if p.is_alive():
            p.terminate()  # SIGTERM: the worker unwinds and removes its .part file
    for p in processes:
        p.join(timeout=10)
        if p.is_alive():
            p.kill()


def _run_pool_until_done(job: Job, states: list[str], workers: int, done: Callable[[BatchResult], None]) -> None:
    pending = list(states)
    while pending:
        with _new_pool(workers) as pool:
            futures = {pool.submit(render_one, job, s): s for s in pending}
            broken: list[str] = []
            try:
                for f in as_completed(futures):
                    state = futures[f]
                    try:
                        done(f.result())
                    except BrokenProcessPool:
                        broken.append(state)
                    except Exception as e:
                        done(BatchResult(state, None, f"{type(e).__name__}: {e}"))
            except BaseException:
                _interrupt(pool)
                raise
        if broken and len(broken) == len(pending):  # nothing progressed: run them one by one, isolating the crash
            for state in broken:
                with _new_pool(1) as pool:
                    try:
                        done(pool.submit(render_one, job, state).result())
                    except BrokenProcessPool:
                        done(BatchResult(state, None, "the worker process rendering this State died"))
            broken = []
        pending = broken
