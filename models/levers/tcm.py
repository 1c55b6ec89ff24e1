"""Traditional Chinese medicine (中医药诊疗, seed 001): a visit attribute drawn per visit.

A visit at a tier is a TCM visit with that tier's configured probability; the share of
primary-care visits that are TCM is reported as ``tcm_share_primary``.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from models.tiers import TIERS
from sim.core.config_files import Strict, probabilities


class TcmSpec(Strict):
    """Traditional Chinese medicine as a visit attribute (中医药诊疗) — models/levers/tcm.py."""

    share: dict[Literal["village", "township", "county", "outside"], float] = Field(default_factory=dict)

    _p = field_validator("share")(classmethod(lambda cls, v: probabilities(v)))


KEY = "tcm"
TITLE = "中医药 Traditional Chinese medicine"
Spec = TcmSpec




class Tcm:
    """Whether a visit is a TCM visit: the facility tier's share, on the visit's own draw."""

    def __init__(self, spec: TcmSpec, fac_tier: np.ndarray):
        self.by_facility = np.array([spec.share.get(TIERS[t], 0.0) for t in fac_tier], dtype=float)
        self._by_facility = self.by_facility.tolist()

    def visits(self, facilities: np.ndarray, u: np.ndarray) -> np.ndarray:
        return u < self.by_facility[facilities]

    def visit(self, fac: int, u: float) -> bool:
        return bool(u < self._by_facility[fac])
