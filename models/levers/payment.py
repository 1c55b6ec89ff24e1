"""Payment reform (医保支付方式改革, seeds 000, 001, 002, 004): what the fund pays and how.

- Global budget (医保基金总额付费) to the county medical community (医共体), with surplus
  retained and overspend shared (结余留用、合理超支分担) and a reserve carried from year to year;
  the community's stake in each CNY of fund spending is what makes it respond
  (``models/community.py`` keeps the books, ``models/incentives.py`` states the response).
- DRG: the fund pays county inpatient cases a fixed amount per condition × severity group (the
  group's expected fee-for-service payment at the usual stay).
- DIP (按病种分值付费): county inpatient cases earn points per condition × severity group; the
  point price is the year's DIP budget ÷ the points claimed, settled at year end, so the more
  points the county claims the less each is worth.  Cases are paid at last year's price during
  the year (the first year at ``point_cny``) and the difference is settled in one transfer.
- Per-diem (按床日付费) for long stays: rehabilitation stays at township centres are paid a
  fixed sum per bed-day.
- Assessment-linked payment (考核结果与医保支付挂钩): a share of the global budget is withheld
  and paid back in proportion to a yearly score from the county's own indicators.
- Same disease, same payment (同病同付): for listed conditions the fund pays every tier the
  township's case payment; the county, earning no more for them than the township, sends such
  admissions to the patient's township centre as the community gains by it
  (``models/incentives.py``, ``downshift_gain``).
- ``response``: how strongly the community and family-doctor teams act on what a decision
  gains them (κ, the discretionary shares).  With no stake and fee-for-service every gain is
  zero and they behave as the calibrated baseline.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field, model_validator

from models.tiers import TIERS
from sim.core.config_files import Strict

if TYPE_CHECKING:
    from models.costs import CostModel
    from models.reimbursement import Reimbursement
    from models.scenario import Scenario

REMOVED = {
    "responsiveness": "the community now responds to its stake in fund spending (payment.response.*, "
                      "docs/model.md 'Provider incentives'); remove the key",
    "los_reduction": "stays now shorten through the case payment itself (payment.response.discretionary_los_share, "
                     "docs/model.md 'Provider incentives'); remove the key",
    "downshift_prob": "the county now sends same-payment admissions to the township as the community gains by "
                      "it (payment.same_payment.eligible_share, docs/model.md 'Provider incentives'); remove the key",
}


def _reject_removed(data):
    """Keys that used to type in an effect: a clear message rather than 'extra inputs'."""
    if isinstance(data, dict):
        for key, why in REMOVED.items():
            if key in data:
                raise ValueError(f"'{key}' was removed: {why}")
    return data


class GlobalBudgetSpec(Strict):
    """医保基金总额付费, 结余留用、合理超支分担 — models/levers/payment.py, models/community.py."""

    enabled: bool = False
    budget_per_resident: float = Field(2000.0, gt=0, description="annual fund budget per resident, CNY")
    surplus_retained: float = Field(0.6, ge=0, le=1, description="share of a surplus the community keeps")
    overspend_shared: float = Field(0.4, ge=0, le=1, description="share of an overspend the community bears")
    opening_reserve: float = Field(0.0, description="the community's reserve (CNY) when the first budget year "
                                                    "opens; each year's retained surplus adds to it, its borne "
                                                    "overspend draws on it")

    _removed = model_validator(mode="before")(_reject_removed)


class DrgSpec(Strict):
    """DRG fixed payment per county inpatient case — models/levers/payment.py."""

    enabled: bool = False

    _removed = model_validator(mode="before")(_reject_removed)


class DipSpec(Strict):
    """按病种分值付费 (DIP): points per case, point price = DIP budget ÷ points — models/levers/payment.py."""

    enabled: bool = False
    budget_per_resident: float = Field(700.0, gt=0, description="annual DIP budget for county inpatient cases per "
                                                                "resident, CNY (assumed: about the baseline's county "
                                                                "inpatient fund spending)")
    point_cny: float = Field(10.0, gt=0, description="CNY per point of a case's expected fee-for-service fund payment "
                                                     "(sets the scale of points) and the provisional point price of "
                                                     "the first year")


class PerDiemSpec(Strict):
    """按床日付费 for long stays (rehabilitation) — models/levers/payment.py."""

    enabled: bool = False
    cny_per_day: float = Field(230.0, gt=0, description="fund payment per rehabilitation bed-day at township centres "
                                                        "(assumed: about the fee-for-service fund payment per day)")


class IndicatorSpec(Strict):
    target: float = Field(gt=0, description="indicator value that earns the full score")
    weight: float = Field(ge=0, description="weight of the indicator in the score")


class AssessmentSpec(Strict):
    """考核结果与医保支付挂钩: a withheld share of the budget paid back against a yearly score
    (acts only while the global budget is on: the withheld share is a share of it)."""

    enabled: bool = False
    withheld_share: float = Field(0.05, ge=0, le=1, description="share of the global budget withheld until the "
                                                                "year's assessment (assumed)")
    county_visit_rate: IndicatorSpec = Field(default_factory=lambda: IndicatorSpec(target=0.90, weight=0.4),
                                             description="higher is better; seed 002 target 90 %")
    primary_care_share: IndicatorSpec = Field(default_factory=lambda: IndicatorSpec(target=0.65, weight=0.4),
                                              description="higher is better; seed 001 target 65 %")
    upward_referral_rate: IndicatorSpec = Field(default_factory=lambda: IndicatorSpec(target=0.03, weight=0.2),
                                                description="visits ending in a referral up ÷ visits; lower is "
                                                            "better (assumed target)")


class ResponseSpec(Strict):
    """How providers act on a gain: P(deviate) = share × (1 − exp(−gain / κ)) — models/incentives.py."""

    sensitivity_cny: float = Field(3000.0, gt=0, description="κ of the community: the gain (CNY) at which a "
                                                             "discretionary deviation is taken with probability "
                                                             "1 − 1/e (assumed)")
    team_sensitivity_cny: float = Field(100.0, gt=0, description="κ of a family-doctor team, a much smaller actor "
                                                                 "(assumed)")
    discretionary_referral_share: float = Field(0.3, ge=0, le=1,
                                                description="largest share of referrals the referrer could manage "
                                                            "itself when it pays to (assumed)")
    discretionary_admission_share: float = Field(0.3, ge=0, le=1,
                                                 description="largest share of mild county admissions that could "
                                                             "be treated as outpatients (assumed)")
    discretionary_los_share: float = Field(0.3, ge=0, lt=1,
                                           description="largest share of a stay that responds to payment, shorter "
                                                       "or longer (assumed)")
    step_down_share: float = Field(0.4, ge=0, lt=1, description="share of a county stay moved to the township "
                                                                "centre when the county steps a patient down early "
                                                                "(assumed)")
    followup_share: float = Field(0.5, ge=0, lt=1,
                                  description="largest relative change in a family-doctor team's chronic follow-ups "
                                              "(慢病随访) when its payment makes one more follow-up gain or cost it "
                                              "(assumed)")
    referrals_averted_per_followup: float = Field(0.05, ge=0, le=1,
                                                  description="referrals up a team expects one more chronic follow-up "
                                                              "to avert (assumed; only the team's expectation: the "
                                                              "simulation does not lower illness with follow-ups)")
    step_down_eligible_share: float = Field(0.5, ge=0, le=1,
                                            description="largest share of county inpatients stable enough to "
                                                        "step down early (assumed)")


class SamePaymentSpec(Strict):
    """同病同付: the same fund payment at every tier for listed conditions — models/levers/payment.py."""

    conditions: list[str] = Field(default_factory=list)
    eligible_share: float = Field(0.5, ge=0, le=1,
                                  description="largest share of such county admissions the township centre could "
                                              "take; the county sends them down as the community gains by it "
                                              "(assumed)")

    _removed = model_validator(mode="before")(_reject_removed)


class PaymentSpec(Strict):
    global_budget: GlobalBudgetSpec = Field(default_factory=GlobalBudgetSpec)
    drg: DrgSpec = Field(default_factory=DrgSpec)
    dip: DipSpec = Field(default_factory=DipSpec)
    per_diem: PerDiemSpec = Field(default_factory=PerDiemSpec)
    assessment: AssessmentSpec = Field(default_factory=AssessmentSpec)
    response: ResponseSpec = Field(default_factory=ResponseSpec)
    same_payment: SamePaymentSpec = Field(default_factory=SamePaymentSpec)

    @model_validator(mode="after")
    def _consistent(self):
        if self.drg.enabled and self.dip.enabled:
            raise ValueError("payment.drg.enabled and payment.dip.enabled are both true: a county pays its "
                             "inpatient cases by DRG or by DIP, not both; set one of them to false")
        return self


KEY = "payment"
TITLE = "医保支付方式改革 Payment reform"
Spec = PaymentSpec


def conditions_named(spec: PaymentSpec, scenario) -> dict[str, list[str]]:
    """Condition names this lever's block refers to, by key path (checked against the scenario's)."""
    return {"payment.same_payment.conditions": spec.same_payment.conditions}


TOWNSHIP, COUNTY = TIERS.index("township"), TIERS.index("county")
FEE_FOR_SERVICE, CASE, PER_DIEM = 0, 1, 2  # how the fund paid a stay (stays.payment)


@dataclass
class CasePayment:
    """Fixed fund payments per inpatient case: case[tier][c][s] or None for fee-for-service;
    DIP points per county case (points[c][s], empty when DIP is off)."""

    case: list = field(default_factory=list)
    downshift: list = field(default_factory=list)
    eligible_share: float = 0.0
    points: list = field(default_factory=list)
    per_diem: float | None = None

    @classmethod
    def build(cls, scenario: Scenario, costs: CostModel, pay: Reimbursement) -> "CasePayment":
        T, C, S = costs.per_day.shape
        names = list(scenario.conditions)
        expected_cost = costs.per_day * costs.los_mean  # (T, C, S)
        fixed = np.full((T, C, S), np.nan)
        spec = scenario.payment
        if spec.drg.enabled:
            fixed[COUNTY] = pay.expected_inpatient_fund(COUNTY, expected_cost[COUNTY])
        points = []
        if spec.dip.enabled:
            points = (pay.expected_inpatient_fund(COUNTY, expected_cost[COUNTY]) / spec.dip.point_cny).tolist()
        same = spec.same_payment
        listed = np.array([n in same.conditions for n in names])
        if listed.any():
            township_case = pay.expected_inpatient_fund(TOWNSHIP, expected_cost[TOWNSHIP])
            for t in range(TIERS.index("outside")):
                fixed[t][listed] = township_case[listed]
        case = [[[None if np.isnan(x) else float(x) for x in row] for row in tier] for tier in fixed]
        return cls(case, listed.tolist(), same.eligible_share if listed.any() else 0.0, points,
                   spec.per_diem.cny_per_day if spec.per_diem.enabled else None)

    def may_send_down(self, tier: int, condition: int) -> bool:
        """A county admission of a same-payment condition: the township centre could take it."""
        return tier == COUNTY and self.eligible_share > 0 and self.downshift[condition]
