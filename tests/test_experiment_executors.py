"""The same experiment through every executor gives identical result tables.

In-process, a local process pool, a Dask ``LocalCluster`` (workers in their own processes), and
an external Dask cluster: a scheduler and a worker started as separate processes on loopback,
reached with ``--scheduler``.
"""
from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dask
import pytest
from experiment_helpers import TABLES, assert_same_tables, small_experiment

from sim.outputs.cli import main
from sim.studies.executors import LOCAL_CLUSTER_SETTINGS, Dask, InProcess, ProcessPool, _environment_variable
from sim.studies.experiment import run_experiment

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exec")
    path = small_experiment(folder, replications=2, sweep={
        "method": "lhs", "samples": 2, "seed": 1,
        "parameters": {"reimbursement.county.outpatient_rate": {"low": 0.1, "high": 0.5}}})
    run_experiment(path, InProcess(), out=folder / "inprocess", progress=False)
    return path, folder


def _run_with(executor, path: Path, out: Path) -> None:
    try:
        run_experiment(path, executor, out=out, progress=False)
    finally:
        executor.close()


def test_process_pool_equals_in_process(study):
    path, folder = study
    _run_with(ProcessPool(2), path, folder / "pool")
    assert_same_tables(folder / "inprocess", folder / "pool")
    assert (folder / "inprocess" / "runs.parquet").read_bytes() == (folder / "pool" / "runs.parquet").read_bytes()


def test_dask_local_cluster_equals_in_process(study):
    path, folder = study
    out = folder / "dask_local"
    assert main(["experiment", str(path), "--dask-local", "2", "--quiet", "--no-figures", "--out", str(out)]) == 0
    assert_same_tables(folder / "inprocess", out)
    assert "LocalCluster" in json.loads((out / "manifest.json").read_text())["executor"]


def test_dask_prepare_workers_loads_the_run_code_in_every_worker():
    """A fresh worker has not loaded the run code; prepare_workers has it loaded before any run,
    and the objects it made frozen out of the collector's full passes."""
    executor = Dask(local_workers=1)
    try:
        loaded = lambda: ("sim.studies.batch" in sys.modules, gc.get_freeze_count() > 0)  # noqa: E731 - by value
        assert list(executor._client.run(loaded).values()) == [(False, False)]
        executor.prepare_workers()
        executor._client.gather(executor._warming)
        assert list(executor._client.run(loaded).values()) == [(True, True)]
    finally:
        executor.close()


def test_dask_local_workers_do_not_trim_memory_at_every_free():
    """Dask's nannies set MALLOC_TRIM_THRESHOLD_=65536 by default, which made the benchmark
    province's runs take ~1.5 times the CPU; a LocalCluster made here starts its workers without it."""
    executor = Dask(local_workers=1)
    try:
        assert list(executor._client.run(_environment_variable, "MALLOC_TRIM_THRESHOLD_").values()) == [None]
    finally:
        executor.close()


def test_dask_local_workers_have_no_memory_limit():
    """Dask gives each worker the machine's memory times its share of the cores and kills one that
    passes 95 % of it; county runs are uneven, so a LocalCluster made here sets no such limit."""
    executor = Dask(local_workers=2)
    try:
        limits = [w["memory_limit"] for w in executor._client.scheduler_info()["workers"].values()]
        assert limits == [0, 0]  # Dask's "no limit"
    finally:
        executor.close()


def test_dask_local_cluster_runs_with_the_settings_for_long_runs():
    """The workers of a LocalCluster made here run with LOCAL_CLUSTER_SETTINGS (a default cluster
    does not: its workers sample their stacks every 10 ms), and its scheduler gives each worker
    thread one run at a time."""
    keys = [k for k in LOCAL_CLUSTER_SETTINGS if "pre-spawn-environ" not in k]
    default = {k: dask.config.get(k) for k in keys}
    assert all(default[k] != v for k, v in LOCAL_CLUSTER_SETTINGS.items() if k in default)
    executor = Dask(local_workers=2)
    try:
        seen = executor._client.run(lambda: {k: dask.config.get(k) for k in keys})  # shipped by value
        assert list(seen.values()) == [{k: LOCAL_CLUSTER_SETTINGS[k] for k in keys}] * 2
        saturation = executor._client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.WORKER_SATURATION)
        assert saturation == 1.0
    finally:
        executor.close()
    assert {k: dask.config.get(k) for k in keys} == default  # this process's config is left as it was


def test_dask_runs_items_in_the_order_given():
    """One worker runs the items one by one, in the order imap is given them (a province gives the
    largest counties first), even when all are submitted at once."""
    executor = Dask(local_workers=1)
    try:
        executor.prepare_workers()
        items = [7, 3, 9, 1, 8, 2, 6, 4, 5, 0]
        started = dict(executor.imap(lambda i: time.monotonic(), items))  # a lambda is shipped by value
        assert sorted(items, key=started.get) == items
    finally:
        executor.close()


@pytest.fixture
def external_cluster(tmp_path):
    """`dask scheduler` and `dask worker` as separate processes on 127.0.0.1."""
    sched_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(sched_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)]
    try:
        _wait_for(lambda: sched_file.exists() and sched_file.stat().st_size > 0, "scheduler")
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads", "1", "--nworkers", "2",
                                       "--no-dashboard", "--host", "127.0.0.1"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                      start_new_session=True))
        yield address
    finally:  # each started in its own session: end it with the worker processes it spawned
        for p in reversed(procs):
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def _wait_for(check, what: str, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise TimeoutError(f"{what} did not start in {timeout} s")
        time.sleep(0.1)


def test_external_dask_cluster_equals_in_process(study, external_cluster, capsys):
    """... and workers started by `dask worker` with its nanny (memory trimmed at every free) are
    named in a warning that says how to start them."""
    path, folder = study
    out = folder / "dask_external"
    probe = Dask(external_cluster)
    try:
        _wait_for(lambda: len(probe._client.scheduler_info()["workers"]) >= 1, "dask worker")
    finally:
        probe.close()
    assert main(["experiment", str(path), "--scheduler", external_cluster, "--quiet", "--no-figures",
                 "--out", str(out)]) == 0
    assert_same_tables(folder / "inprocess", out)
    for t in TABLES:
        assert (folder / "inprocess" / f"{t}.parquet").read_bytes() == (out / f"{t}.parquet").read_bytes()
    assert "run with MALLOC_TRIM_THRESHOLD_ set" in capsys.readouterr().err


def test_executor_flags_are_checked(capsys):
    assert main(["experiment", "x.yaml", "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: mutually exclusive
        main(["experiment", "x.yaml", "--workers", "2", "--dask-local", "2"])
