"""Service-time sampling: a day's draws made ahead, for one mean or a unit mean, are the very
numbers a draw made alone would give (the pathway draws later consultations with the day)."""
import numpy as np
import pytest

from sim.core.streams import inverse_cdf_sampler, unit_sampler


@pytest.mark.parametrize("distribution, cv", [("exponential", 1.0), ("lognormal", 0.6), ("deterministic", 0.0)])
def test_times_scale_exactly_and_whole_arrays_match_single_draws(distribution, cv):
    u = np.random.default_rng(7).random((500, 3))
    u[0, 0], u[1, 1] = 0.0, 1.0 - 2.0 ** -53  # the ends of the uniform range
    mean = 7.0 / 1440.0
    sample, unit = inverse_cdf_sampler(distribution, cv), unit_sampler(distribution, cv)
    ahead = unit(u[:, 1:])  # a strided block, as the pathway takes it from the day's draws
    alone = np.array([[float(sample(mean, x)) for x in row] for row in u[:, 1:]])
    assert np.array_equal(mean * ahead, alone)
    assert np.array_equal(sample(mean, u[:, 0]), [float(sample(mean, x)) for x in u[:, 0]])
    assert (ahead > 0).all() and abs(ahead.mean() - 1.0) < 0.15
