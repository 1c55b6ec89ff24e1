"""Issue test 5: observed first-contact shares follow the analytic logit of ChoiceModel.prob.

With beta_wait_per_hour = 0 the probabilities are static (perceived waits never enter), so every
non-emergency episode of village v, condition c, severity s picks option k of the village's
choice set with probability ChoiceModel.prob[v, c, s, k].  Counts from the episodes log are
compared with a chi-square goodness-of-fit test; a deliberately wrong probability vector must
be rejected (negative control).
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import small_county
from scipy import stats

from models.geography import build_county
from sim.core.streams import make_streams, replication_seed
from sim.pathway import CountyModel
from sim.studies.runner import single_run


@pytest.fixture(scope="module")
def setup():
    s = small_county("choice.beta_wait_per_hour=0", "simulation.years=0.5")
    county = build_county(s.geography)
    model = CountyModel(s, county, make_streams(replication_seed(s.simulation.seed, 0)))
    r = single_run(s, 0, keep_logs=True)
    return s, model, r


def _pool_small(obs: np.ndarray, exp: np.ndarray, min_expected: float = 5.0):
    """Merge options with small expected counts into one cell (chi-square validity)."""
    small = exp < min_expected
    if small.sum() == 0:
        return obs, exp
    return np.append(obs[~small], obs[small].sum()), np.append(exp[~small], exp[small].sum())


def _counts(s, model, r, v: int, cond: str, sev: int):
    ep = r.logs["episodes"]
    c = list(s.conditions).index(cond)
    end = s.simulation.warmup_days + s.simulation.years * s.simulation.days_per_year
    # episodes still travelling at the end are not logged yet: drop the last day to avoid that bias
    m = (ep["village"] == v) & (ep["condition"] == c) & (ep["severity"] == sev) & (ep["time"] < end - 1)
    options = model.care.choice.choice_set[v]
    options = options[options >= 0]
    first = ep["first"][m]
    assert np.isin(first, options).all(), "first contact outside the village's choice set"
    obs = np.array([(first == f).sum() for f in options], dtype=float)
    p = model.care.choice.prob[v, c, sev, : len(options)]
    return obs, p


def _cases(s, model):
    county = model.county
    big = int(np.argmax(county.village_pop))
    small = int(np.argsort(county.village_pop)[len(county.village_pop) // 2])
    return [(big, "minor_acute", 0), (big, "chronic_followup", 1), (small, "minor_acute", 0)]


def test_choice_shares_match_logit(setup):
    s, model, r = setup
    assert not s.conditions["minor_acute"].emergency and not s.conditions["chronic_followup"].emergency
    for v, cond, sev in _cases(s, model):
        obs, p = _counts(s, model, r, v, cond, sev)
        assert len(obs) >= 4, "the choice set should offer several facilities"
        assert p.sum() == pytest.approx(1.0)
        assert obs.sum() > 300
        assert p.max() < 0.95, "probabilities should be spread over several options"
        o, e = _pool_small(obs, p * obs.sum())
        pval = stats.chisquare(o, e).pvalue
        assert pval > 0.001, f"village {v} {cond} sev {sev}: observed {obs}, expected {p * obs.sum()}, p={pval:.2g}"


def test_choice_shares_reject_wrong_probabilities(setup):
    """Negative control: a plausible but wrong vector (probabilities of options rotated) is rejected."""
    s, model, r = setup
    for v, cond, sev in _cases(s, model):
        obs, p = _counts(s, model, r, v, cond, sev)
        wrong = np.roll(p, 1)
        o, e = _pool_small(obs, wrong * obs.sum())
        assert stats.chisquare(o, e).pvalue < 0.001


def test_choice_probabilities_respond_to_levers(setup):
    """Analytic sanity: a cheaper county outpatient visit raises the county's share in ChoiceModel.prob."""
    s, model, _ = setup
    s2 = small_county("choice.beta_wait_per_hour=0", "simulation.years=0.5", "reimbursement.county.outpatient_rate=0.95")
    model2 = CountyModel(s2, build_county(s2.geography), make_streams(replication_seed(0, 0)))
    county = model.county
    v = int(np.argmax(county.village_pop))
    c = list(s.conditions).index("minor_acute")
    opts = model.care.choice.choice_set[v]
    is_county = np.array([f >= 0 and county.fac_tier[f] == 2 for f in opts])
    assert model2.care.choice.prob[v, c, 0][is_county].sum() > model.care.choice.prob[v, c, 0][is_county].sum()


def test_draw_logit_is_numpys_inverse_cdf():
    """The compiled inverse CDF of draw_logit picks what numpy's cumsum formulation picks, row for
    row, with unavailable options (-inf), a single option and uniforms at the top of the sum."""
    from models.adaptation import draw_logit
    rng = np.random.default_rng(4)
    for k in (1, 3, 8):
        util = rng.normal(0, 3, (20000, k))
        util[rng.random((20000, k)) < 0.3] = -np.inf
        util[:, 0] = np.where(np.isinf(util).all(axis=1), 0.0, util[:, 0])
        u = rng.random(20000)
        u[:20] = np.nextafter(1.0, 0.0)
        p = np.exp(util - util.max(axis=1, keepdims=True))
        cum = np.cumsum(p, axis=1)
        expected = np.minimum((u[:, None] * cum[:, -1:] >= cum).sum(axis=1), (p > 0).cumsum(axis=1).argmax(axis=1))
        assert np.array_equal(draw_logit(util, u), expected)


def test_gathered_habit_draw_is_draw_logit():
    """ChoiceModel.draw's compiled gather (utility + habit less the row maximum, then the chosen
    facility) picks what draw_logit on numpy's gathered utilities picks."""
    from models.adaptation import chosen_options, draw_logit, utility_less_row_max
    rng = np.random.default_rng(5)
    V, C, S, K, n = 6, 4, 3, 5, 5000
    util = rng.normal(0, 2, (V, C, S, K))
    util[..., 3:] = -np.inf
    choice_set = rng.integers(0, 30, (V, K))
    v, c, s = rng.integers(0, V, n), rng.integers(0, C, n), rng.integers(0, S, n)
    habit = 1.5 * (rng.random((n, K)) < 0.2)
    u = rng.random(n)
    p = np.exp(utility_less_row_max(util, v, c, s, habit))
    assert np.array_equal(p, np.exp(util[v, c, s] + habit - (util[v, c, s] + habit).max(axis=1, keepdims=True)))
    assert np.array_equal(chosen_options(p, u, choice_set, v), choice_set[v, draw_logit(util[v, c, s] + habit, u)])


def test_habit_bonus_is_numpys():
    from models.adaptation import AdaptationSpec, Habits
    rng = np.random.default_rng(6)
    habits = Habits(AdaptationSpec(habit_bonus=1.5), 500)
    habits.last[:] = rng.integers(-1, 20, 500)
    options, resident = rng.integers(-1, 20, (300, 7)), rng.integers(0, 500, 300)
    expected = 1.5 * (options == habits.last[resident][:, None])
    assert np.array_equal(habits.utility(options, resident), expected)
