"""Care-seeking (就医行为): whether an illness becomes visits, self-treatment or nothing.

An episode is an illness.  Before any facility is chosen the patient weighs formal care against
two outside options, in a multinomial logit:

    formal care       asc_formal[c][s] + beta_log_oop · ln(1 + E[out-of-pocket] / oop_scale_cny)
                                    + beta_hours · E[travel + perceived wait, hours]
    self-treatment    asc_self_treatment[s] + beta_log_oop · ln(1 + self_treatment_cost / oop_scale)
    (自我治疗/零售药店)                    + beta_hours · self_treatment_hours
    forgone care      0  (未就诊, the reference)

E[·] is taken over the facility-choice probabilities of the patient's village, condition and
severity, so cheaper, closer or quicker formal care raises the probability of seeking it.  With
a log price term the elasticity of P(formal) to the out-of-pocket price is about
``(1 − P(formal)) · beta_log_oop · E/(scale + E)``, which is what is calibrated against
docs/sources/data/elasticities.csv.  Emergencies always seek formal care.

A patient told they need a bed may decline the admission (unmet need for hospital admission,
应住院未住院) with a logit in the expected out-of-pocket of the stay:
    accept            admission_asc[s] + admission_beta_log_oop · ln(1 + E[stay out-of-pocket] / 1000 CNY)
    decline           0.
"""
from __future__ import annotations

import math

import numpy as np
from pydantic import Field, field_validator

from sim.core.config_files import Strict

FORMAL, SELF_TREATMENT, FORGONE = 0, 1, 2
ADMISSION_OOP_SCALE = 1000.0  # CNY: the unit of the admission price term


def _three(v: list[float]) -> list[float]:
    if len(v) != 3:
        raise ValueError(f"needs 3 values (severity 1, 2, 3), got {len(v)}")
    return v


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
    beta_log_oop: float = Field(-1.0, le=0, description="per unit of ln(1 + expected out-of-pocket / oop_scale_cny)")
    oop_scale_cny: float = Field(10.0, gt=0, description="CNY unit of the price term")
    beta_hours: float = Field(-0.5, le=0, description="per hour of expected travel and wait")
    self_treatment_cost_cny: float = Field(25.0, ge=0, description="retail pharmacy spending, all out-of-pocket")
    self_treatment_hours: float = Field(0.3, ge=0, description="time to reach a pharmacy")
    admission_asc: list[float] = Field(default_factory=lambda: [5.0, 5.0, 5.0],
                                       description="constant of accepting an admission, by severity")
    admission_beta_log_oop: float = Field(-1.0, le=0,
                                          description="per unit of ln(1 + expected stay out-of-pocket / 1000 CNY)")

    _a = field_validator("asc_self_treatment", "admission_asc")(_three)

    @field_validator("asc_formal")
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

    def __init__(self, spec: CareSeekingSpec, condition_names: list[str], emergency: np.ndarray):
        self.enabled = spec.enabled
        self.spec = spec
        self.emergency = emergency
        self.asc_formal = np.array([spec.asc_formal.get(n, [0.0, 0.0, 0.0]) for n in condition_names])  # (C, S)
        self.self_util = np.asarray(spec.asc_self_treatment) + spec.beta_log_oop * np.log1p(
            spec.self_treatment_cost_cny / spec.oop_scale_cny) + spec.beta_hours * spec.self_treatment_hours
        self.adm_asc = np.asarray(spec.admission_asc)
        self.cum = None

    def update(self, expected_oop: np.ndarray, expected_hours: np.ndarray) -> None:
        """Option probabilities per (village, condition, severity) from the expected out-of-pocket
        and hours of formal care there (recomputed whenever perceived waits change)."""
        if not self.enabled:
            return
        s = self.spec
        formal = self.asc_formal + s.beta_log_oop * np.log1p(expected_oop / s.oop_scale_cny) \
            + s.beta_hours * expected_hours  # (V, C, S)
        util = np.stack([formal, np.broadcast_to(self.self_util, formal.shape), np.zeros_like(formal)], axis=-1)
        util -= util.max(axis=-1, keepdims=True)
        p = np.exp(util)
        p /= p.sum(axis=-1, keepdims=True)
        p[:, self.emergency] = (1.0, 0.0, 0.0)
        self.prob = p
        self.cum = np.cumsum(p, axis=-1)

    def options(self, village: np.ndarray, condition: np.ndarray, severity: np.ndarray, u: np.ndarray) -> np.ndarray:
        """FORMAL, SELF_TREATMENT or FORGONE for each episode, by inverse CDF on its own uniform."""
        if not self.enabled:
            return np.zeros(len(village), dtype=np.int8)
        cum = self.cum[village, condition, severity]
        return np.minimum((u[:, None] >= cum[:, :2]).sum(axis=1), 2).astype(np.int8)

    def accepts_admission(self, condition: int, severity: int, stay_oop: float, u: float) -> bool:
        """Whether a patient told they need a bed takes it (always when the model is off, and
        always in an emergency)."""
        if not self.enabled or self.emergency[condition]:
            return True
        util = float(self.adm_asc[severity]) + self.spec.admission_beta_log_oop * math.log1p(
            stay_oop / ADMISSION_OOP_SCALE)
        return u * (1.0 + math.exp(-util)) < 1.0  # u < logistic(util)
