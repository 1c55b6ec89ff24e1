"""Day surgery (日间手术, seed 004): a share of elective county admissions become day cases.

A day case stays ``los_days`` instead of the usual lognormal stay, so it costs less and frees
beds.  Emergencies are never day cases.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from models.tiers import TIERS
from sim.core.config_files import Strict

if TYPE_CHECKING:
    from models.scenario import Scenario


class DaySurgerySpec(Strict):
    """日间手术 — models/levers/day_surgery.py."""

    share: float = Field(0.0, ge=0, le=1, description="share of elective county admissions done as day cases")
    conditions: list[str] = Field(default_factory=lambda: ["moderate_acute", "severe_complex"])
    los_days: float = Field(1.0, gt=0, le=3)


KEY = "day_surgery"
TITLE = "日间手术 Day surgery"
Spec = DaySurgerySpec


def conditions_named(spec: DaySurgerySpec, scenario) -> dict[str, list[str]]:
    """Condition names this lever's block refers to, by key path (checked against the scenario's)."""
    return {"day_surgery.conditions": spec.conditions if spec.share > 0 else []}


COUNTY = TIERS.index("county")


class DaySurgery:
    def __init__(self, scenario: Scenario):
        spec = scenario.day_surgery
        self.share = spec.share
        self.los = spec.los_days
        self.eligible = np.array([n in spec.conditions and not scenario.conditions[n].emergency
                                  for n in scenario.conditions]).tolist()

    def day_case(self, tier: int, condition: int, u: float) -> bool:
        return is_day_case(tier, self.eligible[condition], u, self.share)


def is_day_case(tier: int, eligible: bool, u: float, share: float) -> bool:
    """An eligible county admission done as a day case with probability ``share``; compiled as
    is by ``sim/compiled_steps.py``."""
    return tier == COUNTY and eligible and u < share
