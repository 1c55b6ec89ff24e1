"""Day surgery (日间手术, seed 004): a share of elective county admissions become day cases.

A day case stays ``los_days`` instead of the usual lognormal stay, so it costs less and frees
beds.  Emergencies are never day cases.
"""
from __future__ import annotations

import numpy as np

from sim.config import TIERS, Scenario

COUNTY = TIERS.index("county")


class DaySurgery:
    def __init__(self, scenario: Scenario):
        spec = scenario.day_surgery
        self.share = spec.share
        self.los = spec.los_days
        self.eligible = np.array([n in spec.conditions and not scenario.conditions[n].emergency
                                  for n in scenario.conditions]).tolist()

    def day_case(self, tier: int, condition: int, u: float) -> bool:
        return tier == COUNTY and self.eligible[condition] and u < self.share
