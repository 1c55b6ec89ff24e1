"""Traditional Chinese medicine services (中医药服务, seed 001: TCM ≥ 35 % of primary-level visits).

Where a facility offers TCM (a 中医馆/国医堂 in a share of a tier's facilities, or named
facilities such as the TCM hospital), a patient with an eligible condition chooses between a
TCM and a Western consultation by a binary logit:
    P(TCM) = logistic(preference + beta_log_oop · [ln(1 + oop_TCM/100) − ln(1 + oop_Western/100)])
with the choice model's own out-of-pocket coefficient, TCM charges from the price schedule's
``tcm`` category and the TCM reimbursement bonus (中医药报销倾斜).  Offering TCM raises the
facility's pull in facility choice by the nested logit's inclusive value −ln(1 − P(TCM)).
So the TCM share of primary visits (KPI ``tcm_share_primary``) is an outcome of where TCM is
offered, its price and its reimbursement — not an input.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field, field_validator

from models.tiers import TIERS
from sim.core.config_files import Strict, probabilities

if TYPE_CHECKING:
    from models.costs import CostModel
    from models.geography import County
    from models.scenario import Scenario


class TcmSpec(Strict):
    """Traditional Chinese medicine services (中医药服务) — models/levers/tcm.py."""

    offered: dict[Literal["village", "township", "county", "outside"], float] = Field(
        default_factory=dict, description="share of a tier's facilities (most doctors first) offering TCM")
    facilities: list[str] = Field(default_factory=list, description="facilities offering TCM by name "
                                                                    "(e.g. the county TCM hospital)")
    conditions: list[str] = Field(default_factory=lambda: ["minor_acute", "chronic_followup"],
                                  description="conditions for which patients consider TCM")
    preference: float = Field(-0.5, ge=-10, le=10, description="utility of TCM over a Western consultation at "
                                                                 "equal out-of-pocket cost (assumed)")
    reimbursement_bonus: float = Field(0.0, ge=0, le=1, description="outpatient reimbursement rate added for TCM "
                                                                    "visits (中医药报销倾斜)")

    _p = field_validator("offered")(classmethod(lambda cls, v: probabilities(v)))


KEY = "tcm"
TITLE = "中医药 Traditional Chinese medicine"
Spec = TcmSpec


def conditions_named(spec: TcmSpec, scenario) -> dict[str, list[str]]:
    """Condition names this lever's block refers to, by key path (checked against the scenario's)."""
    return {"tcm.conditions": spec.conditions if offers_any(spec) else []}


def offers_any(spec: TcmSpec) -> bool:
    return any(x > 0 for x in spec.offered.values()) or bool(spec.facilities)


def offering(spec: TcmSpec, county: County) -> np.ndarray:
    """offering[f]: facility f offers TCM consultations."""
    out = np.isin(county.fac_names, spec.facilities)
    for tier, share in spec.offered.items():
        facs = np.flatnonzero((county.fac_tier == TIERS.index(tier)) & ~county.fac_mobile)
        n = int(round(share * facs.size))
        out[facs[np.argsort(-county.fac_doctors[facs], kind="stable")[:n]]] = True
    return out


def tcm_probability(scenario: Scenario, county: County, costs: CostModel) -> np.ndarray:
    """p[f, c, s]: chance that a consultation at facility f for condition c, severity s is TCM."""
    spec: TcmSpec = scenario.tcm
    F, (_, C, S) = county.n_facilities, costs.visit.shape
    p = np.zeros((F, C, S))
    if not offers_any(spec):
        return p
    rates = np.array([scenario.reimbursement.tier(t).outpatient_rate for t in TIERS])[:, None, None]
    oop_western = costs.visit * (1.0 - rates)
    oop_tcm = costs.tcm_visit * (1.0 - np.minimum(1.0, rates + spec.reimbursement_bonus))
    util = spec.preference + scenario.choice.beta_log_oop * (np.log1p(oop_tcm / 100.0) - np.log1p(oop_western / 100.0))
    by_tier = 1.0 / (1.0 + np.exp(-util))  # (T, C, S)
    eligible = np.isin(list(scenario.conditions), spec.conditions)
    p[:] = by_tier[county.fac_tier]
    p *= (offering(spec, county)[:, None] & eligible[None, :])[:, :, None]
    return p


def inclusive_value(p: np.ndarray) -> np.ndarray:
    """Utility a facility gains from offering TCM: ln(1 + e^Δ) = −ln(1 − P(TCM))."""
    return -np.log1p(-np.minimum(p, 1.0 - 1e-12))


class Tcm:
    """Whether a visit is a TCM visit: P(TCM) of its facility and case, on the visit's own draw."""

    def __init__(self, p: np.ndarray, spec: TcmSpec):
        by_case = np.repeat(p.reshape(p.shape[0], -1), 2, axis=1)  # [f, case], case = (c, s, admit)
        self.by_case = by_case
        self._by_case = by_case.tolist()
        self.bonus = spec.reimbursement_bonus

    def visits(self, facilities: np.ndarray, cases: np.ndarray, u: np.ndarray) -> np.ndarray:
        return u < self.by_case[facilities, cases]

    def visit(self, fac: int, case: int, u: float) -> bool:
        return bool(u < self._by_case[fac][case])
