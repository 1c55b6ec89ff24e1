"""Care-seeking (就医行为): whether an illness becomes visits, self-treatment or nothing.

An episode is an illness.  Before any facility is chosen the patient weighs formal care against
two outside options.  The three form a nested logit whose lower nest is facility choice
(models/choice.py), so one set of price and time coefficients serves every decision:

    formal care       asc_formal[c][s] + nest_scale · IV[v, c, s]
    self-treatment    asc_self_treatment[s] + beta_log_oop · ln(1 + self_treatment_cost / oop_scale_cny)
    (自我治疗/零售药店)                    + beta_travel_per_hour · self_treatment_hours
    forgone care      0  (未就诊, the reference)

IV = ln Σ_j exp(V_j) is the inclusive value of the facilities open to the patient's village for the
condition and severity (the expected best facility utility, with the choice model's
coefficients).  A price change at one facility therefore moves care-seeking only as much as it
worsens the best option: a patient who can bypass a dearer county hospital for a township
centre loses little, which is what makes gatekeeping by price shift visits rather than cut them.
The elasticity of P(formal) to all out-of-pocket prices is
``(1 − P(formal)) · nest_scale · Σ_j P(j) · beta_log_oop · E_j / (scale + E_j)``; it is what is
calibrated against docs/sources/data/elasticities.csv.  Emergencies always seek formal care.

A patient asked back for a return visit (复诊, models/provider_demand.py) comes with a logit in
its out-of-pocket and travel time, with the choice model's coefficients, so how often an illness
becomes visits also responds to price and distance:
    come back         return_asc[tier] + beta_log_oop · ln(1 + visit out-of-pocket / oop_scale_cny)
                                + beta_travel_per_hour · travel hours
    not               0.

A patient told they need a bed may decline the admission (unmet need for hospital admission,
应住院未住院) with a logit in the expected out-of-pocket of the stay:
    accept            admission_asc[c][s] + admission_beta_log_oop · ln(1 + E[stay out-of-pocket] / 1000 CNY)
    decline           0.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field, field_validator

from models.tiers import TIERS, Tier
from sim.core.config_files import Strict
from sim.core.jit import njit
from sim.core.sums import last_axis_sums

if TYPE_CHECKING:
    from models.scenario import ChoiceSpec

FORMAL, SELF_TREATMENT, FORGONE = 0, 1, 2
ADMISSION_OOP_SCALE = 1000.0  # CNY: the unit of the admission price term


def _three(v: list[float]) -> list[float]:
    if len(v) != 3:
        raise ValueError(f"needs 3 values (severity 1, 2, 3), got {len(v)}")
    return v


def takes(u: float, odds_factor: float) -> bool:
    """A logit choice on the uniform ``u``: ``u < logistic(util)`` written as
    ``u · (1 + exp(−util)) < 1`` with ``odds_factor`` = 1 + exp(−util)."""
    return u * odds_factor < 1.0


def return_odds_factor(asc: float, beta: float, scale: float, beta_hours: float, oop: float, hours: float) -> float:
    """``1 + exp(−utility)`` of coming back for a return visit costing ``oop`` CNY and ``hours``
    of travel.  Plain float arithmetic with ``math``, so ``sim/compiled_steps.py`` compiles this same
    function (``tests/test_compiled_steps.py`` checks both give the same bits)."""
    util = asc + beta * math.log1p(oop / scale) + beta_hours * hours
    return 1.0 + math.exp(-util)


class CareSeekingSpec(Strict):
    """Whether an illness is taken to a facility, self-treated or left untreated; off by default
    (every episode seeks formal care and accepts admission)."""

    enabled: bool = Field(False, description="model the outside options and declined admissions")
    source: str = "assumed"
    asc_formal: dict[str, list[float]] = Field(default_factory=dict,
                                               description="constant of formal care by condition and severity "
                                                           "(missing condition: 0); sets the level at base prices")
    asc_self_treatment: list[float] = Field(default_factory=lambda: [0.0, 0.0, 0.0],
                                            description="constant of self-treatment by severity")
    nest_scale: float = Field(1.0, gt=0, le=1,
                              description="weight of the inclusive value of facility choice (1: facilities are "
                                          "no closer substitutes for each other than for the outside options)")
    self_treatment_cost_cny: float = Field(25.0, ge=0, description="retail pharmacy spending, all out-of-pocket")
    self_treatment_hours: float = Field(0.3, ge=0, description="time to reach a pharmacy")
    return_asc: dict[Tier, float] = Field(default_factory=dict,
                                          description="constant of coming back when the doctor asks for a return "
                                                      "visit (复诊), by tier (missing tier: 5); priced with the "
                                                      "choice model's coefficients")
    admission_asc: dict[str, list[float]] = Field(default_factory=dict,
                                                  description="constant of accepting an admission by condition and "
                                                              "severity (missing condition: 5)")
    admission_beta_log_oop: float = Field(-1.0, le=0,
                                          description="per unit of ln(1 + expected stay out-of-pocket / 1000 CNY)")

    _a = field_validator("asc_self_treatment")(_three)

    @field_validator("asc_formal", "admission_asc")
    @classmethod
    def _per_condition(cls, v: dict[str, list[float]]) -> dict[str, list[float]]:
        for k, x in v.items():
            try:
                _three(x)
            except ValueError as e:
                raise ValueError(f"{k}: {e}") from None
        return v


class CareSeeking:
    """The outside options and the admission decision for one scenario."""

    def __init__(self, spec: CareSeekingSpec, choice: ChoiceSpec, condition_names: list[str],
                 emergency: np.ndarray):
        self.enabled = spec.enabled
        self.spec = spec
        self.emergency = emergency
        self.asc_formal = np.array([spec.asc_formal.get(n, [0.0, 0.0, 0.0]) for n in condition_names])  # (C, S)
        self.self_util = np.asarray(spec.asc_self_treatment) + choice.beta_log_oop * np.log1p(
            spec.self_treatment_cost_cny / choice.oop_scale_cny) + choice.beta_travel_per_hour * spec.self_treatment_hours
        self.return_asc = [spec.return_asc.get(t, 5.0) for t in TIERS]
        self.return_terms = (choice.beta_log_oop, choice.oop_scale_cny, choice.beta_travel_per_hour)
        self.adm_asc = np.array([spec.admission_asc.get(n, [5.0, 5.0, 5.0]) for n in condition_names])  # (C, S)
        self.cum = None

    def update(self, inclusive_value: np.ndarray) -> None:
        """Option probabilities per (village, condition, severity) from the inclusive value of
        facility choice there (recomputed whenever perceived waits change)."""
        if not self.enabled:
            return
        # formal care, self-treatment, forgone (0) less their maximum; numpy's exp and sum
        p = np.exp(_option_utility(self.asc_formal, self.spec.nest_scale, inclusive_value, self.self_util))
        self.prob, self.cum = _option_shares(p, last_axis_sums(p), self.emergency)

    def options(self, village: np.ndarray, condition: np.ndarray, severity: np.ndarray, u: np.ndarray) -> np.ndarray:
        """FORMAL, SELF_TREATMENT or FORGONE for each episode, by inverse CDF on its own uniform."""
        if not self.enabled:
            return np.zeros(len(village), dtype=np.int8)
        return _options(self.cum, village, condition, severity, u)

    def comes_back(self, tier: int, oop: float, hours: float, u: float) -> bool:
        """Whether a patient asked back for a return visit comes (always when the model is off)."""
        if not self.enabled:
            return True
        beta, scale, beta_hours = self.return_terms
        return takes(u, return_odds_factor(self.return_asc[tier], beta, scale, beta_hours, oop, hours))

    def accepts_admission(self, condition: int, severity: int, stay_oop: float, u: float) -> bool:
        """Whether a patient told they need a bed takes it (always when the model is off, and
        always in an emergency)."""
        return takes(u, self.admission_odds_factor(condition, severity, stay_oop))

    def admission_odds_factor(self, condition: int, severity: int, stay_oop: float) -> float:
        """``1 + exp(−utility)`` of taking the bed (``takes``); 0 when the bed is always taken."""
        if not self.enabled or self.emergency[condition]:
            return 0.0
        util = float(self.adm_asc[condition, severity]) + self.spec.admission_beta_log_oop * math.log1p(
            stay_oop / ADMISSION_OOP_SCALE)
        return 1.0 + math.exp(-util)


@njit(cache=True)
def _options(cum, village, condition, severity, u):
    """``min(Σ_j [u ≥ cum[v, c, s, j]] over the first two options, 2)`` per episode, as int8."""
    out = np.empty(len(u), dtype=np.int8)
    for i in range(len(u)):
        row = cum[village[i], condition[i], severity[i]]
        out[i] = min((u[i] >= row[0]) + (u[i] >= row[1]), 2)
    return out


@njit(cache=True)
def _option_utility(asc_formal, nest_scale, inclusive_value, self_util):
    """(V, C, S, 3) utilities of formal care ``asc_formal + nest_scale · IV``, self-treatment
    (by severity) and forgone care (0), less their maximum: the numpy expression's operations."""
    V, C, S = inclusive_value.shape
    u = np.empty((V, C, S, 3))
    for v in range(V):
        for c in range(C):
            for s in range(S):
                a, b, z = asc_formal[c, s] + nest_scale * inclusive_value[v, c, s], self_util[s], 0.0
                m = a
                if b > m:
                    m = b
                if z > m:
                    m = z
                u[v, c, s, 0], u[v, c, s, 1], u[v, c, s, 2] = a - m, b - m, z - m
    return u


@njit(cache=True)
def _option_shares(p, total, emergency):
    """``p / total`` with emergencies always formal, and its running sum (left to right)."""
    V, C, S, K = p.shape
    prob = np.empty_like(p)
    cum = np.empty_like(p)
    for v in range(V):
        for c in range(C):
            for s in range(S):
                run = 0.0
                for k in range(K):
                    x = (1.0 if k == 0 else 0.0) if emergency[c] else p[v, c, s, k] / total[v, c, s, 0]
                    prob[v, c, s, k] = x
                    run = x if k == 0 else run + x
                    cum[v, c, s, k] = run
    return prob, cum
