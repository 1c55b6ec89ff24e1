"""TCM (中医药) as a visit attribute: the primary-level TCM share matches the configured chance."""
import math

from conftest import small_county

from sim.studies.runner import single_run


def test_tcm_share_at_primary_level_matches_configured_probability():
    r = single_run(small_county("tcm.share={village: 0.2, township: 0.4}"), 0)
    prim = r.facilities[r.facilities.tier.isin(["village", "township"])]
    n_v = prim.loc[prim.tier == "village", "visits"].sum()
    n_t = prim.loc[prim.tier == "township", "visits"].sum()
    expected = (0.2 * n_v + 0.4 * n_t) / (n_v + n_t)
    se = math.sqrt((0.2 * 0.8 * n_v + 0.4 * 0.6 * n_t)) / (n_v + n_t)
    assert abs(r.kpis["tcm_share_primary"] - expected) < 4 * se
    assert single_run(small_county(), 0).kpis["tcm_share_primary"] == 0
