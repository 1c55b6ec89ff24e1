"""Costs per visit and per inpatient stay (医疗费用), before insurance.

Visit cost = tier outpatient price × condition/severity multiplier; stay cost = tier per-day
price × length of stay × the same multiplier.  Each tier's price is split into drugs, tests,
consumables and labour services, which the medicine and price levers adjust, and a price
schedule by service category (``prices.schedule``) multiplies each tier × condition charge;
the service share feeds the service-revenue KPI.  Lengths of stay are lognormal around the condition's
county-tier mean scaled by the tier's ``los_factor``.
"""
from __future__ import annotations

import math
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

from models.levers import information, levers_with
from models.levers.prices import CATEGORIES, SERVICE_LINES, category_shares, change_vector, price_factor
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
    """Charges by tier, condition and severity.  ``raise_scale`` multiplies the price schedule's
    raises (its budget-neutral factor); ``schedule=False`` prices as if there were no schedule."""

    def __init__(self, scenario: Scenario, raise_scale: float = 1.0, schedule: bool = True):
        conds = [scenario.conditions[n] for n in scenario.conditions]
        tiers = [scenario.tier(t) for t in TIERS]
        mult = np.array([c.cost_multiplier for c in conds])  # (C, S)
        visit_parts = _price_parts(np.array([t.outpatient_cost for t in tiers]), tiers, scenario)
        day_parts = _price_parts(np.array([t.inpatient_cost_per_day for t in tiers]), tiers, scenario)
        sched = scenario.prices.schedule
        names = list(scenario.conditions)
        self.visit_shares = category_shares(visit_parts, names, sched)  # (T, C, categories)
        self.day_shares = category_shares(day_parts, names, sched)
        on = schedule and sched.active
        scale = raise_scale if on else 0.0
        fv = price_factor(self.visit_shares, sched, scale) if on else np.ones(self.visit_shares.shape[:2])
        fd = price_factor(self.day_shares, sched, scale) if on else np.ones(self.day_shares.shape[:2])
        self.visit = visit_parts.sum(axis=1)[:, None, None] * mult[None] * fv[:, :, None]  # (T, C, S)
        self.per_day = day_parts.sum(axis=1)[:, None, None] * mult[None] * fd[:, :, None]
        tcm = price_factor(self.visit_shares, sched, scale, tcm_visit=True) if on else fv
        self.tcm_visit = self.visit * (tcm / fv)[:, :, None]  # a TCM visit: its services priced as TCM
        change = change_vector(sched, scale) if on else np.zeros(len(CATEGORIES))
        service = [CATEGORIES.index(k) for k in SERVICE_LINES]
        self.visit_service_share = (self.visit_shares[..., service] @ (1 + change[service])) / fv  # (T, C)
        self.stay_service_share = (self.day_shares[..., service] @ (1 + change[service])) / fd
        township = TIERS.index("township")
        rehab = 1.0 + (self.day_shares[township, 0, service].sum() * change[CATEGORIES.index("rehabilitation")]
                       if on and "township" in sched.tiers else 0.0)
        self.rehab_per_day = float(day_parts[township].sum()) * rehab
        self.los_mean = np.array([t.los_factor for t in tiers])[:, None, None] * \
            np.array([c.los_days for c in conds])[None]  # (T, C, S)
        cv = scenario.service.los_cv
        self._sigma = math.sqrt(math.log1p(cv * cv))
        self.rehab_days = scenario.referral.rehab_days
        self.repeat_test_share = information.repeat_test_share(scenario.information)

    def length_of_stay(self, mean: float, u: float) -> float:
        """Lognormal stay with the configured CV, from a uniform draw (inverse CDF keeps CRN)."""
        z = _NORMAL.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
        return mean * math.exp(self._sigma * z - 0.5 * self._sigma * self._sigma)
