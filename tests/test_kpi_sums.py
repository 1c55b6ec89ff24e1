"""models/kpis.py: the compiled month sums are numpy.bincount's, bit for bit."""
import numpy as np

from models import kpis


def test_compiled_sums_are_bincounts():
    rng = np.random.default_rng(0)
    for t in range(40):
        rows, n = int(rng.integers(0, 20000)), int(rng.integers(1, 30))
        group = rng.integers(0, n + 3, rows).astype(np.int32)  # groups past n are dropped, as [:n] does
        mask = rng.random(rows) < 0.7
        weights = rng.normal(size=rows) * 10.0 ** rng.integers(-3, 6)
        if t % 3 == 0:
            weights = weights.astype(np.float32)  # bincount adds float64 casts
        for w in (weights, None):
            expected = np.bincount(group[mask], None if w is None else w[mask], minlength=n)[:n].astype(float)
            got = kpis._sum(group, n, w, mask)
            assert got.dtype == expected.dtype and np.array_equal(got, expected)


def test_sums_by_key_are_masked_sums():
    rng = np.random.default_rng(1)
    rows, n, k = 20000, 7, 4
    group = rng.integers(0, n, rows).astype(np.int32)
    key = rng.integers(-1, k + 1, rows).astype(np.int8)  # keys outside [0, k) belong to no row
    mask = rng.random(rows) < 0.8
    weights = rng.normal(size=rows)
    for w in (weights, None):
        by = kpis._sum_by(group, n, key, k, w, mask)
        for j in range(k):
            assert np.array_equal(by[j], kpis._sum(group, n, w, mask & (key == j)))
