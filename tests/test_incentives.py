"""Issue 11: the fund and the providers respond to incentives.

Paired runs with common random numbers on the small test county; the community's books
(carry-over, assessment, DIP settlement) against hand-computed cases.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from conftest import small_county

from models.care import Care
from models.community import Community, indicator_score
from models.episode import case_key
from models.incentives import COUNTY, TOWNSHIP
from models.levers.payment import PaymentSpec
from models.loading import county_of
from models.tiers import TIERS
from sim.core.config_files import ConfigError
from sim.core.stats import confidence_interval
from sim.studies.runner import multiple_replications, runs_frame, single_run

REPS = 4
GENEROUS = "payment.global_budget={enabled: true, budget_per_resident: 100000, surplus_retained: %s}"


@lru_cache(maxsize=None)
def runs(*overrides: str) -> pd.DataFrame:
    return runs_frame(multiple_replications(small_county(*overrides), REPS, workers=2))


def paired(kpi: str, a: tuple[str, ...], b: tuple[str, ...]) -> tuple[float, float, float]:
    mean, lo, hi, _ = confidence_interval(runs(*a)[kpi].to_numpy() - runs(*b)[kpi].to_numpy())
    return mean, lo, hi


def assert_sign(sign: int, kpi: str, a: tuple[str, ...], b: tuple[str, ...]) -> None:
    mean, lo, hi = paired(kpi, a, b)
    assert (lo > 0) if sign > 0 else (hi < 0), f"{kpi}: {a} − {b} = {mean:.4g} [{lo:.4g}, {hi:.4g}]"


# ---------------------------------------------------------------------- the community's stake
@pytest.mark.parametrize("kpi,sign", [("in_county_inpatient_share", +1), ("downward_referrals_per_1000", +1),
                                      ("mean_los_days", -1), ("fund_per_resident", -1)])
def test_retained_surplus_moves_the_community(kpi, sign):
    """With the budget on and a surplus, keeping all of it (stake 1) rather than none (stake 0)
    keeps more referrals in the county, steps more patients down, shortens stays and saves fund."""
    assert_sign(sign, kpi, (GENEROUS % 1.0,), (GENEROUS % 0.0,))


def test_with_the_budget_off_retention_changes_nothing():
    off = "payment.global_budget={enabled: false, surplus_retained: %s, overspend_shared: %s}"
    a, b = runs(off % (1.0, 1.0), "payment.assessment.enabled=true"), runs(off % (0.0, 0.0))
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(a, runs(), check_exact=True)
    with_stake = runs(GENEROUS % 0.0)  # budget on, no stake while in surplus: behaviour as without a budget
    for kpi in ("in_county_inpatient_share", "downward_referrals_per_1000", "mean_los_days", "visits_per_resident"):
        assert with_stake[kpi].equals(a[kpi]), kpi


def test_capitation_changes_family_doctor_referrals():
    """按人头包干: a capitated team keeps what its residents' referrals do not cost, so it refers up less."""
    fd = ("family_doctor.coverage=0.6",)
    assert_sign(-1, "family_doctor_referrals_per_1000", fd + ("family_doctor.capitation_cny=60",),
                fd + ("family_doctor.capitation_cny=0",))
    no_risk = fd + ("family_doctor.capitation_cny=60", "family_doctor.referral_risk_share=0")
    assert_sign(-1, "family_doctor_referrals_per_1000", fd + ("family_doctor.capitation_cny=60",), no_risk)


def test_per_diem_above_the_fee_lengthens_rehabilitation():
    """按床日: a per-diem above the fee-for-service fund payment per day makes each township day
    pay: rehabilitation stays lengthen, and stepping county patients down early pays too."""
    down = ("referral.down_prob={severe_complex: 0.5, emergency: 0.5, moderate_acute: 0.3}",)
    per_diem = ("payment.per_diem={enabled: true, cny_per_day: 1000}",)
    routine_only = ("payment.response.step_down_eligible_share=0",)  # rehabilitation stays of routine length
    assert_sign(+1, "rehab_los_days", down + routine_only + per_diem, down + routine_only)
    assert_sign(+1, "downward_referrals_per_1000", down + per_diem, down)


def test_case_payment_share_and_shorter_stays_under_drg():
    drg = ("payment.drg.enabled=true",)
    share = runs(*drg)["case_payment_fund_share"]
    assert ((share > 0) & (share < 1)).all() and (runs()["case_payment_fund_share"] == 0).all()
    assert_sign(-1, "mean_los_days", drg, ())


# ---------------------------------------------------------------------- DIP points
def test_dip_point_price_falls_when_volume_rises():
    """Fixed DIP budget, 40 % more illness from the second year: more points, a lower price."""
    base = ("simulation.years=2", "simulation.start_year=2024", "simulation.warmup_days=0", "geography.synthetic.population=6000",
            "payment.dip={enabled: true, budget_per_resident: 600}")
    grow = base + ("schedule={2025: {conditions.severe_complex.incidence: 0.42, conditions.moderate_acute.incidence: "
                   "1.26, conditions.emergency.incidence: 0.07, conditions.minor_acute.incidence: 3.5, "
                   "conditions.chronic_followup.incidence: 2.66}}",)
    for reps in range(2):
        steady = single_run(small_county(*base), reps).yearly
        grown = single_run(small_county(*grow), reps).yearly
        assert grown["dip_points"].iloc[1] > steady["dip_points"].iloc[1]
        assert grown["dip_point_price"].iloc[1] < steady["dip_point_price"].iloc[1]
        assert grown["dip_point_price"].iloc[1] < grown["dip_point_price"].iloc[0]
        pop = 6000
        for y in grown.itertuples():  # price = DIP budget ÷ points claimed
            assert y.dip_point_price == pytest.approx(600 * pop / y.dip_points, rel=1e-9)


def test_dip_settlement_balances_to_the_budget():
    """Provisional payments plus the year-end settlement add up to the DIP budget."""
    s = small_county("simulation.years=1", "simulation.warmup_days=0", "geography.synthetic.population=6000",
                     "payment.dip={enabled: true, budget_per_resident: 600, point_cny: 10}")
    r = single_run(s, 0, keep_logs=True)
    st, tr = r.logs["stays"], r.logs["transfers"]
    county = r_tiers(s) == TIERS.index("county")
    dip_paid = st["fund"][(st["payment"] == 1) & county[st["fac"]]].sum()
    settled = tr["fund"][county[tr["fac"]]].sum()
    assert dip_paid + settled == pytest.approx(600 * 6000, rel=1e-5)


def r_tiers(scenario) -> np.ndarray:
    return county_of(scenario).fac_tier


# ---------------------------------------------------------------------- the books, by hand
def _spec(**kw) -> PaymentSpec:
    gb = {"enabled": True, "budget_per_resident": 100.0, "surplus_retained": 0.6, "overspend_shared": 0.4,
          "opening_reserve": 50.0}
    gb.update(kw.pop("global_budget", {}))
    return PaymentSpec(global_budget=gb, **kw)


def test_budget_carry_over_by_hand():
    c = Community(_spec(), population=10)  # budget 1000 a year
    c.start_year(0, 360, 360)
    c.spend(700.0)
    c.close_year()
    y0 = c.years[0]
    assert (y0.balance, y0.retained, y0.borne, y0.closing_reserve) == (300.0, pytest.approx(180.0), 0.0,
                                                                        pytest.approx(230.0))
    c.start_year(1, 180, 360)  # a half year: half the budget; opens with last year's reserve
    c.spend(800.0)
    c.close_year()
    y1 = c.years[1]
    assert y1.budget == 500.0 and y1.opening_reserve == pytest.approx(230.0)
    assert y1.balance == -300.0 and y1.borne == pytest.approx(120.0) and y1.retained == 0.0
    assert y1.closing_reserve == pytest.approx(110.0)
    rows = c.table()
    assert [r["reserve_opening"] for r in rows] == [50.0, pytest.approx(230.0)]


def test_stake_follows_the_projected_balance():
    c = Community(_spec(), population=10)
    c.start_year(0, 100, 100)
    assert c.stake == 0.6
    c.spend(400.0)
    c.update(50)  # on course for 800 of 1000
    assert c.stake == 0.6
    c.spend(200.0)
    c.update(50)  # on course for 1200
    assert c.stake == 0.4
    off = Community(_spec(global_budget={"enabled": False}), population=10)
    off.start_year(0, 100, 100)
    off.update(50)
    assert off.stake == 0.0


def test_assessment_score_and_payback_by_hand():
    spec = _spec(assessment={"enabled": True, "withheld_share": 0.1,
                             "county_visit_rate": {"target": 0.9, "weight": 2},
                             "primary_care_share": {"target": 0.5, "weight": 1},
                             "upward_referral_rate": {"target": 0.05, "weight": 1}})
    c = Community(spec, population=10)
    c.start_year(0, 360, 360)
    for in_county, primary, up in [(True, True, False)] * 50 + [(True, False, True)] * 22 + [(False, False, False)] * 28:
        c.count_visit(in_county, primary, up)
    c.spend(900.0)
    c.close_year()
    y = c.years[0]
    # county visit rate 0.72 → 0.8; primary share 0.5 → 1; referral rate 0.22 (target 0.05) → 0.05/0.22
    score = (2 * 0.72 / 0.9 + 1 * 1.0 + 1 * 0.05 / 0.22) / 4
    assert y.score == pytest.approx(score)
    assert y.withheld == pytest.approx(100.0) and y.paid_back == pytest.approx(100.0 * score)
    assert y.balance == pytest.approx(1000 - 100 + 100 * score - 900)
    assert indicator_score("upward_referral_rate", 0.01, 0.05) == 1.0
    assert indicator_score("county_visit_rate", math.nan, 0.9) == 0.0


def test_assessment_in_a_run_matches_the_visit_log():
    s = small_county("simulation.years=1", "geography.synthetic.population=6000",
                     "payment.global_budget={enabled: true, budget_per_resident: 2000}",
                     "payment.assessment={enabled: true, withheld_share: 0.05}")
    r = single_run(s, 0, keep_logs=True)
    v = r.logs["visits"]
    tiers = r_tiers(s)
    warm = s.simulation.warmup_days
    inside = (v["time"] >= warm) & (v["time"] < warm + s.simulation.days_per_year)
    t = tiers[v["fac"][inside]]
    n = inside.sum()
    cvr, primary = (t != TIERS.index("outside")).sum() / n, (t <= TIERS.index("township")).sum() / n
    up = v["referred_out"][inside].sum() / n
    score = (0.4 * min(cvr / 0.9, 1) + 0.4 * min(primary / 0.65, 1) + 0.2 * min(0.03 / up, 1)) / 1.0
    y = r.yearly.iloc[0]
    assert y["assessment_score"] == pytest.approx(score, rel=1e-12)
    assert y["county_visit_rate"] == pytest.approx(cvr, rel=1e-12)
    budget = 2000 * 6000
    assert y["assessment_withheld"] == pytest.approx(0.05 * budget)
    assert y["assessment_paid_back"] == pytest.approx(0.05 * budget * score)
    assert y["budget_balance"] == pytest.approx(budget * 0.95 + y["assessment_paid_back"] - y["budget_spent"])


def test_multi_year_books_carry_over_in_a_run():
    s = small_county("simulation.years=2", "simulation.warmup_days=0", "geography.synthetic.population=4000",
                     "payment.global_budget={enabled: true, budget_per_resident: 1500, opening_reserve: 1000}")
    y = single_run(s, 0).yearly
    assert y["reserve_opening"].iloc[0] == 1000
    assert y["reserve_opening"].iloc[1] == y["reserve_closing"].iloc[0]
    for row in y.itertuples():
        assert row.budget_balance == pytest.approx(row.fund_budget - row.budget_spent)
        assert row.surplus_retained == pytest.approx(0.6 * max(row.budget_balance, 0))
        assert row.overspend_borne == pytest.approx(0.4 * max(-row.budget_balance, 0))
        assert row.reserve_closing == pytest.approx(row.reserve_opening + row.surplus_retained - row.overspend_borne)


# ---------------------------------------------------------------------- configuration
@pytest.mark.parametrize("overrides,words", [
    (("payment.global_budget.responsiveness=2",), "'responsiveness' was removed"),
    (("payment.same_payment.downshift_prob=0.5",), "'downshift_prob' was removed"),
    (("payment.drg.los_reduction=0.1",), "'los_reduction' was removed"),
    (("payment.drg.enabled=true", "payment.dip.enabled=true"), "not both"),
])
def test_payment_config_errors_say_what_to_do(overrides, words):
    with pytest.raises(ConfigError) as info:
        small_county(*overrides)
    assert words in str(info.value)


# ---------------------------------------------------------------------- chronic follow-ups under capitation
FOLLOWUPS = ("family_doctor.coverage=0.6", "provider_demand={followups_per_year: 4, chronic_share: 0.2}")


@lru_cache(maxsize=None)
def logged_runs(*overrides: str) -> tuple:
    s = small_county(*overrides)
    return s, tuple(single_run(s, rep, keep_logs=True).logs for rep in range(REPS))


def chronic_contacts(*overrides: str) -> np.ndarray:
    """Per replication: contracted residents' episodes of the follow-up condition after the
    warm-up (scheduled follow-ups plus their own chronic visits, which are common to both arms)."""
    s, logs = logged_runs(*FOLLOWUPS, *overrides)
    chronic = list(s.conditions).index(s.provider_demand.followup_condition)
    return np.array([((ep["condition"] == chronic) & ep["contracted"] & (ep["time"] >= s.simulation.warmup_days)).sum()
                     for ep in (log["episodes"] for log in logs)], dtype=float)


def county_acute_admissions(*overrides: str) -> np.ndarray:
    """Per replication: acute stays begun at county hospitals after the warm-up (no rehabilitation)."""
    s, logs = logged_runs(*overrides)
    county = r_tiers(s) == TIERS.index("county")
    return np.array([(county[st["fac"]] & (st["down"] == 0) & (st["time"] >= s.simulation.warmup_days)).sum()
                     for st in (log["stays"] for log in logs)], dtype=float)


def paired_counts(a: tuple[str, ...], b: tuple[str, ...], count=chronic_contacts) -> tuple[float, float, float]:
    mean, lo, hi, _ = confidence_interval(count(*a) - count(*b))
    return mean, lo, hi


def test_capitation_without_enough_averted_referrals_cuts_follow_ups():
    """Under capitation a follow-up no longer earns its fee; at the assumed 0.05 referrals averted
    per follow-up the team's share of the savings is worth less than the fee, so it follows fewer."""
    mean, lo, hi = paired_counts(("family_doctor.capitation_cny=60",), ("family_doctor.capitation_cny=0",))
    assert hi < 0, (mean, lo, hi)


def test_capitation_with_averted_referrals_worth_more_than_the_fee_adds_follow_ups():
    """When a follow-up is expected to avert enough referrals the team would pay for, it follows more."""
    mean, lo, hi = paired_counts(("family_doctor.capitation_cny=60", "payment.response.referrals_averted_per_followup=0.5"),
                                 ("family_doctor.capitation_cny=0",))
    assert lo > 0, (mean, lo, hi)


def test_follow_up_response_needs_capitation():
    """Without capitation the team earns the fee per follow-up as in the baseline: the
    follow-up response parameters change nothing."""
    no_cap = ("family_doctor.capitation_cny=0",)
    assert np.array_equal(chronic_contacts(*no_cap),
                          chronic_contacts(*no_cap, "payment.response={referrals_averted_per_followup: 0.5, "
                                                    "followup_share: 0.9}"))


# ---------------------------------------------------------------------- the marginal admission (诱导住院)
NO_MARGIN = "payment.response.discretionary_admission_share=0"


def test_case_payment_premium_admits_would_be_outpatients():
    """Under DRG a shorter stay earns the group's fee: admitting a mild would-be outpatient pays
    more than under fee-for-service, so some are admitted (against the same DRG run with no
    room at the margin; a keener community, κ = 500 CNY, makes the effect large enough for 4
    replications)."""
    drg = ("payment.drg.enabled=true", "payment.response.sensitivity_cny=500")
    mean, lo, hi = paired_counts(drg, drg + (NO_MARGIN,), count=county_acute_admissions)
    assert lo > 0, (mean, lo, hi)


def test_fee_for_service_margin_is_the_baseline():
    """Under fee-for-service with no stake, admitting gains nothing over the calibrated routine."""
    assert np.array_equal(county_acute_admissions(), county_acute_admissions(NO_MARGIN))


@pytest.mark.parametrize("payment", [(), ("payment.drg.enabled=true",)])
def test_retained_surplus_withholds_marginal_admissions(payment):
    """With a stake in the fund's savings the community admits fewer mild cases, under
    fee-for-service and under DRG alike."""
    mean, lo, hi = paired_counts(payment + (GENEROUS % 1.0,), payment + (GENEROUS % 0.0,),
                                 count=county_acute_admissions)
    assert hi < 0, (mean, lo, hi)
    mean, lo, hi = paired_counts(payment + (GENEROUS % 1.0,), payment + (GENEROUS % 1.0, NO_MARGIN),
                                 count=county_acute_admissions)
    assert hi < 0, (mean, lo, hi)


# ---------------------------------------------------------------------- same payment, sent down (同病同付)
SAME = "payment.same_payment.conditions=[moderate_acute, minor_acute]"
DOWNSHIFT = 2  # stays.down: an admission sent to the township instead (sim/pathway.py)


def downshifted_admissions(*overrides: str) -> np.ndarray:
    """Per replication: admissions the county sent to a township centre after the warm-up."""
    s, logs = logged_runs(*overrides)
    return np.array([((st["down"] == DOWNSHIFT) & (st["time"] >= s.simulation.warmup_days)).sum()
                     for st in (log["stays"] for log in logs)], dtype=float)


def test_same_payment_downshift_gain_by_hand():
    """Paid the township's fee at either tier, the community gains by sending a case down what
    a county stay earned above a township stay under fee-for-service (no stake: no fund term)."""
    s = small_county(SAME)
    r = Care(s, county_of(s)).response
    for name in ("moderate_acute", "minor_acute"):
        for sev in range(3):
            k = case_key(list(s.conditions).index(name), sev, 1)
            hand = r.ffs_stay_fund(COUNTY, k, r.los_factor(COUNTY, k)) - \
                r.ffs_stay_fund(TOWNSHIP, k, r.los_factor(TOWNSHIP, k))
            assert r.downshift_gain(k) == pytest.approx(hand, rel=1e-12) and hand > 0




def test_a_keener_community_sends_more_same_payment_admissions_down():
    """The downshift follows the gain rule: with κ = 1000 rather than 3000 CNY the same gain
    sends more admissions to the township."""
    mean, lo, hi = paired_counts((SAME, "payment.response.sensitivity_cny=1000"), (SAME,),
                                 count=downshifted_admissions)
    assert lo > 0, (mean, lo, hi)
    assert (downshifted_admissions(SAME, "payment.same_payment.eligible_share=0") == 0).all()


def test_without_listed_conditions_the_downshift_share_changes_nothing():
    assert np.array_equal(county_acute_admissions("payment.same_payment.eligible_share=1"), county_acute_admissions())
