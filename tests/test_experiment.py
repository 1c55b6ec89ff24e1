"""Experiment batches: validation before any run, sweeps, CRN comparisons, failures, advice."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from experiment_helpers import SMALL, small_experiment, write_study
from scipy import stats

import sim.studies.batch
from models.loading import load_scenario
from sim.core.config_files import ConfigError
from sim.core.stats import replications_needed, t_halfwidth
from sim.outputs.cli import main
from sim.studies.executors import InProcess
from sim.studies.experiment import load_experiment, run_experiment


@pytest.fixture
def no_runs(monkeypatch):
    """Fail the test if any simulation starts."""
    def forbidden(*a, **k):
        raise AssertionError("a run started before validation finished")
    monkeypatch.setattr(sim.studies.batch, "single_run", forbidden)


# ----------------------------------------------------------------------------- bad files
BAD = {
    "unknown scenario key": ({"scenarios": {"a": {"sett": {"simulation.years": 0.1}}}}, "scenarios.a.sett"),
    "unknown override key": ({"scenarios": {"a": {}, "b": {"set": {"reimbursement.township.outpatient_rat": 0.9}}}},
                             "reimbursement.township.outpatient_rat"),
    "override out of range": ({"scenarios": {"a": {"set": {"reimbursement.township.outpatient_rate": 1.5}}}},
                              "reimbursement.township.outpatient_rate"),
    "empty sweep range": ({"sweep": {"method": "lhs", "samples": 3, "parameters": {
        "reimbursement.county.outpatient_rate": {"low": 0.4, "high": 0.4}}}},
        "sweep.parameters.reimbursement.county.outpatient_rate"),
    "empty sweep values": ({"sweep": {"parameters": {"reimbursement.county.outpatient_rate": {"values": []}}}},
                           "sweep.parameters.reimbursement.county.outpatient_rate"),
    "replications < 1": ({"replications": 0}, "replications"),
    "unknown reference": ({"scenarios": {"a": {}}, "reference": "b"}, "reference"),
    "seed set per scenario": ({"scenarios": {"a": {"set": {"simulation.seed": 3}}}}, "simulation.seed"),
    "wildcard matches nothing": ({"sweep": {"method": "lhs", "samples": 2, "parameters": {
        "x": {"keys": ["conditionz.*.incidence"], "mode": "scale", "low": 0.9, "high": 1.1}}}}, "sweep.parameters.x"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_experiment_fails_before_any_run_naming_the_key(case, tmp_path, capsys, no_runs):
    body, key = BAD[case]
    path = write_study(tmp_path, "bad", **body)
    out = tmp_path / "out"
    assert main(["experiment", str(path), "--workers", "1", "--quiet", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert key in err and str(path) in err, err
    assert not out.exists()


def test_bad_sweep_point_names_the_point(tmp_path, no_runs):
    path = write_study(tmp_path, "bad", sweep={"parameters": {
        "reimbursement.township.outpatient_rate": {"values": [0.5, 1.2]}}})
    with pytest.raises(ConfigError, match=r"sweep point sweep_001 .*outpatient_rate.*1\.2"):
        load_experiment(path)


# ----------------------------------------------------------------------------- sweeps
def test_grid_sweep_expands_to_full_factorial_with_parameter_columns(tmp_path):
    path = write_study(tmp_path, "grid", replications=1, scenarios={"baseline": {}}, sweep={"parameters": {
        "reimbursement.township.outpatient_rate": {"values": [0.6, 0.8]},
        "reimbursement.county.outpatient_rate": {"low": 0.2, "high": 0.4, "levels": 3}}})
    _, plan = load_experiment(path)
    assert [s.name for s in plan.scenarios] == ["baseline"] + [f"sweep_{i:03d}" for i in range(6)]
    last = plan.scenario("sweep_005").scenario.reimbursement
    assert (last.township.outpatient_rate, last.county.outpatient_rate) == (0.8, 0.4)
    # the explicit scenario gets its resolved values in the parameter columns
    assert plan.scenario("baseline").params == {"reimbursement.township.outpatient_rate": 0.5,
                                                "reimbursement.county.outpatient_rate": 0.3}


def test_lhs_sweep_is_seeded_stratified_and_scales_wildcard_keys(tmp_path):
    sweep = {"method": "lhs", "samples": 5, "seed": 3, "parameters": {
        "incidence_scale": {"keys": ["conditions.*.incidence"], "mode": "scale", "low": 0.5, "high": 1.5},
        "geography.synthetic.township_doctors": {"low": 1, "high": 6, "integer": True}}}
    path = write_study(tmp_path, "lhs", replications=1, sweep=sweep)
    _, plan = load_experiment(path)
    _, again = load_experiment(path)
    assert [s.params for s in plan.scenarios] == [s.params for s in again.scenarios]
    points = [s.params for s in plan.scenarios[1:]]
    scales = sorted(p["incidence_scale"] for p in points)
    # one point per fifth of the range (Latin hypercube)
    assert [int((x - 0.5) / 0.2) for x in scales] == [0, 1, 2, 3, 4]
    base = load_scenario(SMALL)
    for s in plan.scenarios[1:]:
        f = s.params["incidence_scale"]
        for name, cond in s.scenario.conditions.items():
            assert cond.incidence == pytest.approx(base.conditions[name].incidence * f)
        assert s.scenario.geography.synthetic.township_doctors == s.params["geography.synthetic.township_doctors"]


def test_sweep_on_a_scenario_keeps_its_overrides(tmp_path):
    path = write_study(tmp_path, "on", replications=1, scenarios={
        "baseline": {}, "rich": {"set": {"reimbursement.village.outpatient_rate": 0.9}}},
        sweep={"scenario": "rich", "prefix": "rich_", "parameters": {
            "reimbursement.county.outpatient_rate": {"values": [0.1, 0.2]}}})
    _, plan = load_experiment(path)
    assert [s.name for s in plan.scenarios] == ["baseline", "rich", "rich_000", "rich_001"]
    assert all(plan.scenario(n).scenario.reimbursement.village.outpatient_rate == 0.9 for n in ("rich_000", "rich_001"))


# ----------------------------------------------------------------------------- CRN and summary
def test_common_random_numbers_make_paired_ci_narrower(tmp_path):
    path = small_experiment(tmp_path, replications=6)
    _, plan, result, summary = run_experiment(path, InProcess(), out=tmp_path / "out", progress=False)
    assert {s.scenario.simulation.seed for s in plan.scenarios} == {5}
    row = summary[(summary.scenario == "lever") & (summary.kpi == "primary_care_share")].iloc[0]
    assert row.n_pairs == 6 and row.diff_mean > 0
    # common random numbers narrow the interval (0.75 of the unpaired one with the price-responsive
    # choice of issue 17, where a reimbursement lever changes many patients' decisions)
    assert row.diff_halfwidth < 0.9 * row.unpaired_halfwidth
    # the paired interval is the t interval of the per-replication differences
    runs = result.tables["runs"].set_index(["scenario", "replication"])["primary_care_share"]
    d = (runs["lever"] - runs["baseline"]).to_numpy()
    assert row.diff_mean == pytest.approx(d.mean())
    assert row.diff_halfwidth == pytest.approx(stats.t.ppf(0.975, 5) * d.std(ddof=1) / math.sqrt(6))
    # tables: deterministic order, no timing columns in results
    assert list(result.tables["runs"][["scenario", "replication"]].itertuples(index=False, name=None)) == \
        [(s, r) for s in ("baseline", "lever") for r in range(6)]
    assert "wall_seconds" not in result.tables["runs"].columns
    saved = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert set(saved["scenario"]) == {"baseline", "lever"}
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["seeds"]["master_seed"] == 5 and manifest["runs"]["finished"] == 12
    assert set(manifest["resolved_configs"]) == {"baseline", "lever"}
    assert manifest["versions"]["countysim"] and "timings" in manifest


def test_replications_needed_is_the_smallest_sufficient_n():
    for sd, target in [(0.02, 0.005), (1.0, 0.3), (5.0, 10.0)]:
        n = replications_needed(sd, 5, target)
        assert t_halfwidth(sd, int(n)) <= target
        assert n == 2 or t_halfwidth(sd, int(n) - 1) > target
    assert np.isnan(replications_needed(0.1, 1, 0.01))


def test_cli_reports_replication_advice(tmp_path, capsys):
    path = small_experiment(tmp_path)
    assert main(["experiment", str(path), "--workers", "1", "--quiet", "--no-figures", "--out", str(tmp_path / "o"),
                 "--target-halfwidth", "0.005", "--target-halfwidth", "oop_per_episode=5"]) == 0
    out = capsys.readouterr().out
    assert "replication advice" in out and "primary_care_share" in out
    summary = pd.read_csv(tmp_path / "o" / "summary.csv")
    row = summary[(summary.scenario == "lever") & (summary.kpi == "oop_per_episode")].iloc[0]
    assert row.target_halfwidth == 5 and row.replications_needed >= 2


# ----------------------------------------------------------------------------- failures
def test_failed_run_is_recorded_and_batch_carries_on(tmp_path, monkeypatch, capsys):
    real = sim.studies.batch.single_run

    def flaky(scenario, replication, *a, **k):
        if scenario.name == "lever" and replication == 1:
            raise RuntimeError("boom in the model")
        return real(scenario, replication, *a, **k)

    path = small_experiment(tmp_path, replications=3)
    out = tmp_path / "out"
    monkeypatch.setattr(sim.studies.batch, "single_run", flaky)
    assert main(["experiment", str(path), "--workers", "1", "--quiet", "--no-figures", "--out", str(out)]) == 1
    manifest = json.loads((out / "manifest.json").read_text())
    [failure] = manifest["failures"]
    assert (failure["scenario"], failure["replication"]) == ("lever", 1)
    assert "RuntimeError: boom in the model" in failure["traceback"]
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 5 and not ((runs.scenario == "lever") & (runs.replication == 1)).any()
    assert "failed" in capsys.readouterr().err

    # resuming reruns only the failed run and clears the failure
    monkeypatch.setattr(sim.studies.batch, "single_run", real)
    assert main(["experiment", str(path), "--workers", "1", "--quiet", "--no-figures", "--out", str(out),
                 "--resume"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["failures"] == [] and manifest["runs"]["finished_before_this_invocation"] == 5
    assert len(pd.read_parquet(out / "runs.parquet")) == 6
