"""Calibration: fit a declared parameter to an observed KPI; write a loadable calibrated config."""
from __future__ import annotations

import pandas as pd
import pytest
from experiment_helpers import SMALL, write_study

from models.loading import load_scenario
from sim.core.config_files import ConfigError
from sim.outputs.cli import main
from sim.studies.calibration import load_targets, run_calibration
from sim.studies.executors import InProcess
from sim.studies.runner import single_run

TRUE_SCALE = 1.15


@pytest.fixture(scope="module")
def target_value():
    """visits per resident simulated at incidence × 1.15: a target the fit can reach exactly."""
    base = load_scenario(SMALL)
    over = [f"conditions.{n}.incidence={c.incidence * TRUE_SCALE!r}" for n, c in base.conditions.items()]
    return single_run(load_scenario(SMALL, over), 0).kpis["visits_per_resident"]


def test_calibration_fits_incidence_scale(tmp_path, target_value):
    (tmp_path / "targets.csv").write_text(
        f"kpi,value,sd,source\nvisits_per_resident,{target_value},0.05,simulated at scale {TRUE_SCALE}\n")
    path = write_study(tmp_path, "cal", targets="targets.csv", replications=1, max_evaluations=14, parameters={
        "incidence_scale": {"keys": ["conditions.*.incidence"], "mode": "scale", "low": 0.8, "high": 1.5,
                            "start": 1.0}})
    spec, fit, out = run_calibration(path, InProcess(), out=tmp_path / "out", progress=False)
    row = fit.iloc[0]
    assert abs(row.z) < 1 and row.simulated_mean == pytest.approx(target_value, rel=0.01)
    assert list(fit.columns[:6]) == ["kpi", "observed", "sd", "simulated_mean", "ci_low", "ci_high"]
    evaluations = pd.read_csv(out / "evaluations.csv")
    assert 1 < len(evaluations) <= 14 and evaluations["chi2"].min() == pytest.approx(row.chi2_term)
    # the calibrated config extends the base and reproduces the fitted incidences
    fitted = load_scenario(out / "calibrated.yaml")
    base = load_scenario(SMALL)
    scale = fitted.conditions["minor_acute"].incidence / base.conditions["minor_acute"].incidence
    assert abs(scale - TRUE_SCALE) < 0.05
    for name, cond in fitted.conditions.items():
        assert cond.incidence == pytest.approx(base.conditions[name].incidence * scale)
    assert (out / "runs.parquet").exists() and (out / "manifest.json").exists()


def test_bad_targets_name_row_and_column(tmp_path):
    bad = tmp_path / "t.csv"
    bad.write_text("kpi,value,sd,source\nvisits_per_resident,6.0,0,x\n")
    with pytest.raises(ConfigError, match=r"row 2: sd: must be a finite number > 0"):
        load_targets(bad)
    bad.write_text("kpi,value,sd,source\nvisit_rate,6.0,0.1,x\n")
    with pytest.raises(ConfigError, match=r"row 2: kpi: unknown KPI 'visit_rate'"):
        load_targets(bad)


def test_calibration_parameter_box_is_validated_first(tmp_path, capsys):
    (tmp_path / "targets.csv").write_text("kpi,value,sd,source\nprimary_care_share,0.6,0.05,x\n")
    path = write_study(tmp_path, "cal_bad", targets="targets.csv", parameters={
        "reimbursement.township.outpatient_rate": {"low": 0.5, "high": 1.4}})
    assert main(["calibrate", str(path), "--workers", "1", "--quiet", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "high_corner" in err and "reimbursement.township.outpatient_rate" in err and "1.4" in err
