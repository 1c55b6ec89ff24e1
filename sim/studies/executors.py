"""Where runs execute: in this process, a local process pool, or a Dask cluster.

Every executor has one method, ``imap(fn, items)``, yielding ``(item, result | exception)`` in
completion order.  Results do not depend on the executor because each run owns its seeds; the
coordinator (not the workers) writes results, so remote Dask workers need no shared disk, only
the same countysim version installed.  A Dask executor also has ``prepare_workers()``: its
workers start loading the run code at once, while the coordinator still reads the study.
"""
from __future__ import annotations

import itertools
import logging
import os
import sys
import warnings
from typing import Callable, Iterable, Iterator

from sim.core.config_files import ConfigError
from sim.studies.pools import Outcome, ProcessPool, bounded, default_workers


class InProcess:
    """Runs items one after another here: simplest to debug, no pickling."""

    description = "in-process"

    def imap(self, fn: Callable, items: Iterable) -> Iterator[Outcome]:
        for item in items:
            try:
                yield item, fn(item)
            except Exception as e:  # noqa: BLE001 - the caller records it and carries on
                yield item, e

    def close(self) -> None:
        pass


TRIM_VARIABLE = "MALLOC_TRIM_THRESHOLD_"
# A local cluster runs a few long county runs, not thousands of short tasks: Dask's defaults for
# the latter cost the coordinator and the workers CPU that the runs need on a small machine.
LOCAL_CLUSTER_SETTINGS = {
    f"distributed.nanny.pre-spawn-environ.{TRIM_VARIABLE}": None,  # unset (the Dask class says why)
    "distributed.scheduler.worker-saturation": 1.0,  # one run per worker thread at a time: the
    # largest-first order the batch submits in is the order runs start, with none queued behind
    # a long one on a busy worker while another worker idles
    "distributed.worker.profile.enabled": False,  # a stack sample of every worker every 10 ms, for a dashboard
    "distributed.admin.tick.interval": "1s",  # event-loop watchdog of scheduler, nannies and workers (20 ms)
    "distributed.admin.system-monitor.interval": "5s",  # CPU and memory sampling for dashboards (500 ms)
    "distributed.worker.memory.monitor-interval": "1s",  # nannies' and workers' memory checks (100 ms): an idle
    # 2-worker cluster then costs the coordinator 0.5 % of a core instead of 1.5 %, the workers 0.5 % instead of 1.2 %
}


class Dask:
    """A Dask distributed cluster: an existing one (``address``) or a new ``LocalCluster``.

    A ``LocalCluster``'s workers start without the ``MALLOC_TRIM_THRESHOLD_=65536`` Dask's nannies
    set by default: it returns freed memory to the system at once and switches off glibc's
    adaptive thresholds, so each of a run's large numpy temporaries is a fresh map faulted in
    page by page.  With it, the 20-county benchmark province on 2 workers used ~52 worker CPU s;
    without, ~34.  Workers of an existing cluster are checked and a warning says how to start
    them without it.  A ``LocalCluster`` also takes ``LOCAL_CLUSTER_SETTINGS``: on the benchmark
    province on 2 workers, the coordinator's CPU fell from 2.3-3.8 s to 1.8 s.

    Nor do its workers have Dask's memory limit.  By default each gets the machine's memory times
    its share of the cores (a 16-core 32 GB machine: 2 GB a worker, however few are started),
    and its nanny kills a worker that passes 95 % of it.  Runs are uneven (a 500k-resident
    county's 4-year plan with every mechanism peaks at 2.3 GiB, a 200k county-year at 0.44 GiB;
    benchmarks/LATEST.md), so a big county's run was killed while the machine had room.  The
    system's own limit still applies; a run whose worker dies is reported in plain words
    (``run_failures.failure_message``).
    """

    def __init__(self, address: str | None = None, local_workers: int | None = None):
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - a dependency, but say so plainly
            raise ConfigError("Dask executors need `pip install 'dask[distributed]'`") from None
        self._cluster = None
        if address:
            try:
                self._client = Client(address, timeout="20s")
            except (OSError, TimeoutError) as e:
                raise ConfigError(f"--scheduler {address}: cannot connect ({e})") from None
            self.description = f"dask cluster at {address}"
            _warn_about_trimming(self._client, address)
        else:
            n = local_workers or default_workers()
            with warnings.catch_warnings(), dask.config.set(LOCAL_CLUSTER_SETTINGS):
                warnings.filterwarnings("ignore", message="Port .* is already in use",  # its HTTP server
                                        category=UserWarning)  # moves off a busy :8787 by itself
                self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                             dashboard_address=None, silence_logs=logging.ERROR,
                                             memory_limit=None)  # see the class docstring
            self._client = Client(self._cluster)
            self.description = f"dask LocalCluster ({n} workers)"
        self.workers = max(1, len(self._client.nthreads()))

    def imap(self, fn: Callable, items: Iterable) -> Iterator[Outcome]:
        # pure=False: a rerun after a failure must run again, not reuse a cached result.  priority:
        # Dask starts tasks submitted within 100 ms of each other in any order; keep the order given
        order = itertools.count()
        yield from bounded(lambda item: self._client.submit(fn, item, pure=False, priority=-next(order)), items,
                           max(32, 4 * self.workers))  # workers may join later

    def prepare_workers(self) -> None:
        """Have every worker import the run code now (returns at once): a fresh worker process
        otherwise spends its first half second importing it when its first run arrives.  It then
        freezes what it imported (``settle_worker``): left to the collector, the ~150,000 objects
        imported set off two full collections in a fresh process's first run (0.49 s)."""
        workers = list(self._client.nthreads())
        self._warming = [self._client.submit(_import_run_code, pure=False, workers=[w], allow_other_workers=False,
                                             priority=1)  # before any run
                         for w in workers]  # kept: Dask cancels a task whose future is dropped

    def worker_cpu_seconds(self) -> float:
        """CPU seconds the cluster's worker processes have used so far (benchmarks: cores obtained)."""
        return float(sum(self._client.run(_process_cpu_seconds).values()))

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def _warn_about_trimming(client, address: str) -> None:
    """Say so when an existing cluster's workers trim memory at every free (Dask's nanny default)."""
    trimming = sorted(w for w, v in client.run(_environment_variable, TRIM_VARIABLE).items() if v is not None)
    if trimming:
        print(f"countysim: {len(trimming)} Dask worker(s) at {address} run with {TRIM_VARIABLE} set (the nanny's "
              f"default), which makes county runs take about 1.5 times as long; start workers with `dask worker "
              f"--no-nanny`, or with `{TRIM_VARIABLE}: null` under distributed.nanny.pre-spawn-environ in their "
              f"Dask config", file=sys.stderr)


def _environment_variable(name: str) -> str | None:
    """A worker's environment variable (``os.environ.get`` itself would ship this process's)."""
    return os.environ.get(name)


def _import_run_code() -> None:
    import sim.studies.batch  # noqa: F401 - what every run needs (models, the pathway, pandas)
    from sim.core.collector import settle_worker

    settle_worker()


def _process_cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def make_executor(workers: int | None = None, scheduler: str | None = None, dask_local: int | None = None):
    """CLI flags → executor: --scheduler / --dask-local → Dask; --workers 1 → in-process; else a pool."""
    if scheduler and dask_local:
        raise ConfigError("--scheduler and --dask-local exclude each other")
    if (scheduler or dask_local) and workers:
        raise ConfigError("--workers applies to the local process pool; with Dask give --dask-local N")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers: must be >= 1 (got {workers})")
    if dask_local is not None and dask_local < 1:
        raise ConfigError(f"--dask-local: must be >= 1 (got {dask_local})")
    if scheduler or dask_local:
        return Dask(scheduler, dask_local)
    n = workers or default_workers()
    return InProcess() if n == 1 else ProcessPool(n)
