"""Measuring the model's behaviour the way published evaluations measure real counties.

- Own-price elasticities by perturbation: every tier's outpatient (or inpatient) price ±``step``,
  replication by replication with common random numbers; the arc elasticity of each replication
  is Δln(quantity) / Δln(out-of-pocket price), and the mean over replications gets a t-based 95 % CI.
- Paired policy effects by year: a policy scenario against its reference with the same
  replication seeds; the difference (or percentage change) per calendar-ordered year.

Used by ``countysim validate-model`` (docs/validation.md) and by the tests.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.loading import load_scenario
from models.tiers import TIERS
from sim.core.stats import confidence_interval
from sim.studies.runner import RunResult, multiple_replications

PRICE_KEYS = {"outpatient": "outpatient_cost", "inpatient": "inpatient_cost_per_day"}


@dataclass(frozen=True)
class Estimate:
    """Mean over replications with its 95 % CI."""

    mean: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values) -> "Estimate":
        return cls(*confidence_interval(np.asarray(values, dtype=float)))

    def __str__(self) -> str:
        if self.n < 2:
            return f"{self.mean:.3g}"
        return f"{self.mean:.3g} [{self.low:.3g}, {self.high:.3g}]"


def _runs(path: str | Path, sets: list[str], replications: int, workers: int) -> list[RunResult]:
    return multiple_replications(load_scenario(path, sets), replications, workers=workers)


def price_overrides(path: str | Path, sets: list[str], kind: str, factor: float,
                    tiers: tuple[str, ...] = TIERS) -> list[str]:
    """--set overrides scaling ``kind`` (outpatient or inpatient) prices of ``tiers`` by ``factor``."""
    scenario = load_scenario(path, sets)
    key = PRICE_KEYS[kind]
    return [f"tiers.{t}.{key}={getattr(scenario.tier(t), key) * factor!r}" for t in tiers]


def _tier_visits(r: RunResult, tier: str) -> float:
    f = r.facilities
    return float(f.loc[f["tier"] == tier, "visits"].sum())


# What each elasticity measures, and the out-of-pocket price it is taken against.
QUANTITIES = {
    # probability that an illness reaches a facility (a first outpatient visit)
    "first_outpatient_visit": ("outpatient", TIERS, lambda r: 1.0 - r.kpis["self_treatment_share"]
                               - r.kpis["forgone_share"], None),
    # outpatient visits per illness that reached a facility (visits among users)
    "outpatient_visits_among_users": ("outpatient", TIERS, lambda r: r.kpis["visits"] / r.kpis["episodes"], None),
    # admissions per resident-year, against out-of-pocket per stay
    "admission": ("inpatient", TIERS, lambda r: r.kpis["admissions_per_resident"],
                  lambda r: r.kpis["oop_per_admission"]),
    # village-clinic visits, against the village price only
    "village_outpatient_visits": ("outpatient", ("village",), lambda r: _tier_visits(r, "village"), None),
}


def elasticity(path: str | Path, quantity: str, replications: int = 3, sets: list[str] | None = None,
               step: float = 0.1, workers: int = 1) -> Estimate:
    """Arc own-price elasticity of ``quantity`` (a key of QUANTITIES) from prices × (1 ± step).

    The price is the out-of-pocket price: outpatient visits carry no deductible, so their
    out-of-pocket moves with the price; for stays the measured out-of-pocket per stay is used
    (deductibles make it move less than the charges)."""
    sets = list(sets or [])
    kind, tiers, measure, price = QUANTITIES[quantity]
    up = _runs(path, sets + price_overrides(path, sets, kind, 1 + step, tiers), replications, workers)
    down = _runs(path, sets + price_overrides(path, sets, kind, 1 - step, tiers), replications, workers)
    values = []
    for a, b in zip(up, down):
        d_price = math.log(price(a) / price(b)) if price else math.log((1 + step) / (1 - step))
        values.append(math.log(measure(a) / measure(b)) / d_price)
    return Estimate.of(values)


def yearly_pairs(reference: str | Path, policy: str | Path, replications: int = 3,
                 sets: list[str] | None = None, policy_sets: list[str] | None = None,
                 workers: int = 1) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Yearly KPI tables of both scenarios, replication by replication (same seeds)."""
    sets = list(sets or [])
    ref = _runs(reference, sets, replications, workers)
    pol = _runs(policy, sets + list(policy_sets or []), replications, workers)
    return [with_volumes(r.yearly) for r in ref], [with_volumes(r.yearly) for r in pol]


def with_volumes(yearly: pd.DataFrame) -> pd.DataFrame:
    """Visits per resident-year by tier group, from the yearly KPIs."""
    out = yearly.copy()
    out["primary_visits_per_resident"] = out["visits_per_resident"] * out["primary_care_share"]
    out["county_hospital_visits_per_resident"] = out["visits_per_resident"] * (
        out["county_visit_rate"] - out["primary_care_share"])
    out["outside_visits_per_resident"] = out["visits_per_resident"] * (1 - out["county_visit_rate"])
    out["hospital_visits_per_resident"] = out["visits_per_resident"] * (1 - out["primary_care_share"])
    return out


def paired_change(ref: list[pd.DataFrame], pol: list[pd.DataFrame], kpi: str, year: int | None = None,
                  relative: bool = False) -> Estimate:
    """Policy minus reference of ``kpi`` (in a year, by position; or the mean of all years),
    as a difference or a percentage change, with a 95 % CI over replications."""
    values = []
    for a, b in zip(ref, pol):
        x = a[kpi].iloc[year] if year is not None else a[kpi].mean()
        y = b[kpi].iloc[year] if year is not None else b[kpi].mean()
        values.append(100.0 * (y - x) / x if relative else y - x)
    return Estimate.of(values)
