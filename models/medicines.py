"""Medicines (药品): unified drug list, long prescriptions, volume-based procurement (集采).

- Unified drug list (统一用药目录): chronic patients refill county prescriptions at village and
  township level, so those tiers' catalogues cover chronic follow-up at every severity.
- Long prescriptions (慢病长处方, up to 12 weeks, seed 002): a stable chronic patient with a
  prescription of w weeks needs baseline_weeks / w as many refill visits.
- Procurement price cuts lower the drug part of every charge.
"""
from __future__ import annotations

import numpy as np

from sim.config import SEVERITY_LEVELS, TIERS, Scenario
from sim.policy_config import MedicinesSpec


def keep_probability(scenario: Scenario) -> np.ndarray:
    """Per condition, the share of would-be follow-up visits that still happen."""
    m: MedicinesSpec = scenario.medicines
    keep = np.ones(len(scenario.conditions))
    if m.long_prescription_weeks == m.baseline_prescription_weeks:
        return keep
    fewer = 1.0 - m.baseline_prescription_weeks / m.long_prescription_weeks
    for i, name in enumerate(scenario.conditions):
        if name in m.chronic_conditions:
            keep[i] = 1.0 - m.long_prescription_eligible * fewer
    return keep


def adjust_capability(scenario: Scenario, county, cap: np.ndarray) -> None:
    """Unified drug list: village and township treat chronic follow-up at every severity."""
    m = scenario.medicines
    if not m.unified_drug_list:
        return
    names = list(scenario.conditions)
    primary = np.isin(county.fac_tier, [TIERS.index("village"), TIERS.index("township")])
    for name in m.chronic_conditions:
        cap[0, primary, names.index(name)] = SEVERITY_LEVELS


def adjust_prices(spec: MedicinesSpec, parts: np.ndarray) -> np.ndarray:
    out = parts.copy()
    out[:, 0] *= 1.0 - spec.drug_price_cut
    return out
