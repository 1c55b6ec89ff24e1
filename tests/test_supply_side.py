"""The supply side of the Huairou roster: per-facility capability, a baseline without run-away
queues, a budget-neutral price schedule (seed 003) and fund accounts by medical community."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import small_county

from models.care import Care
from models.loading import county_of, load_scenario
from models.volumes import price_raise_scale
from sim.core.config_files import ConfigError
from sim.studies.runner import single_run

ROOT = Path(__file__).resolve().parents[1]
HUAIROU = ROOT / "configs" / "huairou.yaml"
PRICES = ROOT / "configs" / "policies" / "huairou_prices.yaml"


@lru_cache(maxsize=None)
def huairou_half_year():
    return single_run(load_scenario(HUAIROU, ["simulation.years=0.5", "simulation.warmup_days=20"]), 0,
                      keep_logs=True)


def test_huairou_baseline_has_no_run_away_queue_and_no_full_hospital():
    """Second-half mean wait ≤ 1.5 × first-half mean at every facility (plus one minute, or 0.1 day
    for beds, so that waits of a few seconds do not count as growth); occupancy ≤ 95 %."""
    r = huairou_half_year()
    fm = r.facility_monthly
    half = fm.month.max() // 2 + 1
    for col, slack in (("mean_wait_min", 1.0), ("mean_bed_wait_days", 0.1)):
        first = fm[fm.month < half].groupby("facility")[col].mean().fillna(0)
        second = fm[fm.month >= half].groupby("facility")[col].mean().fillna(0)
        growing = second[second > 1.5 * first + slack]
        assert growing.empty, f"{col} grows at {growing.to_dict()} (first half {first[growing.index].to_dict()})"
    hospitals = r.facilities[r.facilities.beds > 0]
    assert (hospitals.bed_occupancy <= 0.95).all(), hospitals[["facility", "bed_occupancy"]].to_string()


def test_huairou_pays_by_beijing_resident_schedule_as_shipped():
    """configs/huairou.yaml carries the rows of docs/sources/data/reimbursement_beijing_resident.csv:
    stations and CHCs at level 1, district hospitals at level 2, central Beijing at level 3."""
    rows = pd.read_csv(ROOT / "docs" / "sources" / "data" / "reimbursement_beijing_resident.csv")
    level = {(r.setting, r.level.split(" (")[0]): r for r in rows.itertuples()}
    pay = load_scenario(HUAIROU).reimbursement
    assert pay.outpatient_deductible_per == "year"
    for tier, out, inp in (("village", "level 1 and below", "level 1"), ("township", "level 1 and below", "level 1"),
                           ("county", "level 2 and 3", "level 2"), ("outside", "level 2 and 3", "level 3"),
                           ("outside_unreferred", "level 2 and 3", "level 3")):
        t, o, i = pay.tier(tier), level["outpatient", out], level["inpatient", inp]
        assert (t.outpatient_rate, t.outpatient_deductible) == (o.rate, o.deductible_cny), tier
        assert (t.inpatient_rate, t.inpatient_deductible) == (i.rate, i.deductible_cny), tier
    assert pay.annual_cap_outpatient == level["outpatient", "level 1 and below"].annual_fund_limit_cny
    assert pay.annual_cap_inpatient == level["inpatient", "level 1"].annual_fund_limit_cny


def test_a_yearly_deductible_still_due_turns_patients_from_that_level_of_care():
    """Spot price (assumed): while a resident's primary-care deductible is due, primary options lose
    utility and hospitals none; with the deductible met the choice is the calibrated one."""
    scenario = load_scenario(HUAIROU)
    care = Care(scenario, county_of(scenario))
    tiers = care.county.fac_tier[care.choice.choice_set]  # (V, K)
    primary = (tiers <= 1) & care.choice.valid
    v = np.arange(len(tiers))
    cond = np.zeros(len(v), dtype=np.int64)
    gap = care.choice.deductible_utility(v, cond, cond, np.tile([True, False], (len(v), 1)))
    assert (gap[~primary] == 0).all() and (gap[primary] < 0).all()
    hospital_gap = care.choice.deductible_utility(v, cond, cond, np.tile([False, True], (len(v), 1)))
    assert (hospital_gap[primary] == 0).all() and (hospital_gap[~primary & care.choice.valid] < 0).all()


def test_huairou_primary_share_stays_at_its_beijing_calibration():
    """experiments/calibrate_huairou.yaml fits one constant to Beijing's primary-care share; a model
    change that moves Huairou off it by more than 1.5 target sd must recalibrate (or say why)."""
    target = pd.read_csv(ROOT / "experiments" / "huairou_targets.csv").set_index("kpi").loc["primary_care_share"]
    assert abs(huairou_half_year().kpis["primary_care_share"] - target.value) <= 1.5 * target.sd


def test_specialty_hospitals_treat_only_their_lines():
    r = huairou_half_year()
    county = county_of(load_scenario(HUAIROU))
    names = list(load_scenario(HUAIROU).conditions)
    ep = r.logs["episodes"]
    for hospital, line in (("Jingbei Jianyong Dental Hospital", "dental"), ("Huairou Anjia Hospital", "mental_health")):
        f = county.fac_names.index(hospital)
        seen = (ep["first"] == f) | (ep["final"] == f)
        assert seen.sum() > 0 and (ep["condition"][seen] == names.index(line)).all(), hospital
        assert r.facilities.set_index("facility").loc[hospital, "admissions"] > 0


def test_unknown_facility_in_capability_is_a_clear_error():
    with pytest.raises(ConfigError) as e:
        load_scenario(HUAIROU, ["capability.facilities={Nowhere Hospital: {lines: [dental]}}"])
    assert "capability.facilities.Nowhere Hospital" in str(e.value) and "huairou.yaml" in str(e.value)


def test_budget_neutral_price_schedule_keeps_cost_at_baseline_volumes():
    """With price responses switched off (facility choice, care-seeking, accepting a bed) the schedule cannot move volumes, so
    common random numbers give the baseline's volumes; total cost per resident must then be equal
    within 0.5 % while the service-revenue share rises (结构调整)."""
    over = ["simulation.years=0.2", "simulation.warmup_days=10", "choice.beta_log_oop=0",
            "choice.beta_log_stay_oop=0", "care_seeking.admission_beta_log_oop=0"]
    base, policy = load_scenario(HUAIROU, over), load_scenario(PRICES, over)
    a, b = single_run(base, 0), single_run(policy, 0)
    assert a.kpis["visits"] == b.kpis["visits"] and a.kpis["admissions"] == b.kpis["admissions"]
    assert abs(b.kpis["cost_per_resident"] / a.kpis["cost_per_resident"] - 1) < 0.005
    assert b.kpis["service_revenue_share"] > a.kpis["service_revenue_share"] + 0.01
    scale = price_raise_scale(policy, county_of(policy))
    assert scale != pytest.approx(1.0, abs=0.05)  # neutrality did work: the raises were rescaled


def test_community_fund_balances_add_up_to_the_county():
    s = small_county("payment.global_budget.enabled=true",
                     "geography.communities={A: {townships: [T01, T02]}, B: {townships: [T03], "
                     "facilities: [County Hospital]}}")
    r = single_run(s, 0)
    by_year = r.community_budget.groupby("year")
    assert set(r.community_budget.community) == {"A", "B"}
    np.testing.assert_allclose(by_year.balance.sum().to_numpy(), r.yearly.budget_balance.to_numpy(), rtol=1e-9)
    assert (r.communities.visits > 0).all() and r.communities.visits.sum() == r.kpis["visits"]
    assert ((r.communities.cross_community_share > 0) & (r.communities.cross_community_share < 1)).all()


def test_communities_must_cover_every_township():
    with pytest.raises(ConfigError) as e:
        small_county("geography.communities={A: {townships: [T01]}}")
    assert "geography.communities" in str(e.value) and "T02" in str(e.value)
