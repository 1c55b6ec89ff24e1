"""Workforce (人力资源): county doctors rotating to township centres (县管乡用、下沉轮岗, seed 001).

A posting sends ``doctors`` county doctors from their county hospital (``home``; default the
county hospital with most doctors) to a township centre (``to``; ``all``: every centre) for
``months`` months from ``start`` (YYYY-MM).  Seed 001 has county doctors stationed at townships
serve at least six months; a posting shorter than ``minimum_months`` is a configuration error.

While a posting serves, its doctors are consulting servers at the centre, and the home hospital
closes the outpatient rooms they stand for (``geography.county_physicians_per_room``: most of a
county hospital's physicians work on its wards, not at its outpatient desks).  The stations
change size on the first day of the month, as for a phased plan (the calendar resolves with the
plan, ``models/loading.py``: one scenario per distinct set of serving postings).  The senior
doctor also widens the centre's outpatient catalogue and raises its perceived quality, as the
stationed physicians of ``models/levers/sinking.py`` do; patients respond to both, and to the
centre's size, through the choice model.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field, PrivateAttr, model_validator

from models.cadres import CadresSpec
from models.geography import rooms_vacated
from models.levers.pooling import PoolingSpec
from models.levers.pooling import county_problems as pooling_problems
from models.plan import MONTH_PATTERN, month_index, outside_run, run_months
from models.tiers import SEVERITY_LEVELS, TIERS
from sim.core.config_files import KeyPathError, Strict

if TYPE_CHECKING:
    from models.geography import County
    from models.scenario import Scenario

ALL_CENTRES = "all"


class PostingSpec(Strict):
    """County doctors posted to a township centre for a stretch of months."""

    to: str = Field(min_length=1, description="township centre (facility name), or 'all' for every centre")
    doctors: int = Field(1, ge=1, le=50, description="county doctors posted (to each centre when 'to' is 'all')")
    start: str = Field(pattern=MONTH_PATTERN, description="first month served, YYYY-MM")
    months: int = Field(ge=1, le=600, description="months served")
    home: str | None = Field(None, description="county hospital the doctors leave (default: the one with most "
                                               "doctors)")

    def first_month(self, start_year: int) -> int:
        """Month index of the run (0 = January of simulation.start_year) of the first month served."""
        return month_index(self.start, start_year)


class RotationSpec(Strict):
    """Rotation of county doctors to township centres (县管乡用)."""

    minimum_months: int = Field(6, ge=1, le=120, description="shortest posting allowed (seed 001: stationed at "
                                                             "least six months)")
    capability_boost: int = Field(1, ge=0, le=3, description="severity levels added to a centre's outpatient "
                                                             "care while a posted doctor serves (assumed)")
    quality_boost: float = Field(0.2, ge=0, le=5, description="perceived quality added at a centre while a posted "
                                                              "doctor serves (assumed, as stationed physicians)")
    postings: list[PostingSpec] = Field(default_factory=list)
    _serving: frozenset[int] = PrivateAttr(default=frozenset())  # postings serving in this scenario's month

    @model_validator(mode="after")
    def _long_enough(self) -> "RotationSpec":
        for i, p in enumerate(self.postings):
            if p.months < self.minimum_months:
                raise KeyPathError(f"workforce.rotation.postings.{i}.months", p.months,
                                   f"a posting must last at least workforce.rotation.minimum_months = "
                                   f"{self.minimum_months} months (seed 001: doctors stationed at least six months)")
        return self


class WorkforceSpec(Strict):
    """Workforce — models/levers/workforce.py."""

    rotation: RotationSpec = Field(default_factory=RotationSpec)
    cadres: CadresSpec = Field(default_factory=CadresSpec)
    pooling: PoolingSpec = Field(default_factory=PoolingSpec)


KEY = "workforce"
TITLE = "人力资源 Workforce (县管乡用 rotation, 人员统筹 pooling)"
Spec = WorkforceSpec

TOWNSHIP, COUNTY = TIERS.index("township"), TIERS.index("county")


# ---------------------------------------------------------------------- calendar
def calendar(scenario: Scenario, n_months: int) -> list[frozenset[int]] | None:
    """Per month of the run, the postings serving (None: no postings)."""
    postings = scenario.workforce.rotation.postings
    if not postings:
        return None
    start = scenario.simulation.start_year
    spans = [(p.first_month(start), p.first_month(start) + p.months) for p in postings]
    return [frozenset(i for i, (a, b) in enumerate(spans) if a <= m < b) for m in range(n_months)]


def for_month(scenario: Scenario, serving: frozenset[int]) -> Scenario:
    """The scenario with ``serving`` postings at their centres (a copy; the original is unchanged)."""
    rotation = scenario.workforce.rotation.model_copy()
    rotation._serving = serving
    workforce = scenario.workforce.model_copy(update={"rotation": rotation})
    return scenario.model_copy(update={"workforce": workforce})


def calendar_columns(scenario: Scenario, county: County, months: list[frozenset[int]]) -> dict[str, list[int]]:
    """Plan-table columns: posted doctors serving in each month and those completing a posting."""
    postings = scenario.workforce.rotation.postings
    size = [p.doctors * len(_centres(p, county)) for p in postings]
    start = scenario.simulation.start_year
    last = [p.first_month(start) + p.months - 1 for p in postings]
    return {"workforce.rotation.doctors_serving": [sum(size[i] for i in s) for s in months],
            "workforce.rotation.doctors_completing": [sum(size[i] for i in s if last[i] == m)
                                                      for m, s in enumerate(months)]}


def rotation_months(plan) -> dict[str, list] | None:
    """Posted doctors serving and completing by month, from a resolved plan (None: no postings)."""
    serving = plan.columns.get("workforce.rotation.doctors_serving")
    if serving is None:
        return None
    return {"serving": serving, "completing": plan.columns["workforce.rotation.doctors_completing"]}


# ---------------------------------------------------------------------- mechanism
def _centres(p: PostingSpec, county: County) -> np.ndarray:
    centres = (county.fac_tier == TOWNSHIP) & ~county.fac_mobile
    if p.to == ALL_CENTRES:
        return np.flatnonzero(centres)
    return np.flatnonzero(centres & (np.asarray(county.fac_names, dtype=object) == p.to))


def _home(p: PostingSpec, county: County) -> int:
    if p.home is not None:
        return county.fac_names.index(p.home)
    hospitals = np.flatnonzero((county.fac_tier == COUNTY) & (county.fac_doctors > 0))
    return int(hospitals[np.argmax(county.fac_doctors[hospitals])])


def _serving(scenario: Scenario) -> list[PostingSpec]:
    rotation = scenario.workforce.rotation
    return [rotation.postings[i] for i in sorted(rotation._serving)]


def adjust_county(scenario: Scenario, county: County) -> None:
    """Serving postings move their doctors to the centres, where each staffs an outpatient room;
    their home hospitals close the rooms they stand for (``rooms_vacated``)."""
    away: dict[int, int] = {}  # home hospital → its physicians posted out this month
    for p in _serving(scenario):
        centres = _centres(p, county)
        centres = centres[county.fac_doctors[centres] >= 0]
        home = _home(p, county)
        away[home] = away.get(home, 0) + p.doctors * centres.size
        county.fac_doctors[centres] += p.doctors
    for home, physicians in away.items():
        county.fac_doctors[home] -= rooms_vacated(physicians, scenario.geography.county_physicians_per_room)


def adjust_capability(scenario: Scenario, county: County, cap: np.ndarray) -> None:
    boost = scenario.workforce.rotation.capability_boost
    for p in _serving(scenario) if boost else ():
        centres = _centres(p, county)
        cap[0, centres] = np.minimum(cap[0, centres] + boost, SEVERITY_LEVELS)


def quality_boost(scenario: Scenario, county: County) -> np.ndarray:
    """Perceived quality added at centres while a posted doctor serves there."""
    boost = np.zeros(county.n_facilities)
    for p in _serving(scenario):
        boost[_centres(p, county)] = scenario.workforce.rotation.quality_boost
    return boost


# ---------------------------------------------------------------------- checks
def county_problems(scenario: Scenario, county: County) -> list[tuple[str, str]]:
    """Postings naming unknown facilities or starting outside the run (models/validation.py checks
    that the postings, with the other levers, leave every hospital a doctor)."""
    rotation = scenario.workforce.rotation
    if not rotation.postings:
        return pooling_problems(scenario, county)
    problems: list[tuple[str, str]] = pooling_problems(scenario, county)
    centres = [county.fac_names[f] for f in np.flatnonzero((county.fac_tier == TOWNSHIP) & ~county.fac_mobile)]
    hospitals = [county.fac_names[f] for f in np.flatnonzero((county.fac_tier == COUNTY) & (county.fac_doctors > 0))]
    sim = scenario.simulation
    for i, p in enumerate(rotation.postings):
        key = f"workforce.rotation.postings.{i}"
        if p.to != ALL_CENTRES and p.to not in centres:
            problems.append((f"{key}.to", f"{p.to!r} is not a township centre of this county; allowed: "
                                          f"{ALL_CENTRES!r} or one of {centres[:8]}"))
        if p.home is not None and p.home not in hospitals:
            problems.append((f"{key}.home", f"{p.home!r} is not a county hospital with doctors; allowed: {hospitals}"))
        why = outside_run(p.start, sim.start_year, sim.years)
        if why:
            problems.append((f"{key}.start", why))
    if not hospitals:
        problems.append(("workforce.rotation.postings", "the county has no county hospital with doctors"))
    return problems


def serving_sets(scenario: Scenario) -> list[frozenset[int]]:
    """The distinct sets of postings that serve together in some month of the run."""
    months = calendar(scenario, run_months(scenario.simulation.years)) if scenario.workforce.rotation.postings else None
    return sorted({s for s in months if s}, key=sorted) if months else []
