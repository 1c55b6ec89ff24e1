"""Checks that need the built county: capacity where patients must go, referral targets."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models.geography import County
from models.levers import levers_with
from models.tiers import TIERS

if TYPE_CHECKING:
    from models.scenario import Scenario


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
    for name in scenario.capability.facilities:
        if name not in county.fac_names:
            problems.append((f"capability.facilities.{name}", f"no facility of this county is called {name!r}; "
                                                              f"known: {county.fac_names[:8]}"))
    used = np.unique(county.choice_set[county.choice_set >= 0])
    idle: dict[str, list[str]] = {}  # key path → facilities without doctors
    for f in used:
        if county.fac_doctors[f] == 0:
            idle.setdefault(_capacity_key(scenario, county, f, "doctors"), []).append(county.fac_names[f])
    for key, names in idle.items():
        shown = ", ".join(repr(x) for x in names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        problems.append((key, f"{shown} {'are' if len(names) > 1 else 'is'} in patients' choice sets and "
                              f"need{'' if len(names) > 1 else 's'} doctors >= 1 (got 0)"))
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
    problems += _admissions_have_a_bed(scenario, county)
    for lever in levers_with("county_problems"):
        problems += lever.county_problems(scenario, county)
    return problems or _postings_leave_doctors(scenario, county)


def _postings_leave_doctors(scenario: Scenario, county: County) -> list[tuple[str, str]]:
    """Rotation postings (县管乡用), on top of what other levers move (stationed physicians,
    下沉), must leave every county hospital at least one doctor in every month they serve."""
    from models.levers import county_under_levers
    from models.levers.workforce import for_month, serving_sets

    stationed = " with sinking.stationed_physicians" if scenario.sinking.stationed_physicians.per_township else ""
    for serving in serving_sets(scenario):
        moved = county_under_levers(for_month(scenario, serving), county)
        short = [f for f in np.flatnonzero(county.fac_tier == TIERS.index("county"))
                 if county.fac_doctors[f] > 0 and moved.fac_doctors[f] < 1]
        if short:
            f = short[0]
            return [("workforce.rotation.postings",
                     f"postings {sorted(serving)} serving together{stationed} leave {county.fac_names[f]!r} with "
                     f"{int(moved.fac_doctors[f])} doctors (it has {int(county.fac_doctors[f])}); "
                     f"post fewer doctors or name another home")]
    return []


def _admissions_have_a_bed(scenario: Scenario, county: County) -> list[tuple[str, str]]:
    """Every case that may need a bed must find one: here or somewhere up the referral chain."""
    from models.levers import county_under_levers
    from models.referral import TREAT_HERE, ReferralModel

    county = county_under_levers(scenario, county)
    ref = ReferralModel(scenario, county)
    used = np.unique(np.concatenate([county.choice_set[county.choice_set >= 0], ref.emergency_first.ravel()]))
    no_bed = used[county.fac_beds[used] == 0]  # facilities that cannot keep a patient themselves
    problems = []
    for c, name in enumerate(scenario.conditions):
        for s, p in enumerate(scenario.conditions[name].admission_prob):
            if p <= 0:
                continue
            for tier in np.unique(county.fac_tier[no_bed[~ref.can[no_bed, c, s, 1]]]).tolist():
                if (ref.target[:, tier, c, s, 1] == TREAT_HERE).any():  # the same for every facility of a tier
                    problems.append((f"referral.up.{TIERS[tier]}",
                                     f"{name} at severity {s + 1} may need a bed (admission_prob {p}), but "
                                     f"{TIERS[tier]} facilities have none and no tier above admits it; add a "
                                     f"referral target or inpatient capability with beds"))
    return problems
