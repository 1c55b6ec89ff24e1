"""Chronic-disease management centres (慢病管理中心, seed 000: 基层慢病管理中心实现全覆盖).

Township centres of the most populous ``township_share`` of townships run a centre.  Of their
townships' residents, ``prevalence`` have hypertension or diabetes and ``enrolment`` of those are
enrolled; each enrolled patient is scheduled ``followups_per_year`` follow-ups at the township
centre (the national basic public-health service standard: at least four a year).  A patient
comes to a scheduled follow-up with probability exp(− travel hours to the centre ÷
``travel_decay_hours``), so remote villages miss more; one who comes joins the centre's queue
as a visit of ``condition`` and may still be sent up (a case beyond the catalogue, a medicine out
of stock).  KPIs: enrolled share of prevalent patients and follow-up completion (follow-ups
completed at the centre ÷ scheduled) — the second is an outcome of distance, queues and stock.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from models.plan import run_months
from sim.core.config_files import Strict

if TYPE_CHECKING:
    from models.demand import DemandModel
    from models.geography import County
    from models.scenario import Scenario


class ChronicCentresSpec(Strict):
    """Chronic-disease management centres — models/levers/chronic_centres.py."""

    township_share: float = Field(0.0, ge=0, le=1, description="share of townships (most populous first) whose "
                                                                "centre runs a chronic-disease management centre")
    prevalence: float = Field(0.25, ge=0, le=1, description="residents with hypertension or diabetes (assumed)")
    enrolment: float = Field(0.5, ge=0, le=1, description="share of those patients enrolled (assumed)")
    followups_per_year: float = Field(4.0, ge=0, le=52, description="scheduled follow-ups per enrolled patient "
                                                                    "(national basic public-health standard: >= 4)")
    travel_decay_hours: float = Field(1.0, gt=0, le=48, description="attendance = exp(-travel hours / this) "
                                                                    "(assumed)")
    condition: str = Field("chronic_followup", description="condition a follow-up visit is recorded as")


KEY = "chronic_centres"
TITLE = "慢病管理中心 Chronic-disease management centres"
Spec = ChronicCentresSpec



def conditions_named(spec: ChronicCentresSpec, scenario) -> dict[str, list[str]]:
    """Condition names this lever's block refers to, by key path (checked against the scenario's)."""
    return {"chronic_centres.condition": [spec.condition] if spec.township_share > 0 else []}


def active(scenario: Scenario) -> bool:
    return scenario.chronic_centres.township_share > 0


class ChronicCentres:
    """Scheduled follow-ups of enrolled patients at their township's centre, day by day."""

    def __init__(self, scenario: Scenario, county: County):
        spec: ChronicCentresSpec = scenario.chronic_centres
        pop = county.village_pop.astype(float)
        by_town = np.bincount(county.village_township, weights=pop, minlength=len(county.township_names))
        n = int(round(spec.township_share * len(by_town)))
        towns = np.argsort(-by_town, kind="stable")[:n]
        centre = county.own_centre
        covered = np.isin(county.village_township, towns) & (centre >= 0)
        self.centre = centre
        self.enrolled = pop * covered * spec.prevalence * spec.enrolment  # per village
        rate = self.enrolled * spec.followups_per_year  # per village and year
        self.total_rate = rate.sum()
        self.village_cum = np.cumsum(rate) / max(self.total_rate, 1e-300)
        hours = county.travel_hours[np.arange(county.n_villages), np.maximum(centre, 0)]
        self.attend = np.where(covered, np.exp(-hours / spec.travel_decay_hours), 0.0)
        self.condition = list(scenario.conditions).index(spec.condition) if active(scenario) else 0
        self.on = active(scenario) and self.total_rate > 0

    def day(self, demand: DemandModel, rng: np.random.Generator, day: int) -> tuple[np.ndarray, np.ndarray,
                                                                                     np.ndarray, np.ndarray]:
        """(time, village, resident, attends) of the day's scheduled follow-ups."""
        if not self.on:
            z = np.zeros(0, dtype=np.int64)
            return np.zeros(0), z, z, np.zeros(0, dtype=bool)
        n = int(rng.poisson(self.total_rate / demand.days_per_year))
        u = rng.random((n, 4))
        village = np.minimum(np.searchsorted(self.village_cum, u[:, 0], side="right"), len(self.village_cum) - 1)
        resident = demand.offsets[village] + (u[:, 1] * demand.village_pop[village]).astype(np.int64)
        return day + demand.time_of_day(u[:, 2]), village, resident, u[:, 3] < self.attend[village]


def monthly(plan, scenario: Scenario, county: County, missed: np.ndarray) -> dict[str, np.ndarray]:
    """Per month of the run: patients enrolled and prevalent (under that month's scenario), and
    the times of missed follow-ups, for the KPIs."""
    n = run_months(scenario.simulation.years)
    months = [plan.variants[plan.variant_of_month[m]] for m in range(n)] if not plan.empty else [scenario] * n
    centres = {id(s): ChronicCentres(s, county) for s in months}
    return {"enrolled": np.array([centres[id(s)].enrolled.sum() for s in months]),
            "prevalent": np.array([county.village_pop.sum() * s.chronic_centres.prevalence for s in months]),
            "missed": missed}
