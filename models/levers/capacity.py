"""Capacity and capability (服务能力): doctors and beds, township upgrades, county five centres.

- Doctors and beds per tier scale by configured factors (outside: a province's yearly share of
  its shared outside hospitals, which ``countysim province`` sets).
- Township upgrade: the most populous share of townships get central-township centres
  (中心卫生院) with added beds, doctors and a wider catalogue (seed 002).
- Five centres (胸痛、卒中、创伤、危重孕产妇、危重新生儿, seed 000): county hospitals treat
  emergencies of every severity instead of transferring the worst out of county.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field, field_validator

from models.geography import County
from models.tiers import SEVERITY_LEVELS, TIERS
from sim.core.config_files import Strict

if TYPE_CHECKING:
    from models.scenario import Scenario


class TownshipUpgradeSpec(Strict):
    """Central township centres upgraded towards secondary level (中心卫生院)."""

    share: float = Field(0.0, ge=0, le=1, description="share of townships (largest first) upgraded")
    outpatient: dict[str, int] = Field(default_factory=dict, description="raised highest severity per condition")
    inpatient: dict[str, int] = Field(default_factory=dict)
    beds_added: int = Field(0, ge=0)
    doctors_added: int = Field(0, ge=0)


class CapacitySpec(Strict):
    """Capacity and capability — models/levers/capacity.py."""

    doctors_factor: dict[Literal["village", "township", "county", "outside"], float] = Field(
        default_factory=dict, description="outside: only where geography.outside has a number of doctors")
    beds_factor: dict[Literal["township", "county", "outside"], float] = Field(default_factory=dict)
    township_upgrade: TownshipUpgradeSpec = Field(default_factory=TownshipUpgradeSpec)
    five_centres: bool = Field(False, description="county treats emergencies of every severity (五大中心)")

    @field_validator("doctors_factor", "beds_factor")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if not 0 < x <= 10:
                raise ValueError(f"{k}: factor must be in (0, 10], got {x}")
        return v


KEY = "capacity"
TITLE = "服务能力 Capacity and capability"
Spec = CapacitySpec


def conditions_named(spec: CapacitySpec, scenario) -> dict[str, list[str]]:
    """Condition names this lever's block refers to, by key path (checked against the scenario's)."""
    return {"capacity.township_upgrade.outpatient": list(spec.township_upgrade.outpatient),
            "capacity.township_upgrade.inpatient": list(spec.township_upgrade.inpatient)}


TOWNSHIP, COUNTY = TIERS.index("township"), TIERS.index("county")


def upgraded_centres(scenario: Scenario, county: County) -> np.ndarray:
    """Township-centre facilities upgraded, largest townships first."""
    share = scenario.capacity.township_upgrade.share
    if share <= 0:
        return np.zeros(0, dtype=np.int64)
    pop = np.bincount(county.village_township, weights=county.village_pop, minlength=len(county.township_names))
    n = int(round(share * len(pop)))
    towns = np.argsort(-pop, kind="stable")[:n]
    centres = np.flatnonzero((county.fac_tier == TOWNSHIP) & np.isin(county.fac_township, towns))
    return centres


def adjust_county(scenario: Scenario, county: County) -> None:
    spec = scenario.capacity
    for tier, factor in spec.doctors_factor.items():
        m = (county.fac_tier == TIERS.index(tier)) & (county.fac_doctors > 0)
        county.fac_doctors[m] = np.maximum(1, np.round(county.fac_doctors[m] * factor)).astype(np.int64)
    for tier, factor in spec.beds_factor.items():
        m = (county.fac_tier == TIERS.index(tier)) & (county.fac_beds > 0)
        county.fac_beds[m] = np.maximum(1, np.round(county.fac_beds[m] * factor)).astype(np.int64)
    up = upgraded_centres(scenario, county)
    if up.size:
        county.fac_beds[up] = np.where(county.fac_beds[up] >= 0, county.fac_beds[up] + spec.township_upgrade.beds_added,
                                       county.fac_beds[up])
        county.fac_doctors[up] = np.where(county.fac_doctors[up] >= 0,
                                          county.fac_doctors[up] + spec.township_upgrade.doctors_added,
                                          county.fac_doctors[up])


def adjust_capability(scenario: Scenario, county: County, cap: np.ndarray) -> None:
    """cap[kind, f, c]: highest severity; kind 0 outpatient, 1 inpatient."""
    spec = scenario.capacity
    names = list(scenario.conditions)
    up = upgraded_centres(scenario, county)
    for kind, table in enumerate((spec.township_upgrade.outpatient, spec.township_upgrade.inpatient)):
        for name, level in table.items():
            c = names.index(name)
            cap[kind, up, c] = np.maximum(cap[kind, up, c], level if kind == 0 else
                                          np.where(county.fac_beds[up] != 0, level, 0))
    if spec.five_centres:
        county_facs = county.fac_tier == COUNTY
        for c, name in enumerate(names):
            if scenario.conditions[name].emergency:
                cap[0, county_facs, c] = SEVERITY_LEVELS
                cap[1, county_facs & (county.fac_beds != 0), c] = SEVERITY_LEVELS
