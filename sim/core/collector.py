"""The garbage collector in a study's processes: keep its full passes off long-lived objects.

A coordinator process holds ~180,000 long-lived objects before a study begins (pandas, numba,
pydantic models, a Dask client and scheduler).  Reading and planning a study allocates enough
to set off a full collection, which walks them all: in the 20-county benchmark province's
coordinator one full pass took 0.08-0.10 s of the 0.3 s before the first run.
``existing_objects_frozen`` moves the objects that exist when the study starts out of the
collector's way (``gc.freeze``) and gives them back when it ends (``gc.unfreeze``), so a cycle
among them that became garbage meanwhile is still collected later.  ``settle_worker``
collects, then freezes for good, in a worker process once its run code is imported.  Objects
are freed by their reference counts as before, and results cannot change.
"""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # studies under way in this process: the outermost freezes and unfreezes


@contextmanager
def existing_objects_frozen():
    """Keep the collector's full passes off the objects that exist now until the block ends
    (also a decorator); nested or concurrent uses unfreeze when the last one ends."""
    global _depth
    with _lock:
        if _depth == 0:
            gc.freeze()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.unfreeze()


def settle_worker() -> None:
    """In a worker process, once its run code is imported: collect what start-up left unreachable,
    then freeze the rest (modules, classes, the worker's own machinery), which lives as long as
    the process.  Later collections walk only what the runs made; nothing is unfrozen, so only
    objects alive now that become garbage later are never collected."""
    gc.collect()
    gc.freeze()
