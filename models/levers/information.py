"""Information levers (信息化): telemedicine and mutual recognition of test results.

- Telemedicine (远程医疗, "基层检查、上级诊断"): a configured share of would-be upward referrals from
  village or township is resolved there with a remote consultation.
- Without mutual recognition (检查检验结果互认), a referred patient repeats tests at the next
  facility, adding ``repeat_test_share`` of that visit's cost; with it, nothing is repeated.
"""
from __future__ import annotations

from pydantic import Field

from models.tiers import TIERS
from sim.core.config_files import Strict


class InformationSpec(Strict):
    """Telemedicine and mutual recognition of tests — models/levers/information.py."""

    telemedicine_share: float = Field(0.0, ge=0, le=1, description="share of would-be upward referrals from "
                                                                    "village/township resolved there")
    repeat_test_share: float = Field(0.25, ge=0, le=2, description="repeat tests on a referred visit, as a "
                                                                   "share of its visit cost")
    mutual_recognition: bool = Field(False, description="检查检验结果互认: no repeat tests on referral")


KEY = "information"
TITLE = "信息化 Telemedicine and mutual recognition of tests"
Spec = InformationSpec


_LOWER = (TIERS.index("village"), TIERS.index("township"))


def repeat_test_share(spec: InformationSpec) -> float:
    return 0.0 if spec.mutual_recognition else spec.repeat_test_share


def telemedicine_resolves(spec: InformationSpec, tier: int, u: float) -> bool:
    """Whether a referral from this tier is replaced by a remote consultation."""
    return resolves_remotely(tier, u, spec.telemedicine_share)


def resolves_remotely(tier: int, u: float, share: float) -> bool:
    """A referral from primary care replaced by telemedicine with probability ``share``; plain
    arithmetic, compiled as is by ``sim/compiled_steps.py``."""
    return (tier == _LOWER[0] or tier == _LOWER[1]) and u < share
