"""Multi-year runs: per-year tables, cost growth year on year, equity by remoteness quintile."""
import numpy as np
from conftest import small_county

from sim.studies.runner import single_run


def test_cost_growth_is_year_on_year_change_of_cost_per_resident():
    r = single_run(small_county("simulation.years=2", "simulation.warmup_days=5"), 0)
    assert len(r.yearly) == 2
    c = r.yearly["cost_per_resident"].to_numpy()
    assert np.isclose(r.yearly["cost_growth"].iloc[1], c[1] / c[0] - 1)
    assert np.isclose(r.kpis["cost_growth"], c[1] / c[0] - 1)
    # the same arithmetic as the annual table: two years' visits add up to the whole run
    assert r.yearly["visits"].sum() == r.kpis["visits"]


def test_out_of_pocket_by_remoteness_quintile_agrees_with_the_village_table():
    r = single_run(small_county(), 0)
    v = r.villages
    assert set(v.remoteness_quintile) == {1, 2, 3, 4, 5}
    for q in range(1, 6):
        part = v[v.remoteness_quintile == q]
        from_villages = (part.oop_per_episode * part.episodes).sum() / part.episodes.sum()
        assert np.isclose(r.kpis[f"oop_remoteness_q{q}"], from_villages, rtol=1e-9)
    # sanity bound: quintile means of the same county stay within a factor of two
    assert 0.5 < r.kpis["oop_remoteness_q5"] / r.kpis["oop_remoteness_q1"] < 2
