"""Every policy lever moves the KPIs it targets, measured as paired differences (common random
numbers) against the baseline on a small county; a lever switched off changes nothing."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import small_county

from models.levers import county_under_levers
from models.loading import county_of, load_scenario
from sim.core.stats import confidence_interval
from sim.studies.runner import multiple_replications, runs_frame

ROOT = Path(__file__).resolve().parents[1]
REPS = 4
SMALL = [
    "geography.synthetic.population=30000", "geography.synthetic.townships=5",
    "geography.synthetic.villages_per_township=4",
    "geography.synthetic.county_hospitals=[{name: G, doctors: 5, beds: 60}, {name: T, doctors: 2, beds: 20}]",
    "simulation.years=0.3", "simulation.warmup_days=10",
]


@lru_cache(maxsize=None)
def runs(config: str, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    scenario = load_scenario(ROOT / config, SMALL + list(extra))
    return runs_frame(multiple_replications(scenario, REPS, workers=2))


def paired(policy: str, kpi: str, extra: tuple[str, ...] = (), base: str = "configs/baseline.yaml",
           base_extra: tuple[str, ...] = ()) -> tuple[float, float, float]:
    d = runs(policy, extra)[kpi].to_numpy() - runs(base, base_extra)[kpi].to_numpy()
    mean, lo, hi, _ = confidence_interval(d)
    return mean, lo, hi


def assert_effect(sign: int, policy: str, kpi: str, extra: tuple[str, ...] = (), **kw) -> None:
    mean, lo, hi = paired(policy, kpi, extra, **kw)
    msg = f"{policy} {extra} on {kpi}: paired difference {mean:.4g} [{lo:.4g}, {hi:.4g}]"
    assert (lo > 0) if sign > 0 else (hi < 0), msg


CASES = [
    # lever scenario, override, KPI, expected sign
    ("configs/policies/differentiated_reimbursement.yaml", (), "primary_care_share", +1),
    ("configs/policies/differentiated_reimbursement.yaml", (), "county_visit_rate", +1),
    ("configs/policies/referral_rules.yaml", (), "downward_referrals_per_1000", +1),
    ("configs/policies/referral_rules.yaml", (), "in_county_inpatient_share", +1),
    # per stay: with demand that responds to price, cheaper stays are also declined less often, so
    # out-of-pocket per episode mixes the price cut with the extra admissions
    ("configs/baseline.yaml", ("reimbursement.continuous_deductible=true", "referral.down_prob.severe_complex=0.5"),
     "oop_per_admission", -1),
    ("configs/policies/family_doctor.yaml", (), "primary_care_share", +1),
    ("configs/policies/payment_reform.yaml", (), "downward_referrals_per_1000", +1),
    ("configs/baseline.yaml", ("payment.drg.enabled=true",), "mean_los_days", -1),
    ("configs/baseline.yaml", ("capacity.five_centres=true",), "county_visit_rate", +1),
    ("configs/policies/capacity.yaml", (), "in_county_inpatient_share", +1),
    ("configs/policies/resource_sinking.yaml", (), "primary_care_share", +1),
    ("configs/baseline.yaml", ("sinking.mobile_clinic.village_share=0.5",), "primary_care_share", +1),
    ("configs/baseline.yaml", ("information.telemedicine_share=0.5",), "upward_referrals_per_1000", -1),
    ("configs/baseline.yaml", ("information.mutual_recognition=true",), "cost_per_resident", -1),
    ("configs/baseline.yaml", ("medicines.long_prescription_weeks=12",), "visits_per_resident", -1),
    ("configs/baseline.yaml", ("medicines.drug_price_cut=0.3",), "cost_per_resident", -1),
    ("configs/baseline.yaml", ("medicines.unified_drug_list=true",), "upward_referrals_per_1000", -1),
    ("configs/policies/prices.yaml", (), "service_revenue_share", +1),
    ("configs/policies/day_surgery.yaml", (), "mean_los_days", -1),
    ("configs/policies/full_reform.yaml", (), "primary_care_share", +1),
    ("configs/policies/full_reform.yaml", (), "county_visit_rate", +1),
]


@pytest.mark.parametrize("policy,extra,kpi,sign", CASES, ids=[f"{Path(c[0]).stem}-{c[2]}" for c in CASES])
def test_lever_moves_its_kpi(policy, extra, kpi, sign):
    assert_effect(sign, policy, kpi, extra)


def test_reserved_slots_cut_waits_of_family_doctor_referrals():
    """Seed 001: reserved county slots and beds shorten waits for family-doctor referrals."""
    # priority demand below the reserved share: a fifth of residents contracted, 40 % reserved
    crowded = ("geography.synthetic.county_hospitals=[{name: G, doctors: 3, beds: 40}]",
               "family_doctor.capitation_cny=0", "family_doctor.coverage=0.2")
    with_reserve = crowded + ("family_doctor.reserved_share=0.4",)
    without = crowded + ("family_doctor.reserved_share=0",)
    for kpi in ("bed_wait_fd_referred_county_days", "wait_fd_referred_county_min"):
        assert_effect(-1, "configs/policies/family_doctor.yaml", kpi, with_reserve,
                      base="configs/policies/family_doctor.yaml", base_extra=without)


def test_family_doctor_referral_rate_reported():
    rate = runs("configs/policies/family_doctor.yaml")["family_doctor_referral_rate"]
    assert ((rate > 0) & (rate < 1)).all()
    assert runs("configs/baseline.yaml")["family_doctor_referral_rate"].isna().all()


def test_global_budget_reports_balance_and_responds():
    pol = runs("configs/policies/payment_reform.yaml")
    assert pol["budget_balance"].notna().all()
    generous = runs("configs/policies/payment_reform.yaml", ("payment.global_budget.budget_per_resident=100000",))
    assert (generous["budget_balance"] > 0).all() and (generous["surplus_retained"] > 0).all()
    tight = ("payment.global_budget.budget_per_resident=500", "payment.drg.enabled=false",
             "payment.same_payment.conditions=[]")
    assert_effect(+1, "configs/policies/payment_reform.yaml", "downward_referrals_per_1000", tight,
                  base="configs/policies/payment_reform.yaml",
                  base_extra=("payment.global_budget.enabled=false", "payment.drg.enabled=false",
                              "payment.same_payment.conditions=[]"))


OFF = (
    "family_doctor={coverage: 0.0, reserved_share: 0.0, capitation_cny: 0}",
    "payment={global_budget: {enabled: false}, drg: {enabled: false}, same_payment: {conditions: []}}",
    "capacity={five_centres: false, township_upgrade: {share: 0}}",
    "sinking={stationed_physicians: {per_township: 0}, mobile_clinic: {village_share: 0}, village_integration: false}",
    "information={telemedicine_share: 0, mutual_recognition: false}",
    "medicines={unified_drug_list: false, long_prescription_weeks: 4, drug_price_cut: 0}",
    "prices={service_price_change: 0, test_price_change: 0, same_county_same_price: false}",
    "day_surgery={share: 0}", "reimbursement.continuous_deductible=false",
    "workforce.pooling.enabled=false", "salary.performance_pay_share=0",
)


def test_levers_switched_off_are_bit_identical_to_baseline():
    base = runs("configs/baseline.yaml")
    off = runs("configs/baseline.yaml", OFF)
    pd.testing.assert_frame_equal(base, off, check_exact=True)
    on = runs("configs/baseline.yaml", ("day_surgery.share=0.01",))
    assert not base.equals(on)


def test_every_lever_scenario_extends_the_baseline_and_is_documented():
    levers = (ROOT / "docs" / "levers.md").read_text(encoding="utf-8")
    for path in sorted((ROOT / "configs" / "policies").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")  # the baseline, or the real-roster county it is written for
        assert "extends: ../baseline.yaml" in text or "extends: ../huairou.yaml" in text, path
        assert path.name in levers, f"{path.name} missing from docs/levers.md"
    assert np.isfinite(runs("configs/policies/full_reform.yaml")["primary_care_share"]).all()


@pytest.mark.parametrize("per_township, per_room, hospital, centre", [
    (2, 7, 2, 4),  # 6 physicians at 3 centres: round(6 / 7) = 1 of the hospital's 3 rooms closes
    (1, 7, 3, 3),  # round(3 / 7) = 0: the hospital keeps its rooms
    (2, 1, 1, 4),  # a room per physician: 6 would close, capped to leave the hospital 1
    (5, 3, 1, 7),  # round(15 / 3) = 5, capped the same way
])
def test_stationed_physicians_staff_a_room_each_and_close_the_rooms_they_stand_for(per_township, per_room,
                                                                                 hospital, centre):
    """下沉: each stationed physician staffs an outpatient room at a township centre; the lead county
    hospital closes 1/``county_physicians_per_room`` of a room for each (small county: 3 centres
    of 2 rooms, one county hospital of 3)."""
    s = small_county(f"sinking.stationed_physicians.per_township={per_township}",
                     f"geography.county_physicians_per_room={per_room}")
    before, after = county_of(s), county_under_levers(s, county_of(s))
    names = list(before.fac_names)
    assert after.fac_doctors[names.index("County Hospital")] == hospital
    for t in ("T01", "T02", "T03"):
        f = names.index(f"{t} health centre")
        assert (before.fac_doctors[f], after.fac_doctors[f]) == (2, centre)
