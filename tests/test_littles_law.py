"""Issue test 3: Little's law L = lambda W at every facility, for doctors and for beds.

L is the sampled time-average number in the system (simulation.sample_interval_days > 0);
lambda and W come from the visit / stay logs.  They are computed by different code paths
(Station.in_system sampled over time vs. per-visit waits and service times), so a bug in either
(e.g. waiting patients missing from the count, a wrong sojourn) breaks the identity.
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import small_county

DT = 0.02  # sample interval, days
MIN_VISITS = 300
MIN_ADMISSIONS = 30


@pytest.fixture(scope="module", params=[0, 1], ids=["rep0", "rep1"])
def run(request):
    from sim.studies.runner import single_run
    s = small_county(f"simulation.sample_interval_days={DT}", "simulation.years=0.4")
    return s, single_run(s, request.param)


def test_littles_law_doctors(run):
    s, r = run
    f = r.facilities
    assert "mean_in_system" in f
    n_samples = s.simulation.years * s.simulation.days_per_year / DT
    lw = f.arrival_rate_per_day * f.mean_sojourn_days
    checked = 0
    for i in np.flatnonzero(f.visits.to_numpy() >= MIN_VISITS):
        L, target = f.mean_in_system.iloc[i], lw.iloc[i]
        # relative 10 %, or 4 standard errors of a mean of n_samples near-independent counts
        tol = max(0.10 * target, 4.0 * np.sqrt(target / n_samples))
        assert abs(L - target) <= tol, f"{f.facility.iloc[i]}: L={L:.4f}, lambda*W={target:.4f}"
        checked += 1
    assert checked >= 10
    # pooled over the county the identity is much tighter
    assert f.mean_in_system.sum() == pytest.approx(lw.sum(), rel=0.03)
    # some facilities have real queues, so the waiting part matters
    assert (f.mean_wait_min > 0.5).any()


def test_littles_law_beds(run):
    s, r = run
    f = r.facilities
    lw = f.admission_rate_per_day * f.mean_bed_sojourn_days
    days = s.simulation.years * s.simulation.days_per_year
    checked = 0
    for i in np.flatnonzero(f.admissions.to_numpy() >= MIN_ADMISSIONS):
        L, target, stay = f.mean_in_beds.iloc[i], lw.iloc[i], f.mean_bed_sojourn_days.iloc[i]
        # relative 10 %, or 3 standard errors of the time-average occupancy: stays last days, so the
        # occupancy is strongly autocorrelated (variance of the mean about 2 L W / T, as for M/G/inf)
        tol = max(0.10 * target, 0.25, 3.0 * np.sqrt(2.0 * target * stay / days))
        assert abs(L - target) <= tol, f"{f.facility.iloc[i]}: L={L:.3f}, lambda*W={target:.3f}"
        checked += 1
    assert checked >= 4, "township centres, the county hospital and outside hospitals admit patients"
    # pooled over the county the identity is much tighter
    assert f.mean_in_beds.sum() == pytest.approx(lw.sum(), rel=0.03)
    # facilities without beds never hold anyone
    nobeds = f.beds.to_numpy() == 0
    assert np.all(f.mean_in_beds.to_numpy()[nobeds] == 0)


def test_littles_law_detects_missing_queue(run):
    """Negative control: dropping the queue (L of servers only) violates the check somewhere."""
    s, r = run
    f = r.facilities
    lam_service = f.arrival_rate_per_day * (f.mean_sojourn_days - f.mean_wait_min / 1440.0)
    lw = f.arrival_rate_per_day * f.mean_sojourn_days
    busy = f.visits.to_numpy() >= MIN_VISITS
    rel = np.abs(lam_service[busy] - lw[busy]) / lw[busy]
    assert rel.max() > 0.10
