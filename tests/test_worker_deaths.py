"""Runs whose worker process dies (the out-of-memory killer, a crash): the process pool carries on
with the other runs, the failure is said in words a planner can act on, and a study in which no
run finished ends with a message and exit status 1, not a traceback."""
from __future__ import annotations

import json
import os
import time

import distributed
from experiment_helpers import SMALL, small_experiment, write_province

from sim.outputs.cli import main
from sim.studies import batch, runner
from sim.studies.executors import ProcessPool
from sim.studies.experiment import run_experiment
from sim.studies.run_failures import WORKER_DIED, WorkerDied, failure_message

_real_execute_stored = batch.execute_stored
_real_run_one = runner._run_one


def _dies_on_two(item: int) -> int:
    if item == 2:
        os._exit(9)  # as the out-of-memory killer ends a process: no exception, no clean-up
    time.sleep(0.05)  # others are still running when it dies
    return 10 * item


def _times_ten(item: int) -> int:
    return 10 * item


def _lever_run_dies(task):
    if task.scenario_name == "lever" and task.replication == 0:
        os._exit(9)
    return _real_execute_stored(task)


def _every_run_raises(task):
    raise RuntimeError("no run finishes")


def _second_replication_dies(args):
    if args[1] == 1:
        os._exit(9)
    return _real_run_one(args)


def _second_replication_dies_once(args):
    """Dies the first time only, as a run that did not fit in memory beside another."""
    marker = os.environ["COUNTYSIM_TEST_MARKER"]
    if args[1] == 1 and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(9)
    return _real_run_one(args)


def test_process_pool_reruns_alone_the_runs_a_dead_worker_took_down(capsys):
    """A dead worker fails every future of the pool; the runs it held are rerun one at a time, so
    only the one that kills its worker alone is reported, and the pool goes on working."""
    executor = ProcessPool(2)
    try:
        out = dict(executor.imap(_dies_on_two, range(8)))
        assert isinstance(out.pop(2), WorkerDied)
        assert out == {i: 10 * i for i in range(8) if i != 2}
        assert "countysim: a worker process died; the process pool restarts" in capsys.readouterr().err
        assert dict(executor.imap(_times_ten, range(3))) == {0: 0, 1: 10, 2: 20}
    finally:
        executor.close()


def test_a_dead_worker_is_named_in_plain_words():
    for error in (WorkerDied("A process in the process pool was terminated abruptly"),
                  distributed.KilledWorker("execute_stored-1234", "tcp://127.0.0.1:1", 3)):
        message = failure_message(error)
        assert message.startswith(WORKER_DIED) and type(error).__name__ in message
        assert "memory" in message and "--workers" in message
    assert failure_message(ValueError("bad value")) == "ValueError: bad value"


def test_a_batch_records_a_dead_worker_and_finishes_the_other_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "execute_stored", _lever_run_dies)  # the pool's forked workers inherit it
    path = small_experiment(tmp_path, replications=2)
    executor = ProcessPool(2)
    try:
        _, _, result, _ = run_experiment(path, executor, out=tmp_path / "out", progress=False)
    finally:
        executor.close()
    assert (result.finished, len(result.failures)) == (3, 1)
    failure = json.loads((tmp_path / "out" / "manifest.json").read_text())["failures"][0]
    assert (failure["scenario"], failure["replication"]) == ("lever", 0)
    assert failure["error"].startswith(WORKER_DIED)


def _no_run_finishes(command: str, path, tmp_path, monkeypatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr(batch, "execute_stored", _every_run_raises)
    code = main([command, str(path), "--workers", "1", "--out", str(tmp_path / "out"), "--quiet", "--no-figures"])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_experiment_with_no_finished_run_ends_with_a_message(tmp_path, monkeypatch, capsys):
    code, out, err = _no_run_finishes("experiment", small_experiment(tmp_path, replications=1), tmp_path,
                                      monkeypatch, capsys)
    assert code == 1
    assert "No run finished: nothing to summarise." in out
    assert "RuntimeError: no run finishes" in err and "2 run(s) failed" in err


def test_a_province_with_no_finished_run_ends_with_a_message(tmp_path, monkeypatch, capsys):
    code, out, _ = _no_run_finishes("province", write_province(tmp_path, replications=1), tmp_path, monkeypatch,
                                    capsys)
    assert code == 1
    assert "Province totals: none" in out and "County ranking: none (no county run finished)" in out


def test_run_command_says_a_replication_s_worker_died(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner, "_run_one", _second_replication_dies)
    code = main(["run", str(SMALL), "--replications", "2", "--workers", "2", "--out", str(tmp_path / "out"),
                 "--quiet", "--no-figures"])
    _, err = capsys.readouterr()
    assert code == 1
    assert f"countysim: replication 1 failed: {WORKER_DIED}" in err
    assert "Traceback" not in err


def test_run_command_reruns_alone_a_replication_whose_worker_died(tmp_path, monkeypatch, capsys):
    """The replication is run again on its own and the command finishes with every replication,
    the same as a run in which no worker died."""
    monkeypatch.setenv("COUNTYSIM_TEST_MARKER", str(tmp_path / "died"))
    monkeypatch.setattr(runner, "_run_one", _second_replication_dies_once)
    args = ["run", str(SMALL), "--replications", "2", "--workers", "2", "--quiet", "--no-figures"]
    assert main([*args, "--out", str(tmp_path / "died_once")]) == 0
    assert "the process pool restarts and reruns the" in capsys.readouterr().err
    monkeypatch.setattr(runner, "_run_one", _real_run_one)
    assert main([*args, "--out", str(tmp_path / "plain")]) == 0
    runs = [json.loads((tmp_path / d / "summary.json").read_text()) for d in ("died_once", "plain")]
    assert runs[0] == runs[1]
