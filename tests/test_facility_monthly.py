"""The per-facility monthly table adds up to the whole-run facilities table and to the tier KPIs by month."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import small_county

from models.kpis import KpiCalculator
from sim.studies.runner import single_run

COLUMNS = ["month", "facility", "tier", "township", "visits", "admissions", "utilisation", "bed_occupancy",
           "mean_wait_min", "mean_bed_wait_days", "doctors", "beds"]


@pytest.fixture(scope="module")
def run():
    # 0.3 years after a 20-day warm-up: three whole months and a partial fourth; stays cross month ends
    return single_run(small_county(), 0, keep_logs=True)


def _month_lengths(scenario) -> np.ndarray:
    sim = scenario.simulation
    length, span = sim.days_per_year / 12.0, sim.years * sim.days_per_year
    n = int(np.ceil(span / length - 1e-9))
    return np.minimum(length, span - length * np.arange(n))


def test_columns_and_one_row_per_month_and_facility(run):
    fm, fac = run.facility_monthly, run.facilities
    assert list(fm.columns) == COLUMNS
    n = len(run.monthly)
    assert n == 4 and len(fm) == n * len(fac)
    assert list(fm["month"]) == list(np.repeat(np.arange(n), len(fac)))
    for m, g in fm.groupby("month"):
        assert list(g["facility"]) == list(fac["facility"]) and list(g["tier"]) == list(fac["tier"])
        assert list(g["township"]) == list(fac["township"])


def test_facility_monthly_aggregates_to_the_annual_facilities_table(run):
    fm, fac = run.facility_monthly, run.facilities.set_index("facility")
    weights = _month_lengths(small_county())
    assert weights[-1] < weights[0]  # the last month is partial: the weights matter
    span = weights.sum()
    fm = fm.assign(w=weights[fm["month"].to_numpy()])
    sums = fm.groupby("facility", sort=False)[["visits", "admissions"]].sum()
    np.testing.assert_array_equal(sums["visits"].to_numpy(), fac.loc[sums.index, "visits"].to_numpy())
    np.testing.assert_array_equal(sums["admissions"].to_numpy(), fac.loc[sums.index, "admissions"].to_numpy())
    assert sums["visits"].sum() == run.kpis["visits"] and sums["admissions"].sum() == run.kpis["admissions"]
    for col in ("utilisation", "bed_occupancy"):
        avg = (fm[col] * fm["w"]).groupby(fm["facility"], sort=False).sum(min_count=1) / span
        annual = fac.loc[avg.index, col]
        assert (avg.isna() == annual.isna()).all(), col
        assert avg.notna().sum() >= (4 if col == "bed_occupancy" else 16)
        np.testing.assert_allclose(avg.dropna().to_numpy(), annual.dropna().to_numpy(), rtol=1e-9, atol=0)
    # waits: visit-weighted monthly means are the annual mean
    for col, count in (("mean_wait_min", "visits"), ("mean_bed_wait_days", "admissions")):
        tot = (fm[col].fillna(0) * fm[count]).groupby(fm["facility"], sort=False).sum()
        n = fm.groupby("facility", sort=False)[count].sum()
        mean = (tot / n).where(n > 0)
        np.testing.assert_allclose(mean.to_numpy(), fac.loc[mean.index, col].to_numpy(), rtol=1e-9)


def test_facility_monthly_adds_up_to_the_tier_kpis_by_month(run):
    fm, monthly, fac = run.facility_monthly, run.monthly, run.facilities
    np.testing.assert_array_equal(fm.groupby("month")["visits"].sum().to_numpy(), monthly["visits"].to_numpy())
    np.testing.assert_array_equal(fm.groupby("month")["admissions"].sum().to_numpy(),
                                  monthly["admissions"].to_numpy())
    cap = fac.set_index("facility")[["doctors", "beds"]]
    for tier in ("township", "county"):
        g = fm[fm["tier"] == tier]
        for col, unit in (("utilisation", "doctors"), ("bed_occupancy", "beds")):
            c = cap.loc[g["facility"], unit].to_numpy().astype(float)
            c = np.where(c > 0, c, np.nan)
            ok = ~np.isnan(c)
            used = pd.Series(g[col].to_numpy()[ok] * c[ok]).groupby(g["month"].to_numpy()[ok]).sum()
            total = pd.Series(c[ok]).groupby(g["month"].to_numpy()[ok]).sum()
            np.testing.assert_allclose((used / total).to_numpy(), monthly[f"{col}_{tier}"].to_numpy(), rtol=1e-9)


def test_slicing_the_logs_does_not_change_the_table(run, monkeypatch):
    """The sums run over fixed-size slices of the logs; small slices give the same table."""
    scenario = small_county()
    from models.geography import (
        build_county,  # no levers in the small county: the county the run used
    )

    sim = scenario.simulation
    county = build_county(scenario.geography)
    calc = KpiCalculator(county, sim.warmup_days, sim.warmup_days + sim.years * sim.days_per_year, sim.days_per_year,
                         sim.open_hours)
    whole = calc.facility_monthly(run.logs["visits"], run.logs["stays"])
    pd.testing.assert_frame_equal(whole, run.facility_monthly)
    monkeypatch.setattr(KpiCalculator, "CHUNK_ROWS", 997)
    sliced = calc.facility_monthly(run.logs["visits"], run.logs["stays"])
    pd.testing.assert_frame_equal(sliced[["visits", "admissions"]], whole[["visits", "admissions"]], check_exact=True)
    pd.testing.assert_frame_equal(sliced, whole, rtol=1e-12)
