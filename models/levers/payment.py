"""Payment reform (医保支付方式改革, seeds 000, 001, 002, 004).

- Global budget for the whole community (医保基金总额付费) with surplus retained and overspend
  shared (结余留用、超支分担): while the residents' fund spending runs ahead of the pro-rata
  budget, the community keeps would-be out-of-county referrals in the county and refers more
  inpatients down, each with probability responsiveness × (spending / pro-rata budget − 1).
- DRG/DIP: the fund pays county inpatient cases a fixed amount per condition × severity group
  (the group's expected fee-for-service payment at the usual stay), and county stays shorten.
- Same disease, same payment (同病同付): for listed conditions the fund pays every tier the
  township's case payment; the county, earning no more for them, sends a share of such
  admissions to the patient's township centre.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from models.tiers import TIERS
from sim.core.config_files import Strict

if TYPE_CHECKING:
    from models.costs import CostModel
    from models.reimbursement import Reimbursement
    from models.scenario import Scenario


class GlobalBudgetSpec(Strict):
    """医保基金总额付费, 结余留用、超支分担 — models/levers/payment.py."""

    enabled: bool = False
    budget_per_resident: float = Field(2000.0, gt=0, description="annual fund budget per resident, CNY")
    surplus_retained: float = Field(0.6, ge=0, le=1, description="share of a surplus the community keeps")
    overspend_shared: float = Field(0.4, ge=0, le=1, description="share of an overspend the community bears")
    responsiveness: float = Field(2.0, ge=0, le=100,
                                  description="change in keep-in-county and down-referral probabilities per "
                                              "unit of spending ahead of budget")


class DrgSpec(Strict):
    """DRG/DIP fixed payment per county inpatient case — models/levers/payment.py."""

    enabled: bool = False
    los_reduction: float = Field(0.1, ge=0, lt=1, description="shorter county stays under a fixed case payment")


class SamePaymentSpec(Strict):
    """同病同付: the same fund payment at every tier for listed conditions — models/levers/payment.py."""

    conditions: list[str] = Field(default_factory=list)
    downshift_prob: float = Field(0.5, ge=0, le=1,
                                  description="share of such county admissions the county sends to the "
                                              "township instead (it no longer earns more for them)")


class PaymentSpec(Strict):
    global_budget: GlobalBudgetSpec = Field(default_factory=GlobalBudgetSpec)
    drg: DrgSpec = Field(default_factory=DrgSpec)
    same_payment: SamePaymentSpec = Field(default_factory=SamePaymentSpec)


KEY = "payment"
TITLE = "医保支付方式改革 Payment reform"
Spec = PaymentSpec


def conditions_named(spec: PaymentSpec, scenario) -> dict[str, list[str]]:
    """Condition names this lever's block refers to, by key path (checked against the scenario's)."""
    return {"payment.same_payment.conditions": spec.same_payment.conditions}


TOWNSHIP, COUNTY = TIERS.index("township"), TIERS.index("county")


@dataclass
class BudgetYear:
    year: int
    budget: float
    length_days: float
    spent: float = 0.0

    @property
    def balance(self) -> float:
        return self.budget - self.spent


class GlobalBudget:
    def __init__(self, scenario: Scenario, population: int):
        self.pressure = 0.0
        self.years: list[BudgetYear] = []
        self.configure(scenario.payment.global_budget, population)

    def configure(self, spec: GlobalBudgetSpec, population: int) -> None:
        """Set (or, in a phased plan, change) the budget rules; the years so far are kept."""
        self.enabled = spec.enabled
        self.annual = spec.budget_per_resident * population
        self.retained, self.shared = spec.surplus_retained, spec.overspend_shared
        self.responsiveness = spec.responsiveness

    def start_year(self, year: int, length_days: float, days_per_year: int) -> None:
        """A budget year; a shorter one (end of the run, warm-up) gets a pro-rated budget."""
        self.years.append(BudgetYear(year, self.annual * length_days / days_per_year, length_days))
        self.pressure = 0.0

    def spend(self, amount: float) -> None:
        if self.years:
            self.years[-1].spent += amount

    def update(self, elapsed_days: float) -> None:
        """Daily: how far spending runs ahead of the pro-rata budget (0 when on or under)."""
        if not self.enabled or not self.years or elapsed_days <= 0:
            return
        y = self.years[-1]
        ahead = y.spent / (y.budget * min(elapsed_days / y.length_days, 1.0)) - 1.0
        self.pressure = min(1.0, max(0.0, self.responsiveness * ahead))

    def keeps_in_county(self, u: float) -> bool:
        return self.enabled and u < self.pressure

    def down_prob(self, base: float) -> float:
        return base + (1.0 - base) * self.pressure if self.enabled else base

    def table(self) -> list[dict]:
        """Budget years after the warm-up; empty when the global budget is off."""
        if not self.enabled:
            return []
        rows = []
        for y in (y for y in self.years if y.year >= 0):
            bal = y.balance
            rows.append({"year": y.year, "budget": y.budget, "fund_spent": y.spent, "balance": bal,
                         "surplus_retained": self.retained * max(bal, 0.0),
                         "overspend_borne": self.shared * max(-bal, 0.0)})
        return rows


@dataclass
class CasePayment:
    """Fixed fund payments per inpatient case: case[tier][c][s] or None for fee-for-service."""

    case: list = field(default_factory=list)
    los_factor: list = field(default_factory=list)
    downshift: list = field(default_factory=list)
    downshift_prob: float = 0.0

    @classmethod
    def build(cls, scenario: Scenario, costs: CostModel, pay: Reimbursement) -> "CasePayment":
        T, C, S = costs.per_day.shape
        names = list(scenario.conditions)
        expected_cost = costs.per_day * costs.los_mean  # (T, C, S)
        fixed = np.full((T, C, S), np.nan)
        los_factor = np.ones(T)
        drg = scenario.payment.drg
        if drg.enabled:
            fixed[COUNTY] = pay.expected_inpatient_fund(COUNTY, expected_cost[COUNTY])
            los_factor[COUNTY] = 1.0 - drg.los_reduction
        same = scenario.payment.same_payment
        listed = np.array([n in same.conditions for n in names])
        if listed.any():
            township_case = pay.expected_inpatient_fund(TOWNSHIP, expected_cost[TOWNSHIP])
            for t in range(TIERS.index("outside")):
                fixed[t][listed] = township_case[listed]
        case = [[[None if np.isnan(x) else float(x) for x in row] for row in tier] for tier in fixed]
        return cls(case, los_factor.tolist(), listed.tolist(), same.downshift_prob if listed.any() else 0.0)

    def sends_down(self, tier: int, condition: int, u: float) -> bool:
        return tier == COUNTY and self.downshift[condition] and u < self.downshift_prob
