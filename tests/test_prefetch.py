"""``prefetch`` compiles into a loop and leaves every value as it was."""
import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from sim.core.prefetch import prefetch


@njit
def _sum_with_prefetch(values, keys, ahead):
    total = 0.0
    for i in range(len(keys)):
        if i + ahead < len(keys):
            prefetch(values, keys[i + ahead])
        values[keys[i]] += 1.0
        total += values[keys[i]]
    return total


def test_prefetch_changes_no_value():
    rng = np.random.default_rng(3)
    values, keys = rng.random(1000), rng.integers(0, 1000, 5000)
    expected = values.copy()
    total = 0.0
    for k in keys:  # the same loop in Python, without prefetching
        expected[k] += 1.0
        total += expected[k]
    got = values.copy()
    assert _sum_with_prefetch(got, keys, 4) == total
    assert np.array_equal(got, expected)


def test_prefetch_takes_a_one_dimensional_array_and_an_integer():
    @njit
    def on_a_matrix(m):
        prefetch(m, 0)

    with pytest.raises(TypingError):
        on_a_matrix(np.zeros((2, 2)))
