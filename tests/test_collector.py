"""A study's coordinator freezes the objects it started with, and gives them back when it ends."""
import gc
import subprocess
import sys
import threading
import weakref

import pytest

from sim.core.collector import existing_objects_frozen
from sim.core.config_files import ConfigError
from sim.studies.experiment import run_experiment
from sim.studies.province import run_province


class Node:
    def __init__(self):
        self.other = None


def _cycle() -> tuple[weakref.ref, Node]:
    """A two-object reference cycle: a weak reference to it and the one strong reference; once
    that is dropped only the collector can free it."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a), a


def test_objects_existing_at_the_start_are_frozen_and_given_back():
    before = gc.get_freeze_count()
    ref, strong = _cycle()
    with existing_objects_frozen():
        assert gc.get_freeze_count() > before
        del strong  # garbage now, but frozen: a full collection leaves it
        gc.collect()
        assert ref() is not None
    assert gc.get_freeze_count() == before
    gc.collect()  # unfrozen: the cycle is collected, nothing leaks
    assert ref() is None


def test_objects_made_inside_are_collected_as_usual():
    with existing_objects_frozen():
        ref, strong = _cycle()
        del strong
        gc.collect()
        assert ref() is None


def test_nested_uses_unfreeze_when_the_outermost_ends():
    before = gc.get_freeze_count()
    with existing_objects_frozen():
        with existing_objects_frozen():
            pass
        assert gc.get_freeze_count() > before  # the inner end left the outer study's objects frozen
    assert gc.get_freeze_count() == before


def test_an_error_still_unfreezes():
    before = gc.get_freeze_count()
    with pytest.raises(RuntimeError), existing_objects_frozen():
        raise RuntimeError("a run failed")
    assert gc.get_freeze_count() == before


def test_concurrent_studies_in_threads_unfreeze_once_both_end():
    before = gc.get_freeze_count()
    inside, release = threading.Barrier(3), threading.Event()

    def study():
        with existing_objects_frozen():
            inside.wait()
            release.wait(10)

    threads = [threading.Thread(target=study) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()
    assert gc.get_freeze_count() > before
    release.set()
    for t in threads:
        t.join()
    assert gc.get_freeze_count() == before


@pytest.mark.parametrize("entry", [run_experiment, run_province])
def test_study_entry_points_keep_their_names_and_freeze_while_they_run(entry, monkeypatch):
    """The decorator keeps the entry point's name and signature (the CLI and API call them by
    keyword) and holds the freeze for the whole call."""
    import inspect

    assert entry.__name__ in ("run_experiment", "run_province")
    assert "executor" in inspect.signature(entry).parameters
    seen = []
    monkeypatch.setattr(gc, "freeze", lambda: seen.append("freeze"))
    monkeypatch.setattr(gc, "unfreeze", lambda: seen.append("unfreeze"))
    with pytest.raises(ConfigError, match="file not found"):
        entry("no/such/study.yaml", executor=None)
    assert seen == ["freeze", "unfreeze"]


def test_a_settled_worker_collects_start_up_garbage_then_freezes_the_rest():
    """In its own process (a freeze there lasts for good): a cycle left unreachable before
    ``settle_worker`` is freed by it, not frozen; what is alive is frozen."""
    code = """
import gc, weakref
from sim.core.collector import settle_worker
class Node: pass
a, b, kept = Node(), Node(), Node()
a.other, b.other = b, a
dead, alive = weakref.ref(a), weakref.ref(kept)
del a, b
gc.disable()  # no collection by chance before settle_worker
settle_worker()
frozen = gc.get_freeze_count()
gc.enable()
print(dead() is None, alive() is not None, frozen > 1000, len(gc.get_objects()) < frozen)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "True", "True"], out.stderr
