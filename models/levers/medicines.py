"""Medicines (药品): unified drug list, long prescriptions, volume-based procurement (集采).

- Unified drug list (统一用药目录): chronic patients refill county prescriptions at village and
  township level, so those tiers' catalogues cover chronic follow-up at every severity.
- Long prescriptions (慢病长处方, up to 12 weeks, seed 002): a stable chronic patient with a
  prescription of w weeks needs baseline_weeks / w as many refill visits.
- Procurement price cuts lower the drug part of every charge.
- Medicine stock (药品配备): at a village clinic or township centre, a chronic patient's
  medicine is in stock with probability ``stock_availability.<tier>``; when it is not (缺药) the
  consultation cannot complete and the patient is sent up the referral chain.  Under the unified
  drug list with a central pharmacy, the community's shortage register and delivery (缺药登记和
  配送制度, 上下级用药衔接, seed 001) fill ``shortage_delivery`` of would-be stock-outs.  Where
  residents learn from experience (``adaptation``), a stock-out counts as an unresolved visit and
  lowers the facility's perceived quality.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field, field_validator

from models.tiers import SEVERITY_LEVELS, TIERS
from sim.core.config_files import Strict, probabilities

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
    stock_availability: dict[Literal["village", "township"], float] = Field(
        default_factory=dict, description="chance a chronic patient's medicine is in stock at a tier's facilities "
                                          "(absent: always; set values are assumed unless sourced)")
    shortage_delivery: float = Field(0.8, ge=0, le=1, description="with the unified drug list, share of would-be "
                                                                  "stock-outs filled by the central pharmacy's "
                                                                  "delivery (缺药登记和配送, seed 001; assumed)")

    _p = field_validator("stock_availability")(classmethod(lambda cls, v: probabilities(v)))


KEY = "medicines"
TITLE = "药品 Medicines"
Spec = MedicinesSpec


def conditions_named(spec: MedicinesSpec, scenario) -> dict[str, list[str]]:
    """Condition names this lever's block refers to, by key path (checked against the scenario's)."""
    return {"medicines.chronic_conditions": spec.chronic_conditions if used(spec) else []}


def used(spec: MedicinesSpec) -> bool:
    """Whether the drug-list, long-prescription or stock part is on (the chronic list then matters)."""
    return (spec.unified_drug_list or spec.long_prescription_weeks != spec.baseline_prescription_weeks
            or stock_outs(spec))


def stock_outs(spec: MedicinesSpec) -> bool:
    """Whether any primary tier may lack a chronic patient's medicine."""
    return any(p < 1 for p in spec.stock_availability.values())


def in_stock(scenario: Scenario, county) -> list[list[float]] | None:
    """in_stock[f][c]: chance facility f has condition c's medicine (None: always, no stock-outs)."""
    m: MedicinesSpec = scenario.medicines
    if not stock_outs(m):
        return None
    out = np.ones((county.n_facilities, len(scenario.conditions)))
    chronic = np.isin(list(scenario.conditions), m.chronic_conditions)
    for tier, p in m.stock_availability.items():
        filled = p + (1.0 - p) * m.shortage_delivery if m.unified_drug_list else p
        out[np.ix_(county.fac_tier == TIERS.index(tier), chronic)] = filled
    return out.tolist()


def out_of_stock(u: float, chance_in_stock: float) -> bool:
    """The consultation finds the patient's medicine missing (缺药); compiled as is by
    ``sim/compiled_steps.py``."""
    return u >= chance_in_stock


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
