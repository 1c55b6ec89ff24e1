"""Compiled first consultations (sim/compiled_steps.py) give exactly the Python steps' results.

Small counties are run with the compiled path on and off and every table a run writes is
compared bit for bit, with the event ids SimPy handed out; the rules the compiled path takes
from models/ are checked to give the same bits compiled as in Python.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import small_county

from models.community import INDICATORS, LOWER, marginal_payback
from models.costs import lognormal_stay, normal_quantile
from models.incentives import departs
from models.levers.payment import CASE, PER_DIEM
from models.loading import county_of
from models.referral import refers_down
from models.reimbursement import capped, fee_share, inpatient_fee
from models.seeking import return_odds_factor, takes
from sim import compiled_steps
from sim.core.jit import njit
from sim.core.station import Station, StationBank
from sim.core.streams import make_streams, replication_seed
from sim.pathway import DOWNSHIFT, CountyModel

SHORT = ("simulation.years=0.15",  # with return visits (复诊) and rehabilitation stays (下转), which the
         "provider_demand.return_visit_prob={village: 0.1, township: 0.15, county: 0.2, outside: 0.2}",  # compiled
         "referral.down_prob={severe_complex: 0.4, emergency: 0.4, moderate_acute: 0.2}")  # path runs itself
# every lever the compiled path handles, on top of the small county (a busy one: queues, so the
# compiled runs often stop for SimPy's events); each must be run compiled (checked below)
SUPPORTED = {
    "small county": [*SHORT],
    "tight doctors": [*SHORT, "geography.synthetic.township_doctors=1", "geography.synthetic.village_doctors=1",
                      "geography.synthetic.county_hospitals.0.doctors=1"],
    "gatekeeping, TCM bonus, no caps": [*SHORT, "referral.gatekeeping.conditions=[minor_acute, chronic_followup]",
                                        "reimbursement.county_unreferred={outpatient_rate: 0.1, "
                                        "outpatient_deductible: 20, inpatient_rate: 0.6, inpatient_deductible: 400}",
                                        "tcm.offered={village: 1.0, township: 1.0}", "tcm.reimbursement_bonus=0.2",
                                        "reimbursement.annual_cap_outpatient=null"],
    "yearly outpatient deductibles": [*SHORT, "reimbursement.outpatient_deductible_per=year",
                                      "reimbursement.township.outpatient_deductible=60",
                                      "reimbursement.county.outpatient_deductible=300"],
    "family doctors with capitation": [*SHORT, "family_doctor.coverage=0.6", "family_doctor.reserved_share=0.4",
                                       "family_doctor.capitation_cny=120", "geography.synthetic.county_hospitals.0.doctors=4"],
    "full beds sent to a second hospital and out of county": [
        *SHORT, "geography.synthetic.county_hospitals=[{name: County Hospital, doctors: 3, beds: 40}, "
                "{name: County TCM Hospital, doctors: 2, beds: 8}]", "referral.full_bed_wait_days=0.5"],
    "care-seeking and adaptation off": [*SHORT, "care_seeking.enabled=false", "adaptation.habit_bonus=0",
                                        "adaptation.beta_resolved=0"],
    **(PAYMENT := {  # the payment reforms: gains that move with the stake, the assessment and the DIP price
        "global budget, assessment, DRG, same payment": [
            *SHORT, "payment.global_budget.enabled=true", "payment.global_budget.budget_per_resident=1200",
            "payment.assessment.enabled=true", "payment.drg.enabled=true",
            "payment.same_payment.conditions=[moderate_acute, minor_acute]", "payment.same_payment.eligible_share=0.5",
            "payment.response.sensitivity_cny=100"],
        "global budget, DIP, per diem": [
            *SHORT, "payment.global_budget.enabled=true", "payment.global_budget.budget_per_resident=1200",
            "payment.dip.enabled=true", "payment.per_diem.enabled=true", "payment.response.sensitivity_cny=100"],
    }),
}
TABLES = ("visits", "stays", "episodes", "transfers", "outside", "missed")


def _run(scenario, compiled: bool, monkeypatch) -> tuple[CountyModel, object]:
    monkeypatch.setattr(CountyModel, "COMPILED_STEPS", compiled)
    model = CountyModel(scenario, county_of(scenario), make_streams(replication_seed(scenario.simulation.seed, 0)))
    return model, model.run()


@pytest.mark.parametrize("case", SUPPORTED)
def test_compiled_steps_give_identical_tables(case, monkeypatch):
    scenario = small_county(*SUPPORTED[case])
    if case == "tight doctors":
        monkeypatch.setattr(compiled_steps.CompiledSteps, "CAPACITY", 2)  # room for pending return visits grows often
    fast, fast_mon = _run(scenario, True, monkeypatch)
    slow, slow_mon = _run(scenario, False, monkeypatch)
    assert fast.compiled is not None and slow.compiled is None
    if case == "tight doctors":
        assert len(fast.compiled.kheap) > 2, "the test meant to make room for pending return visits grow"
    assert len(slow_mon.episodes) > 1000
    assert (slow_mon.stays.arrays()["down"] == 1).sum() > 5, "rehabilitation stays were meant to happen"
    for name in TABLES:
        a, b = getattr(fast_mon, name).arrays(), getattr(slow_mon, name).arrays()
        for col in b:
            assert a[col].tobytes() == b[col].tobytes(), f"{case}: {name}.{col}"
    assert fast_mon.arrivals().tobytes() == slow_mon.arrivals().tobytes()
    assert repr(fast_mon.budget) == repr(slow_mon.budget)
    assert fast_mon.community_budget.equals(slow_mon.community_budget)
    assert fast.care.perceived_wait.tobytes() == slow.care.perceived_wait.tobytes()
    assert [s.busy_time for s in fast.doctors] == [s.busy_time for s in slow.doctors]
    assert fast.env.now == slow.env.now
    assert next(fast.env._eid) == next(slow.env._eid), "SimPy handed out a different number of event ids"
    if case.startswith("full beds"):  # admissions were meant to find the hospital full, both ways out taken
        stays, names = slow_mon.stays.arrays(), list(slow.county.fac_names)
        assert (stays["fac"] == names.index("County TCM Hospital")).sum() > 20
        assert (stays["fac"] == names.index("City hospitals")).sum() > 20
    if case in PAYMENT:  # the reforms' departures and payments were meant to happen
        stays = slow_mon.stays.arrays()
        assert len(fast_mon.community_budget) > 0
        assert (stays["payment"] == CASE).sum() > 5
        if "DIP" in case:
            assert (stays["payment"] == PER_DIEM).sum() > 5
        else:
            assert (stays["down"] == DOWNSHIFT).sum() > 0, "same-payment admissions were meant to go down"


@pytest.mark.parametrize("policy", ["capacity", "day_surgery", "differentiated_reimbursement", "family_doctor",
                                    "gatekeeping", "information", "medicine_stock", "medicines", "prices",
                                    "referral_rules", "resource_sinking", "payment_reform", "full_reform"])
def test_policies_run_compiled_give_identical_tables(policy, monkeypatch):
    """The shipped policies the compiled steps accept, in a small county."""
    from benchmarks import bench
    config = bench.ROOT / "configs" / "policies" / f"{policy}.yaml"
    scenario = bench.load(config, bench.scaled_overrides(10_000, years=0.1))
    fast, fast_mon = _run(scenario, True, monkeypatch)
    slow, slow_mon = _run(scenario, False, monkeypatch)
    assert fast.compiled is not None
    for name in TABLES:
        a, b = getattr(fast_mon, name).arrays(), getattr(slow_mon, name).arrays()
        assert all(a[col].tobytes() == b[col].tobytes() for col in b), f"{policy}: {name}"
    assert repr(fast_mon.budget) == repr(slow_mon.budget)
    assert next(fast.env._eid) == next(slow.env._eid)


@pytest.mark.parametrize("policy, residents, years", [("policies/workforce_rotation", 30_000, 1.0),
                                                      ("policies/workforce_pooling", 100_000, 0.3),
                                                      ("plans/qijiang_payment_first", 5_000, 4)])
def test_changing_rules_run_compiled_give_identical_tables(policy, residents, years, monkeypatch):
    """A phased plan (rotation; Qijiang's switches DRG, per diem and the global budget on in
    turn) and pooled staff change the rules and resize stations mid-run."""
    from benchmarks import bench
    config = bench.ROOT / "configs" / f"{policy}.yaml"
    scenario = bench.load(config, bench.scaled_overrides(residents, years=years))
    fast, fast_mon = _run(scenario, True, monkeypatch)
    slow, slow_mon = _run(scenario, False, monkeypatch)
    assert fast.compiled is not None and len(fast_mon.capacity_log) > 0
    for name in TABLES:
        a, b = getattr(fast_mon, name).arrays(), getattr(slow_mon, name).arrays()
        assert all(a[col].tobytes() == b[col].tobytes() for col in b), f"{policy}: {name}"
    assert next(fast.env._eid) == next(slow.env._eid)


def test_unsupported_scenarios_run_the_python_steps(monkeypatch):
    for extra in ("service.balk_queue_length=3", "simulation.sample_interval_days=0.5"):
        model, _ = _run(small_county("simulation.years=0.02", extra), True, monkeypatch)
        assert model.compiled is None, extra


def test_compiled_rules_give_the_same_bits():
    """The models/ functions the compiled path uses, compiled and as Python, on awkward values."""
    rng = np.random.default_rng(5)
    fee, cap, take, odds = (njit(f) for f in (fee_share, capped, takes, return_odds_factor))
    used_py, used_nb = [0.0] * 50, np.zeros(50)
    for _ in range(5000):
        cost, ded, rate = rng.uniform(0, 500), rng.choice([0.0, 20.0, rng.uniform(0, 600)]), rng.uniform(0, 1)
        assert fee(cost, ded, rate) == fee_share(cost, ded, rate)
        r, amount = int(rng.integers(50)), rng.uniform(0, 150)
        assert cap(amount, r, used_nb, 400.0) == capped(amount, r, used_py, 400.0)
        args = (rng.uniform(0, 12), -rng.uniform(0, 5), 10.0, -rng.uniform(0, 2), rng.uniform(0, 400),
                rng.uniform(0, 3))
        a, b = odds(*args), return_odds_factor(*args)
        assert a == b and math.isfinite(a), args
        u = rng.random()
        assert take(u, a) == takes(u, a)
    assert used_nb.tolist() == used_py


def test_compiled_incentive_rules_give_the_same_bits():
    """A departure's rule and the assessment's marginal payback, compiled (arrays) and as Python
    (tuples of counts), on random tallies around the targets."""
    from types import FunctionType

    from models.incentives import probability
    depart = njit(FunctionType(departs.__code__, {**departs.__globals__, "probability": njit(probability)}))
    payback = njit(marginal_payback)
    rng = np.random.default_rng(11)
    moves = (-1, 0, 0, -1)
    for _ in range(3000):
        u, share, gain, kappa = rng.random(), rng.random(), rng.normal(0, 300), rng.uniform(10, 1000)
        assert depart(u, share, gain, kappa) == departs(u, share, gain, kappa)
        n = int(rng.integers(0, 5000))
        tallies = (n, *(int(x) for x in rng.integers(0, n + 1, 3)))
        weights, targets = tuple(rng.choice([0.0, 0.2, 0.4], 3)), tuple(rng.uniform(0.01, 1, 3))
        withheld = rng.uniform(0, 1e6)
        assert payback(withheld, np.array(tallies, dtype=float), np.array(moves, dtype=float), np.array(weights),
                       np.array(targets), np.array(LOWER)) == marginal_payback(withheld, tallies, moves, weights,
                                                                              targets, LOWER)
    assert len(LOWER) == len(INDICATORS)


def test_normal_quantile_is_the_standard_librarys():
    """Stays are drawn by inverse CDF: the written-out quantile (compiled or not) must give
    ``NormalDist().inv_cdf``'s bits, in the centre and in both tails."""
    from statistics import NormalDist
    rng = np.random.default_rng(9)
    u = np.concatenate([rng.random(20000), rng.random(2000) * 1e-9, 1 - rng.random(2000) * 1e-9,
                        [1e-12, 1 - 1e-12, 0.5, 0.075, 0.925]]).tolist()
    compiled = njit(normal_quantile)
    inv = NormalDist().inv_cdf
    assert [normal_quantile(p) for p in u] == [inv(p) for p in u]
    assert [compiled(p) for p in u] == [inv(p) for p in u]


def test_compiled_stay_rules_give_the_same_bits():
    from types import FunctionType
    stay = njit(FunctionType(lognormal_stay.__code__, {**lognormal_stay.__globals__,
                                                       "normal_quantile": njit(normal_quantile)}))
    fee, down = njit(inpatient_fee), njit(refers_down)
    rng = np.random.default_rng(3)
    for _ in range(3000):
        mean, sigma, u = rng.uniform(0.5, 15), rng.uniform(0.05, 1.5), rng.random()
        assert stay(mean, sigma, u) == lognormal_stay(mean, sigma, u)
        args = (rng.uniform(0, 20000), rng.choice([0.0, 200.0, 1000.0]), rng.uniform(0.4, 0.95),
                rng.choice([0.0, 100.0, 300.0]), bool(rng.integers(2)))
        assert fee(*args) == inpatient_fee(*args)
        tier, p = int(rng.integers(4)), rng.random()
        assert down(tier, u, p) == refers_down(tier, u, p)


@pytest.mark.parametrize("c, reserved", [(None, 0), (1, 0), (3, 0), (4, 1), (6, 3)])
def test_banked_station_waits_equal_station(c, reserved):
    """Priority arrivals (family-doctor referrals) too: they take a reserved server freeing no
    later than the first general one."""
    rng = np.random.default_rng((c or 0) + reserved)
    plain, bank = Station(c, reserved, False), StationBank([c, 2], [reserved, 0])
    banked = bank.stations[0]
    now = 0.0
    for _ in range(3000):
        now += rng.exponential(0.3)
        duration, priority = rng.exponential(1.0), bool(rng.random() < 0.3)
        assert banked.serve(now, duration, priority) == plain.serve(now, duration, priority)
    assert banked.busy_time == plain.busy_time
    assert bank.busy[1] == 0.0


def test_banked_station_resizes_as_station():
    rng = np.random.default_rng(8)
    plain, bank = Station(4, 1, False), StationBank([4], [1])
    banked, now = bank.stations[0], 0.0
    for step in range(4000):
        now += rng.exponential(0.2)
        if step % 200 == 199:
            c = int(rng.integers(1, 9))
            r = int(rng.integers(0, c))
            plain.resize(c, r, now)
            banked.resize(c, r, now)
            continue
        duration, priority = rng.exponential(1.0), bool(rng.random() < 0.3)
        assert banked.serve(now, duration, priority) == plain.serve(now, duration, priority)


def test_first_visit_columns_match_the_record_schemas():
    from models.records import EPISODE_COLUMNS, VISIT_COLUMNS
    assert compiled_steps.VISIT_RECORD.names == tuple(VISIT_COLUMNS)
    assert compiled_steps.EPISODE_RECORD.names == tuple(EPISODE_COLUMNS)
