"""sim/core/search.py: the compiled look-ups give numpy's answers exactly (the arrival batch and
the habit burn-in rely on it for unchanged results)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.core.search import count_at_or_below, count_at_or_below_guided, guide_table, stable_order

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


@settings(max_examples=300, deadline=None)
@given(arrays(np.float64, st.integers(1, 80), elements=st.floats(0, 1)), st.integers(1, 100),
       st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=20))
def test_guided_count_is_searchsorted_right(values, buckets, xs):
    values = np.sort(values)  # shares' running sums: ties and values at bucket edges included
    guide = guide_table(values, buckets)
    edges = [j / buckets for j in range(buckets)] + [np.nextafter(j / buckets, 0.0) for j in range(1, buckets)]
    for x in xs + edges + list(values[values < 1.0]):
        assert count_at_or_below_guided(values, guide, x) == np.searchsorted(values, x, side="right")
