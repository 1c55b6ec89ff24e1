"""Behaviour that responds: care-seeking and its price elasticities, gatekeeping by price,
adaptation over years, provider-side demand and the daily rhythm (issue 17).

The statistical checks run the shipped baseline behaviour on a scaled-down copy of its county
(sim/outputs/validation_report.SMALL_COUNTY) and compare paired runs (common random numbers)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, ROOT, load

from models.adaptation import Habits
from models.demand import DemandModel
from models.loading import county_of
from models.reimbursement import Reimbursement
from models.scenario import ChoiceSpec
from models.seeking import FORGONE, FORMAL, SELF_TREATMENT, CareSeeking, CareSeekingSpec
from models.tiers import TIERS
from sim.outputs.validation_report import SMALL_COUNTY
from sim.studies.behaviour import elasticity, paired_change, yearly_pairs

GATEKEEPING = ROOT / "configs" / "policies" / "gatekeeping.yaml"
EFFECTS = pd.read_csv(ROOT / "experiments" / "validation_effects.csv").set_index("id")
FORGONE_TOLERANCE = 0.02  # gatekeeping may raise forgone care by at most 2 percentage points of illnesses


# ----------------------------------------------------------------------------- hand-computed cases
def test_care_seeking_is_the_nested_logit_written_out():
    spec = CareSeekingSpec(enabled=True, asc_formal={"ill": [2.0, 2.0, 2.0]}, asc_self_treatment=[1.0, 1.0, 1.0],
                           nest_scale=0.5, self_treatment_cost_cny=10.0, self_treatment_hours=0.4)
    choice = ChoiceSpec(beta_log_oop=-1.0, oop_scale_cny=10.0, beta_travel_per_hour=-0.5)
    seek = CareSeeking(spec, choice, ["ill"], np.array([False]))
    facilities = np.array([0.3, -1.2])  # two facilities' utilities: the inclusive value is their log-sum
    seek.update(np.full((1, 1, 3), math.log(np.exp(facilities).sum())))
    formal = 2.0 + 0.5 * math.log(math.exp(0.3) + math.exp(-1.2))
    self_care = 1.0 - math.log(1 + 1.0) - 0.5 * 0.4
    z = math.exp(formal) + math.exp(self_care) + 1.0
    assert seek.prob[0, 0, 0] == pytest.approx([math.exp(formal) / z, math.exp(self_care) / z, 1 / z])
    u = np.array([0.0, math.exp(formal) / z + 1e-9, 0.999999])
    zero = np.zeros(3, dtype=int)
    assert seek.options(zero, zero, zero, u).tolist() == [FORMAL, SELF_TREATMENT, FORGONE]


def test_worse_formal_care_lowers_care_seeking_and_emergencies_always_seek():
    spec = CareSeekingSpec(enabled=True)
    seek = CareSeeking(spec, ChoiceSpec(), ["ill", "stroke"], np.array([False, True]))
    seek.update(np.full((1, 2, 3), 1.0))
    better = seek.prob[0, 0, 0, FORMAL]
    seek.update(np.full((1, 2, 3), 0.5))
    assert seek.prob[0, 0, 0, FORMAL] < better
    assert seek.prob[0, 1, :, FORMAL].tolist() == [1.0, 1.0, 1.0]
    assert seek.accepts_admission(1, 0, 1e9, 0.999)  # emergencies take the bed


def test_return_visit_is_the_logit_written_out_and_dearer_visits_bring_fewer_back():
    spec = CareSeekingSpec(enabled=True, return_asc={"township": 3.0})
    choice = ChoiceSpec(beta_log_oop=-2.0, oop_scale_cny=10.0, beta_travel_per_hour=-1.0)
    seek = CareSeeking(spec, choice, ["ill"], np.array([False]))
    township = TIERS.index("township")
    p = 1 / (1 + math.exp(-(3.0 - 2.0 * math.log(1 + 30 / 10) - 1.0 * 0.5)))
    assert seek.comes_back(township, 30.0, 0.5, p - 1e-9) and not seek.comes_back(township, 30.0, 0.5, p + 1e-9)
    share = [np.mean([seek.comes_back(township, oop, 0.5, u) for u in np.linspace(0, 1, 1001)]) for oop in (10, 30, 90)]
    assert share[0] > share[1] > share[2]
    off = CareSeeking(CareSeekingSpec(), choice, ["ill"], np.array([False]))
    assert off.comes_back(township, 1e9, 99.0, 0.999)


def test_gatekeeping_costs_care_seeking_no_more_than_losing_the_county_hospitals():
    """Unreferred county care gets dearer, so the inclusive value of formal care falls — but never
    below what remains without the county hospitals: a patient who can go to a township centre
    instead loses at most what the county offered (ln(1 − P(county)))."""
    from models.care import Care

    base = load(BASELINE, *SMALL_COUNTY)
    gate = load(GATEKEEPING, *SMALL_COUNTY)
    iv0, iv1 = (Care(s, county_of(s)).choice for s in (base, gate))
    county = (iv0.choice_set >= 0) & (county_of(base).fac_tier[np.maximum(iv0.choice_set, 0)] == TIERS.index("county"))
    p_county = (iv0.prob * county[:, None, None, :]).sum(axis=-1)
    gatekept = [list(base.conditions).index(c) for c in gate.referral.gatekeeping.conditions]
    before, after = iv0.inclusive_value[:, gatekept], iv1.inclusive_value[:, gatekept]
    floor = before + np.log1p(-p_county[:, gatekept])
    assert (after < before - 1e-9).any()
    assert (after <= before + 1e-9).all() and (after >= floor - 1e-9).all()


def test_unreferred_county_care_is_paid_at_the_gatekeeping_rate_only_for_gatekept_conditions():
    s = load(BASELINE, "reimbursement.county_unreferred.outpatient_rate=0.0",
             "reimbursement.county_unreferred.inpatient_rate=0.6",
             "reimbursement.county_unreferred.inpatient_deductible=600")
    pay = Reimbursement(s.reimbursement, 10)
    county, outside = TIERS.index("county"), TIERS.index("outside")
    assert pay.outpatient_fee(county, 200.0, referred=False, gatekept=True) == 0.0
    assert pay.outpatient_fee(county, 200.0, referred=False, gatekept=False) == pytest.approx(200 * 0.3)
    assert pay.outpatient_fee(county, 200.0, referred=True, gatekept=True) == pytest.approx(200 * 0.3)
    fund, oop, _ = pay.inpatient(county, 5000.0, 0, referred=False, gatekept=True)
    assert fund == pytest.approx((5000 - 600) * 0.6) and oop == pytest.approx(5000 - fund)
    # out-of-county self-referral keeps its own schedule whatever the condition
    assert pay.outpatient_fee(outside, 300.0, referred=False, gatekept=False) == 0.0


def test_hourly_profile_places_arrivals_by_weight_and_none_in_a_closed_hour():
    s = load(BASELINE)
    demand = DemandModel(s, county_of(s))
    u = np.random.default_rng(3).random(200_000)
    hours = np.floor(demand.time_of_day(u) * 24).astype(int)
    weights = np.asarray(s.simulation.arrival_profile) / sum(s.simulation.arrival_profile)
    share = np.bincount(hours - int(s.simulation.open_start_hour), minlength=len(weights)) / len(u)
    assert share == pytest.approx(weights, abs=0.005)
    closed = load(BASELINE, "simulation.arrival_profile=[0.3,0.3,0.2,0.1,0.0,0.05,0.05,0.0,0.0]")
    hours = np.floor(DemandModel(closed, county_of(closed)).time_of_day(u) * 24).astype(int)
    assert not np.isin(hours, [12, 15, 16]).any()


@pytest.mark.parametrize("bonus", [0.8, 0.0])
def test_settled_habits_match_the_numpy_burn_in(bonus):
    """The compiled burn-in (Habits.settle) makes exactly the choices of the plain numpy rounds it
    replaced: illness by the weights' inverse CDF, facility by ``draw_logit`` on the utility plus
    the habit bonus, one pair of draws per resident and round.  Choice sets hold the same
    facility twice and empty slots (-1, which a resident with no habit yet also "has")."""
    from models.adaptation import draw_logit

    rng = np.random.default_rng(2)
    util = rng.normal(size=(6, 3, 2, 4))
    util[..., 1:][rng.random((6, 3, 2, 3)) < 0.3] = -np.inf  # some options unavailable, never all
    weights, choice_set, village = rng.random((3, 2)), rng.integers(0, 6, (6, 4)), rng.integers(0, 6, 100)
    choice_set[rng.random((6, 4)) < 0.2] = -1
    assert (choice_set == -1).any() and any(len(set(row)) < len(row) for row in choice_set.tolist())
    spec = type("HabitSpec", (), {"habit_bonus": bonus})
    habits = Habits(spec, len(village))
    habits.settle(util, weights, choice_set, village, 5, np.random.default_rng(9))
    draws, cum, last = np.random.default_rng(9), np.cumsum(weights.ravel()) / weights.sum(), np.full(len(village), -1)
    for _ in range(5):
        illness, pick = draws.random(len(village)), draws.random(len(village))
        cs = np.minimum(np.searchsorted(cum, illness, side="right"), len(cum) - 1)
        options = choice_set[village]
        u = util[village, cs // 2, cs % 2] + bonus * (options == last[:, None])
        last = options[np.arange(len(village)), draw_logit(u, pick)]
    assert np.array_equal(habits.last, last)
    assert (habits.last[:, None] == choice_set[village]).any(axis=1).all()  # each chose one of its options


def test_gatekeeping_names_known_conditions(tmp_path):
    from sim.outputs.cli import main

    assert main(["validate", str(GATEKEEPING), "--set", "referral.gatekeeping.conditions=[flu]"]) == 2


# ----------------------------------------------------------------------------- paired, calibrated behaviour
@pytest.mark.parametrize("quantity,row", [("first_outpatient_visit", "e_first_visit"), ("admission", "e_admission")])
def test_implied_price_elasticity_lies_in_the_published_interval(quantity, row):
    est = elasticity(BASELINE, quantity, replications=3, sets=SMALL_COUNTY + ["simulation.years=0.5"], workers=2)
    lo, hi = EFFECTS.loc[row, "ci_low"], EFFECTS.loc[row, "ci_high"]
    assert lo <= est.low and est.high <= hi, f"{quantity}: model {est}, published [{lo}, {hi}]"


def test_cheaper_primary_care_raises_total_visits_not_only_the_primary_share():
    cheaper = ["reimbursement.village.outpatient_rate=0.9", "reimbursement.township.outpatient_rate=0.8"]
    ref, pol = yearly_pairs(BASELINE, BASELINE, 3, SMALL_COUNTY + ["simulation.years=0.5"], policy_sets=cheaper,
                            workers=2)
    assert paired_change(ref, pol, "visits_per_resident").low > 0
    assert paired_change(ref, pol, "forgone_share").high < 0


@pytest.fixture(scope="module")
def gatekeeping_years():
    sets = SMALL_COUNTY + ["geography.synthetic.population=30000", "simulation.years=3"]
    return yearly_pairs(BASELINE, GATEKEEPING, 3, sets, workers=2)


def test_gatekeeping_moves_visits_to_primary_care_without_much_forgone_care(gatekeeping_years):
    ref, gate = gatekeeping_years
    for year in range(3):
        assert paired_change(ref, gate, "primary_visits_per_resident", year).low > 0
        assert paired_change(ref, gate, "county_hospital_visits_per_resident", year).high < 0
        assert paired_change(ref, gate, "forgone_share", year).high < FORGONE_TOLERANCE


def test_gatekeeping_effect_builds_up_over_the_years(gatekeeping_years):
    ref, gate = gatekeeping_years
    growth = [(b["primary_visits_per_resident"].iloc[2] - a["primary_visits_per_resident"].iloc[2])
              - (b["primary_visits_per_resident"].iloc[0] - a["primary_visits_per_resident"].iloc[0])
              for a, b in zip(ref, gate)]
    from sim.studies.behaviour import Estimate

    assert Estimate.of(growth).low > 0, f"year-3 minus year-1 effect: {Estimate.of(growth)}"


def test_morning_peak_means_longer_morning_waits_at_county_hospitals():
    from sim.studies.runner import single_run

    s = load(BASELINE, *SMALL_COUNTY, "simulation.years=0.25")
    w = single_run(s, 0).waits_by_hour
    county = w[(w["tier"] == "county") & (w["visits"] > 0)].set_index("hour")["mean_wait_min"]
    assert county.loc[[8, 9]].mean() > county.loc[[15, 16]].mean()


@pytest.mark.parametrize("mean, low, high, published, expected", [
    (0.0001, -0.0006, 0.0008, 0.434, "not reproduced (no effect: the model's 95 % CI includes 0)"),
    (-0.0007, -0.0012, -0.0003, 0.34, "not reproduced (direction differs)"),
    (0.30, 0.25, 0.35, 0.434, "consistent (within ±50 %)"),
    (2.09, 2.05, 2.12, 0.34, "same direction, larger effect"),
    (0.10, 0.05, 0.15, 0.434, "same direction, smaller effect"),
])
def test_validation_verdicts_for_a_published_point_value(mean, low, high, published, expected):
    """A model effect whose own CI includes zero reproduces nothing, whatever the sign of its mean."""
    from sim.outputs.validation_report import verdict
    from sim.studies.behaviour import Estimate

    row = pd.Series({"value": published, "ci_low": float("nan"), "ci_high": float("nan")})
    assert verdict(row, Estimate(mean, low, high, 3)) == expected
