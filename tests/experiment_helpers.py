"""Shared helpers for tests/test_experiment*.py: tiny study files on the small test county."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

SMALL = Path(__file__).resolve().parent / "configs" / "exp_small.yaml"
ROOT = Path(__file__).resolve().parents[1]
TABLES = ("runs", "monthly", "yearly", "facilities", "facility_monthly", "villages", "flows")
TINY = {"geography.synthetic.population": 4000}  # a few thousand residents, 36 simulated days (exp_small)
OUTSIDE = {"name": "City: hospitals", "doctors": 3, "beds": 12, "max_iterations": 2}


def write_study(folder: Path, name: str, **body) -> Path:
    """A study file named ``name`` on the small county (``base`` may be overridden)."""
    data = {"name": name, "base": str(SMALL), **body}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def write_province(folder: Path, name: str = "prov", **body) -> Path:
    """Two tiny counties (``near`` and ``wide``) sharing small outside hospitals."""
    return write_study(folder, name, **{"seed": 5, "replications": 2, "set": TINY, "outside": OUTSIDE,
                                        "counties": {"near": {}, "wide": {"set": {"geography.synthetic.radius_km": 45}}},
                                        **body})


def small_experiment(folder: Path, name: str = "small", replications: int = 2, **extra) -> Path:
    """Two scenarios (baseline and a reimbursement lever) × ``replications``."""
    body = {"seed": 5, "replications": replications,
            "scenarios": {"baseline": {}, "lever": {"set": {"reimbursement.township.outpatient_rate": 0.85}}}}
    body.update(extra)
    return write_study(folder, name, **body)


def assert_same_tables(a: Path, b: Path, tables=TABLES) -> None:
    for t in tables:
        pd.testing.assert_frame_equal(pd.read_parquet(a / f"{t}.parquet"), pd.read_parquet(b / f"{t}.parquet"),
                                      check_exact=True, obj=t)


def finished_runs(out: Path) -> int:
    """Runs committed under ``out`` (their ``parts/runs`` files, in any round of a province)."""
    return len(list(out.rglob("parts/runs/*.parquet"))) if out.exists() else 0


def cli(command: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "sim.outputs.cli", command, *args, "--quiet", "--no-figures"]


def sigkill_after(cmd: list[str], out: Path, kill_after: int) -> int:
    """Start ``cmd``, SIGKILL it and its workers once ``kill_after`` runs are committed under
    ``out``; return how many were."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while finished_runs(out) < kill_after and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch and its pool workers, mid-flight
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    return finished_runs(out)


def resume(cmd: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(cmd + ["--resume"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
