"""Phased reform plans (issue 10): lever values by calendar year, step or linear ramps.

Common random numbers make the checks exact: a plan changes nothing before its first change,
so earlier years are bit-identical to the static scenario, and a change shows as a paired
difference from the year it starts.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL, small_county

from models.loading import plan_of
from sim.core.station import Station
from sim.core.stats import t_halfwidth
from sim.outputs.cli import main
from sim.studies.runner import multiple_replications, single_run

YEARS = ("simulation.years=3", "simulation.warmup_days=10", "simulation.start_year=2024")


def _yearly(results) -> pd.DataFrame:
    return pd.concat([r.yearly.assign(replication=r.replication) for r in results], ignore_index=True)


def test_years_are_calendar_years():
    r = single_run(small_county(*YEARS), 0)
    assert r.yearly["year"].tolist() == [2024, 2025, 2026]
    assert r.monthly["year"].tolist()[:13] == [2024] * 12 + [2025]
    assert r.monthly["month_of_year"].tolist()[:13] == list(range(1, 13)) + [1]


def test_a_plan_that_changes_nothing_is_bit_identical_to_the_static_scenario():
    static = single_run(small_county(*YEARS), 0)
    planned = single_run(small_county(*YEARS, "schedule.2025.family_doctor.coverage=0.0",
                                      "schedule.2026.tiers.township.outpatient_cost=85"), 0)  # the base values
    pd.testing.assert_frame_equal(static.yearly, planned.yearly)
    pd.testing.assert_series_equal(pd.Series(static.kpis), pd.Series(planned.kpis))


def test_a_lever_scheduled_from_2026_leaves_earlier_years_identical_and_acts_in_2026():
    n = 5
    base = _yearly(multiple_replications(small_county(*YEARS), n))
    plan = _yearly(multiple_replications(small_county(*YEARS, "schedule.2026.family_doctor.coverage=0.8"), n))
    early = base["year"] < 2026
    pd.testing.assert_frame_equal(base[early].reset_index(drop=True), plan[early].reset_index(drop=True))
    d = (plan.loc[~early, "primary_care_share"].to_numpy() - base.loc[~early, "primary_care_share"].to_numpy())
    half = t_halfwidth(float(d.std(ddof=1)), n)
    assert d.mean() - half > 0, f"paired effect {d.mean():.4f} ± {half:.4f} does not exclude zero"


def test_linear_ramp_moves_the_value_every_month(tmp_path):
    s = small_county(*YEARS, "ramp=linear", "schedule.2026.family_doctor.coverage=0.6")
    table = plan_of(s).months()
    v = table["family_doctor.coverage"].to_numpy()
    assert v[0] == 0.0 and np.allclose(v[24:], 0.6)
    assert np.allclose(np.diff(v[:25]), 0.6 / 24)  # a straight line from the start to 1 January 2026
    assert table["year"].tolist()[24] == 2026 and table["month"].tolist()[24] == 1
    out = tmp_path / "run"
    assert main(["run", str(SMALL), *[a for kv in YEARS for a in ("--set", kv)], "--set", "ramp=linear",
                 "--set", "schedule.2026.family_doctor.coverage=0.6", "--replications", "1", "--workers", "1",
                 "--out", str(out), "--no-figures", "--quiet"]) == 0
    written = pd.read_parquet(out / "plan.parquet")
    pd.testing.assert_frame_equal(written, table, check_dtype=False)
    step = plan_of(small_county(*YEARS, "schedule.2026.family_doctor.coverage=0.6")).months()
    assert (step["family_doctor.coverage"].to_numpy()[:24] == 0).all()


def test_capacity_change_mid_run_moves_the_utilisation_denominator():
    """Doubling township doctors from 2025 halves their utilisation there (same visits, twice the
    doctor time) within the noise of a changed queue."""
    r = single_run(small_county(*YEARS, "schedule.2025.capacity.doctors_factor.township=2.0"), 0)
    u = r.yearly.set_index("year")["utilisation_township"]
    assert u[2025] == pytest.approx(u[2024] / 2, rel=0.1)


@pytest.mark.parametrize("setting, words", [
    ("schedule.2025.family_doctor.coverrage=0.5", ["schedule.2025", "coverrage", "unknown key"]),
    ("schedule.2025.geography.speed_kmh=40", ["schedule.2025.geography.speed_kmh", "cannot change mid-run"]),
    ("schedule.2031.family_doctor.coverage=0.5", ["schedule.2031", "outside the run", "2024–2026"]),
    ("schedule.2025.family_doctor.coverage=1.5", ["schedule.2025", "family_doctor.coverage", "1"]),
    ("schedule.next.family_doctor.coverage=0.5", ["schedule.next", "calendar year"]),
    ("targets.primary_care_share.2030=0.65", ["targets.primary_care_share.2030", "2024–2026"]),
    ("targets.primary_share.2026=0.65", ["targets.primary_share", "unknown KPI"]),
])
def test_invalid_schedules_exit_2_naming_year_and_key(capsys, setting, words):
    code = main(["validate", str(SMALL), *[a for kv in YEARS for a in ("--set", kv)], "--set", setting])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    for w in words:
        assert w in err, (w, err)


def test_station_resize_adds_free_servers_and_retires_the_last_to_free():
    st = Station(2)
    assert st.serve(0.0, 5.0) == 0.0 and st.serve(0.0, 1.0) == 0.0  # servers busy until 5 and 1
    st.resize(3, 0, 2.0)
    assert st.serve(2.0, 1.0) == 0.0  # the server free since 1 → busy until 3
    assert st.serve(2.0, 2.0) == 0.0  # the added server is free at once → busy until 4
    st.resize(1, 0, 2.5)  # keeps the server freeing first (at 3), retires those busy until 4 and 5
    assert st.serve(2.5, 1.0) == pytest.approx(0.5)
    assert st.serve(2.5, 1.0) == pytest.approx(1.5)  # one server left: the next waits for 4
    with pytest.raises(ValueError):
        Station(None).resize(2, 0, 0.0)


def test_experiment_with_plans_and_a_schedule_sweep_pairs_year_by_year(tmp_path):
    from experiment_helpers import write_study

    from sim.studies.executors import InProcess
    from sim.studies.experiment import run_experiment

    plan = {"schedule.2026.family_doctor.coverage": 0.8}
    study = write_study(tmp_path, "plans", seed=3, replications=3,
                        set={"simulation.years": 3, "simulation.warmup_days": 5},
                        scenarios={"baseline": {}, "plan": {"set": plan}},
                        sweep={"method": "grid", "scenario": "plan", "prefix": "fd2026_",
                               "parameters": {"schedule.2026.family_doctor.coverage": {"values": [0.4]}}})
    out = tmp_path / "out"
    run_experiment(study, InProcess(), out=out, progress=False)
    by_year = pd.read_csv(out / "summary_by_year.csv")
    assert sorted(by_year["year"].unique()) == [2024, 2025, 2026]
    share = by_year[by_year["kpi"] == "primary_care_share"].set_index(["scenario", "year"])
    for scen in ("plan", "fd2026_000"):
        assert share.loc[(scen, 2024), "diff_mean"] == 0.0 and share.loc[(scen, 2025), "diff_mean"] == 0.0
        assert share.loc[(scen, 2026), "diff_ci_low"] > 0  # paired by replication: the effect starts in 2026
    assert share.loc[("plan", 2026), "diff_mean"] > share.loc[("fd2026_000", 2026), "diff_mean"]


def test_plan_search_finds_a_pareto_set_and_a_plan_that_reproduces_its_cost(tmp_path):
    import json

    import yaml

    from sim.studies.plan_search import pareto

    study = {"name": "search", "base": str(SMALL), "seed": 4, "replications": 2,
             "set": {"simulation.years": 2, "simulation.warmup_days": 5, "simulation.start_year": 2024},
             "targets": {"primary_care_share": {2025: 0.75}}, "probability": 0.5, "cost": "fund_per_resident",
             "trials": 5, "levers": {"schedule.2025.family_doctor.coverage": {"low": 0.0, "high": 1.0, "step": 0.25}}}
    path = tmp_path / "search.yaml"
    path.write_text(yaml.safe_dump(study), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["plan-search", str(path), "--out", str(out), "--quiet"]) == 0
    trials = pd.read_csv(out / "trials.csv")
    front = pd.read_csv(out / "pareto.csv")
    assert len(trials) == 5 and (out / "figures" / "10_plan_search.png").exists()
    for t in front.itertuples():  # nothing in the Pareto set is beaten on both objectives
        assert not ((trials["cost"] <= t.cost) & (trials["probability"] >= t.probability)
                    & ((trials["cost"] < t.cost) | (trials["probability"] > t.probability))).any()
    summary = json.loads((out / "search.json").read_text())
    if summary["best"] is None:
        assert (trials["probability"] < 0.5).all()
        return
    assert summary["best"]["probability"] >= 0.5
    assert summary["best"]["cost"] == trials.loc[trials["probability"] >= 0.5, "cost"].min()
    rerun = tmp_path / "rerun"
    assert main(["run", str(out / "best_plan.yaml"), "--workers", "1",
                 "--out", str(rerun), "--no-figures", "--quiet"]) == 0
    again = json.loads((rerun / "summary.json").read_text())
    scenario = again["reference"]
    assert again["scenarios"][scenario]["fund_per_resident"]["mean"] == pytest.approx(summary["best"]["cost"],
                                                                                       rel=1e-12)
    assert pareto([]) == []


def test_targets_reach_summary_report_and_trajectory_figure(tmp_path):
    import json

    from sim.outputs.figures import draw
    from sim.outputs.figures.data import Results
    from sim.outputs.report import plan_targets

    out = tmp_path / "run"
    args = ["run", str(SMALL), "--set", "simulation.years=2", "--set", "simulation.warmup_days=5",
            "--set", "targets.primary_care_share.2025=0.5", "--set", "targets.county_visit_rate.2025=0.999",
            "--set", "schedule.2025.family_doctor.coverage=0.5", "--replications", "2", "--workers", "1",
            "--out", str(out), "--no-figures", "--quiet"]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())["scenarios"]["small_county"]
    assert set(summary["primary_care_share"]["by_year"]) == {"2024", "2025"}
    assert summary["primary_care_share"]["targets"]["2025"]["probability"] == 1.0
    assert summary["county_visit_rate"]["targets"]["2025"]["first_met"] is None  # 99.9 % is out of reach
    targets = {r["kpi"]: r for r in plan_targets(Results(out), ["small_county"])["rows"]}
    assert targets["county_visit_rate"]["first_met"] == "not met by 2025"
    assert targets["primary_care_share"]["probability"] == "100 %"
    fig = draw("03b_trajectory", out)
    assert fig.data.attrs["targets"] and fig.data.attrs["changes"] == [("small_county", 2025,
                                                                         "family_doctor.coverage", 0.5)]
