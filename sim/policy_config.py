"""Configuration blocks of the reform levers (政策杠杆) named in shared/domain.md.

Every default means "policy off": a scenario that omits a block runs exactly like one that
lists it with its defaults, bit for bit.  The behaviour behind each block lives in one module
of ``models/`` (named in each docstring).
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _probabilities(v: dict[str, float]) -> dict[str, float]:
    for k, x in v.items():
        if not 0 <= x <= 1:
            raise ValueError(f"{k}: must be in [0, 1], got {x}")
    return v


class FamilyDoctorSpec(_Block):
    """家庭医生签约 — models/family_doctor.py."""

    coverage: float = Field(0.0, ge=0, le=1, description="share of residents contracted")
    first_contact_compliance: float = Field(0.8, ge=0, le=1,
                                            description="share of contracted non-emergency episodes that start "
                                                        "with the family doctor (首诊)")
    reserved_share: float = Field(0.0, ge=0, le=1, description="share of county doctors and beds reserved for "
                                                               "family-doctor referrals (seed 001: >= 0.2)")
    capitation_cny: float = Field(0.0, ge=0, description="outpatient capitation per contracted resident-year "
                                                         "(按人头付费); replaces fee-for-service fund payment "
                                                         "for their primary-care visits when > 0")


class GlobalBudgetSpec(_Block):
    """医保基金总额付费, 结余留用、超支分担 — models/payment.py."""

    enabled: bool = False
    budget_per_resident: float = Field(2000.0, gt=0, description="annual fund budget per resident, CNY")
    surplus_retained: float = Field(0.6, ge=0, le=1, description="share of a surplus the community keeps")
    overspend_shared: float = Field(0.4, ge=0, le=1, description="share of an overspend the community bears")
    responsiveness: float = Field(2.0, ge=0, le=100,
                                  description="change in keep-in-county and down-referral probabilities per "
                                              "unit of spending ahead of budget")


class DrgSpec(_Block):
    """DRG/DIP fixed payment per county inpatient case — models/payment.py."""

    enabled: bool = False
    los_reduction: float = Field(0.1, ge=0, lt=1, description="shorter county stays under a fixed case payment")


class SamePaymentSpec(_Block):
    """同病同付: the same fund payment at every tier for listed conditions — models/payment.py."""

    conditions: list[str] = Field(default_factory=list)
    downshift_prob: float = Field(0.5, ge=0, le=1,
                                  description="share of such county admissions the county sends to the "
                                              "township instead (it no longer earns more for them)")


class PaymentSpec(_Block):
    global_budget: GlobalBudgetSpec = Field(default_factory=GlobalBudgetSpec)
    drg: DrgSpec = Field(default_factory=DrgSpec)
    same_payment: SamePaymentSpec = Field(default_factory=SamePaymentSpec)


class TownshipUpgradeSpec(_Block):
    """Central township centres upgraded towards secondary level (中心卫生院)."""

    share: float = Field(0.0, ge=0, le=1, description="share of townships (largest first) upgraded")
    outpatient: dict[str, int] = Field(default_factory=dict, description="raised highest severity per condition")
    inpatient: dict[str, int] = Field(default_factory=dict)
    beds_added: int = Field(0, ge=0)
    doctors_added: int = Field(0, ge=0)


class CapacitySpec(_Block):
    """Capacity and capability — models/capacity.py."""

    doctors_factor: dict[Literal["village", "township", "county"], float] = Field(default_factory=dict)
    beds_factor: dict[Literal["township", "county"], float] = Field(default_factory=dict)
    township_upgrade: TownshipUpgradeSpec = Field(default_factory=TownshipUpgradeSpec)
    five_centres: bool = Field(False, description="county treats emergencies of every severity (五大中心)")

    @field_validator("doctors_factor", "beds_factor")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if not 0 < x <= 10:
                raise ValueError(f"{k}: factor must be in (0, 10], got {x}")
        return v


class StationedPhysiciansSpec(_Block):
    """County physicians stationed at townships (下沉)."""

    per_township: int = Field(0, ge=0, le=50)
    capability_boost: int = Field(1, ge=0, le=3, description="severity levels added to township outpatient care")
    quality_boost: float = Field(0.2, ge=0, le=5, description="perceived quality added at township centres")


class MobileClinicSpec(_Block):
    """巡回医疗: township teams touring the most remote villages."""

    village_share: float = Field(0.0, ge=0, le=1, description="most remote villages served")
    days_per_month: int = Field(2, ge=1, le=31)
    doctors: int = Field(2, ge=1, le=50)


class SinkingSpec(_Block):
    """Resource sinking — models/sinking.py."""

    stationed_physicians: StationedPhysiciansSpec = Field(default_factory=StationedPhysiciansSpec)
    mobile_clinic: MobileClinicSpec = Field(default_factory=MobileClinicSpec)
    village_integration: bool = Field(False, description="village clinics run as township outposts (乡村一体化)")


class InformationSpec(_Block):
    """Telemedicine and mutual recognition of tests — models/information.py."""

    telemedicine_share: float = Field(0.0, ge=0, le=1, description="share of would-be upward referrals from "
                                                                    "village/township resolved there")
    repeat_test_share: float = Field(0.25, ge=0, le=2, description="repeat tests on a referred visit, as a "
                                                                   "share of its visit cost")
    mutual_recognition: bool = Field(False, description="检查检验结果互认: no repeat tests on referral")


class MedicinesSpec(_Block):
    """Drug list, long prescriptions, procurement — models/medicines.py."""

    unified_drug_list: bool = Field(False, description="chronic patients refill county prescriptions locally")
    chronic_conditions: list[str] = Field(default_factory=lambda: ["chronic_followup"])
    long_prescription_weeks: float = Field(4.0, ge=1, le=12, description="prescription length (慢病长处方)")
    baseline_prescription_weeks: float = Field(4.0, ge=1, le=12)
    long_prescription_eligible: float = Field(0.6, ge=0, le=1, description="share of chronic visits by stable "
                                                                            "patients who may get long scripts")
    drug_price_cut: float = Field(0.0, ge=0, lt=1, description="volume-based procurement cut of drug prices (集采)")


class PricesSpec(_Block):
    """Service prices — models/prices.py."""

    service_price_change: float = Field(0.0, ge=-0.9, le=5, description="labour services, relative change")
    test_price_change: float = Field(0.0, ge=-0.9, le=5, description="equipment tests, relative change")
    same_county_same_price: bool = Field(False, description="同县同价 for homogeneous services")
    homogeneous_share: float = Field(0.3, ge=0, le=1, description="share of service charges that are homogeneous "
                                                                  "(dressing, injection, infusion, blood draw)")


class DaySurgerySpec(_Block):
    """日间手术 — models/day_surgery.py."""

    share: float = Field(0.0, ge=0, le=1, description="share of elective county admissions done as day cases")
    conditions: list[str] = Field(default_factory=lambda: ["moderate_acute", "severe_complex"])
    los_days: float = Field(1.0, gt=0, le=3)


class TcmSpec(_Block):
    """Traditional Chinese medicine as a visit attribute (中医药诊疗)."""

    share: dict[Literal["village", "township", "county", "outside"], float] = Field(default_factory=dict)

    _p = field_validator("share")(classmethod(lambda cls, v: _probabilities(v)))
