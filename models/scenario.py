"""The scenario schema (情景): every block of a scenario file, validated by pydantic v2.

The county's own blocks (simulation, geography, conditions, tiers, service, capability,
reimbursement, choice, referral) live here; each reform lever's block lives with its mechanism
in ``models/levers/`` and joins the schema through the lever registry.  Every lever default
means "policy off".
"""
from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, PrivateAttr, create_model, field_validator, model_validator

from models.adaptation import AdaptationSpec
from models.geography import GeographySpec
from models.kpi_registry import REGISTRY
from models.levers import LEVERS
from models.plan import flatten
from models.provider_demand import ProviderDemandSpec
from models.seeking import CareSeekingSpec
from models.tiers import SEVERITY_LEVELS, TIERS, Tier
from sim.core.config_files import KeyPathError, Strict, probabilities

Probability = Field(ge=0.0, le=1.0)


# --------------------------------------------------------------------------- simulation
class SimulationSpec(Strict):
    years: float = Field(1.0, gt=0, le=50, description="simulated years after warm-up")
    start_year: int = Field(2024, ge=1949, le=2200, description="calendar year of the first simulated year (the "
                                                                  "warm-up is the end of the year before)")
    warmup_days: float = Field(30.0, ge=0, le=3650, description="excluded from every KPI")
    replications: int = Field(10, ge=1, le=10000)
    seed: int = Field(42, ge=0)
    days_per_year: int = Field(365, ge=360, le=366)
    open_hours: float = Field(9.0, gt=0, le=24, description="outpatient hours per day")
    open_start_hour: float = Field(8.0, ge=0, lt=24)
    sample_interval_days: float = Field(0.0, ge=0, description="queue-length sampling; 0 = off")
    arrival_profile: list[float] | None = Field(
        None, description="relative outpatient arrivals in each opening hour (one weight per hour from "
                          "open_start_hour; 0 = closed, e.g. lunch); null = uniform over opening hours")

    @model_validator(mode="after")
    def _window(self) -> "SimulationSpec":
        if self.open_start_hour + self.open_hours > 24:
            raise KeyPathError("simulation.open_hours", self.open_hours,
                            f"open_start_hour + open_hours must be <= 24 (open_start_hour is {self.open_start_hour})")
        profile = self.arrival_profile
        if profile is not None:
            if len(profile) != self.open_hours:
                raise KeyPathError("simulation.arrival_profile", profile,
                                   f"needs one weight per opening hour: {self.open_hours:g} values, got {len(profile)}")
            if any(w < 0 for w in profile) or sum(profile) <= 0:
                raise KeyPathError("simulation.arrival_profile", profile,
                                   "weights must be >= 0 with a positive sum")
        return self


# --------------------------------------------------------------------------- demand
def _three(name: str, lo: float, hi: float | None):
    def check(v: list[float]) -> list[float]:
        if len(v) != SEVERITY_LEVELS:
            raise ValueError(f"{name} needs {SEVERITY_LEVELS} values (severity 1, 2, 3), got {len(v)}")
        for x in v:
            if x < lo or (hi is not None and x > hi):
                rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
                raise ValueError(f"{name} values must be in {rng}, got {x}")
        return v
    return check


class ConditionSpec(Strict):
    """An illness class: incidence, severity mix and care needs."""

    description: str = ""
    incidence: float = Field(ge=0, le=100, description="episodes per resident per year")
    seasonality: list[float] | None = Field(None, description="12 monthly multipliers (mean-normalised)")
    severity: list[float] = Field(default_factory=lambda: [1.0, 0.0, 0.0])
    admission_prob: list[float] = Field(default_factory=lambda: [0.0, 0.0, 0.0])
    los_days: list[float] = Field(default_factory=lambda: [5.0, 8.0, 12.0], description="mean stay at county tier")
    cost_multiplier: list[float] = Field(default_factory=lambda: [1.0, 1.0, 1.0])
    emergency: bool = Field(False, description="first contact by rule (nearest capable), not preference")
    around_the_clock: bool | None = Field(None, description="arrivals over 24 h; default = emergency")

    _sev = field_validator("severity")(_three("severity", 0.0, 1.0))
    _adm = field_validator("admission_prob")(_three("admission_prob", 0.0, 1.0))
    _los = field_validator("los_days")(_three("los_days", 0.01, 365.0))
    _cost = field_validator("cost_multiplier")(_three("cost_multiplier", 0.0, None))

    @field_validator("severity")
    @classmethod
    def _sums_to_one(cls, v: list[float]) -> list[float]:
        if abs(sum(v) - 1.0) > 1e-6:
            raise ValueError(f"severity probabilities must sum to 1, got {sum(v):.6g}")
        return v

    @field_validator("seasonality")
    @classmethod
    def _twelve(cls, v: list[float] | None) -> list[float] | None:
        if v is None:
            return v
        if len(v) != 12 or any(x < 0 for x in v) or sum(v) <= 0:
            raise ValueError("seasonality needs 12 non-negative monthly multipliers with a positive sum")
        return v

    @property
    def all_day(self) -> bool:
        return self.emergency if self.around_the_clock is None else self.around_the_clock


# --------------------------------------------------------------------------- service & costs
class TierSpec(Strict):
    """Per-tier service times and prices."""

    service_minutes: float = Field(10.0, gt=0, le=600, description="mean consultation time")
    outpatient_cost: float = Field(50.0, ge=0, description="CNY per visit before multipliers")
    inpatient_cost_per_day: float = Field(500.0, ge=0, description="CNY per bed-day before multipliers")
    los_factor: float = Field(1.0, gt=0, le=10, description="stay relative to county tier")
    drug_share: float = Field(0.4, ge=0, le=1, description="share of charges that are drugs")
    test_share: float = Field(0.2, ge=0, le=1, description="share of charges that are equipment tests")
    consumable_share: float = Field(0.1, ge=0, le=1, description="share of charges that are consumables")

    @model_validator(mode="after")
    def _composition(self) -> "TierSpec":
        total = self.drug_share + self.test_share + self.consumable_share
        if total > 1 + 1e-9:
            raise ValueError(f"drug_share + test_share + consumable_share must be <= 1 (got {total:.3g}); "
                             "the rest is service charges")
        return self

    @property
    def service_share(self) -> float:
        return max(0.0, 1.0 - self.drug_share - self.test_share - self.consumable_share)


class ServiceSpec(Strict):
    distribution: Literal["exponential", "lognormal", "deterministic"] = "exponential"
    cv: float = Field(1.0, gt=0, le=5, description="coefficient of variation for lognormal")
    los_cv: float = Field(0.6, gt=0, le=5, description="coefficient of variation of stays (lognormal)")
    balk_queue_length: int | None = Field(None, ge=0, description="leave unserved beyond this queue; null = never")


class CapabilityTier(Strict):
    """Highest severity (0-3) a tier treats, per condition; missing = 0 (cannot treat)."""

    outpatient: dict[str, int] = Field(default_factory=dict)
    inpatient: dict[str, int] = Field(default_factory=dict)

    @field_validator("outpatient", "inpatient")
    @classmethod
    def _range(cls, v: dict[str, int]) -> dict[str, int]:
        for k, x in v.items():
            if not 0 <= x <= SEVERITY_LEVELS:
                raise ValueError(f"{k}: highest treatable severity must be in [0, {SEVERITY_LEVELS}], got {x}")
        return v


class FacilityCapability(CapabilityTier):
    """One facility's catalogue (诊疗科目) where it differs from its tier's: ``outpatient`` and
    ``inpatient`` replace the tier's highest severity for the conditions they name; ``lines``
    restricts a specialty hospital (口腔、精神、妇幼专科医院) to its own conditions — it treats
    nothing else, patients do not choose it for anything else and no referral is sent to it."""

    lines: list[str] | None = Field(None, description="the only conditions it treats (specialty hospital); "
                                                       "null = every condition its catalogue covers")


class CapabilitySpec(Strict):
    village: CapabilityTier = Field(default_factory=CapabilityTier)
    township: CapabilityTier = Field(default_factory=CapabilityTier)
    county: CapabilityTier = Field(default_factory=CapabilityTier)
    facilities: dict[str, FacilityCapability] = Field(
        default_factory=dict, description="per-facility catalogue by facility name (tier default otherwise)")


# --------------------------------------------------------------------------- insurance
class TierReimbursement(Strict):
    """Reimbursement (报销) at one tier: rate after the deductible (起付线)."""

    outpatient_rate: float = Probability
    outpatient_deductible: float = Field(0.0, ge=0, description="CNY per visit, or per resident-year when "
                                                               "outpatient_deductible_per is year")
    inpatient_rate: float = Probability
    inpatient_deductible: float = Field(0.0, ge=0, description="CNY per admission")


class ReimbursementSpec(Strict):
    village: TierReimbursement
    township: TierReimbursement
    county: TierReimbursement
    outside: TierReimbursement
    outside_unreferred: TierReimbursement = Field(description="self-referred out-of-county care")
    county_unreferred: TierReimbursement | None = Field(
        None, description="county care without a referral for a condition under referral.gatekeeping; "
                          "null = paid as referred county care")
    continuous_deductible: bool = Field(False, description="转诊住院患者连续计算起付线: a referred inpatient pays "
                                                           "only the deductible difference")
    outpatient_deductible_per: Literal["visit", "year"] = Field(
        "visit", description="visit: each visit pays its tier's outpatient deductible; year: 年度门诊起付线, "
                             "outpatient costs a resident runs up in the insurance year count towards one "
                             "deductible for primary care (village and township) and one for hospitals "
                             "(county and outside), each set by the tier of the visit")
    annual_cap_outpatient: float | None = Field(None, ge=0, description="fund cap per resident-year, CNY; null = none")
    annual_cap_inpatient: float | None = Field(None, ge=0, description="fund cap per resident-year, CNY; null = none")

    def tier(self, name: str) -> TierReimbursement:
        return getattr(self, name)


# --------------------------------------------------------------------------- choice
class ChoiceSpec(Strict):
    """Multinomial logit of first-contact facility choice (就医选择)."""

    source: str = "assumed"
    beta_log_oop: float = Field(-0.5, le=0, description="per unit of ln(1 + consultation out-of-pocket / "
                                                       "oop_scale_cny)")
    oop_scale_cny: float = Field(100.0, gt=0, description="CNY unit of the consultation price term")
    beta_log_stay_oop: float = Field(0.0, le=0, description="per unit of ln(1 + expected stay out-of-pocket / "
                                                            "stay_oop_scale_cny), weighted by P(admission)")
    stay_oop_scale_cny: float = Field(100.0, gt=0, description="CNY unit of the stay price term")
    beta_travel_per_hour: float = Field(-1.0, le=0)
    beta_wait_per_hour: float = Field(-0.1, le=0)
    beta_quality: float = Field(1.0, ge=0)
    beta_incapable: float = Field(-2.0, le=0, description="penalty where the tier cannot treat the case")
    beta_log_size: float = Field(0.0, ge=0, description="per unit of ln(doctors): bigger hospitals draw more")
    tier_constant: dict[Tier, float] = Field(default_factory=dict)
    quality: dict[Tier, float] = Field(default_factory=dict, description="perceived quality score per tier")
    wait_smoothing: float = Field(0.2, gt=0, le=1, description="weight of today's wait in the daily update")


# --------------------------------------------------------------------------- referral
class GatekeepingSpec(Strict):
    """首诊在基层: first contact at primary level for the listed conditions.  Enforced by price:
    county care without a referral is reimbursed at ``reimbursement.county_unreferred``."""

    conditions: list[str] = Field(default_factory=list, description="conditions needing a primary-care "
                                                                     "referral for county care; emergencies exempt")


class ReferralSpec(Strict):
    """Referral (转诊): upward chain by tier; downward referral of stable patients."""

    up: dict[Literal["village", "township", "county"], Tier] = Field(
        default_factory=lambda: {"village": "township", "township": "county", "county": "outside"})
    down_prob: dict[str, float] = Field(default_factory=dict, description="share of county/outside inpatients sent down")
    rehab_days: float = Field(7.0, gt=0, le=365)
    full_bed_wait_days: float = Field(
        2.0, ge=0, le=365, description="an admission that would wait longer than this for a bed goes to the next "
                                       "capable hospital: a smaller county hospital with beds, else outside the "
                                       "county (assumed: hospitals of a 医共体 place patients where a bed is free "
                                       "rather than queue them for days; models/referral.py)")
    target_rule: dict[Tier, Literal["nearest", "largest", "community"]] = Field(
        default_factory=lambda: {"township": "nearest", "county": "largest", "outside": "nearest"},
        description="which capable facility of a tier receives referrals and emergencies (community: the largest "
                    "of the patient's own medical community, else the largest)")
    gatekeeping: GatekeepingSpec = Field(default_factory=GatekeepingSpec)

    _p = field_validator("down_prob")(classmethod(lambda cls, v: probabilities(v)))



def run_years(sim: SimulationSpec) -> tuple[int, int]:
    """First and last calendar year of a run (a part year counts)."""
    return sim.start_year, sim.start_year + max(1, math.ceil(sim.years - 1e-9)) - 1


# --------------------------------------------------------------------------- scenario
class ScenarioCore(Strict):
    """The county's own blocks; ``Scenario`` adds one block per lever from the registry."""

    name: str = "scenario"
    description: str = ""
    simulation: SimulationSpec = Field(default_factory=SimulationSpec)
    geography: GeographySpec
    conditions: dict[str, ConditionSpec] = Field(min_length=1)
    tiers: dict[Tier, TierSpec] = Field(default_factory=dict)
    service: ServiceSpec = Field(default_factory=ServiceSpec)
    capability: CapabilitySpec = Field(default_factory=CapabilitySpec)
    reimbursement: ReimbursementSpec
    choice: ChoiceSpec = Field(default_factory=ChoiceSpec)
    referral: ReferralSpec = Field(default_factory=ReferralSpec)
    schedule: dict[int, dict[str, Any]] = Field(
        default_factory=dict, description="phased plan: {calendar year: {dotted.key: value}}; a value holds from "
                                          "1 January of its year (models/plan.py)")
    ramp: Literal["step", "linear"] = Field("step", description="step: values change on 1 January; linear: "
                                                                "month by month between scheduled years")
    targets: dict[str, dict[int, float]] = Field(
        default_factory=dict, description="{kpi: {calendar year: value}}: met when the KPI is at least the value")
    care_seeking: CareSeekingSpec = Field(default_factory=CareSeekingSpec)
    adaptation: AdaptationSpec = Field(default_factory=AdaptationSpec)
    provider_demand: ProviderDemandSpec = Field(default_factory=ProviderDemandSpec)
    _county: Any = PrivateAttr(default=None)  # the county built when the scenario was validated
    _start: Any = PrivateAttr(default=None)  # the scenario of adaptation.starts_from, loaded with this one
    _county_key: str | None = PrivateAttr(default=None)
    _plan: Any = PrivateAttr(default=None)  # models.plan.Plan resolved with the scenario

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule_rows(cls, v: Any) -> Any:
        """Years as integers; each year's changes as dotted keys (nested blocks are flattened)."""
        if not isinstance(v, dict):
            return v
        out: dict[int, dict[str, Any]] = {}
        for year, row in v.items():
            if isinstance(year, bool) or not str(year).strip().isdigit():
                raise KeyPathError(f"schedule.{year}", year, "a calendar year such as 2026")
            if not isinstance(row, dict):
                raise KeyPathError(f"schedule.{year}", row, "a mapping of dotted.key: value")
            out.setdefault(int(year), {}).update(flatten(row))
        return out

    @field_validator("targets", mode="before")
    @classmethod
    def _target_years(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: ({int(y) if str(y).strip().isdigit() else y: x for y, x in row.items()}
                        if isinstance(row, dict) else row) for k, row in v.items()}
        return v

    def tier(self, name: str) -> TierSpec:
        """Service times and prices of a tier (defaults where the scenario lists none)."""
        return self.tiers.get(name) or TierSpec()

    def _condition_refs(self) -> list[tuple[str, str]]:
        """(key path, condition name) for every condition the scenario's blocks name."""
        refs: list[tuple[str, str]] = []
        for lever in LEVERS:
            if hasattr(lever, "conditions_named"):
                named = lever.conditions_named(getattr(self, lever.KEY), self)
                refs += [(path, cond) for path, conds in named.items() for cond in conds]
        for tier in ("village", "township", "county"):
            cap: CapabilityTier = getattr(self.capability, tier)
            for kind in ("outpatient", "inpatient"):
                refs += [(f"capability.{tier}.{kind}.{cond}", cond) for cond in getattr(cap, kind)]
        refs += [(f"referral.gatekeeping.conditions.{i}", c) for i, c in enumerate(self.referral.gatekeeping.conditions)]
        for block in ("asc_formal", "admission_asc"):
            refs += [(f"care_seeking.{block}.{cond}", cond) for cond in getattr(self.care_seeking, block)]
        if self.provider_demand.followups_per_year > 0:
            refs.append(("provider_demand.followup_condition", self.provider_demand.followup_condition))
        for fac, spec in self.capability.facilities.items():
            for kind in ("outpatient", "inpatient", "lines"):
                refs += [(f"capability.facilities.{fac}.{kind}", cond) for cond in getattr(spec, kind) or ()]
        refs += [(f"referral.down_prob.{cond}", cond) for cond in self.referral.down_prob]
        return refs

    @model_validator(mode="after")
    def _cross_checks(self) -> "ScenarioCore":
        names = set(self.conditions)
        for path, cond in self._condition_refs():
            if cond not in names:
                raise KeyPathError(path, cond, f"unknown condition; allowed: {sorted(names)}")
        for src, dst in self.referral.up.items():
            if TIERS.index(dst) <= TIERS.index(src):
                raise KeyPathError(f"referral.up.{src}", dst, f"must be a higher tier than {src}: one of "
                                   f"{list(TIERS[TIERS.index(src) + 1:])}")
        first, last = run_years(self.simulation)
        for kpi, row in self.targets.items():
            if kpi not in REGISTRY:
                raise KeyPathError(f"targets.{kpi}", kpi, f"unknown KPI; allowed: {list(REGISTRY)}")
            for year in row:
                if not first <= year <= last:
                    raise KeyPathError(f"targets.{kpi}.{year}", year, f"a year of the run ({first}–{last})")
        return self


def _lever_field(lever: Any) -> tuple[type, Any]:
    return lever.Spec, Field(default_factory=lever.Spec)


Scenario = create_model("Scenario", __base__=ScenarioCore, __doc__="A complete scenario: the county and every lever.",
                        **{lever.KEY: _lever_field(lever) for lever in LEVERS})
