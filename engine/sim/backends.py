"""Where shards run: in this process, in a pool of worker processes, or on a Ray cluster.

Shards are fixed by the run (not by the number of workers) and results are put back in shard
order, so every backend and every ``jobs`` gives the same result. Each worker computes on one
numeric thread: shards are the parallelism, and BLAS threads would only fight over cores.

Ray is optional (``pip install 'foryou[ray]'``). Without ``RAY_ADDRESS`` it starts a local Ray
with one CPU per job; with ``RAY_ADDRESS`` set it joins that cluster. Every Ray worker must see
the world file at the same path (one machine, or a shared filesystem) and have foryou installed;
the run's start state travels once through the object store (``ray.put``) and tasks stay pure
functions of (task, context), so Ray gives the same results as the process pool.

Ctrl+C belongs to the parent. Workers are born with it held back and ignore it from their first
line of foryou code; while shards run, the parent's Ctrl+C only raises a flag that it checks
between waits, then cancels what has not started, ends the workers and raises
``KeyboardInterrupt``. (Raised at an arbitrary moment instead, the interrupt can land inside
``concurrent.futures``' own locks, leave one held, and the pool's exit then waits forever.)

Workers die with their parent. A parent killed outright (``kill -9``, out of memory) cannot end
them, and orphaned workers went on writing to the shared file for a minute and then hung
holding it open, which kept ``study forget`` from overwriting what it deleted. On Linux the
kernel kills each worker when its parent dies (``PR_SET_PDEATHSIG``); everywhere, a watchdog
thread in each worker ends it within a second of finding itself reparented.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from typing import Any, Literal

from threadpoolctl import threadpool_limits

from engine.sim.runner import RunContext, ShardResult, ShardTask, run_shard

Backend = Literal["process", "ray"]
Progress = Callable[[int, int], None]  # (shards done, shards in all)
_CONTEXT: list[RunContext] = []
_POLL_S = 0.1  # how often the parent looks for a Ctrl+C while it waits for shards
_ORPHAN_POLL_S = 0.5  # how often a worker checks that its parent is still there
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_END_WAIT_S = 5.0  # how long to wait for an ended worker to exit


class BackendError(RuntimeError):
    """A backend that cannot run here (Ray missing, bad job count); one line."""


def run_shards(
    tasks: Sequence[ShardTask],
    context: RunContext,
    *,
    jobs: int = 1,
    backend: Backend = "process",
    progress: Progress | None = None,
) -> list[ShardResult]:
    """Run every shard and return the results in shard order.

    Raises:
        BackendError: ``jobs`` < 1, or Ray asked for but not installed.
    """
    with shard_runner(context, jobs=jobs, backend=backend) as run:
        return run(tasks, progress)


RunBatch = Callable[[Sequence[ShardTask], "Progress | None"], list[ShardResult]]


@contextmanager
def shard_runner(
    context: RunContext, *, jobs: int = 1, backend: Backend = "process"
) -> Iterator[RunBatch]:
    """A function that runs a batch of shards (an arm's) and returns the results in shard
    order, on workers started once for every batch of the block: an experiment's arms share
    them instead of each paying for new processes (their imports and world loading).

    Raises:
        BackendError: ``jobs`` < 1, or Ray asked for but not installed.
    """
    if jobs < 1:
        raise BackendError(f"--jobs must be at least 1, got {jobs}")
    if backend == "ray":

        def on_ray(tasks: Sequence[ShardTask], progress: Progress | None) -> list[ShardResult]:
            results = _run_ray(tasks, context, jobs, progress or _quiet)
            return sorted(results, key=lambda r: r.shard)

        yield on_ray
        return
    workers = _Workers(context, jobs)
    with workers.held:
        try:
            yield workers.run
        except BaseException:
            workers.end()
            raise
        workers.close()  # every shard is in: the workers leave on their own
        if workers.interrupted():  # pressed while they were leaving
            raise KeyboardInterrupt


def _quiet(done: int, total: int) -> None:
    """No progress to show."""


def _run_here(
    tasks: Sequence[ShardTask], context: RunContext, report: Progress
) -> list[ShardResult]:
    results = []
    for task in tasks:
        results.append(run_shard(task, context))
        report(len(results), len(tasks))
    return results


def _init_worker(context: RunContext, parent: int) -> None:
    # Ctrl+C is the parent's to handle (it ends the workers); a worker interrupted on its own
    # prints a traceback and breaks the pool. It was held back since the worker was spawned.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _die_with(parent)
    threadpool_limits(limits=1)
    _CONTEXT[:] = [context]


def _die_with(parent: int) -> None:
    """End this worker when ``parent`` dies (see the module docstring)."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()


def _exit_when_orphaned(parent: int) -> None:
    # Also covers a parent that died before prctl ran, which the kernel would never signal.
    while os.getppid() == parent:
        time.sleep(_ORPHAN_POLL_S)
    os._exit(1)  # nobody is left to take the results; a shard's open transaction rolls back


def _pool_shard(task: ShardTask) -> ShardResult:
    return run_shard(task, _CONTEXT[0])


class _Workers:
    """A pool of worker processes, started when a batch first needs more than one; from then
    on Ctrl+C is a flag (see the module docstring) until the block of :func:`shard_runner`
    ends. A batch of one shard before that runs here, where Ctrl+C interrupts it at once."""

    def __init__(self, context: RunContext, jobs: int) -> None:
        self.context = context
        self.jobs = jobs
        self.pool: ProcessPoolExecutor | None = None
        self.held = ExitStack()  # Ctrl+C as a flag, once the pool is up
        self.interrupted: Callable[[], bool] = lambda: False

    def run(self, tasks: Sequence[ShardTask], progress: Progress | None) -> list[ShardResult]:
        report = progress or _quiet
        if self.pool is None and (self.jobs == 1 or len(tasks) <= 1):
            results = _run_here(tasks, self.context, report)
        else:
            results = self._run_pool(tasks, report)
        return sorted(results, key=lambda r: r.shard)

    def _run_pool(self, tasks: Sequence[ShardTask], report: Progress) -> list[ShardResult]:
        if self.pool is None:
            self.interrupted = self.held.enter_context(_ctrl_c_as_flag())
            # "spawn" gives every worker a clean interpreter: no inherited SQLite handles or
            # threads.
            self.pool = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.context, os.getpid()),
            )
        with ctrl_c_held():  # workers start while submitting: they inherit the hold
            futures = [self.pool.submit(_pool_shard, task) for task in tasks]
        return _gather(futures, self.interrupted, report)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    def end(self) -> None:
        if self.pool is not None:
            _end_workers(self.pool)


def _gather(
    futures: list[Future[ShardResult]], interrupted: Callable[[], bool], report: Progress
) -> list[ShardResult]:
    """Results as shards finish; raises KeyboardInterrupt once Ctrl+C was pressed."""
    results: list[ShardResult] = []
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=_POLL_S, return_when=FIRST_COMPLETED)
        if interrupted():
            raise KeyboardInterrupt
        for future in done:
            results.append(future.result())
            report(len(results), len(futures))
    return results


def _end_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel the shards not started and end the workers now: a shard can run for minutes.

    What Python 3.14's public ``ProcessPoolExecutor.terminate_workers()`` does; before 3.14 the
    workers are reachable only through the pool's ``_processes``.
    """
    workers = list(pool._processes.values())
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.terminate()
    # Gone before the caller goes on: a logged run's undo (engine.sim.experiment) must not race
    # a dying worker's last commit.
    for worker in workers:
        worker.join(_END_WAIT_S)


@contextmanager
def _ctrl_c_as_flag() -> Iterator[Callable[[], bool]]:
    """Turn Ctrl+C into a flag for the block (main thread, default handler only)."""
    presses: list[int] = []
    owned = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if threading.current_thread() is not threading.main_thread() or not owned:
        yield lambda: False  # Ctrl+C is someone else's to handle here
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: presses.append(signum))
    try:
        yield lambda: bool(presses)
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Hold Ctrl+C back in the block; the parent gets a held one when the block ends.

    Processes started in the block inherit the hold (through exec), so a Ctrl+C pressed while a
    worker still imports never reaches it: multiprocessing starts its resource tracker this way.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _run_ray(
    tasks: Sequence[ShardTask], context: RunContext, jobs: int, report: Progress
) -> list[ShardResult]:
    try:
        import ray
    except ImportError:
        raise BackendError("Ray is not installed: pip install 'foryou[ray]'") from None
    if not ray.is_initialized():
        if os.environ.get("RAY_ADDRESS"):  # an existing cluster: it knows its own CPUs
            ray.init(log_to_driver=False)
        else:  # a local Ray with one CPU per job
            ray.init(num_cpus=jobs, include_dashboard=False, log_to_driver=False)
    remote: Any = ray.remote(num_cpus=1)(_ray_shard)
    context_ref = ray.put(context)
    pending = [remote.remote(task, context_ref) for task in tasks]
    results: list[ShardResult] = []
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            results.extend(ray.get(done))
            report(len(results), len(tasks))
    except BaseException:
        # Shards left running would go on writing while a logged run is being taken back.
        for ref in pending:
            ray.cancel(ref, force=True)
        ray.wait(pending, num_returns=len(pending), timeout=_END_WAIT_S)
        raise
    return results


def _ray_shard(task: ShardTask, context: RunContext) -> ShardResult:
    with threadpool_limits(limits=1):
        return run_shard(task, context)
