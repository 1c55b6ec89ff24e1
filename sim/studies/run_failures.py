"""Why a run failed, in words a planner can act on: a worker process that died is not an error
in the model, and its executor's own wording (a broken process pool, Dask's ``KilledWorker``)
does not say what to do about it."""
from __future__ import annotations

import sys

WORKER_DIED = ("its worker process died while running it (killed or crashed: not an error in the model). Most often "
               "the machine ran out of memory: a 500k-resident county-year peaks at about 0.7 GiB in its worker, a "
               "4-year plan with every mechanism at about 2.3 GiB (benchmarks/LATEST.md). Run fewer workers at once "
               "(--workers, --dask-local) or smaller counties")


class WorkerDied(RuntimeError):
    """A run's worker process died under it even when run alone (``pools.ProcessPool``, which
    batches and ``runner.multiple_replications`` use)."""


def failure_message(error: BaseException) -> str:
    """What a study records for a run whose executor raised ``error``: a worker that died (a process
    pool's, or Dask's ``KilledWorker``) in plain words, anything else as ``Type: message``."""
    distributed = sys.modules.get("distributed")
    if isinstance(error, WorkerDied) or (distributed is not None and isinstance(error, distributed.KilledWorker)):
        return f"{WORKER_DIED} [{type(error).__name__}]"
    return f"{type(error).__name__}: {error}"
