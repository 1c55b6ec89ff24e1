"""Sensitivity: the SALib pipeline recovers known Sobol indices; on the model, a parameter that
does not enter a KPI gets indices of zero."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from experiment_helpers import write_study
from SALib.test_functions import Ishigami

from sim.outputs.cli import main
from sim.studies.executors import InProcess
from sim.studies.parameters import ParameterSpec
from sim.studies.sensitivity import indices, run_sensitivity

# Ishigami (a=7, b=0.1) on [-π, π]³: analytical first-order and total indices
S1_TRUE = [0.3139, 0.4424, 0.0]
ST_TRUE = [0.5576, 0.4424, 0.2437]


def _ishigami(X: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"y": Ishigami.evaluate(X)})


def test_sobol_pipeline_recovers_ishigami_indices():
    params = {f"x{i}": ParameterSpec(low=-np.pi, high=np.pi) for i in (1, 2, 3)}
    table, points = indices(params, "sobol", 2048, seed=7, evaluate=_ishigami, kpis=["y"])
    assert len(points) == 2048 * 5
    assert table["S1"].to_numpy() == pytest.approx(S1_TRUE, abs=0.05)
    assert table["ST"].to_numpy() == pytest.approx(ST_TRUE, abs=0.05)
    assert (table["S1_conf"] > 0).all() and (table["ST_conf"] > 0).all()


def test_morris_pipeline_ranks_ishigami_parameters():
    params = {f"x{i}": ParameterSpec(low=-np.pi, high=np.pi) for i in (1, 2, 3)}
    table, _ = indices(params, "morris", 100, seed=7, evaluate=_ishigami, kpis=["y"])
    mu_star = dict(zip(table["parameter"], table["mu_star"]))
    # x3 acts only through its interaction with x1: large sigma, mean effect mu ~ 0
    sigma = dict(zip(table["parameter"], table["sigma"]))
    assert min(mu_star.values()) > 0 and sigma["x3"] > abs(table.set_index("parameter").loc["x3", "mu"])


@pytest.mark.parametrize("method, samples", [("sobol", 4), ("morris", 2)])
def test_model_parameter_outside_the_kpi_gets_zero_index(tmp_path, method, samples):
    # rehabilitation stays do not create outpatient visits: primary_care_share cannot depend on them
    path = write_study(tmp_path, f"sens_{method}", method=method, samples=samples, replications=1, seed=3,
                       kpis=["primary_care_share"], parameters={
                           "reimbursement.township.outpatient_rate": {"low": 0.3, "high": 0.9},
                           "referral.rehab_days": {"low": 5, "high": 20}})
    _, result, table = run_sensitivity(path, InProcess(), out=tmp_path / "out", progress=False)
    assert result.failures == []
    t = table.set_index("parameter")
    if method == "sobol":
        assert abs(t.loc["referral.rehab_days", "S1"]) < 1e-9 and abs(t.loc["referral.rehab_days", "ST"]) < 1e-9
        assert t.loc["reimbursement.township.outpatient_rate", "ST"] > 0.3
    else:
        assert t.loc["referral.rehab_days", "mu_star"] == pytest.approx(0, abs=1e-12)
        assert t.loc["reimbursement.township.outpatient_rate", "mu_star"] > 0
    saved = pd.read_csv(tmp_path / "out" / "sensitivity.csv")
    assert set(saved["parameter"]) == {"reimbursement.township.outpatient_rate", "referral.rehab_days"}
    points = pd.read_csv(tmp_path / "out" / "points.csv")
    assert len(points) == len(result.tables["runs"]["scenario"].unique())


def test_sensitivity_file_errors_fail_before_running(tmp_path, capsys):
    path = write_study(tmp_path, "bad_sens", samples=4, kpis=["primary_care_share"],
                       parameters={"reimbursement.township.outpatient_rate": {"low": 0.9, "high": 0.3}})
    assert main(["sensitivity", str(path), "--workers", "1", "--out", str(tmp_path / "o")]) == 2
    assert "parameters.reimbursement.township.outpatient_rate" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
