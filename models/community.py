"""The county medical community (县域医共体) as an economic actor: its budget years and books.

One ``Community`` holds one community's global budget (医保基金总额付费) year by year:

- a year opens with budget B (pro-rated for a short year) and the reserve the last year left;
  with assessment-linked payment a share w of B is withheld (考核预留);
- residents' fund spending S is charged to it wherever they are treated (out-of-county care too),
  including capitation, and the DIP settlement when the year closes;
- at year end: paid back = w·B × score; balance = B − w·B + paid back − S;
  retained = surplus_retained × max(balance, 0); borne = overspend_shared × max(−balance, 0);
  closing reserve = opening reserve + retained − borne, which opens the next year (结余留用、
  合理超支分担, carried over);
- its stake in one more CNY of fund spending (the weight on fund savings in every decision, see
  ``models/incentives.py``) is surplus_retained while the year's projected balance is positive
  and overspend_shared when negative; 0 with no global budget.

DIP (按病种分值付费) points are claimed here: cases are paid at the provisional point price
(last year's settled price; ``point_cny`` the first year) and at year end the settled price is
the year's DIP budget ÷ the points claimed; the difference goes to each hospital in
proportion to its points.  Assessment scores come from the year's own tallies of visits, in the
same definitions as the KPIs.  Phased plans call ``configure`` when the rules change; the books
carry on, a year's budget and withheld share are fixed when it opens, and a rule switched on
mid-year applies to that year's books.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.levers.payment import PaymentSpec

INDICATORS = ("county_visit_rate", "primary_care_share", "upward_referral_rate")
LOWER_IS_BETTER = {"upward_referral_rate"}
LOWER = tuple(k in LOWER_IS_BETTER for k in INDICATORS)


@dataclass
class CommunityYear:
    year: int
    length_days: float
    budget: float
    withheld: float
    opening_reserve: float
    spent: float = 0.0
    visits: int = 0
    visits_in_county: int = 0
    visits_primary: int = 0
    referred_up: int = 0
    dip_budget: float = 0.0
    dip_points: dict = field(default_factory=dict)  # facility → points claimed
    dip_paid: float = 0.0  # provisional DIP payments
    dip_price: float = math.nan  # settled point price
    score: float = math.nan
    paid_back: float = 0.0
    balance: float = math.nan
    retained: float = 0.0
    borne: float = 0.0
    closing_reserve: float = math.nan
    closed: bool = False
    budget_on: bool = False  # the global budget applied at some point in the year
    assessed: bool = False
    dip_on: bool = False

    def indicators(self) -> dict[str, float]:
        n = self.visits
        if n == 0:
            return {k: math.nan for k in INDICATORS}
        return {"county_visit_rate": self.visits_in_county / n, "primary_care_share": self.visits_primary / n,
                "upward_referral_rate": self.referred_up / n}


def indicator_score(name: str, value: float, target: float) -> float:
    """1 at or beyond the target, falling in proportion to the shortfall (value/target, or
    target/value where lower is better); 0 when the indicator cannot be computed."""
    if not math.isfinite(value):
        return 0.0
    if name in LOWER_IS_BETTER:
        return 1.0 if value <= target else target / value
    return min(value / target, 1.0)


class Community:
    def __init__(self, spec: PaymentSpec, population: int):
        self.years: list[CommunityYear] = []
        self.reserve = spec.global_budget.opening_reserve
        self.stake = 0.0
        self.dip_price = spec.dip.point_cny  # provisional price for the first DIP year
        self.configure(spec, population)

    def configure(self, spec: PaymentSpec, population: int) -> None:
        """Set (or, in a phased plan, change) the rules; the books so far are kept."""
        gb = spec.global_budget
        self.enabled = gb.enabled
        self.annual = gb.budget_per_resident * population
        self.retained_share, self.borne_share = gb.surplus_retained, gb.overspend_shared
        self.dip_enabled = spec.dip.enabled
        self.dip_annual = spec.dip.budget_per_resident * population
        self.assessment = spec.assessment if spec.assessment.enabled and gb.enabled else None
        self.withheld_share = self.assessment.withheld_share if self.assessment else 0.0
        if not self.enabled:
            self.stake = 0.0
        y = self.current
        if y is not None and not y.closed:  # a rule switched on mid-year applies to this year's books
            y.budget_on |= self.enabled
            y.assessed |= self.assessment is not None
            y.dip_on |= self.dip_enabled

    # ------------------------------------------------------------------ the year
    def start_year(self, year: int, length_days: float, days_per_year: int) -> None:
        """A budget year; a shorter one (end of the run, warm-up) gets a pro-rated budget."""
        part = length_days / days_per_year
        budget = self.annual * part
        opening = self.reserve if year >= 0 else 0.0
        self.years.append(CommunityYear(year, length_days, budget, self.withheld_share * budget, opening,
                                        dip_budget=self.dip_annual * part, budget_on=self.enabled,
                                        assessed=self.assessment is not None, dip_on=self.dip_enabled))
        self.stake = self.retained_share if self.enabled else 0.0

    @property
    def current(self) -> CommunityYear | None:
        return self.years[-1] if self.years else None

    def spend(self, amount: float) -> None:
        if self.years:
            self.years[-1].spent += amount

    def count_visit(self, in_county: bool, primary: bool, referred_up: bool) -> None:
        """Tallies behind the assessment indicators (same definitions as the KPIs)."""
        if self.years:
            y = self.years[-1]
            y.visits += 1
            y.visits_in_county += in_county
            y.visits_primary += primary
            y.referred_up += referred_up

    def claim_points(self, fac: int, points: float) -> float:
        """A DIP case: its points are claimed and paid at the provisional price (returned)."""
        y = self.current
        fee = points * self.dip_price
        if y is not None:
            y.dip_points[fac] = y.dip_points.get(fac, 0.0) + points
            y.dip_paid += fee
        return fee

    def update(self, elapsed_days: float) -> None:
        """Daily: the stake follows the sign of the year's projected balance."""
        y = self.current
        if not self.enabled or y is None or elapsed_days <= 0:
            return
        available = y.budget - y.withheld + y.withheld * self.expected_score(y)
        projected = available - y.spent * y.length_days / min(elapsed_days, y.length_days)
        self.stake = self.retained_share if projected >= 0 else self.borne_share

    def expected_score(self, y: CommunityYear) -> float:
        return self.score(y) if self.assessment else 0.0

    def score(self, y: CommunityYear) -> float:
        """Weighted mean of the indicator scores (weights normalised)."""
        a = self.assessment
        values = y.indicators()
        specs = {k: getattr(a, k) for k in INDICATORS}
        total = sum(s.weight for s in specs.values())
        if total <= 0:
            return 1.0
        return sum(s.weight * indicator_score(k, values[k], s.target) for k, s in specs.items()) / total

    def close_year(self) -> list[tuple[int, float]]:
        """Settle the open year: DIP adjustment transfers (returned as (facility, CNY)), the
        assessment, the balance and the reserve carried into the next year."""
        y = self.current
        if y is None or y.closed:
            return []
        y.closed = True
        transfers = []
        points = sum(y.dip_points.values())
        if points > 0:
            y.dip_price = y.dip_budget / points
            for fac, p in sorted(y.dip_points.items()):
                transfers.append((fac, p * y.dip_price - p * self.dip_price))
            y.spent += sum(a for _, a in transfers)
            self.dip_price = y.dip_price
        if self.assessment and y.withheld > 0:
            y.score = self.score(y)
            y.paid_back = y.withheld * y.score
        y.balance = y.budget - y.withheld + y.paid_back - y.spent
        if y.budget_on:
            y.retained = self.retained_share * max(y.balance, 0.0)
            y.borne = self.borne_share * max(-y.balance, 0.0)
        y.closing_reserve = y.opening_reserve + y.retained - y.borne
        if y.year >= 0:
            self.reserve = y.closing_reserve
        return transfers

    # ------------------------------------------------------------------ the assessment at the margin
    def assessment_gain(self, d_visits: int, d_in_county: int, d_primary: int, d_referred: int) -> float:
        """Linearised change in the year's paid-back amount if the tallies moved by these counts:
        what a decision is worth through the assessment (0 without one, or past a target)."""
        y = self.current
        if not self.assessment or y is None:
            return 0.0
        specs = [getattr(self.assessment, k) for k in INDICATORS]
        return marginal_payback(y.withheld, (y.visits, y.visits_in_county, y.visits_primary, y.referred_up),
                                (d_visits, d_in_county, d_primary, d_referred), tuple(s.weight for s in specs),
                                tuple(s.target for s in specs), LOWER)

    # ------------------------------------------------------------------ the report
    def table(self) -> list[dict]:
        """Budget years after the warm-up; empty when neither the global budget nor DIP is on."""
        if not any(y.budget_on or y.dip_on for y in self.years):
            return []
        rows = []
        for y in (y for y in self.years if y.year >= 0):
            budget_on, nan = y.budget_on, math.nan
            rows.append({
                "year": y.year,
                "fund_budget": y.budget if budget_on else nan,
                "budget_spent": y.spent,
                "budget_balance": y.balance if budget_on else nan,
                "surplus_retained": y.retained if budget_on else nan,
                "overspend_borne": y.borne if budget_on else nan,
                "reserve_opening": y.opening_reserve if budget_on else nan,
                "reserve_closing": y.closing_reserve if budget_on else nan,
                "assessment_withheld": y.withheld if y.assessed else nan,
                "assessment_score": y.score,
                "assessment_paid_back": y.paid_back if y.assessed else nan,
                "dip_points": sum(y.dip_points.values()) if y.dip_on else nan,
                "dip_point_price": y.dip_price,
            })
        return rows


def marginal_payback(withheld: float, tallies, moves, weights, targets, lower) -> float:
    """``Community.assessment_gain`` from numbers: ``tallies`` are the year's (visits, then each
    indicator's count), ``moves`` the decision's change to them, ``weights``/``targets``/
    ``lower`` (lower is better) per indicator in ``INDICATORS`` order.  Plain arithmetic,
    compiled as is by ``sim/compiled_steps.py`` (tuples here, arrays there)."""
    n = tallies[0]
    if n == 0:
        return 0.0
    total = 0.0
    for w in weights:
        total += w
    if total <= 0:
        return 0.0
    gain = 0.0
    for i in range(len(weights)):
        v = tallies[i + 1] / n
        dv = (moves[i + 1] - v * moves[0]) / n
        weight, target = weights[i], targets[i]
        if lower[i]:
            if v > target:
                gain -= weight * target / (v * v) * dv
        elif v < target:
            gain += weight * dv / target
    return withheld * gain / total
