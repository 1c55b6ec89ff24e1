"""The Python API (import countysim as cs): the same results as the CLI, paired comparisons, and the
worked notebook in docs/examples/ executed cell by cell."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT, SMALL

import countysim as cs
from sim.outputs.cli import main


def test_run_gives_the_cli_results(tmp_path):
    res = cs.run(cs.load(SMALL, set={"simulation.years": 0.2}), replications=2, seed=9)
    assert main(["run", str(SMALL), "--set", "simulation.years=0.2", "--replications", "2", "--seed", "9",
                 "--workers", "1", "--quiet", "--no-figures", "--out", str(tmp_path / "cli")]) == 0
    cli = pd.read_parquet(tmp_path / "cli" / "runs.parquet")
    for kpi in ("primary_care_share", "county_visit_rate", "oop_per_episode"):
        assert res.runs[kpi].tolist() == cli[kpi].tolist()
    row = res.kpi("primary_care_share")
    assert row["ci_low"] <= row["mean"] <= row["ci_high"] and row["n"] == 2


def test_compare_pairs_by_replication_and_refuses_different_seeds():
    a = cs.run(SMALL, replications=2, seed=3)
    same = cs.compare(a, cs.run(SMALL, replications=2, seed=3))
    assert (same["diff_mean"].fillna(0) == 0).all()  # identical scenario, same streams: no difference at all
    with pytest.raises(cs.ConfigError, match="same seed"):
        cs.compare(a, cs.run(SMALL, replications=2, seed=4))


def test_bad_input_raises_the_cli_message():
    with pytest.raises(cs.ConfigError, match="outpatient_rate"):
        cs.load(SMALL, set={"reimbursement.township.outpatient_rate": 1.5})


def test_the_worked_notebook_runs():
    nb = json.loads((ROOT / "docs" / "examples" / "api_walkthrough.ipynb").read_text(encoding="utf-8"))
    code = "\n\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    env = {**os.environ, "COUNTYSIM_EXAMPLE_SMALL": "1", "MPLBACKEND": "Agg"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
