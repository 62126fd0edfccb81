"""Where shards run: in this process, in a pool of worker processes, or on a Ray cluster.

Shards are fixed by the run (not by the number of workers) and results are put back in shard
order, so every backend and every ``jobs`` gives the same result. Each worker computes on one
numeric thread: shards are the parallelism, and BLAS threads would only fight over cores.

Ray is optional (``pip install 'foryou[ray]'``). Without ``RAY_ADDRESS`` it starts a local Ray
with one CPU per job; with ``RAY_ADDRESS`` set it joins that cluster. Every Ray worker must see
the world file at the same path (one machine, or a shared filesystem) and have foryou installed;
the run's start state travels once through the object store (``ray.put``) and tasks stay pure
functions of (task, context), so Ray gives the same results as the process pool.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Literal

from threadpoolctl import threadpool_limits

from engine.sim.runner import RunContext, ShardResult, ShardTask, run_shard

Backend = Literal["process", "ray"]
Progress = Callable[[int, int], None]  # (shards done, shards in all)
_CONTEXT: list[RunContext] = []


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
    if jobs < 1:
        raise BackendError(f"--jobs must be at least 1, got {jobs}")
    report = progress or (lambda done, total: None)
    if backend == "ray":
        results = _run_ray(tasks, context, jobs, report)
    elif jobs == 1 or len(tasks) <= 1:
        results = _run_here(tasks, context, report)
    else:
        results = _run_pool(tasks, context, jobs, report)
    return sorted(results, key=lambda r: r.shard)


def _run_here(
    tasks: Sequence[ShardTask], context: RunContext, report: Progress
) -> list[ShardResult]:
    results = []
    for task in tasks:
        results.append(run_shard(task, context))
        report(len(results), len(tasks))
    return results


def _init_worker(context: RunContext) -> None:
    threadpool_limits(limits=1)
    _CONTEXT[:] = [context]


def _pool_shard(task: ShardTask) -> ShardResult:
    return run_shard(task, _CONTEXT[0])


def _run_pool(
    tasks: Sequence[ShardTask], context: RunContext, jobs: int, report: Progress
) -> list[ShardResult]:
    # "spawn" gives every worker a clean interpreter: no inherited SQLite handles or threads.
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(tasks)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(context,),
    ) as pool:
        futures = [pool.submit(_pool_shard, task) for task in tasks]
        results = []
        for future in as_completed(futures):
            results.append(future.result())
            report(len(results), len(tasks))
    return results


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
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        results.extend(ray.get(done))
        report(len(results), len(tasks))
    return results


def _ray_shard(task: ShardTask, context: RunContext) -> ShardResult:
    with threadpool_limits(limits=1):
        return run_shard(task, context)
