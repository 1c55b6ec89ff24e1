"""Lab runs: a plan against its county's baseline, paired by replication, in a process of its own.

Each run is a folder ``<lab>/runs/<id>/`` holding the plan (``plan.yaml``, the file a planner
downloads), the study file that runs it (``study.yaml``: scenarios ``baseline`` and ``plan``, one
master seed, so replication r of both shares its random numbers), ``job.json`` (how to run it),
``status.json`` (progress, written by the job) and ``results/`` (an experiment folder, with
figures and ``report.html``).  The job runs as ``python -m sim.outputs.lab.jobs RUN_DIR``, detached
from the browser session: a full run goes on while the planner is away, and the page reads its
progress from ``status.json``.  ``countysim experiment RUN_DIR/study.yaml`` reruns it from a terminal.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from datetime import datetime
from pathlib import Path

import yaml

from sim.core.config_files import ConfigError
from sim.core.files import write_json
from sim.outputs.lab.plans import LabPlan, county_label, to_yaml

QUICK_SHARE = 0.05  # share of residents and capacity in a quick run's county sample
QUICK_REPLICATIONS = 2
SEED = 42


def runs_folder(lab_root: Path) -> Path:
    return Path(lab_root) / "runs"


def prepare_run(lab_root: Path, plan: LabPlan, county_values: dict, mode: str, replications: int | None = None,
                workers: int | None = None, scheduler: str | None = None, seed: int = SEED) -> Path:
    """Write a run folder and validate it as ``countysim experiment --dry-run`` would; nothing runs yet.
    Raises ConfigError (and leaves no folder) for a plan or county that does not validate."""
    from sim.studies.experiment import load_experiment

    plan.check_name()
    if mode not in ("quick", "full"):
        raise ValueError(f"mode must be quick or full, got {mode!r}")
    replications = QUICK_REPLICATIONS if mode == "quick" else int(replications or 10)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = runs_folder(lab_root) / f"{stamp}-{plan.name}-{mode}"
    n = 1
    while folder.exists():
        n += 1
        folder = folder.with_name(f"{stamp}-{plan.name}-{mode}-{n}")
    folder.mkdir(parents=True)
    try:
        (folder / "plan.yaml").write_text(to_yaml(plan, county_values), encoding="utf-8")
        county = plan.county
        if mode == "quick":
            county = _county_sample(plan.county, folder)
            (folder / "plan_run.yaml").write_text(to_yaml(plan, county_values, extends=county), encoding="utf-8")
        plan_file = "plan_run.yaml" if mode == "quick" else "plan.yaml"
        study = {
            "name": plan.name, "seed": seed, "replications": replications, "reference": "baseline",
            "question": f"Does the plan {plan.name} reach its targets, and by how much does it move the county "
                        f"against doing nothing ({plan.start_year}–{plan.start_year + plan.years - 1})?",
            "description": (plan.description or f"Plan {plan.name} composed in the policy lab") +
                           (f" (quick run: a {QUICK_SHARE:.0%} county sample, {replications} replications)"
                            if mode == "quick" else ""),
            "base": str(county), "set": {"simulation.start_year": plan.start_year, "simulation.years": plan.years},
            "scenarios": {"baseline": {"description": "the county as it is, no plan"},
                          "plan": {"description": plan.description or plan.name, "config": plan_file}},
        }
        (folder / "study.yaml").write_text(yaml.safe_dump(study, sort_keys=False, allow_unicode=True),
                                           encoding="utf-8")
        load_experiment(folder / "study.yaml")
    except BaseException:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        raise
    write_json(folder / "job.json", {"name": plan.name, "mode": mode, "county": county_label(plan.county),
                                     "replications": replications, "workers": workers, "scheduler": scheduler or None,
                                     "sample_share": QUICK_SHARE if mode == "quick" else 1.0, "seed": seed,
                                     "created": datetime.now().isoformat(timespec="seconds"),
                                     "years": plan.calendar})
    write_json(folder / "status.json", {"state": "queued", "done": 0, "total": 2 * replications})
    return folder


def _county_sample(county: Path, folder: Path) -> Path:
    """A county config with the quick run's sample of residents and capacity (``county_sample.yaml``)."""
    from models.loading import load_scenario, resolved_dict
    from sim.studies.county_sample import sample_geography

    geography = sample_geography(resolved_dict(load_scenario(county))["geography"], QUICK_SHARE, folder / "sample")
    path = folder / "county_sample.yaml"
    path.write_text(yaml.safe_dump({"extends": str(Path(county).resolve()), "geography": geography},
                                   sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def start(folder: Path) -> subprocess.Popen:
    """Start the run in a process of its own (it outlives the browser session that started it)."""
    with open(Path(folder) / "job.log", "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "sim.outputs.lab.jobs", str(folder)], stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=str(Path(folder).resolve()))


def status(folder: Path) -> dict:
    """Progress of a run: state (queued, running, done, failed, interrupted), runs done of total,
    seconds elapsed and an estimate of the seconds left; whether its report is ready."""
    folder = Path(folder)
    try:
        st = json.loads((folder / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        st = {"state": "unknown", "done": 0, "total": 0}
    if st.get("state") in ("running", "queued", "reporting") and st.get("pid") and not _alive(st["pid"]):
        st["state"] = "interrupted" if st["state"] != "reporting" else "done"
    now = time.time()
    if st.get("started"):
        end = st.get("finished") or now
        st["elapsed"] = end - st["started"]
        done, total = st.get("done", 0), st.get("total", 0)
        st["eta"] = st["elapsed"] / done * (total - done) if done and st["state"] == "running" else None
    st["report"] = (folder / "results" / "report.html").exists()
    return st


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a finished child not yet reaped by the server that started it is not running
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return True


def read_job(folder: Path) -> dict:
    return json.loads((Path(folder) / "job.json").read_text(encoding="utf-8"))


def list_runs(lab_root: Path) -> list[dict]:
    """The lab's own runs, newest first (only folders under ``<lab>/runs``)."""
    out = []
    root = runs_folder(lab_root)
    for folder in sorted(root.glob("*/job.json"), reverse=True):
        try:
            job = json.loads(folder.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        out.append({"folder": folder.parent, **job, **status(folder.parent)})
    return out


def zip_results(folder: Path) -> bytes:
    """The run folder (plan, study file and results) as a zip archive, in memory."""
    folder = Path(folder)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file() and not p.name.startswith(".") and p.name != "job.log":
                z.write(p, Path(folder.name) / p.relative_to(folder))
    return buf.getvalue()


# --------------------------------------------------------------------------- the job process
def _write_status(folder: Path, **fields) -> None:
    path = folder / "status.json"
    try:
        st = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        st = {}
    st.update(fields)
    write_json(path, st)


def run_job(folder: Path) -> int:
    """Run a prepared folder: the experiment (progress into status.json), then figures and report."""
    from sim.outputs.api import experiment

    folder = Path(folder).resolve()
    job = json.loads((folder / "job.json").read_text(encoding="utf-8"))
    _write_status(folder, state="running", pid=os.getpid(), started=time.time(), done=0, error=None)

    def progress(done: int, total: int) -> None:
        _write_status(folder, done=done, total=total, updated=time.time())

    try:
        experiment(folder / "study.yaml", out=folder / "results", workers=job.get("workers"),
                   scheduler=job.get("scheduler"), progress=progress, overwrite=True)
    except ConfigError as e:
        _write_status(folder, state="failed", error=str(e), finished=time.time())
        return 2
    except Exception as e:  # noqa: BLE001 - the page shows it; job.log keeps the traceback
        import traceback

        traceback.print_exc()
        _write_status(folder, state="failed", error=f"{type(e).__name__}: {e}", finished=time.time())
        return 1
    _write_status(folder, state="reporting", finished=time.time())
    try:
        from sim.outputs.report import write_report

        write_report(folder / "results")
    except Exception as e:  # noqa: BLE001 - the results stand without a report
        import traceback

        traceback.print_exc()
        _write_status(folder, state="done", report_error=f"{type(e).__name__}: {e}")
        return 0
    _write_status(folder, state="done")
    return 0


if __name__ == "__main__":
    sys.exit(run_job(Path(sys.argv[1])))
