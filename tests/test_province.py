"""Province studies: totals are sums of the county tables, a one-county province is that county's
own run, a killed province resumes to the same tables, and a bad province file exits with 2."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from experiment_helpers import (OUTSIDE, TABLES, TINY, assert_same_tables, cli, resume, sigkill_after, write_province,
                                write_study)

from sim.outputs.cli import main
from sim.studies.executors import InProcess
from sim.studies.experiment import run_experiment
from sim.studies.province import apportion, run_province
from sim.studies.province_tables import PROVINCE, format_province, overloaded_beds

@pytest.fixture(scope="module")
def province(tmp_path_factory):
    folder = tmp_path_factory.mktemp("province")
    path = write_province(folder, synthetic_counties={"count": 1, "population": {"low": 2000, "high": 3000},
                                                      "radius_km": {"low": 10, "high": 30}, "seed": 3})
    result = run_province(path, InProcess(), out=folder / "out", progress=False)
    return path, folder / "out", result


def test_province_totals_are_sums_of_the_county_tables(province):
    _, out, result = province
    sums = pd.read_parquet(out / "year_sums.parquet")
    yearly = pd.read_parquet(out / "yearly.parquet")
    prov = pd.read_parquet(out / "province_yearly.parquet").set_index(["replication", "year"])
    assert set(sums["scenario"]) == {"near", "wide", "county_01"}
    counted = yearly.groupby(["replication", "year"])[["visits", "admissions", "episodes"]].sum()
    pd.testing.assert_frame_equal(prov[["visits", "admissions", "episodes"]], counted, check_exact=True)
    # shares: the province's is its summed in-county (primary) visits over summed visits
    for kpi, num in (("county_visit_rate", "visits_in_county"), ("primary_care_share", "visits_primary")):
        pooled = sums.groupby(["replication", "year"])[[num, "visits"]].sum()
        np.testing.assert_allclose(prov[kpi], pooled[num] / pooled["visits"], rtol=1e-12)
        weighted = (yearly[kpi] * yearly["visits"]).groupby([yearly["replication"], yearly["year"]]).sum()
        np.testing.assert_allclose(prov[kpi], weighted / counted["visits"], rtol=1e-9)
    residents = sum(result.province.population.values())
    np.testing.assert_allclose(prov["visits_per_resident"],
                               counted["visits"] / (residents * sums.groupby(["replication", "year"])["days"].first()
                                                    / 365.0), rtol=1e-9)
    summary = pd.read_csv(out / "summary.csv")
    p = summary[(summary["scenario"] == PROVINCE) & (summary["kpi"] == "county_visit_rate")].iloc[0]
    assert p["mean"] == pytest.approx(prov["county_visit_rate"].mean(), rel=1e-9)  # CSV: 10 digits


def test_coupling_shares_the_outside_stock_and_reports_each_round(province):
    _, out, result = province
    c = pd.read_csv(out / "coupling.csv")
    for _, g in c.groupby(["iteration", "year"]):
        counties = g[g["county"] != PROVINCE]
        assert counties["doctors"].sum() == OUTSIDE["doctors"] and counties["beds"].sum() == OUTSIDE["beds"]
        assert (counties[["doctors", "beds"]] >= 1).all().all()
        assert counties["doctor_share"].sum() == pytest.approx(1.0)
    assert 1 <= result.iterations <= OUTSIDE["max_iterations"]
    manifest = yaml.safe_load((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "province" and manifest["coupling"]["iterations"] == result.iterations
    # the last round's runs are the results, and they ran with that round's outside capacity
    last = c[(c["iteration"] == c["iteration"].max()) & (c["county"] == "near")].iloc[0]
    config = manifest["resolved_configs"]["near"]["geography"]["outside"]
    assert (config["doctors"], config["beds"], config["name"]) == (last["doctors"], last["beds"], "City: hospitals")
    rank = pd.read_csv(out / "ranking.csv")
    met = rank[["county_visit_rate_met", "primary_care_share_met"]].sum(axis=1)
    assert sorted(rank["rank"]) == [1, 2, 3] and (rank["targets_met"] == met).all()
    # the beds' offered load: bed-days asked for over bed-days there are, per county and pooled
    counties, pooled = c[c["county"] != PROVINCE], c[c["county"] == PROVINCE].set_index(["iteration", "year"])
    np.testing.assert_allclose(counties["bed_load"], counties["bed_days_per_year"] / (counties["beds"] * 365.0),
                               rtol=1e-8)  # the CSV keeps 10 digits
    sums = counties.groupby(["iteration", "year"])[["bed_days_per_year", "beds"]].sum()
    np.testing.assert_allclose(pooled["bed_load"], sums["bed_days_per_year"] / (sums["beds"] * 365.0), rtol=1e-8)


def _coupling(loads: dict[int, float]) -> pd.DataFrame:
    """A coupling table's province rows: one year per round, 195 beds, the given offered loads."""
    return pd.DataFrame([{"iteration": k, "county": PROVINCE, "year": 2027, "beds": 195, "bed_load": load,
                          "bed_wait_outside_days": 706.0} for k, load in loads.items()])


def test_overloaded_outside_beds_are_named_with_the_beds_they_need():
    lines = overloaded_beds(_coupling({1: 0.9, 2: 1.6}))
    assert max(map(len, lines)) <= 80
    line = " ".join(part.strip() for part in lines)
    # 1.6 × 195 = 312 beds kept full; at 85 % occupancy 312 / 0.85 = 367.06 → 368
    assert "in 2027" in line and "160 %" in line and "195 beds" in line and "706 days" in line
    assert "outside.beds about 368 (85 % occupied)" in line
    assert overloaded_beds(_coupling({1: 1.6, 2: 0.99})) == []  # only the last round's runs are the results
    assert overloaded_beds(_coupling({1: float("nan")})) == []


def test_apportion_sums_to_the_stock_with_one_each():
    parts = apportion(10, np.array([0.7, 0.2, 0.1]))
    # one each, then 7 × shares = 4.9, 1.4, 0.7 → 4, 1, 0 and the two spare to the largest remainders .9, .7
    assert parts.sum() == 10 and (parts >= 1).all() and list(parts) == [6, 2, 2]
    assert list(apportion(3, np.array([0.9, 0.05, 0.05]))) == [1, 1, 1]


def test_ample_outside_hospitals_settle_when_waits_stop_moving(tmp_path):
    """Shares far from demand, but so many outside doctors and beds that nobody waits: the second
    round's waits equal the first's and the province stops there, saying why."""
    path = write_province(tmp_path, replications=1, outside={**OUTSIDE, "doctors": 60, "beds": 600,
                                                             "tolerance": 1e-6, "max_iterations": 4})
    result = run_province(path, InProcess(), out=tmp_path / "out", progress=False)
    assert (result.iterations, result.converged) == (2, "waits")
    rounds = result.coupling[result.coupling["county"] == PROVINCE]
    assert (rounds["largest_share_gap"] > 1e-6).all()


def test_yearly_shares_reach_each_year_of_the_runs(tmp_path):
    """A county's outside doctors and beds may differ by year: the plan each round resolves gives
    the county exactly its allocation in each calendar year (hand-chosen allocations)."""
    from models.geography import OUTSIDE as OUT
    from models.levers import county_under_levers
    from models.loading import county_of, plan_of
    from sim.studies.province import load_province

    path = write_province(tmp_path, set={**TINY, "simulation.years": 2.5})
    province = load_province(path)
    assert province.years == [2024, 2025, 2026]
    doctors, beds = np.array([[1, 2, 1], [2, 1, 2]]), np.array([[5, 9, 3], [7, 3, 9]])
    for i, planned in enumerate(province.plan(doctors, beds).scenarios):
        sc = planned.scenario
        base, plan = county_of(sc), plan_of(sc)
        for y, year in enumerate(province.years):
            variant = plan.variants[plan.variant_of_month[12 * y]] if not plan.empty else sc
            county = county_under_levers(variant, base)
            (out,) = np.flatnonzero(county.fac_tier == OUT)
            assert (int(county.fac_doctors[out]), int(county.fac_beds[out])) == (doctors[i, y], beds[i, y]), (i, year)


def test_one_county_province_equals_that_county_run(tmp_path):
    path = write_province(tmp_path, counties={"solo": {"set": {"geography.synthetic.radius_km": 30}}})
    result = run_province(path, InProcess(), out=tmp_path / "province", progress=False)
    assert result.iterations == 1 and result.converged == "shares"  # one county: its share is the whole stock
    own = write_study(tmp_path, "solo_run", seed=5, replications=2, set={
        **TINY, "geography.outside.name": "City: hospitals", "geography.outside.doctors": OUTSIDE["doctors"],
        "geography.outside.beds": OUTSIDE["beds"]}, scenarios={"solo": {"set": {"geography.synthetic.radius_km": 30}}})
    run_experiment(own, InProcess(), out=tmp_path / "own", progress=False)
    assert_same_tables(tmp_path / "own", tmp_path / "province", TABLES + ("year_sums",))
    # and the province's totals are that county's own KPIs
    s = pd.read_csv(tmp_path / "province" / "summary.csv")
    pivot = s.pivot(index="kpi", columns="scenario", values="mean").dropna()
    np.testing.assert_allclose(pivot[PROVINCE], pivot["solo"], rtol=1e-9)
    by_year = pd.read_parquet(tmp_path / "province" / "province_yearly.parquet")
    yearly = pd.read_parquet(tmp_path / "own" / "yearly.parquet")
    shared = [c for c in by_year.columns if c in yearly.columns and c != "scenario"]
    np.testing.assert_allclose(by_year[shared].to_numpy(float), yearly[shared].to_numpy(float), rtol=1e-9)


class Reversing(InProcess):
    """Runs the tasks in the order given but hands the results back last first (as a cluster
    finishing the small counties before the large ones would); records the order given."""

    def __init__(self):
        self.given: list[list[str]] = []

    def imap(self, fn, items):
        outcomes = list(super().imap(fn, items))
        self.given.append([task.scenario_name for task, _ in outcomes])
        yield from reversed(outcomes)


def test_largest_county_first_and_results_whatever_the_order(tmp_path):
    """Each round submits the counties largest first (so a round ends on small runs); the tables
    are the same whatever order the runs come back in."""
    counties = {"small": {"set": {"geography.synthetic.population": 2500}},
                "large": {"set": {"geography.synthetic.population": 5000}},
                "mid": {"set": {"geography.synthetic.population": 3500}}}
    path = write_province(tmp_path, replications=1, counties=counties)
    reversing = Reversing()
    run_province(path, reversing, out=tmp_path / "reversed", progress=False)
    assert reversing.given and all(order == ["large", "mid", "small"] for order in reversing.given)
    run_province(path, InProcess(), out=tmp_path / "in_order", progress=False)
    assert_same_tables(tmp_path / "in_order", tmp_path / "reversed", TABLES + ("year_sums", "province_yearly"))
    for name in ("summary.csv", "ranking.csv", "coupling.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "in_order" / name),
                                      pd.read_csv(tmp_path / "reversed" / name), obj=name)


def test_sigkill_then_resume_equals_uninterrupted(province, tmp_path):
    path, expected, _ = province
    out = tmp_path / "out"
    cmd = cli("province", str(path), "--workers", "1", "--out", str(out))
    done = sigkill_after(cmd, out, 2)
    assert 2 <= done and not (out / "summary.csv").exists()
    resumed = resume(cmd)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_tables(expected, out, TABLES + ("year_sums", "province_yearly"))
    for name in ("summary.csv", "ranking.csv", "coupling.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(expected / name), pd.read_csv(out / name), obj=name)


@pytest.mark.parametrize("change, message", [
    ({"outside": {**OUTSIDE, "doctors": 1}}, "outside.doctors: 1 for 2 counties"),
    ({"counties": {}}, "a province needs 'counties' or 'synthetic_counties'"),
    ({"counties": {"province": {}}}, "'province' names the province's totals"),
    ({"counties": {"a": {"set": {"simulation.years": 0.2}}, "b": {}}}, "counties.b: simulation"),
    ({"counties": {"a": {"set": {"geography.synthetic.townships": 0}}}}, "counties.a"),
    ({"outside": {**OUTSIDE, "wards": 3}}, "outside.wards: unknown key"),
    ({"synthetic_counties": {"count": 2, "population": {"low": 5000, "high": 1000}}},
     "high (1000) must be at least low"),
])
def test_bad_province_file_exits_2_naming_the_key(tmp_path, capsys, change, message):
    path = write_province(tmp_path, **change)
    assert main(["province", str(path), "--out", str(tmp_path / "out"), "--quiet", "--no-figures"]) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_province_figure_draws_the_ranking_and_the_totals(province, tmp_path):
    from sim.outputs.figures import draw

    _, out, _ = province
    fig = draw("11_province_targets", out, tmp_path)
    assert all(p.exists() and p.stat().st_size > 0 for p in fig.files)
    data = fig.data
    rank = pd.read_csv(out / "ranking.csv")
    counties = data[data["county"] != PROVINCE].reset_index(drop=True)
    pd.testing.assert_frame_equal(counties[["county", "county_visit_rate", "primary_care_share"]],
                                  rank[["county", "county_visit_rate", "primary_care_share"]])
    total = data[data["county"] == PROVINCE].iloc[0]
    prov = pd.read_parquet(out / "province_yearly.parquet")
    assert total["county_visit_rate"] == pytest.approx(prov["county_visit_rate"].mean(), rel=1e-9)
    from sim.outputs.figures.data import MissingResultsError

    with pytest.raises(MissingResultsError, match=r"a province folder: its counties are compared by the province "
                                                  r"figure \(11_province_targets\)"):
        draw("01_kpi_by_scenario", out, tmp_path)


def test_python_api_runs_a_province(province, tmp_path):
    import countysim as cs

    path, expected, _ = province
    res = cs.province(path, out=tmp_path / "api", workers=1)
    assert set(res.summary["scenario"]) == {PROVINCE, "near", "wide", "county_01"}
    pd.testing.assert_frame_equal(pd.read_csv(expected / "ranking.csv"), pd.read_csv(tmp_path / "api" / "ranking.csv"))


@pytest.mark.parametrize("config", ["baseline.yaml", "huairou.yaml"])
@pytest.mark.parametrize("doctors, beds", [(7, 40), (None, 3), (1, None)])
def test_a_county_given_other_outside_capacity_equals_one_built_with_it(config, doctors, beds):
    """Coupling rounds reuse a built county with the outside hospitals' new doctors and beds
    (models.geography.with_outside_capacity): it must equal a county built with them."""
    from models.geography import build_county, build_key, with_outside_capacity
    from models.loading import load_scenario

    base = Path(__file__).resolve().parents[1] / "configs" / config
    before = load_scenario(base, ["geography.outside.doctors=50", "geography.outside.beds=900"]).geography
    after = load_scenario(base, [f"geography.outside.doctors={'null' if doctors is None else doctors}",
                                 f"geography.outside.beds={'null' if beds is None else beds}"]).geography
    assert build_key(before) == build_key(after) and before.model_dump_json() != after.model_dump_json()
    built, original = build_county(after), build_county(before)
    reused = with_outside_capacity(original, after.outside)
    assert vars(reused).keys() == vars(built).keys()
    for name, value in vars(built).items():
        assert np.array_equal(getattr(reused, name), value) if isinstance(value, np.ndarray) \
            else getattr(reused, name) == value, name
    assert original.fac_doctors[-1] == 50 and original.fac_beds[-1] == 900  # the cached county is untouched


def test_province_totals_of_one_replication_say_there_is_no_ci():
    summary = pd.DataFrame({"scenario": PROVINCE, "kpi": ["county_visit_rate", "primary_care_share"],
                            "mean": [0.894, 0.557], "ci_low": np.nan, "ci_high": np.nan})
    text = format_province(summary, pd.DataFrame(), pd.DataFrame(), None)
    assert "89.4 % (no CI from one replication)   target 90 %" in text and "nan" not in text
    assert max(map(len, text.splitlines())) <= 80


def test_province_report_compares_counties_with_the_province_totals(province, tmp_path):
    import html
    import re

    from sim.outputs.figures.data import Results
    from sim.outputs.report import write_report

    _, out, _ = province
    res = Results(out)
    assert res.reference == PROVINCE and res.scenarios[0] == PROVINCE
    pd.testing.assert_frame_equal(res.summary(), pd.read_csv(out / "summary.csv"))  # totals from summed counts
    page = write_report(out, tmp_path / "p.html").read_text("utf-8")
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
    assert "what it changes (vs province)" in text and "Δ vs province" in text
    assert "the counties' totals: their summed visits" in text
    assert "keys differ" not in text and "(absent)" not in text  # no diff against totals with no configuration
