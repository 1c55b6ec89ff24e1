"""Issue test 1: the minimal network reproduces Erlang C; plus balking against M/M/c/K blocking.

The minimal network (tests/configs/mmc.yaml) is one village and one clinic open 24 h with c doctors,
Poisson arrivals (lambda = population x incidence / 365 per day) and exponential service
(mean service_minutes / 1440 days): an M/M/c queue.  Each setting runs 20 short replications;
the analytic value must lie inside the t-based 95 % CI of the per-replication mean waits.
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import erlang_c_wait, mmc_scenario, mmck_block

from sim.core.stats import confidence_interval
from sim.studies.runner import multiple_replications

REPS = 20
SETTINGS = [  # (c, rho, service minutes)
    (1, 0.7, 10.0),
    (3, 0.8, 10.0),
]

_cache: dict = {}


def _run(c: int, rho: float, minutes: float, *extra: str):
    key = (c, rho, minutes, extra)
    if key not in _cache:
        scenario, lam, mu = mmc_scenario(c, rho, minutes, 10_000, *extra)
        assert scenario.simulation.warmup_days > 0
        results = multiple_replications(scenario, REPS)
        _cache[key] = (scenario, lam, mu, results)
    return _cache[key]


def _waits(results) -> np.ndarray:
    return np.array([r.facilities.loc[r.facilities.facility == "Clinic", "mean_wait_min"].item() for r in results])


@pytest.mark.parametrize("c,rho,minutes", SETTINGS)
def test_erlang_c_mean_wait_inside_ci(c, rho, minutes):
    scenario, lam, mu, results = _run(c, rho, minutes)
    waits = _waits(results)
    # the KPI and the facility table are two code paths for the same number here
    np.testing.assert_allclose(waits, [r.kpis["wait_village_min"] for r in results], rtol=1e-9)
    # the arrival rate really is population x incidence / 365
    span = scenario.simulation.years * scenario.simulation.days_per_year
    visits = np.array([r.kpis["visits"] for r in results])
    assert abs(visits.mean() / span / lam - 1) < 0.02
    analytic = erlang_c_wait(lam, mu, c) * 1440.0
    mean, lo, hi, n = confidence_interval(waits)
    assert n == REPS
    assert lo <= analytic <= hi, f"M/M/{c} rho={rho}: Erlang C {analytic:.3f} min not in 95% CI [{lo:.3f}, {hi:.3f}]"
    # the CI is informative: narrower than +-15 % of the value
    assert (hi - lo) / 2 < 0.15 * analytic


@pytest.mark.parametrize("c,rho,minutes", SETTINGS)
def test_erlang_c_negative_control_wrong_servers(c, rho, minutes):
    """The same CI must exclude the M/M/(c+1) wait: the check above can fail."""
    scenario, lam, mu, results = _run(c, rho, minutes)
    mean, lo, hi, _ = confidence_interval(_waits(results))
    wrong = erlang_c_wait(lam, mu, c + 1) * 1440.0
    assert not lo <= wrong <= hi, f"CI [{lo:.3f}, {hi:.3f}] does not discriminate c={c} from c={c + 1}"


def _balk_share(c: int, rho: float, room: int):
    scenario, lam, mu, results = _run(c, rho, 10.0, f"service.balk_queue_length={room}")
    shares = np.array([r.kpis["balked_share"] for r in results])
    return lam, mu, confidence_interval(shares)


@pytest.mark.parametrize("c,rho,room", [(1, 0.7, 2), (2, 0.8, 1)])
def test_balking_matches_mmck_blocking(c, rho, room):
    """balk_queue_length = K waiting places: the balked share is the M/M/c/(c+K) blocking probability (PASTA)."""
    lam, mu, (mean, lo, hi, _) = _balk_share(c, rho, room)
    analytic = mmck_block(lam, mu, c, room)
    assert lo <= analytic <= hi, f"blocking {analytic:.4f} not in CI [{lo:.4f}, {hi:.4f}]"
    # negative control: one more waiting place gives a clearly different blocking probability
    assert not lo <= mmck_block(lam, mu, c, room + 1) <= hi


@pytest.mark.parametrize("c", [1, 2])
def test_balk_queue_length_zero_is_erlang_b(c):
    """balk_queue_length = 0 ('leave rather than queue') is the M/M/c/c loss system: Erlang B."""
    lam, mu, (mean, lo, hi, _) = _balk_share(c, 0.7, 0)
    analytic = mmck_block(lam, mu, c, 0)
    assert lo <= analytic <= hi, f"Erlang B {analytic:.4f} not in CI [{lo:.4f}, {hi:.4f}] (mean {mean:.4f})"
