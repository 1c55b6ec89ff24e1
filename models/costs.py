"""Costs per visit and per inpatient stay (医疗费用), before insurance.

Visit cost = tier outpatient price × condition/severity multiplier; stay cost = tier per-day
price × length of stay × the same multiplier.  Lengths of stay are lognormal around the
condition's county-tier mean scaled by the tier's ``los_factor``.
"""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from sim.config import TIERS, Scenario, TierSpec

_NORMAL = NormalDist()


class CostModel:
    def __init__(self, scenario: Scenario):
        conds = [scenario.conditions[n] for n in scenario.conditions]
        tiers = [scenario.tiers.get(t, TierSpec()) for t in TIERS]
        mult = np.array([c.cost_multiplier for c in conds])  # (C, S)
        self.visit = np.array([t.outpatient_cost for t in tiers])[:, None, None] * mult[None]  # (T, C, S)
        self.per_day = np.array([t.inpatient_cost_per_day for t in tiers])[:, None, None] * mult[None]
        self.los_mean = np.array([t.los_factor for t in tiers])[:, None, None] * \
            np.array([c.los_days for c in conds])[None]  # (T, C, S)
        cv = scenario.service.los_cv
        self._sigma = math.sqrt(math.log1p(cv * cv))
        self.rehab_days = scenario.referral.rehab_days
        self.rehab_per_day = tiers[TIERS.index("township")].inpatient_cost_per_day

    def length_of_stay(self, mean: float, u: float) -> float:
        """Lognormal stay with the configured CV, from a uniform draw (inverse CDF keeps CRN)."""
        z = _NORMAL.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
        return mean * math.exp(self._sigma * z - 0.5 * self._sigma * self._sigma)
