"""Local process pools that outlive a worker's death, and lazy submission to any pool.

A worker process killed by the system (out of memory) or crashed breaks a
``concurrent.futures`` pool and fails every run in it.  ``ProcessPool`` starts a fresh pool and
reruns those runs one at a time, so only a run that kills its worker alone is lost.  Used by
batches (``executors``) and by ``runner.multiple_replications`` (``countysim run``).
"""
from __future__ import annotations

import os
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterable, Iterator

from sim.studies.run_failures import WorkerDied

Outcome = tuple[Any, Any]  # (item, result) or (item, BaseException)


def default_workers() -> int:
    """The cores this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class ProcessPool:
    """A local process pool; keeps at most 2 × workers items in flight to bound memory.

    A worker process that dies (the system's out-of-memory killer, a crash) breaks the whole pool
    and fails every run in it, so the pool is started afresh for the next run, and the runs it
    held are rerun one at a time, alone, after the others: a run whose worker dies even then is
    reported (``WorkerDied``), the rest finish (two big runs that did not fit in memory together
    fit one after the other).
    """

    def __init__(self, workers: int):
        self.workers = workers
        self.description = f"process pool ({workers} workers)"
        self._pool = ProcessPoolExecutor(max_workers=workers)

    def imap(self, fn: Callable, items: Iterable) -> Iterator[Outcome]:
        held = []  # runs a broken pool failed, to rerun alone
        for item, out in bounded(lambda item: self._submit(fn, item), items, 2 * self.workers):
            if isinstance(out, BrokenProcessPool):
                held.append(item)
            else:
                yield item, out
        if held:
            print(f"countysim: a worker process died; the process pool restarts and reruns the "
                  f"{len(held)} run(s) it held one at a time", file=sys.stderr)
        for item in held:
            try:
                yield item, self._submit(fn, item).result()
            except BrokenProcessPool as e:
                yield item, WorkerDied(str(e))
            except Exception as e:  # noqa: BLE001 - the task raised
                yield item, e

    def _submit(self, fn: Callable, item: Any) -> Future:
        """Submit to a working pool: one a worker's death broke is replaced first."""
        try:
            return self._pool.submit(fn, item)
        except BrokenProcessPool:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = ProcessPoolExecutor(max_workers=self.workers)
            return self._pool.submit(fn, item)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def bounded(submit: Callable[[Any], Future], items: Iterable, limit: int) -> Iterator[Outcome]:
    """Submit lazily, at most ``limit`` in flight; yield each as it completes."""
    pending: dict[Any, Any] = {}
    it = iter(items)
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < limit:
                try:
                    item = next(it)
                except StopIteration:
                    exhausted = True
                    break
                pending[submit(item)] = item
            if not pending:
                return
            done = wait_first(list(pending))
            for fut in done:
                item = pending.pop(fut)
                try:
                    yield item, fut.result()
                except Exception as e:  # noqa: BLE001 - worker died or the task raised
                    yield item, e
    finally:
        for fut in pending:
            fut.cancel()


def wait_first(futures: list) -> list:
    """The futures done first, of a Dask cluster's or a local pool's."""
    if hasattr(futures[0], "client"):  # distributed.Future
        from distributed import wait as dask_wait
        return list(dask_wait(futures, return_when="FIRST_COMPLETED").done)
    return list(wait(futures, return_when=FIRST_COMPLETED).done)
