"""Checks that need the built county: capacity where patients must go, referral targets."""
from __future__ import annotations

import numpy as np

from sim.config import TIERS, Scenario
from models.geography import County


def _capacity_key(scenario: Scenario, county: County, f: int, what: str) -> str:
    geo = scenario.geography
    tier = TIERS[county.fac_tier[f]]
    if tier == "outside":
        return f"geography.outside.{what}"
    if geo.kind == "synthetic":
        if tier == "county":
            names = [h.name for h in geo.synthetic.county_hospitals]
            return f"geography.synthetic.county_hospitals.{names.index(county.fac_names[f])}.{what}"
        return f"geography.synthetic.{tier}_{what}"
    if geo.kind == "explicit":
        names = [x.name for x in geo.facilities]
        return f"geography.facilities.{names.index(county.fac_names[f])}.{what}"
    return f"geography.roster.facilities_csv[{county.fac_names[f]}].{what}"


def check_scenario_against_county(scenario: Scenario, county: County) -> list[tuple[str, str]]:
    """Return (key path, message) for every problem; empty when the scenario can run."""
    problems: list[tuple[str, str]] = []
    if county.population <= 0:
        problems.append(("geography", "the county has no residents (population must be > 0)"))
    used = np.unique(county.choice_set[county.choice_set >= 0])
    for f in used:
        if county.fac_doctors[f] == 0:
            problems.append((_capacity_key(scenario, county, f, "doctors"),
                             f"facility {county.fac_names[f]!r} is in patients' choice sets and needs "
                             f"doctors >= 1 (got 0)"))
    present = set(county.fac_tier.tolist())
    for src, dst in scenario.referral.up.items():
        if TIERS.index(src) in present and TIERS.index(dst) not in present:
            hint = "add geography.outside" if dst == "outside" else f"add {dst} facilities"
            problems.append((f"referral.up.{src}",
                             f"target tier {dst!r} has no facility in this county ({hint}); allowed targets: "
                             f"{[t for t in TIERS if TIERS.index(t) in present and TIERS.index(t) > TIERS.index(src)]}"))
    for tier in ("township", "county"):
        cap = getattr(scenario.capability, tier).inpatient
        facs = np.flatnonzero(county.fac_tier == TIERS.index(tier))
        if facs.size and any(v > 0 for v in cap.values()) and not (county.fac_beds[facs] != 0).any():
            problems.append((_capacity_key(scenario, county, int(facs[0]), "beds"),
                             f"capability.{tier}.inpatient admits patients but every {tier} facility has "
                             f"beds = 0; beds must be >= 1"))
    return problems
