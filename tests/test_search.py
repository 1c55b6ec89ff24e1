"""sim/core/search.py: the compiled look-ups give numpy's answers exactly (the arrival batch and
the habit burn-in rely on it for unchanged results)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.core.search import count_at_or_below, stable_order

floats = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.integers(0, 300), elements=floats))
def test_stable_order_is_numpys_stable_argsort(x):
    assert np.array_equal(stable_order(x), np.argsort(x, kind="stable"))


def test_stable_order_on_day_like_times_with_ties():
    rng = np.random.default_rng(1)
    for n in (1, 2, 50, 1000, 5000):
        x = np.where(rng.random(n) < 0.3, rng.random(n), 0.33 + np.round(rng.random(n) / 3, 3))
        assert np.array_equal(stable_order(x), np.argsort(x, kind="stable"))


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.integers(0, 150), elements=st.floats(-10, 10)), st.floats(-11, 11))
def test_count_at_or_below_is_searchsorted_right(values, x):
    values = np.sort(values)  # short (branch-free count) and long (binary search) arrays
    assert count_at_or_below(values, x) == np.searchsorted(values, x, side="right")


def test_stable_order_at_the_edges_of_the_float_range():
    for x in ([-1e308, 1e308, 0.0, 1e308], [0.0, 5e-324, 0.0], [1.0, np.nan, -np.inf, 1.0]):
        x = np.array(x)
        assert np.array_equal(stable_order(x), np.argsort(x, kind="stable"))
