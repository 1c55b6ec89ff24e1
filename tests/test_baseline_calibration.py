"""The shipped baseline county lands in the ranges that bracket public statistics for a rural
county before reform (docs/sources/data/national_statistics.csv); see docs/parameters.md."""
from pathlib import Path

import pytest

from models.loading import load_scenario
from sim.studies.runner import multiple_replications, runs_frame

ROOT = Path(__file__).resolve().parents[1]
RANGES = {
    "primary_care_share": (0.52, 0.62),
    "county_visit_rate": (0.85, 0.92),
    "visits_per_resident": (5.5, 7.0),
    "admissions_per_resident": (0.15, 0.22),
    "mean_los_days": (7.0, 10.0),
}


@pytest.fixture(scope="module")
def baseline_runs():
    # Full size, one year; 4 replications (the CI half-widths are < 0.002 on the shares, far
    # inside the ranges), to keep the suite fast.
    scenario = load_scenario(ROOT / "configs" / "baseline.yaml")
    return runs_frame(multiple_replications(scenario, 4, workers=2))


@pytest.mark.parametrize("kpi", list(RANGES))
def test_baseline_kpi_in_published_range(baseline_runs, kpi):
    lo, hi = RANGES[kpi]
    mean = baseline_runs[kpi].mean()
    assert lo <= mean <= hi, f"{kpi} = {mean:.4f}, expected in [{lo}, {hi}]"


def test_baseline_is_about_500k_residents_in_15_townships_and_300_villages():
    from models.geography import build_county

    county = build_county(load_scenario(ROOT / "configs" / "baseline.yaml").geography)
    assert county.population == 500_000
    assert len(county.township_names) == 15 and county.n_villages == 300
