"""Salary reform and retention (薪酬制度改革): primary doctors leave and are recruited month by
month; a raised pay ratio lowers leaving, which keeps township stations larger.  Headcounts are
checked against the recursion written out by hand; the effect on waits is a paired difference."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import small_county

from models.levers.salary import share_out
from models.loading import plan_of
from sim.core.config_files import ConfigError
from sim.core.stats import t_halfwidth
from sim.studies.runner import multiple_replications, single_run

YEAR = ("simulation.years=1", "simulation.start_year=2025", "simulation.days_per_year=360",
        "simulation.warmup_days=10")
TURNOVER = ("salary.tiers=[township]", "salary.leaving_rate=0.3", "salary.recruitment_rate=0.15")
REFORM = ("salary.reform_pay_ratio=0.9", "salary.reform_start='2025-07'")


def _hand(months: int, reform_month: int | None) -> list[float]:
    h, out = 1.0, []
    for m in range(months):
        out.append(h)
        leaving = 0.3 if reform_month is None or m < reform_month else 0.3 * (0.9 / 0.6) ** -1.0
        h += (0.15 - leaving * h) / 12
    return out


@pytest.mark.parametrize("reform, month", [((), None), (REFORM, 6)])
def test_township_headcount_follows_leaving_and_recruitment_month_by_month(reform, month):
    r = single_run(small_county(*YEAR, "geography.synthetic.township_doctors=10", *TURNOVER, *reform), 0)
    fm = r.facility_monthly
    doctors = fm[fm.tier == "township"].groupby("month")["doctors"].sum().to_numpy()
    np.testing.assert_array_equal(doctors, np.round(30 * np.array(_hand(12, month))))
    assert r.kpis["doctors_per_1000_township"] == pytest.approx(doctors.mean() / 20_000 * 1000)


def test_equal_leaving_and_recruitment_keep_headcounts():
    table = plan_of(small_county(*YEAR, "salary.tiers=[village, township]")).months()
    assert (table["salary.headcount_factor.township"] == 1.0).all()


def test_share_out_keeps_the_total_and_one_doctor_each():
    assert share_out(np.array([2, 2, 2]), 4).tolist() == [2, 1, 1]
    assert share_out(np.array([1, 1, 8]), 5).tolist() == [1, 1, 3]
    assert share_out(np.array([3, 1]), 1).tolist() == [1, 1]
    assert share_out(np.array([5, 5]), 13).sum() == 13


@pytest.mark.parametrize("setting, words", [
    (("salary.reform_pay_ratio=0.9",), ["salary.reform_start", "together"]),
    (("salary.reform_pay_ratio=0.9", "salary.reform_start='2030-01'"), ["salary.reform_start", "outside the run",
                                                                        "2025-01 to 2025-12"]),
])
def test_bad_reforms_are_clear_errors(setting, words):
    with pytest.raises(ConfigError) as e:
        small_county(*YEAR, *setting)
    assert all(w in str(e.value) for w in words), str(e.value)


def test_salary_reform_keeps_township_doctors_and_shortens_their_waits_paired_ci():
    n = 4
    fast = (*YEAR, "simulation.years=0.5", "salary.leaving_rate=0.6", "salary.recruitment_rate=0.3",
            "salary.tiers=[township]")
    base = multiple_replications(small_county(*fast), n)
    reform = multiple_replications(small_county(*fast, "salary.reform_pay_ratio=1.2",
                                                "salary.reform_start='2025-01'"), n)
    assert reform[0].facility_monthly.query("tier == 'township'")["doctors"].sum() > \
        base[0].facility_monthly.query("tier == 'township'")["doctors"].sum()
    d = np.array([b.kpis["wait_township_min"] - a.kpis["wait_township_min"] for a, b in zip(base, reform)])
    half = t_halfwidth(float(d.std(ddof=1)), n)
    assert d.mean() + half < 0, f"township wait {d.mean():.3f} ± {half:.3f} min"


PERFORMANCE = "salary.performance_pay_share=0.5"  # 1 − 0.3 × 0.5: primary consultations take 85 %


def _mean_consultation_minutes(run, tier: str) -> float:
    y = run.year_sums
    return float(y[f"service_{tier}"].sum() / y[f"visits_{tier}"].sum() * 1440)


def test_performance_pay_shortens_primary_consultations_by_the_stated_factor():
    run = ("simulation.years=0.25", "simulation.warmup_days=10")
    off, on = single_run(small_county(*run), 0), single_run(small_county(*run, PERFORMANCE), 0)
    for tier in ("village", "township"):
        ratio = _mean_consultation_minutes(on, tier) / _mean_consultation_minutes(off, tier)
        assert ratio == pytest.approx(0.85, rel=0.01), tier
    assert _mean_consultation_minutes(on, "county") == pytest.approx(_mean_consultation_minutes(off, "county"),
                                                                     rel=0.03)


def test_performance_pay_shortens_primary_waits_and_raises_the_primary_share_paired_ci():
    n, run = 5, ("simulation.years=0.25", "simulation.warmup_days=10")
    base = multiple_replications(small_county(*run), n)
    paid = multiple_replications(small_county(*run, PERFORMANCE), n)
    for kpi, sign in (("wait_township_min", -1), ("wait_village_min", -1), ("primary_care_share", 1)):
        d = sign * np.array([b.kpis[kpi] - a.kpis[kpi] for a, b in zip(base, paid)])
        half = t_halfwidth(float(d.std(ddof=1)), n)
        assert d.mean() - half > 0, f"{kpi}: paired effect {sign * d.mean():.5f} ± {half:.5f} has the wrong sign"
