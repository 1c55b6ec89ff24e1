"""The reform levers (政策杠杆), one module each, registered here in schema order.

A lever module holds its config block (``Spec``, every default meaning "policy off"), its
key in the scenario (``KEY``), a title (``TITLE``), optionally ``conditions_named`` (condition
names its block refers to, for validation) and its mechanism.  The registry row below is the only
other place a new lever must be named; ``docs/extending.md`` has the recipe.
"""
from __future__ import annotations

from models.levers import (
    capacity,
    day_surgery,
    family_doctor,
    information,
    medicines,
    payment,
    prices,
    sinking,
    tcm,
)

LEVERS = (family_doctor, payment, capacity, sinking, information, medicines, prices, day_surgery, tcm)


def levers_with(hook: str) -> list:
    """Lever modules that define ``hook`` (e.g. ``adjust_capability``), in registry order."""
    return [lever for lever in LEVERS if hasattr(lever, hook)]


def county_under_levers(scenario, county):
    """The county as the levers leave it (capacity changes, stationed doctors, mobile clinics)."""
    county = county.copy()
    for lever in levers_with("adjust_county"):
        lever.adjust_county(scenario, county)
    return county
