"""Issue test 6: reimbursement arithmetic against hand-computed cases, and the engine's use of it.

Tiers: 0 village, 1 township, 2 county, 3 outside.  Schedule used below (CNY):
  village   outpatient 60 % above 10,  inpatient 90 % above 100
  township  outpatient 50 % above 0,   inpatient 85 % above 200
  county    outpatient 30 % above 0,   inpatient 80 % above 300
  outside   outpatient 20 % above 0,   inpatient 65 % above 500     (referred)
  outside_unreferred  outpatient 5 % above 0, inpatient 40 % above 1000  (self-referred)
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import small_county

from models.geography import build_county
from models.reimbursement import Reimbursement
from models.scenario import ReimbursementSpec, TierReimbursement
from models.tiers import TIERS
from sim.studies.runner import single_run

VILLAGE, TOWNSHIP, COUNTY, OUTSIDE = (TIERS.index(t) for t in ("village", "township", "county", "outside"))


def _spec(cap_out=None, cap_in=None, **options) -> ReimbursementSpec:
    t = TierReimbursement
    return ReimbursementSpec(**options,
        village=t(outpatient_rate=0.6, outpatient_deductible=10, inpatient_rate=0.9, inpatient_deductible=100),
        township=t(outpatient_rate=0.5, inpatient_rate=0.85, inpatient_deductible=200),
        county=t(outpatient_rate=0.3, inpatient_rate=0.8, inpatient_deductible=300),
        outside=t(outpatient_rate=0.2, inpatient_rate=0.65, inpatient_deductible=500),
        outside_unreferred=t(outpatient_rate=0.05, inpatient_rate=0.4, inpatient_deductible=1000),
        annual_cap_outpatient=cap_out, annual_cap_inpatient=cap_in)


def test_outpatient_deductible_and_rate():
    pay = Reimbursement(_spec(), n_residents=3)
    assert pay.outpatient(VILLAGE, 50.0, 0, False) == pytest.approx((50 - 10) * 0.6)  # 24
    assert pay.outpatient(VILLAGE, 8.0, 0, False) == 0.0  # below the deductible
    assert pay.outpatient(VILLAGE, 10.0, 0, False) == 0.0  # exactly the deductible
    assert pay.outpatient(TOWNSHIP, 85.0, 0, False) == pytest.approx(42.5)
    assert pay.outpatient(COUNTY, 219.0, 0, True) == pytest.approx(65.7)
    # the referral flag matters only out of county
    assert pay.outpatient(COUNTY, 219.0, 1, False) == pay.outpatient(COUNTY, 219.0, 1, True)


def test_inpatient_deductible_and_rate():
    pay = Reimbursement(_spec(), n_residents=3)
    fund, oop, ded = pay.inpatient(COUNTY, 6000.0, 0, True)
    assert fund == pytest.approx((6000 - 300) * 0.8)  # 4560
    assert oop == pytest.approx(6000 - 4560)
    assert ded == pytest.approx(300)
    fund, oop, _ = pay.inpatient(TOWNSHIP, 150.0, 0, False)  # stay cheaper than the deductible
    assert fund == 0.0 and oop == pytest.approx(150.0)


def test_unreferred_out_of_county_paid_less():
    pay = Reimbursement(_spec(), n_residents=2)
    assert pay.outpatient(OUTSIDE, 354.0, 0, True) == pytest.approx(354 * 0.2)  # 70.8
    assert pay.outpatient(OUTSIDE, 354.0, 0, False) == pytest.approx(354 * 0.05)  # 17.7
    referred = pay.inpatient(OUTSIDE, 12000.0, 1, True)[0]
    unreferred = pay.inpatient(OUTSIDE, 12000.0, 1, False)[0]
    assert referred == pytest.approx((12000 - 500) * 0.65)  # 7475
    assert unreferred == pytest.approx((12000 - 1000) * 0.4)  # 4400


def test_annual_outpatient_cap_per_resident_and_new_year():
    pay = Reimbursement(_spec(cap_out=100.0), n_residents=3)
    # resident 0: 75 + 75 would be 150; the second visit crosses the cap of 100 and gets 25
    assert pay.outpatient(TOWNSHIP, 150.0, 0, False) == pytest.approx(75.0)
    assert pay.outpatient(TOWNSHIP, 150.0, 0, False) == pytest.approx(25.0)
    assert pay.outpatient(TOWNSHIP, 150.0, 0, False) == 0.0  # cap exhausted
    # the cap is per resident: resident 1 is untouched
    assert pay.outpatient(TOWNSHIP, 150.0, 1, False) == pytest.approx(75.0)
    # the outpatient cap does not limit inpatient payments
    assert pay.inpatient(COUNTY, 1300.0, 0, True)[0] == pytest.approx(800.0)
    pay.new_year()
    assert pay.outpatient(TOWNSHIP, 150.0, 0, False) == pytest.approx(75.0)
    assert pay.outpatient(TOWNSHIP, 100.0, 1, False) == pytest.approx(50.0)


def test_annual_inpatient_cap_two_admissions():
    pay = Reimbursement(_spec(cap_in=5000.0), n_residents=2)
    first, oop1, _ = pay.inpatient(COUNTY, 4300.0, 0, True)  # (4300 - 300) * 0.8 = 3200
    second, oop2, _ = pay.inpatient(COUNTY, 4300.0, 0, True)  # would be 3200, only 1800 left
    assert first == pytest.approx(3200.0)
    assert second == pytest.approx(1800.0)
    assert oop2 == pytest.approx(4300.0 - 1800.0)  # the patient pays what the cap cuts
    assert pay.inpatient(COUNTY, 4300.0, 0, True)[0] == 0.0
    assert pay.inpatient(COUNTY, 4300.0, 1, True)[0] == pytest.approx(3200.0)
    pay.new_year()
    assert pay.inpatient(COUNTY, 4300.0, 0, True)[0] == pytest.approx(3200.0)


def test_no_cap_means_unlimited():
    pay = Reimbursement(_spec(), n_residents=1)
    total = sum(pay.outpatient(TOWNSHIP, 1000.0, 0, False) for _ in range(50))
    assert total == pytest.approx(50 * 500.0)


def test_expected_oop_for_choice():
    pay = Reimbursement(_spec(), n_residents=1)
    visit, stay, p = np.array([100.0]), np.array([5000.0]), np.array([0.2])
    # outside, not referred: 100 - 5 + 0.2 * (5000 - (5000 - 1000) * 0.4) = 95 + 0.2 * 3400
    assert pay.expected_oop(OUTSIDE, visit, stay, p, referred=False)[0] == pytest.approx(95 + 0.2 * 3400)
    assert pay.expected_oop(VILLAGE, visit, stay, p, referred=False)[0] == pytest.approx(
        100 - 54 + 0.2 * (5000 - 4900 * 0.9))


def _yearly() -> Reimbursement:
    """Beijing-like yearly deductibles (年度门诊起付线): 100 for primary care, 550 for hospitals."""
    t = TierReimbursement
    primary = t(outpatient_rate=0.55, outpatient_deductible=100, inpatient_rate=0.8, inpatient_deductible=300)
    hospital = t(outpatient_rate=0.5, outpatient_deductible=550, inpatient_rate=0.75, inpatient_deductible=1300)
    spec = ReimbursementSpec(village=primary, township=primary, county=hospital, outside=hospital,
                             outside_unreferred=hospital, outpatient_deductible_per="year", annual_cap_outpatient=500)
    return Reimbursement(spec, n_residents=2)


def test_yearly_outpatient_deductible_is_paid_once_per_level_and_year():
    pay = _yearly()
    # primary care: 40 + 40 go to the deductible, the third visit pays 20 more of it: (40 - 20) * 0.55
    assert [pay.outpatient(VILLAGE, 40.0, 0, False) for _ in range(2)] == [0.0, 0.0]
    assert pay.outpatient(TOWNSHIP, 40.0, 0, False) == pytest.approx(11.0)  # village and township share it
    assert pay.outpatient(VILLAGE, 40.0, 0, False) == pytest.approx(22.0)  # met: 40 * 0.55
    # hospitals have their own deductible, untouched by primary care: 300 + 300 → 0, then (300 - 250) * 0.5
    assert pay.outpatient(COUNTY, 300.0, 0, True) == 0.0
    assert pay.outpatient(OUTSIDE, 300.0, 0, False) == pytest.approx(25.0)
    assert pay.outpatient(TOWNSHIP, 40.0, 1, False) == 0.0  # another resident starts from nothing
    assert pay.deductible_due(np.array([0, 1])).tolist() == [[False, False], [True, True]]
    pay.new_year()
    assert pay.outpatient(VILLAGE, 40.0, 0, False) == 0.0
    assert pay.deductible_due(np.array([0])).tolist() == [[True, True]]


def test_yearly_deductible_carries_over_a_mid_year_rule_change_and_counts_before_the_cap():
    old = _yearly()
    old.outpatient(COUNTY, 600.0, 0, True)  # deductible met, (600 - 550) * 0.5 = 25 of the 500 cap
    new = _yearly()
    new.carry_usage(old)
    assert new.outpatient(COUNTY, 600.0, 0, True) == pytest.approx(300.0)  # 600 * 0.5
    assert new.outpatient(COUNTY, 600.0, 0, True) == pytest.approx(175.0)  # 500 - 25 - 300 left in the cap
    # what patients weigh: the visit's price with the deductible met, or with all of it still due
    visit, stay, p = np.array([40.0]), np.array([0.0]), np.array([0.0])
    assert new.expected_oop(VILLAGE, visit, stay, p, referred=False)[0] == pytest.approx(40 * 0.45)
    assert new.expected_oop(VILLAGE, visit, stay, p, referred=False, deductible_due=True)[0] == pytest.approx(40.0)


def test_engine_fund_payments_follow_schedule():
    """Every visit and stay in a run is paid by the schedule above (no caps), with the outside
    row chosen by the logged referral flag."""
    s = small_county("simulation.years=0.1", "reimbursement.annual_cap_outpatient=null",
                     "reimbursement.annual_cap_inpatient=null",
                     "reimbursement.village.outpatient_deductible=10", "reimbursement.outside.outpatient_rate=0.2",
                     "reimbursement.outside_unreferred.outpatient_rate=0.05")
    r = single_run(s, 0, keep_logs=True)
    spec = s.reimbursement
    rows = [spec.tier(t) for t in TIERS] + [spec.outside_unreferred]
    out_rate = np.array([x.outpatient_rate for x in rows])
    out_ded = np.array([x.outpatient_deductible for x in rows])
    in_rate = np.array([x.inpatient_rate for x in rows])
    in_ded = np.array([x.inpatient_deductible for x in rows])
    tier_of = build_county(s.geography).fac_tier

    v = r.logs["visits"]
    t = tier_of[v["fac"]]
    row = np.where((t == OUTSIDE) & (v["referred_in"] == 0), len(TIERS), t)
    expected = np.maximum(v["cost"].astype(float) - out_ded[row], 0) * out_rate[row]
    np.testing.assert_allclose(v["fund"], expected, rtol=1e-5, atol=1e-3)
    assert ((t == OUTSIDE) & (v["referred_in"] == 0)).any() and ((t == OUTSIDE) & (v["referred_in"] == 1)).any()

    st = r.logs["stays"]
    ts = tier_of[st["fac"]]
    row = np.where((ts == OUTSIDE) & (st["referred"] == 0), len(TIERS), ts)
    expected = np.maximum(st["cost"].astype(float) - in_ded[row], 0) * in_rate[row]
    np.testing.assert_allclose(st["fund"], expected, rtol=1e-5, atol=1e-2)


def test_capitated_visit_leaves_the_annual_cap_untouched():
    """按人头付费: capitation already pays for a contracted resident's primary-care visit, so the
    fund pays no fee and the resident's annual outpatient cap is not charged (it used to be)."""
    from models.care import Care
    from models.episode import Episode, case_key
    from models.loading import county_of

    s = small_county("family_doctor.coverage=1.0", "family_doctor.capitation_cny=60",
                     "reimbursement.annual_cap_outpatient=400")
    care = Care(s, county_of(s))
    township = int(np.flatnonzero(care.county.fac_tier == TOWNSHIP)[0])
    county = int(np.flatnonzero(care.county.fac_tier == COUNTY)[0])
    draws = np.full((1, 10), 0.5)

    def visit(resident: int, fac: int) -> tuple[float, float, float]:
        ep = Episode(0.0, 0, 0, 0, 0, case_key(0, 0, 0), resident, fac, draws, draws, 0, True)
        cost, fund, oop, *_ = care.consult(ep, fac, 0.0)
        return cost, fund, oop

    cost, fund, oop = visit(7, township)
    assert care.pay.outpatient_fee(TOWNSHIP, cost, False) > 0  # a fee the fund would otherwise pay
    assert fund == 0.0 and care.pay._used_out[7] == 0.0
    assert oop == pytest.approx(cost - care.pay.outpatient_fee(TOWNSHIP, cost, False))  # the usual share
    cost, fund, oop = visit(7, county)  # not capitated: paid and charged against the cap
    assert fund > 0 and care.pay._used_out[7] == pytest.approx(fund)
