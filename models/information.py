"""Information levers (信息化): telemedicine and mutual recognition of test results.

- Telemedicine (远程医疗, "基层检查、上级诊断"): a configured share of would-be upward referrals from
  village or township is resolved there with a remote consultation.
- Without mutual recognition (检查检验结果互认), a referred patient repeats tests at the next
  facility, adding ``repeat_test_share`` of that visit's cost; with it, nothing is repeated.
"""
from __future__ import annotations

from sim.config import TIERS
from sim.policy_config import InformationSpec

_LOWER = (TIERS.index("village"), TIERS.index("township"))


def repeat_test_share(spec: InformationSpec) -> float:
    return 0.0 if spec.mutual_recognition else spec.repeat_test_share


def telemedicine_resolves(spec: InformationSpec, tier: int, u: float) -> bool:
    """Whether a referral from this tier is replaced by a remote consultation."""
    return tier in _LOWER and u < spec.telemedicine_share
