"""Salary reform and retention of primary-level doctors (薪酬制度改革, 薪酬总量, seeds 000–002).

Doctors at the listed primary tiers leave at ``leaving_rate`` a year and are recruited at
``recruitment_rate`` a year (a share of the starting headcount), so a tier's headcount H moves
month by month as H' = H + (recruitment_rate · H₀ − leaving · H) / 12.  Leaving responds to pay:
leaving = leaving_rate · (pay ratio ÷ ``pay_ratio``)^(−``leaving_elasticity``), where the pay
ratio is primary ÷ county doctors' pay — ``pay_ratio`` before and ``reform_pay_ratio`` from
``reform_start`` (YYYY-MM) on, when the community raises the primary pay total.  The headcount
is shared over the tier's facilities in proportion to their starting doctors (largest remainders,
at least one each) and the stations change size on the first day of a month, as for a phased
plan (the calendar resolves with the plan).  All rates and the elasticity are assumed; with
leaving equal to recruitment and no reform, headcounts stay as they are.

Performance pay (绩效工资): with ``performance_pay_share`` of primary doctors' pay tied to the
work they do, their consultations at the ``performance_pay_tiers`` take
1 − ``minutes_per_share`` × share of the tier's ``service_minutes`` (at least
``MIN_MINUTES_FACTOR``): more patients per doctor-hour, so shorter queues and waits that
patients respond to in choice.  The semi-elasticity is assumed; schedule the share (e.g.
``schedule: {2026: {salary.performance_pay_share: 0.4}}``) to phase a reform in.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field, PrivateAttr, model_validator

from models.plan import MONTH_PATTERN, month_index, outside_run
from models.tiers import TIERS
from sim.core.config_files import KeyPathError, Strict

if TYPE_CHECKING:
    from models.geography import County
    from models.scenario import Scenario


class SalarySpec(Strict):
    """Salary reform and retention of primary-level doctors — models/levers/salary.py."""

    tiers: list[Literal["village", "township"]] = Field(default_factory=list, description="tiers whose doctors "
                                                                                           "leave and are recruited")
    leaving_rate: float = Field(0.08, ge=0, le=1, description="doctors leaving per year at the starting pay "
                                                              "(assumed)")
    recruitment_rate: float = Field(0.08, ge=0, le=1, description="doctors recruited per year, share of the "
                                                                  "starting headcount (assumed)")
    pay_ratio: float = Field(0.6, gt=0, le=3, description="primary ÷ county doctors' pay at the start (assumed)")
    reform_pay_ratio: float | None = Field(None, gt=0, le=3, description="the pay ratio after the salary reform "
                                                                         "(薪酬总量 raised); null: no reform")
    reform_start: str | None = Field(None, pattern=MONTH_PATTERN, description="first month of the reform, YYYY-MM")
    leaving_elasticity: float = Field(1.0, ge=0, le=10, description="leaving ∝ pay ratio^(−elasticity) (assumed)")
    performance_pay_share: float = Field(0.0, ge=0, le=1, description="share of primary doctors' pay that is "
                                                                       "performance pay (绩效工资); 0: off")
    performance_pay_tiers: list[Literal["village", "township"]] = Field(
        default_factory=lambda: ["village", "township"], description="tiers whose doctors are paid for performance")
    minutes_per_share: float = Field(0.3, ge=0, le=2, description="consultation time saved per unit of "
                                                                  "performance-pay share (assumed: a 10-point "
                                                                  "larger share shortens consultations 3 %)")
    _factors: tuple[float, ...] = PrivateAttr(default=())  # this month's headcount ÷ starting, per listed tier

    @model_validator(mode="after")
    def _reform_has_a_start(self) -> "SalarySpec":
        if (self.reform_pay_ratio is None) != (self.reform_start is None):
            raise KeyPathError("salary.reform_start", self.reform_start,
                               "set salary.reform_pay_ratio and salary.reform_start together (YYYY-MM)")
        return self


MIN_MINUTES_FACTOR = 0.5  # performance pay never halves a consultation further (assumed floor)
KEY = "salary"
TITLE = "薪酬制度改革 Salary reform, retention and performance pay (绩效工资)"
Spec = SalarySpec


def headcount(spec: SalarySpec, start_year: int, n_months: int) -> np.ndarray:
    """Headcount ÷ starting headcount at the start of each month of the run."""
    reform = month_index(spec.reform_start, start_year) if spec.reform_start else n_months
    h, out = 1.0, []
    for m in range(n_months):
        out.append(h)
        ratio = spec.reform_pay_ratio if m >= reform else spec.pay_ratio
        leaving = spec.leaving_rate * (ratio / spec.pay_ratio) ** (-spec.leaving_elasticity)
        h += (spec.recruitment_rate - leaving * h) / 12.0
    return np.array(out)


def calendar(scenario: Scenario, n_months: int) -> list[tuple[float, ...]] | None:
    """Per month, the headcount factor of each listed tier (None: headcounts fixed)."""
    spec: SalarySpec = scenario.salary
    if not spec.tiers:
        return None
    h = np.round(headcount(spec, scenario.simulation.start_year, n_months), 6)
    return [tuple(float(x) for _ in spec.tiers) for x in h]


def for_month(scenario: Scenario, factors: tuple[float, ...]) -> Scenario:
    spec = scenario.salary.model_copy()
    spec._factors = factors
    return scenario.model_copy(update={"salary": spec})


def calendar_columns(scenario: Scenario, county: County, months: list[tuple[float, ...]]) -> dict[str, list]:
    """Plan-table columns: each listed tier's headcount factor by month."""
    return {f"salary.headcount_factor.{t}": [m[i] for m in months] for i, t in enumerate(scenario.salary.tiers)}


def share_out(base: np.ndarray, total: int) -> np.ndarray:
    """``total`` doctors over facilities in proportion to ``base`` (largest remainders, at least one each)."""
    total = max(total, base.size)
    exact = base * total / base.sum()
    out = np.maximum(np.floor(exact).astype(np.int64), 1)
    short = total - out.sum()
    if short > 0:
        out[np.argsort(-(exact - np.floor(exact)), kind="stable")[:short]] += 1
    while out.sum() > total:  # the floor of one raised small facilities: take back from the largest
        out[np.argmax(out)] -= 1
    return out


def adjust_county(scenario: Scenario, county: County) -> None:
    spec: SalarySpec = scenario.salary
    for tier, factor in zip(spec.tiers, spec._factors):
        facs = np.flatnonzero((county.fac_tier == TIERS.index(tier)) & (county.fac_doctors > 0) & ~county.fac_mobile)
        if facs.size and factor != 1.0:
            base = county.fac_doctors[facs]
            county.fac_doctors[facs] = share_out(base, int(round(base.sum() * factor)))


def consultation_factor(scenario: Scenario, tier: str) -> float:
    """Consultation time ÷ the tier's service_minutes under performance pay (1: none)."""
    spec: SalarySpec = scenario.salary
    if spec.performance_pay_share == 0 or tier not in spec.performance_pay_tiers:
        return 1.0
    return max(1.0 - spec.minutes_per_share * spec.performance_pay_share, MIN_MINUTES_FACTOR)


def county_problems(scenario: Scenario, county: County) -> list[tuple[str, str]]:
    """A reform starting outside the run."""
    spec, sim = scenario.salary, scenario.simulation
    why = outside_run(spec.reform_start, sim.start_year, sim.years) if spec.reform_start else None
    return [("salary.reform_start", why)] if why else []
