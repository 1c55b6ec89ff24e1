"""Costs per visit and per inpatient stay (医疗费用), before insurance.

Visit cost = tier outpatient price × condition/severity multiplier; stay cost = tier per-day
price × length of stay × the same multiplier.  Each tier's price is split into drugs, tests,
consumables and labour services, which the medicine and price levers adjust; the service
share feeds the service-revenue KPI.  Lengths of stay are lognormal around the condition's
county-tier mean scaled by the tier's ``los_factor``.
"""
from __future__ import annotations

import math
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

from models.levers import information, levers_with
from models.tiers import TIERS

if TYPE_CHECKING:
    from models.scenario import Scenario, TierSpec

_NORMAL = NormalDist()


def _price_parts(base: np.ndarray, tiers: list[TierSpec], scenario: Scenario) -> np.ndarray:
    shares = np.array([[t.drug_share, t.test_share, t.consumable_share, t.service_share] for t in tiers])
    parts = base[:, None] * shares
    for lever in levers_with("adjust_prices"):  # medicines, then prices
        parts = lever.adjust_prices(getattr(scenario, lever.KEY), parts)
    return parts


class CostModel:
    def __init__(self, scenario: Scenario):
        conds = [scenario.conditions[n] for n in scenario.conditions]
        tiers = [scenario.tier(t) for t in TIERS]
        mult = np.array([c.cost_multiplier for c in conds])  # (C, S)
        visit_parts = _price_parts(np.array([t.outpatient_cost for t in tiers]), tiers, scenario)
        day_parts = _price_parts(np.array([t.inpatient_cost_per_day for t in tiers]), tiers, scenario)
        self.visit = visit_parts.sum(axis=1)[:, None, None] * mult[None]  # (T, C, S)
        self.per_day = day_parts.sum(axis=1)[:, None, None] * mult[None]
        with np.errstate(invalid="ignore", divide="ignore"):
            self.visit_service_share = np.nan_to_num(visit_parts[:, 3] / visit_parts.sum(axis=1))
            self.stay_service_share = np.nan_to_num(day_parts[:, 3] / day_parts.sum(axis=1))
        self.los_mean = np.array([t.los_factor for t in tiers])[:, None, None] * \
            np.array([c.los_days for c in conds])[None]  # (T, C, S)
        cv = scenario.service.los_cv
        self._sigma = math.sqrt(math.log1p(cv * cv))
        self.rehab_days = scenario.referral.rehab_days
        self.rehab_per_day = float(day_parts[TIERS.index("township")].sum())
        self.repeat_test_share = information.repeat_test_share(scenario.information)

    def length_of_stay(self, mean: float, u: float) -> float:
        """Lognormal stay with the configured CV, from a uniform draw (inverse CDF keeps CRN)."""
        z = _NORMAL.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
        return mean * math.exp(self._sigma * z - 0.5 * self._sigma * self._sigma)
