"""models/communities.py: the compiled per-community sums are the masked numpy.bincounts they replaced, bit for bit."""
import numpy as np

from models import communities


def test_compiled_community_sums_are_bincounts():
    rng = np.random.default_rng(2)
    n, villages, facilities, tiers = 3, 40, 12, 4
    village_community = rng.integers(0, n, villages)
    fac_community = rng.integers(-1, n, facilities)  # -1: a facility of no community
    fac_tier = rng.integers(0, tiers, facilities)
    in_county, primary = np.array([True, True, True, False]), np.array([True, True, False, False])
    rows = 5000
    time = rng.uniform(-10, 110, rows)
    village, fac = rng.integers(0, villages, rows).astype(np.int32), rng.integers(0, facilities, rows).astype(np.int32)
    fund = (rng.normal(size=rows) * 1e3).astype(np.float32)
    warmup, end = 0.0, 100.0

    vin = (time >= warmup) & (time < end)
    com, f = village_community[village[vin]], fac[vin]
    tier = fac_tier[f]
    other = in_county[tier] & (fac_community[f] >= 0) & (fac_community[f] != com)
    expected = (np.bincount(com, minlength=n).astype(float),
                np.bincount(com, weights=in_county[tier].astype(float), minlength=n),
                np.bincount(com, weights=primary[tier].astype(float), minlength=n),
                np.bincount(com, weights=other.astype(float), minlength=n))
    got = communities.visit_sums(time, village, fac, warmup, end, village_community, fac_community, fac_tier,
                                  in_county, primary, n)
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype and np.array_equal(g, e)
    assert expected[3].sum() > 0 and expected[2].sum() < expected[0].sum()  # every branch taken
    fund_expected = np.bincount(com, weights=fund[vin], minlength=n)
    assert np.array_equal(communities._fund_sums(time, village, fund, warmup, end, village_community, n),
                          fund_expected)
