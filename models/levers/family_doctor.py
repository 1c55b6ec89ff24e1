"""Family-doctor contracting (家庭医生签约服务, seeds 001, 002).

- A resident is contracted when a fixed hash of their index falls below ``coverage``, so a
  higher coverage contracts a superset of residents and every scenario sees the same people.
- A contracted resident weighs their family doctor's facility (own village clinic, or township
  centre where there is none) with ``contract_preference`` added to its utility in facility
  choice: first contact with the family doctor (首诊) is a choice, so how many comply follows from
  what bypassing costs in price, distance and waiting, not from a typed-in share.
- A contracted resident referred up from primary care is a family-doctor referral: at
  county hospitals they may use the reserved share of doctors and beds.
- With outpatient capitation (按人头付费) the fund pays primary facilities a sum per contracted
  resident-year instead of fee-for-service for their primary-care visits, and the team bears
  ``referral_risk_share`` of what its residents' referrals up cost the fund: it keeps what it
  does not spend, so it manages more of them itself (``models/incentives.py``).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from models.geography import County
from models.tiers import TIERS
from sim.core.config_files import Strict

if TYPE_CHECKING:
    from models.scenario import Scenario


class FamilyDoctorSpec(Strict):
    """家庭医生签约 — models/levers/family_doctor.py."""

    coverage: float = Field(0.0, ge=0, le=1, description="share of residents contracted")
    contract_preference: float = Field(0.7, ge=0, le=5,
                                       description="utility a contracted resident adds to their family doctor's "
                                                   "facility (trust, continuity, priority booking); assumed: about "
                                                   "twice the odds of starting there, as contracted residents are "
                                                   "reported more likely to choose primary care first "
                                                   "(doi:10.1155/2024/2745653, direction only)")
    reserved_share: float = Field(0.0, ge=0, le=1, description="share of county doctors and beds reserved for "
                                                               "family-doctor referrals (seed 001: >= 0.2)")
    capitation_cny: float = Field(0.0, ge=0, description="outpatient capitation per contracted resident-year "
                                                         "(按人头付费); replaces fee-for-service fund payment "
                                                         "for their primary-care visits when > 0")
    referral_risk_share: float = Field(1.0, ge=0, le=1,
                                       description="with capitation, share of the fund's payment for a contracted "
                                                   "resident's referral up that the team bears out of its "
                                                   "capitation (按人头包干: it keeps what it does not spend; "
                                                   "assumed)")


KEY = "family_doctor"
TITLE = "家庭医生签约 Family-doctor contracting"
Spec = FamilyDoctorSpec


_HASH = np.uint64(0x9E3779B97F4A7C15)
PRIMARY = (TIERS.index("village"), TIERS.index("township"))
COUNTY = TIERS.index("county")


def contracted(resident: np.ndarray, coverage: float) -> np.ndarray:
    """Deterministic, nested membership: the same residents at every coverage level."""
    if coverage <= 0:
        return np.zeros(len(resident), dtype=bool)
    h = (resident.astype(np.uint64) * _HASH) >> np.uint64(11)
    return h.astype(float) / float(1 << 53) < coverage


def family_doctor_referral(tier: int, is_contracted: bool) -> bool:
    """A referral from primary care (village, township) of a contracted resident is a family
    doctor's (家庭医生转诊); compiled as is by ``sim/compiled_steps.py``."""
    return is_contracted and (tier == PRIMARY[0] or tier == PRIMARY[1])


class FamilyDoctor:
    def __init__(self, scenario: Scenario, county: County):
        spec = scenario.family_doctor
        self.coverage = spec.coverage
        self.preference = spec.contract_preference
        self.capitation = spec.capitation_cny
        self.reserved_share = spec.reserved_share
        self.referral_risk_share = spec.referral_risk_share if self.capitation > 0 else 0.0
        home = np.where(county.own_clinic >= 0, county.own_clinic, county.own_centre)
        self.home = home  # (V,) the family doctor's facility
        self.active = self.coverage > 0

    def utility(self, options: np.ndarray, village: np.ndarray, is_contracted: np.ndarray) -> np.ndarray:
        """(N, K) utility each episode's options gain from the resident's family-doctor contract."""
        mine = (options == self.home[village][:, None]) & is_contracted[:, None]
        return self.preference * mine

    def capitation_by_facility(self, county: County) -> np.ndarray:
        """Annual capitation (CNY) paid to each township centre for its contracted residents."""
        out = np.zeros(county.n_facilities)
        if not self.active or self.capitation <= 0:
            return out
        offsets = county.resident_offsets()
        for v in range(county.n_villages):
            n = int(contracted(np.arange(offsets[v], offsets[v] + county.village_pop[v]), self.coverage).sum())
            f = county.own_centre[v]
            if f >= 0:
                out[f] += n * self.capitation
        return out

    def reserved_servers(self, capacity: int, tier: int) -> int:
        """Doctors or beds of a county hospital reserved for family-doctor referrals (预留号源、
        床位); at least one stays open to everyone."""
        if tier != COUNTY or self.reserved_share <= 0 or capacity < 2:
            return 0
        return min(int(math.floor(self.reserved_share * capacity)), int(capacity) - 1)

    def refers(self, tier: int, is_contracted: bool) -> bool:
        """A contracted resident referred up from primary care is a family-doctor referral."""
        return family_doctor_referral(tier, is_contracted)

    def fee_waived(self, tier: int, is_contracted: bool) -> bool:
        """Capitation replaces the fund's fee-for-service payment for this visit."""
        return is_contracted and self.capitation > 0 and tier in PRIMARY
