"""Pooled township staff (人员统筹, issue 16 item 1): doctors move monthly inside a community only,
its headcount conserved and every centre keeping its minimum; a move that Erlang C says would
lengthen waits is not made (then the run is bit-identical to no pooling); pooling lowers the mean
township wait and its spread across centres (paired 95 % CIs, common random numbers)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import erlang_c_wait as erlang_c_written_out
from conftest import small_county
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.config_files import ConfigError
from sim.core.queueing import erlang_c_wait
from sim.core.stats import t_halfwidth
from sim.studies.runner import multiple_replications, single_run

BUSY = ("simulation.years=0.5", "simulation.warmup_days=10", "geography.synthetic.population=40000",
        "geography.synthetic.township_doctors=3")  # T01 busy (utilisation ~0.7), T02 quiet (~0.4)
POOL = "workforce.pooling.enabled=true"
CENTRES = ["T01 health centre", "T02 health centre", "T03 health centre"]


@settings(max_examples=80, deadline=None)
@given(st.floats(0.01, 30), st.integers(1, 40))
def test_erlang_c_wait_matches_the_formula_written_out(load, servers):
    ours = erlang_c_wait(load, servers)
    mu = 1.0  # service time 1: the written-out formula's wait is then in service times too
    assert ours == pytest.approx(erlang_c_written_out(load * mu, mu, servers), rel=1e-9) or (
        math.isinf(ours) and load >= servers)


def test_pooling_runs_beside_touring_teams_that_add_facilities():
    """Mobile clinics (巡回医疗) are facilities added after the county's: the pool's books follow,
    touring teams are never pooled and the headcount of the centres is conserved."""
    run = single_run(small_county(*BUSY, POOL, "sinking.mobile_clinic.village_share=0.3"), 0)
    doctors = _centre_doctors(run)
    assert (doctors.sum(axis=1) == doctors.sum(axis=1).iloc[0]).all()
    assert run.kpis["doctors_pooled"] > 0


def _centre_doctors(run) -> pd.DataFrame:
    fm = run.facility_monthly
    return fm[fm["facility"].isin(CENTRES)].pivot(index="month", columns="facility", values="doctors")


def test_moves_stay_inside_a_community_conserve_doctors_and_keep_the_minimum():
    """In one community the busy T01 gains doctors from the quieter centres; alone in its own
    community it gets none, and the other community's centres keep their six doctors."""
    run = single_run(small_county(*BUSY, POOL), 0)
    one = _centre_doctors(run)
    assert one["T01 health centre"].max() > 3 and one["T02 health centre"].min() < 3
    moves = run.monthly["doctors_pooled"].to_numpy()
    np.testing.assert_allclose(moves.sum(), run.kpis["doctors_pooled"])
    assert moves.sum() >= one["T01 health centre"].max() - 3  # every doctor T01 gained was a recorded move
    np.testing.assert_allclose(one.sum(axis=1), 9.0)
    assert one.to_numpy().min() >= 1
    two = _centre_doctors(single_run(small_county(
        *BUSY, POOL, "geography.communities={A: {townships: [T01], facilities: [County Hospital]}, "
                     "B: {townships: [T02, T03]}}"), 0))
    assert (two["T01 health centre"] == 3).all()
    np.testing.assert_allclose(two["T02 health centre"] + two["T03 health centre"], 6.0)


def test_no_move_when_erlang_c_says_it_would_not_help_is_bit_identical_to_no_pooling():
    """Two doctors a centre: taking one from the quietest centre would leave it waiting longer
    than the busiest, so nobody moves and the run is the run without pooling."""
    run = ("simulation.years=0.25", "simulation.warmup_days=10")
    off, on = single_run(small_county(*run), 0), single_run(small_county(*run, POOL), 0)
    shared = [c for c in off.monthly.columns if c in on.monthly.columns]
    pd.testing.assert_frame_equal(off.monthly[shared], on.monthly[shared])
    assert (_centre_doctors(on) == 2).all().all()


def test_pooling_lowers_the_mean_township_wait_and_its_spread_paired_ci():
    n = 5
    base = multiple_replications(small_county(*BUSY), n)
    pooled = multiple_replications(small_county(*BUSY, POOL), n)
    d = np.array([b.kpis["wait_township_min"] - a.kpis["wait_township_min"] for a, b in zip(base, pooled)])
    half = t_halfwidth(float(d.std(ddof=1)), n)
    assert d.mean() + half < 0, f"paired effect {d.mean():.3f} ± {half:.3f} min does not exclude zero"

    def spread(r):
        f = r.facilities
        return float(f.loc[f["facility"].isin(CENTRES), "mean_wait_min"].std())

    s = np.array([spread(b) - spread(a) for a, b in zip(base, pooled)])
    assert s.mean() + t_halfwidth(float(s.std(ddof=1)), n) < 0


def test_pooling_with_one_centre_per_community_is_a_clear_error():
    with pytest.raises(ConfigError) as e:
        small_county(POOL, "geography.communities={A: {townships: [T01], facilities: [County Hospital]}, "
                           "B: {townships: [T02]}, C: {townships: [T03]}}")
    assert "workforce.pooling.enabled" in str(e.value) and "two township centres" in str(e.value)
