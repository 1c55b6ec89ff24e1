"""Scenario configuration: YAML validated by pydantic v2.

A scenario file may say ``extends: baseline.yaml`` and override only what changes; CLI
``--set dotted.key=value`` overrides come last.  Every leaf remembers the file (or ``--set``)
it came from, so an error names the file, the key path, the bad value and the allowed range.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.policy_config import (CapacitySpec, DaySurgerySpec, FamilyDoctorSpec, InformationSpec, MedicinesSpec,
                               PaymentSpec, PricesSpec, SinkingSpec, TcmSpec)

TIERS: tuple[str, ...] = ("village", "township", "county", "outside")
PRIMARY_TIERS: tuple[str, ...] = ("village", "township")
IN_COUNTY_TIERS: tuple[str, ...] = ("village", "township", "county")
SEVERITY_LEVELS = 3
Tier = Literal["village", "township", "county", "outside"]

Probability = Field(ge=0.0, le=1.0)


class ConfigError(Exception):
    """A user error in a scenario: printed without traceback, CLI exit status 2."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# --------------------------------------------------------------------------- simulation
class SimulationSpec(Strict):
    years: float = Field(1.0, gt=0, le=50, description="simulated years after warm-up")
    warmup_days: float = Field(30.0, ge=0, le=3650, description="excluded from every KPI")
    replications: int = Field(10, ge=1, le=10000)
    seed: int = Field(42, ge=0)
    days_per_year: int = Field(365, ge=360, le=366)
    open_hours: float = Field(9.0, gt=0, le=24, description="outpatient hours per day")
    open_start_hour: float = Field(8.0, ge=0, lt=24)
    sample_interval_days: float = Field(0.0, ge=0, description="queue-length sampling; 0 = off")

    @model_validator(mode="after")
    def _window(self) -> "SimulationSpec":
        if self.open_start_hour + self.open_hours > 24:
            raise _KeyError("simulation.open_hours", self.open_hours,
                            f"open_start_hour + open_hours must be <= 24 (open_start_hour is {self.open_start_hour})")
        return self


# --------------------------------------------------------------------------- geography
class FacilitySpec(Strict):
    name: str = Field(min_length=1)
    tier: Tier
    doctors: int | None = Field(None, ge=0, description="outpatient servers; null = unlimited")
    beds: int | None = Field(0, ge=0, description="inpatient servers; null = unlimited")
    x_km: float = 0.0
    y_km: float = 0.0
    township: str | None = None


class VillageSpec(Strict):
    name: str = Field(min_length=1)
    township: str
    population: int = Field(ge=0)
    x_km: float = 0.0
    y_km: float = 0.0


class CountyHospitalSpec(Strict):
    name: str = Field(min_length=1)
    doctors: int = Field(ge=0)
    beds: int = Field(ge=0)


class SyntheticSpec(Strict):
    """Seeded synthetic county: townships on a disc around the county seat."""

    population: int = Field(500_000, gt=0, le=20_000_000)
    townships: int = Field(15, ge=1, le=200)
    villages_per_township: int = Field(20, ge=1, le=200)
    radius_km: float = Field(40.0, gt=0, le=1000)
    remoteness_spread: float = Field(0.6, ge=0, le=3, description="lognormal sigma of village distances")
    village_radius_km: float = Field(6.0, gt=0, le=200)
    population_spread: float = Field(0.5, ge=0, le=3, description="lognormal sigma of village sizes")
    seed: int = Field(2024, ge=0)
    county_hospitals: list[CountyHospitalSpec] = Field(min_length=1)
    township_doctors: int = Field(12, ge=0)
    township_beds: int = Field(40, ge=0)
    village_doctors: int = Field(2, ge=0)


class RosterSpec(Strict):
    """A real facility roster (CSV) with township populations; villages are generated."""

    facilities_csv: str
    townships_csv: str
    doctor_share: float = Field(1.0, gt=0, le=1, description="share of listed doctors consulting at once")
    village_radius_km: float = Field(5.0, gt=0, le=200)
    population_spread: float = Field(0.5, ge=0, le=3)
    seed: int = Field(2024, ge=0)


class OutsideSpec(Strict):
    """Hospitals outside the county (city / provincial tertiary), one aggregate facility."""

    name: str = "Out-of-county hospitals"
    travel_hours: float = Field(2.0, ge=0, le=48)
    doctors: int | None = Field(None, ge=0)
    beds: int | None = Field(None, ge=0)


class GeographySpec(Strict):
    kind: Literal["synthetic", "roster", "explicit"] = "synthetic"
    synthetic: SyntheticSpec | None = None
    roster: RosterSpec | None = None
    facilities: list[FacilitySpec] = Field(default_factory=list)
    villages: list[VillageSpec] = Field(default_factory=list)
    outside: OutsideSpec | None = Field(default_factory=OutsideSpec)
    speed_kmh: float = Field(30.0, gt=0, le=200, description="road travel speed")
    access_minutes: float = Field(10.0, ge=0, le=600, description="fixed time to reach any facility")
    nearby_townships: int = Field(1, ge=0, le=20, description="other township centres in the choice set")

    @model_validator(mode="after")
    def _kind_block(self) -> "GeographySpec":
        if self.kind == "synthetic" and self.synthetic is None:
            raise _KeyError("geography.synthetic", None, "kind 'synthetic' needs a 'synthetic' block")
        if self.kind == "roster" and self.roster is None:
            raise _KeyError("geography.roster", None, "kind 'roster' needs a 'roster' block")
        if self.kind == "explicit" and (not self.facilities or not self.villages):
            raise _KeyError("geography.facilities", None,
                            "kind 'explicit' needs non-empty 'facilities' and 'villages' lists")
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


class CapabilitySpec(Strict):
    village: CapabilityTier = Field(default_factory=CapabilityTier)
    township: CapabilityTier = Field(default_factory=CapabilityTier)
    county: CapabilityTier = Field(default_factory=CapabilityTier)


# --------------------------------------------------------------------------- insurance
class TierReimbursement(Strict):
    """Reimbursement (报销) at one tier: rate after the deductible (起付线)."""

    outpatient_rate: float = Probability
    outpatient_deductible: float = Field(0.0, ge=0, description="CNY per visit")
    inpatient_rate: float = Probability
    inpatient_deductible: float = Field(0.0, ge=0, description="CNY per admission")


class ReimbursementSpec(Strict):
    village: TierReimbursement
    township: TierReimbursement
    county: TierReimbursement
    outside: TierReimbursement
    outside_unreferred: TierReimbursement = Field(description="self-referred out-of-county care")
    continuous_deductible: bool = Field(False, description="转诊住院患者连续计算起付线: a referred inpatient pays "
                                                           "only the deductible difference")
    annual_cap_outpatient: float | None = Field(None, ge=0, description="fund cap per resident-year, CNY; null = none")
    annual_cap_inpatient: float | None = Field(None, ge=0, description="fund cap per resident-year, CNY; null = none")

    def tier(self, name: str) -> TierReimbursement:
        return getattr(self, name)


# --------------------------------------------------------------------------- choice
class ChoiceSpec(Strict):
    """Multinomial logit of first-contact facility choice (就医选择)."""

    source: str = "assumed"
    beta_log_oop: float = Field(-0.5, le=0, description="per unit of ln(1 + expected out-of-pocket / 100 CNY)")
    beta_travel_per_hour: float = Field(-1.0, le=0)
    beta_wait_per_hour: float = Field(-0.1, le=0)
    beta_quality: float = Field(1.0, ge=0)
    beta_incapable: float = Field(-2.0, le=0, description="penalty where the tier cannot treat the case")
    beta_log_size: float = Field(0.0, ge=0, description="per unit of ln(doctors): bigger hospitals draw more")
    tier_constant: dict[Tier, float] = Field(default_factory=dict)
    quality: dict[Tier, float] = Field(default_factory=dict, description="perceived quality score per tier")
    wait_smoothing: float = Field(0.2, gt=0, le=1, description="weight of today's wait in the daily update")


# --------------------------------------------------------------------------- referral
class ReferralSpec(Strict):
    """Referral (转诊): upward chain by tier; downward referral of stable patients."""

    up: dict[Literal["village", "township", "county"], Tier] = Field(
        default_factory=lambda: {"village": "township", "township": "county", "county": "outside"})
    down_prob: dict[str, float] = Field(default_factory=dict, description="share of county/outside inpatients sent down")
    rehab_days: float = Field(7.0, gt=0, le=365)
    target_rule: dict[Tier, Literal["nearest", "largest"]] = Field(
        default_factory=lambda: {"township": "nearest", "county": "largest", "outside": "nearest"},
        description="which capable facility of a tier receives referrals and emergencies")

    @field_validator("down_prob")
    @classmethod
    def _p(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if not 0 <= x <= 1:
                raise ValueError(f"{k}: probability must be in [0, 1], got {x}")
        return v


# --------------------------------------------------------------------------- scenario
class Scenario(Strict):
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
    family_doctor: FamilyDoctorSpec = Field(default_factory=FamilyDoctorSpec)
    payment: PaymentSpec = Field(default_factory=PaymentSpec)
    capacity: CapacitySpec = Field(default_factory=CapacitySpec)
    sinking: SinkingSpec = Field(default_factory=SinkingSpec)
    information: InformationSpec = Field(default_factory=InformationSpec)
    medicines: MedicinesSpec = Field(default_factory=MedicinesSpec)
    prices: PricesSpec = Field(default_factory=PricesSpec)
    day_surgery: DaySurgerySpec = Field(default_factory=DaySurgerySpec)
    tcm: TcmSpec = Field(default_factory=TcmSpec)

    @model_validator(mode="after")
    def _cross_checks(self) -> "Scenario":
        names = set(self.conditions)
        # condition lists of levers that are on (defaults name baseline classes and stay unused)
        named = {"payment.same_payment.conditions": self.payment.same_payment.conditions,
                 "medicines.chronic_conditions": self.medicines.chronic_conditions if self.medicines_used() else [],
                 "day_surgery.conditions": self.day_surgery.conditions if self.day_surgery.share > 0 else [],
                 "capacity.township_upgrade.outpatient": list(self.capacity.township_upgrade.outpatient),
                 "capacity.township_upgrade.inpatient": list(self.capacity.township_upgrade.inpatient)}
        for path, conds in named.items():
            for cond in conds:
                if cond not in names:
                    raise _KeyError(path, cond, f"unknown condition; allowed: {sorted(names)}")
        for tier in ("village", "township", "county"):
            cap: CapabilityTier = getattr(self.capability, tier)
            for kind in ("outpatient", "inpatient"):
                for cond in getattr(cap, kind):
                    if cond not in names:
                        raise _KeyError(f"capability.{tier}.{kind}.{cond}", cond,
                                        f"unknown condition; allowed: {sorted(names)}")
        for cond in self.referral.down_prob:
            if cond not in names:
                raise _KeyError(f"referral.down_prob.{cond}", cond, f"unknown condition; allowed: {sorted(names)}")
        for src, dst in self.referral.up.items():
            if TIERS.index(dst) <= TIERS.index(src):
                raise _KeyError(f"referral.up.{src}", dst, f"must be a higher tier than {src}: one of "
                                f"{list(TIERS[TIERS.index(src) + 1:])}")
        return self


    def medicines_used(self) -> bool:
        m = self.medicines
        return m.unified_drug_list or m.long_prescription_weeks != m.baseline_prescription_weeks


class _KeyError(ValueError):
    """A cross-field error that knows its own key path."""

    def __init__(self, path: str, value: Any, allowed: str):
        self.path, self.value, self.allowed = path, value, allowed
        super().__init__(f"{path}: {allowed} (got {value!r})")


# --------------------------------------------------------------------------- loading
def _deep_merge(base: dict, over: dict, src: dict[str, str], source: str, prefix: str = "") -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v, src, source, path + ".")
        else:
            out[k] = copy.deepcopy(v)
            for key in [p for p in src if p == path or p.startswith(path + ".")]:
                del src[key]
            _record(v, path, src, source)
    return out


def _record(v: Any, path: str, src: dict[str, str], source: str) -> None:
    src[path] = source
    if isinstance(v, dict):
        for k, x in v.items():
            _record(x, f"{path}.{k}", src, source)


def read_yaml(path: Path) -> dict:
    """A YAML mapping, or a ConfigError naming the file (missing, not YAML, not a mapping)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys, got {type(data).__name__}")
    return data


def load_raw(path: str | Path, _seen: tuple[Path, ...] = ()) -> tuple[dict, dict[str, str]]:
    """Read a YAML file, resolving ``extends`` chains; return data and key provenance."""
    path = Path(path).resolve()
    if path in _seen:
        raise ConfigError(f"{path}: 'extends' forms a cycle")
    data = read_yaml(path)
    src: dict[str, str] = {}
    parent = data.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str):
            raise ConfigError(f"{path}: extends: must be a file path, got {parent!r}")
        base, src = load_raw(path.parent / parent, _seen + (path,))
    else:
        base = {}
    merged = _deep_merge(base, data, src, str(path))
    _resolve_paths(merged, path.parent)
    return merged, src


def _resolve_paths(data: dict, folder: Path) -> None:
    """Make CSV paths in a roster block relative to the file that named them."""
    roster = data.get("geography", {}).get("roster") if isinstance(data.get("geography"), dict) else None
    if isinstance(roster, dict):
        for key in ("facilities_csv", "townships_csv"):
            if isinstance(roster.get(key), str) and not Path(roster[key]).is_absolute():
                roster[key] = str((folder / roster[key]).resolve())


def parse_override(item: str) -> tuple[str, Any]:
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected dotted.key=value")
    key, _, text = item.partition("=")
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {item!r}: empty key path")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    return key, value


def apply_overrides(data: dict, src: dict[str, str], overrides: list[str], source: str = "--set") -> dict:
    """Apply ``dotted.key=value`` items; ``source`` is what error messages name as their origin."""
    data = copy.deepcopy(data)
    for item in overrides:
        key, value = parse_override(item)
        node: Any = data
        parts = key.split(".")
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, list):
                node = _list_item(node, part, key)
                continue
            if part not in node or node[part] is None:
                node[part] = {}
            node = node[part]
            if not isinstance(node, (dict, list)):
                raise ConfigError(f"--set {key}: {'.'.join(parts[:i + 1])} is a value, not a section")
        last = parts[-1]
        if isinstance(node, list):
            idx = _index(last, key, len(node))
            node[idx] = value
        else:
            node[last] = value
        _record(value, key, src, source)
    return data


def _index(part: str, key: str, n: int) -> int:
    if not part.isdigit() or int(part) >= n:
        raise ConfigError(f"--set {key}: list index {part!r} out of range [0, {n - 1}]")
    return int(part)


def _list_item(node: list, part: str, key: str) -> Any:
    return node[_index(part, key, len(node))]


def _format_loc(loc: tuple) -> str:
    return ".".join(str(p) for p in loc if p not in ("function-after[_window()]",))


def _source_for(path: str, src: dict[str, str], default: str) -> str:
    probe = path
    while probe:
        if probe in src:
            return src[probe]
        probe = probe.rpartition(".")[0]
    return default


def validate(data: dict, src: dict[str, str] | None = None, origin: str = "<config>") -> Scenario:
    """Validate merged data; raise ConfigError with file, key path, value and allowed range."""
    src = src or {}
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            ctx_err = err.get("ctx", {}).get("error")
            if isinstance(ctx_err, _KeyError):
                path, value, msg = ctx_err.path, ctx_err.value, ctx_err.allowed
            else:
                path = _format_loc(err["loc"])
                value = err.get("input")
                msg = err["msg"].removeprefix("Value error, ")
                if err["type"] == "extra_forbidden":
                    msg = "unknown key (check spelling; see docs/parameters.md for allowed keys)"
                if err["type"] == "missing":
                    value = None
            where = _source_for(path, src, origin)
            shown = "" if value is None and err["type"] == "missing" else f" (got {_short(value)})"
            lines.append(f"{where}: {path or '<top>'}: {msg}{shown}")
        raise ConfigError("invalid scenario:\n  " + "\n  ".join(dict.fromkeys(lines))) from None


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    data, src = load_raw(path)
    return resolve(data, src, str(Path(path).resolve()), overrides, source=f"{Path(path).name} (--set)")


def resolve(data: dict, src: dict[str, str], origin: str, overrides: list[str] | None = None,
            source: str = "--set", counties: dict | None = None) -> Scenario:
    """Overrides, validation and the geography checks on already loaded data.

    Batches resolve many variants of one base file: they load it once and pass ``counties``
    (a dict used as a cache keyed by the geography block), so each variant costs a validation,
    not a file read and a county build.
    """
    src = dict(src)
    data = apply_overrides(data, src, overrides or [], source)
    scenario = validate(data, src, origin)
    # Geography-dependent checks need the built county; they run here so `validate` catches them.
    from models.geography import build_county  # local import: models depend on config, not reverse
    from sim.checks import check_scenario_against_county
    key = scenario.geography.model_dump_json()
    county = counties.get(key) if counties is not None else None
    if county is None:
        try:
            county = build_county(scenario.geography)
        except (ValueError, FileNotFoundError) as e:
            raise ConfigError(f"{_source_for('geography', src, origin)}: geography: {e}") from None
        if counties is not None:
            counties[key] = county
    problems = check_scenario_against_county(scenario, county)
    if problems:
        raise ConfigError("invalid scenario:\n  " + "\n  ".join(
            f"{_source_for(p, src, origin)}: {p}: {m}" for p, m in problems))
    return scenario


def resolved_dict(scenario: Scenario) -> dict:
    """JSON-safe dump of the fully resolved scenario (for manifests and `validate`)."""
    return scenario.model_dump(mode="json")
