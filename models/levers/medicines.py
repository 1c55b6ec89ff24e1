"""Medicines (药品): unified drug list, long prescriptions, volume-based procurement (集采).

- Unified drug list (统一用药目录): chronic patients refill county prescriptions at village and
  township level, so those tiers' catalogues cover chronic follow-up at every severity.
- Long prescriptions (慢病长处方, up to 12 weeks, seed 002): a stable chronic patient with a
  prescription of w weeks needs baseline_weeks / w as many refill visits.
- Procurement price cuts lower the drug part of every charge.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from models.tiers import SEVERITY_LEVELS, TIERS
from sim.core.config_files import Strict

if TYPE_CHECKING:
    from models.scenario import Scenario


class MedicinesSpec(Strict):
    """Drug list, long prescriptions, procurement — models/levers/medicines.py."""

    unified_drug_list: bool = Field(False, description="chronic patients refill county prescriptions locally")
    chronic_conditions: list[str] = Field(default_factory=lambda: ["chronic_followup"])
    long_prescription_weeks: float = Field(4.0, ge=1, le=12, description="prescription length (慢病长处方)")
    baseline_prescription_weeks: float = Field(4.0, ge=1, le=12)
    long_prescription_eligible: float = Field(0.6, ge=0, le=1, description="share of chronic visits by stable "
                                                                            "patients who may get long scripts")
    drug_price_cut: float = Field(0.0, ge=0, lt=1, description="volume-based procurement cut of drug prices (集采)")


KEY = "medicines"
TITLE = "药品 Medicines"
Spec = MedicinesSpec


def conditions_named(spec: MedicinesSpec, scenario) -> dict[str, list[str]]:
    """Condition names this lever's block refers to, by key path (checked against the scenario's)."""
    return {"medicines.chronic_conditions": spec.chronic_conditions if used(spec) else []}


def used(spec: MedicinesSpec) -> bool:
    """Whether the drug-list or long-prescription part is on (the chronic list then matters)."""
    return spec.unified_drug_list or spec.long_prescription_weeks != spec.baseline_prescription_weeks



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
