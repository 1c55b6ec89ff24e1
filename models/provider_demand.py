"""Provider-side demand (供方诱导的复诊与随访): visits the facility asks for.

- Return visits (复诊): after an outpatient consultation that ends the episode there, the doctor
  asks the patient back with probability ``return_visit_prob[tier]``, ``return_visit_days`` later,
  to the same facility.
- Chronic follow-ups by family doctors (慢病随访): contracted residents under chronic-disease
  management are seen by their family doctor ``followups_per_year`` times a year (the national
  basic public-health service standard asks for at least four hypertension/diabetes follow-ups a
  year).  These are scheduled by the provider, so more contracting with better primary access
  adds primary visits rather than only moving them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field, field_validator

from models.levers.family_doctor import contracted
from models.tiers import TIERS, Tier
from sim.core.config_files import Strict, probabilities

if TYPE_CHECKING:
    from models.demand import DemandModel


class ProviderDemandSpec(Strict):
    """Return visits and family-doctor follow-ups; off by default."""

    source: str = "assumed"
    return_visit_prob: dict[Tier, float] = Field(default_factory=dict,
                                                 description="share of resolved outpatient consultations asked back")
    return_visit_days: float = Field(7.0, gt=0, le=90)
    followups_per_year: float = Field(0.0, ge=0, le=52, description="family-doctor follow-ups per managed "
                                                                    "contracted resident")
    chronic_share: float = Field(0.0, ge=0, le=1, description="share of contracted residents under chronic "
                                                              "disease management")
    followup_condition: str = Field("chronic_followup", description="condition a follow-up is recorded as")

    _p = field_validator("return_visit_prob")(classmethod(lambda cls, v: probabilities(v)))


class ProviderDemand:
    def __init__(self, spec: ProviderDemandSpec, condition_names: list[str], coverage: float, intensity: float = 1.0):
        """``intensity``: follow-ups ÷ the fee-for-service routine, as the team's payment makes
        them pay (``models/incentives.py``, ``followup_factor``)."""
        self.return_prob = [spec.return_visit_prob.get(t, 0.0) for t in TIERS]
        self.return_days = spec.return_visit_days
        self.coverage = coverage
        self.followup_rate = spec.followups_per_year * spec.chronic_share * intensity  # per resident, before contracting
        self.followups_on = self.followup_rate > 0 and coverage > 0 and spec.followup_condition in condition_names
        self.condition = condition_names.index(spec.followup_condition) if self.followups_on else 0

    def asks_back(self, tier: int, u: float) -> bool:
        return u < self.return_prob[tier]

    def followups(self, demand: DemandModel, rng: np.random.Generator, day: int) -> tuple[np.ndarray, np.ndarray,
                                                                                            np.ndarray]:
        """(time, village, resident) of the day's scheduled follow-ups of contracted residents."""
        if not self.followups_on:
            return np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        n = int(rng.poisson(demand.population * self.followup_rate / demand.days_per_year))
        u = rng.random((n, 3))
        village = np.minimum(np.searchsorted(demand.village_cum, u[:, 0], side="right"), len(demand.village_cum) - 1)
        resident = demand.offsets[village] + (u[:, 1] * demand.village_pop[village]).astype(np.int64)
        keep = contracted(resident, self.coverage)
        return day + demand.time_of_day(u[keep, 2]), village[keep], resident[keep]
