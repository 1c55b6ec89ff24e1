"""The reform levers (政策杠杆), one module each, registered here in schema order.

A lever module holds its config block (``Spec``, every default meaning "policy off"), its
key in the scenario (``KEY``), a title (``TITLE``), optionally ``conditions_named`` (condition
names its block refers to, for validation) and its mechanism.  The registry row below is the only
other place a new lever must be named; ``docs/extending.md`` has the recipe.
"""
from __future__ import annotations

import numpy as np

from models.levers import (
    capacity,
    chronic_centres,
    day_surgery,
    family_doctor,
    information,
    medicines,
    payment,
    prices,
    salary,
    sinking,
    tcm,
    workforce,
)

LEVERS = (family_doctor, payment, capacity, sinking, information, medicines, prices, day_surgery, tcm, salary,
          workforce, chronic_centres)


def levers_with(hook: str) -> list:
    """Lever modules that define ``hook`` (e.g. ``adjust_capability``), in registry order."""
    return [lever for lever in LEVERS if hasattr(lever, hook)]


def quality_boost(scenario, county):
    """Perceived-quality change per facility from every lever that has one (sinking, rotations)."""
    boost = np.zeros(county.n_facilities)
    for lever in levers_with("quality_boost"):
        boost = boost + lever.quality_boost(scenario, county)
    return boost


def county_under_levers(scenario, county):
    """The county as the levers leave it (capacity changes, stationed doctors, mobile clinics)."""
    county = county.copy()
    for lever in levers_with("adjust_county"):
        lever.adjust_county(scenario, county)
    return county
