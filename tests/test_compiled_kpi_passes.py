"""The one-pass compiled KPI helpers give the numpy expressions they replaced, bit for bit."""
import numpy as np
import pytest

from models import kpis
from sim.core.sums import last_axis_sums


@pytest.mark.parametrize("k", range(1, 13))
def test_last_axis_sums_are_numpys(k):
    rng = np.random.default_rng(k)
    x = np.exp(rng.normal(size=(40, 6, 3, k)) * 3.0)
    x[0, 0, 0, 0] = 0.0
    got, expected = last_axis_sums(x), x.sum(axis=-1, keepdims=True)
    assert got.shape == expected.shape and np.array_equal(got, expected)
    assert np.array_equal(last_axis_sums(x[..., ::-1]), x[..., ::-1].sum(axis=-1, keepdims=True))  # not contiguous


def _times(rng, n, end):
    t = rng.random(n) * (end + 20.0) - 10.0  # some before the warm-up ends, some after the run
    t[:5] = [0.0, 30.0, end, end - 1e-12, 29.999999999]
    return t


def test_months_are_numpys():
    rng = np.random.default_rng(0)
    t = _times(rng, 50_000, 400.0)
    expected = np.floor((t - 30.0) / (365 / 12.0)).astype(np.int32)
    assert np.array_equal(kpis._months(t, 30.0, 365 / 12.0), expected)


def test_cell_keys_are_the_numpy_keys():
    rng = np.random.default_rng(1)
    warmup, end, length, n, F = 30.0, 400.0, 365 / 12.0, 13, 9
    t, fac = _times(rng, 50_000, end), rng.integers(0, F, 50_000)
    key = np.subtract(t, warmup) / length
    key = np.clip(np.floor(key), 0, n - 1).astype(np.intp) * F + fac
    key[(t < warmup) | (t >= end)] = n * F
    assert np.array_equal(kpis._cell_keys(t, fac, warmup, end, length, n, F), key)


def test_waits_by_hour_and_flows_are_the_bincounts():
    rng = np.random.default_rng(2)
    warmup, end, T, N = 30.0, 400.0, 4, 60_000
    t, fac, tier = _times(rng, N, end), rng.integers(0, 20, N).astype(np.int32), rng.integers(0, T, 20).astype(np.int8)
    wait = rng.exponential(size=N).astype(np.float32)
    vin = (t >= warmup) & (t < end)
    hour = np.floor((t[vin] % 1.0) * 24.0).astype(np.int64)
    key = tier[fac[vin]].astype(np.int64) * 24 + np.minimum(hour, 23)
    n, total = kpis._hour_sums(t, fac, wait, tier, warmup, end, T)
    assert np.array_equal(n, np.bincount(key, minlength=24 * T).astype(float))
    assert np.array_equal(total, np.bincount(key, weights=wait[vin], minlength=24 * T))
    status, ups, downs = rng.integers(0, 3, N), rng.integers(0, 3, N), rng.integers(0, 2, N)
    first, final = rng.integers(0, 20, N), rng.integers(0, 20, N)
    ein = vin & (status == 0)
    code = ((tier[first[ein]].astype(np.int32) * T + tier[final[ein]]) * 2 + (ups[ein] > 0)) * 2 + (downs[ein] > 0)
    assert np.array_equal(kpis._flow_counts(t, status, first, final, ups, downs, tier, warmup, end, T),
                          np.bincount(code, minlength=T * T * 4))
