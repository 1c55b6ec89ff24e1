"""Running a plan: every task through an executor into a results store, with progress.

The worker side (``execute``) turns one task into the rows of each table and never raises: a
run that fails comes back as its traceback, is recorded, and the batch carries on.  The
coordinator side (``run_batch``) skips finished runs when resuming, writes parts as results
arrive, consolidates, and writes the manifest.
"""
from __future__ import annotations

import platform
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from typing import Callable

import pandas as pd

import sim
from models.loading import resolved_dict
from sim.core.streams import PURPOSES
from sim.studies.run_failures import failure_message
from sim.studies.runner import git_commit, single_run
from sim.studies.store import COMMIT_TABLE, ResultsStore, StoredRun, encode_run
from sim.studies.study import RunTask, StudyPlan

VERSIONED = ("simpy", "numpy", "pandas", "scipy", "pyarrow", "pydantic", "dask", "distributed", "SALib")


@dataclass
class RunFailure:
    error: str
    traceback: str


def execute(task: RunTask) -> dict[str, pd.DataFrame] | RunFailure:
    """One replication → its rows in every table (worker side; pickled to Dask and pool workers)."""
    try:
        res = single_run(task.scenario, task.replication)
    except Exception as e:  # noqa: BLE001 - recorded in the manifest, the batch carries on
        return RunFailure(f"{type(e).__name__}: {e}", traceback.format_exc())
    ident = {"scenario": task.scenario_name, "replication": task.replication}
    runs = pd.DataFrame([{**ident, "config_id": task.config_id, "wall_seconds": res.wall_seconds,
                          **res.accounting, **res.kpis}])
    monthly = _tag(res.monthly, ident, "month")
    yearly = _tag(res.yearly, ident, "year")
    return {COMMIT_TABLE: runs, "monthly": monthly, "yearly": yearly, "facilities": _tag(res.facilities, ident),
            "facility_monthly": _tag(res.facility_monthly, ident), "villages": _tag(res.villages, ident),
            "flows": _tag(res.flows, ident), "year_sums": _tag(res.year_sums, ident)}


def execute_stored(task: RunTask) -> StoredRun | RunFailure:
    """``execute``, with the tables encoded for the results store where the run ran."""
    out = execute(task)
    return out if isinstance(out, RunFailure) else encode_run(out)


def _tag(df: pd.DataFrame, ident: dict, period: str | None = None) -> pd.DataFrame:
    df = df.reset_index(drop=True)
    if period and period not in df.columns:
        df.insert(0, period, range(len(df)))
    for i, (k, v) in enumerate(ident.items()):
        df.insert(i, k, v)
    return df


@dataclass
class BatchResult:
    tables: dict[str, pd.DataFrame]
    failures: list[dict]
    planned: int
    finished: int
    skipped: int  # already finished before this invocation (resume)
    wall_seconds: float
    manifest: dict = field(default_factory=dict)


def run_batch(plan: StudyPlan, store: ResultsStore, executor, resume: bool = False, progress: bool = True,
              extra_manifest: dict | None = None, cost: Callable[[RunTask], float] | None = None) -> BatchResult:
    """Run every unfinished task of ``plan``; return consolidated tables and failures.

    ``cost`` (a task's expected run time, any unit) submits the largest tasks first
    (longest-processing-time-first): the last tasks to start are the smallest, so no worker
    idles at the end while another runs one big task.  Results are written as they arrive
    and consolidated in plan order, so the tables do not depend on either order."""
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    store.open(plan.kind, plan.name, plan.source)
    if resume:
        store.prepare()
    else:
        store.reset()
    tasks = plan.tasks()
    done = store.finished(tasks) if resume else set()
    pending = [t for t in tasks if t.key not in done]
    if cost is not None:
        pending.sort(key=cost, reverse=True)  # stable: equal costs keep plan order
    skipped = len(done)
    failed = 0
    fresh: dict[str, dict[str, pd.DataFrame]] = {}  # this invocation's runs' tables (their bytes are on disk)
    bar = _bar(plan.name, len(tasks), skipped, progress)
    try:
        for task, out in executor.imap(execute_stored, pending):
            if isinstance(out, StoredRun):
                store.write_run(task, out)
                done.add(task.key)
                fresh[task.key] = out.tables
            else:
                failed += 1
                err = out if isinstance(out, RunFailure) else RunFailure(
                    failure_message(out), "".join(traceback.format_exception(out)))
                store.write_failure(task, err.error, err.traceback)
                _log(bar, f"countysim: run {task.key} failed: {err.error}")
            bar.update(1)
            bar.set_postfix(failed=failed, refresh=False)
    finally:
        bar.close()
    tables = store.consolidate(plan, done, fresh)
    failures = store.failures(tasks, done)
    wall = time.perf_counter() - t0
    manifest = build_manifest(plan, executor, tables.pop("timings"), failures, started, wall,
                              planned=len(tasks), finished=len(done), skipped=skipped)
    manifest.update(extra_manifest or {})
    store.write_manifest(manifest)
    return BatchResult(tables, failures, len(tasks), len(done), skipped, wall, manifest)


def _bar(name: str, total: int, initial: int, show: bool):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=name, unit="run", disable=not show, file=sys.stderr,
                dynamic_ncols=True, smoothing=0.1)


def _log(bar, message: str) -> None:
    if bar.disable:
        print(message, file=sys.stderr)
    else:
        bar.write(message, file=sys.stderr)


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"countysim": sim.__version__, "python": platform.python_version()}
    for pkg in VERSIONED:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def build_manifest(plan: StudyPlan, executor, timings: pd.DataFrame, failures: list[dict], started: datetime,
                   wall: float, planned: int, finished: int, skipped: int) -> dict:
    """Everything needed to reproduce and audit the batch."""
    return {
        "study": plan.name,
        "kind": plan.kind,
        "study_file": str(plan.source),
        "study_text": plan.source.read_text(encoding="utf-8"),
        "study_resolved": plan.study,
        "base_config": plan.base_config,
        "seeds": {
            "master_seed": plan.seed,
            "replications": plan.replications,
            "scheme": "replication r of every scenario: numpy SeedSequence(master_seed, spawn_key=(r,)); "
                      f"streams {list(PURPOSES)} spawn_key (r, i) (common random numbers)",
        },
        "scenarios": [{"name": s.name, "description": s.description, "config_file": s.config_file,
                       "overrides": list(s.overrides), "params": s.params, "config_id": s.config_id}
                      for s in plan.scenarios],
        "resolved_configs": {s.name: resolved_dict(s.scenario) for s in plan.scenarios},
        "versions": versions(),
        "git_commit": git_commit(),
        "executor": getattr(executor, "description", type(executor).__name__),
        "runs": {"planned": planned, "finished": finished, "failed": len(failures),
                 "finished_before_this_invocation": skipped},
        "failures": failures,
        "timings": {
            "started_utc": started.isoformat(timespec="seconds"),
            "wall_seconds_this_invocation": wall,
            "run_seconds_total": float(timings["wall_seconds"].sum()) if len(timings) else 0.0,
            "runs": timings.to_dict(orient="records"),
        },
    }


def run_unstored(plan: StudyPlan, executor) -> tuple[pd.DataFrame, list[RunFailure]]:
    """Run a plan without a results folder (calibration's search steps): the runs table, failures."""
    rows, failures = [], []
    for task, out in executor.imap(execute, plan.tasks()):
        if isinstance(out, dict):
            rows.append(out[COMMIT_TABLE])
        else:
            failures.append(out if isinstance(out, RunFailure) else RunFailure(failure_message(out), ""))
    if not rows:
        return pd.DataFrame(columns=["scenario", "replication"]), failures
    return pd.concat(rows, ignore_index=True).sort_values(["scenario", "replication"], ignore_index=True), failures
