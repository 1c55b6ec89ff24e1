"""The KPI registry (指标): every KPI declared once — name, Chinese and English names, unit,
definition, policy target and how it is computed from the monthly sums.

Tables, figures, the report and the CLI all read this list; its order is the
order of every table and figure.  Definitions follow the domain brief,
``docs/sources/domain.md``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from models.cadres import CADRE_ZH, CADRES
from models.tiers import TIERS

MINUTES_PER_DAY = 1440.0
SHARE_UNITS = ("share", "share of visits", "share of episodes", "share of primary visits",
               "share of contracted residents' admissions",
               "year on year", "share of illnesses", "share of admissions advised")


@dataclass(frozen=True)
class Target:
    value: float
    label: str


@dataclass(frozen=True)
class Kpi:
    name: str
    zh: str
    en: str
    unit: str
    definition: str
    compute: Callable | None = None  # (sums, context) → array; None: filled by the runner (budget, growth)
    target: Target | None = None
    group: str = "core"  # core: every run; budget: global budget or DIP on (by budget year); growth: multi-year;
    # workforce: rotations of county doctors or doctors' turnover (salary) configured; medicines: primary
    # stock-outs configured; chronic: chronic-disease management centres; cadres: workforce.cadres.report

    @property
    def is_share(self) -> bool:
        return self.unit in SHARE_UNITS


def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def _r(num: str, den: str, scale: float = 1.0) -> Callable:
    if scale == 1.0:
        return lambda c, x: ratio(c[num], c[den])
    return lambda c, x: ratio(c[num], c[den]) * scale


def _per_resident(num: str, scale: float = 1.0) -> Callable:
    if scale == 1.0:
        return lambda c, x: c[num] / x.resident_years
    return lambda c, x: scale * c[num] / x.resident_years


def _utilisation(tier: str) -> Callable:
    return lambda c, x: ratio(c[f"service_{tier}"], c[f"doctor_days_{tier}"] * x.open_share)


def _occupancy(tier: str) -> Callable:
    return lambda c, x: ratio(c[f"bed_days_{tier}"], c[f"bed_days_open_{tier}"])


TIER_ZH = {"village": "村卫生室", "township": "乡镇卫生院", "county": "县级医院", "outside": "县外医院"}
TIER_EN = {"village": "village clinics", "township": "township centres", "county": "county hospitals",
           "outside": "outside county"}
QUINTILE = {1: ("最近五分位", "closest quintile"), 2: ("第二五分位", "2nd remoteness quintile"),
            3: ("第三五分位", "3rd remoteness quintile"), 4: ("第四五分位", "4th remoteness quintile"),
            5: ("最远五分位", "remotest quintile")}

KPIS: tuple[Kpi, ...] = (
    Kpi("county_visit_rate", "县域就诊率", "County visit rate", "share",
        "visits by county residents served in the county ÷ all their visits", _r("visits_in_county", "visits"),
        Target(0.90, "target ≥ 90 % (Kunming 2025)")),
    Kpi("primary_care_share", "基层诊疗人次占比", "Primary-care share of visits", "share",
        "visits at village clinics and township centres ÷ all visits", _r("visits_primary", "visits"),
        Target(0.65, "target 65 % (Hunan 2027)")),
    Kpi("in_county_inpatient_share", "县域内住院人次占比", "In-county inpatient share", "share",
        "admissions in the county ÷ all admissions of residents", _r("admissions_in_county", "admissions")),
    Kpi("in_county_fund_share", "县域内基金支出比例", "In-county fund share", "share",
        "insurance fund spent in the county ÷ all fund spending", _r("fund_in_county", "fund")),
    Kpi("primary_fund_share", "基层医保基金占比", "Primary-care fund share", "share",
        "fund spent at primary care ÷ fund spent in the county", _r("fund_primary", "fund_in_county")),
    Kpi("reimbursement_ratio", "医保报销比例", "Reimbursement ratio", "share",
        "fund payment ÷ total cost", _r("fund", "cost")),
    Kpi("oop_per_episode", "次均自付费用", "Out-of-pocket per episode", "CNY",
        "out-of-pocket payments ÷ illness episodes", _r("oop", "episodes")),
    Kpi("oop_per_admission", "次均住院自付费用", "Out-of-pocket per stay", "CNY",
        "out-of-pocket payments for stays ÷ stays begun", _r("oop_stays", "admissions")),
    Kpi("cost_per_resident", "人均医疗费用", "Cost per resident", "CNY per resident-year",
        "total cost of visits and stays ÷ resident-years", _per_resident("cost")),
    Kpi("fund_per_resident", "人均医保基金支出", "Fund spending per resident", "CNY per resident-year",
        "insurance fund payments (visits, stays, capitation) ÷ resident-years", _per_resident("fund")),
    Kpi("visits_per_resident", "人均诊疗人次", "Visits per resident", "visits per resident-year",
        "outpatient visits ÷ resident-years", _per_resident("visits")),
    Kpi("admissions_per_resident", "住院率", "Admissions per resident", "admissions per resident-year",
        "admissions ÷ resident-years", _per_resident("admissions")),
    Kpi("mean_los_days", "平均住院日", "Mean length of stay", "days",
        "bed-days of stays begun ÷ admissions", _r("bed_days_stayed", "admissions")),
    *(Kpi(f"wait_{t}_min", f"{TIER_ZH[t]}候诊时间", f"Wait, {TIER_EN[t]}", "minutes",
          f"mean wait for a doctor at {TIER_EN[t]}", _r(f"wait_{t}", f"visits_{t}", MINUTES_PER_DAY)) for t in TIERS),
    *(Kpi(f"bed_wait_{t}_days", f"{TIER_ZH[t]}等床时间", f"Bed wait, {TIER_EN[t]}", "days",
          f"mean wait for a bed at {TIER_EN[t]}", _r(f"bed_wait_{t}", f"admissions_{t}")) for t in ("township", "county")),
    *(Kpi(f"utilisation_{t}", f"{TIER_ZH[t]}医生利用率", f"Doctor utilisation, {t}", "share",
          f"consultation time ÷ doctor time in opening hours at {TIER_EN[t]} (above 1: a queue carried past closing)",
          _utilisation(t)) for t in ("township", "county")),
    *(Kpi(f"bed_occupancy_{t}", f"{TIER_ZH[t]}床位使用率", f"Bed occupancy, {t}", "share",
          f"occupied bed-days ÷ available bed-days at {TIER_EN[t]}", _occupancy(t)) for t in ("township", "county")),
    Kpi("upward_referrals_per_1000", "上转人次(每千人年)", "Upward referrals", "per 1000 resident-years",
        "visits ending in a referral up ÷ 1000 resident-years", _per_resident("referred_up", 1000.0)),
    Kpi("downward_referrals_per_1000", "下转人次(每千人年)", "Downward referrals", "per 1000 resident-years",
        "stays begun after a referral down ÷ 1000 resident-years", _per_resident("referred_down", 1000.0)),
    Kpi("full_hospital_transfers_per_1000", "床位已满转院(每千人年)", "Sent on by a full hospital",
        "per 1000 resident-years", "stays begun at another hospital because the first one's bed wait would pass "
        "referral.full_bed_wait_days ÷ 1000 resident-years", _per_resident("sent_on", 1000.0)),
    Kpi("self_treatment_share", "自我治疗比例", "Self-treatment (pharmacy)", "share of illnesses",
        "illnesses self-treated or taken to a retail pharmacy (零售药店) ÷ all illnesses (episodes + outside options)",
        lambda c, x: ratio(c["self_treated"], c["episodes"] + c["self_treated"] + c["forgone"])),
    Kpi("forgone_share", "患病未就诊比例", "Forgone care", "share of illnesses",
        "illnesses neither taken to a facility nor self-treated ÷ all illnesses",
        lambda c, x: ratio(c["forgone"], c["episodes"] + c["self_treated"] + c["forgone"])),
    Kpi("declined_admission_share", "应住院未住院比例", "Declined admissions", "share of admissions advised",
        "episodes whose patient did not take an advised bed ÷ (those + stays begun)",
        lambda c, x: ratio(c["declined"], c["declined"] + c["admissions"])),
    Kpi("balked_share", "未就诊离开比例", "Balked episodes", "share of episodes",
        "episodes that left a queue unserved ÷ episodes", _r("balked", "episodes")),
    Kpi("family_doctor_referral_rate", "家庭医生转介率", "Family-doctor referral rate",
        "share of contracted residents' admissions",
        "contracted residents' admissions referred by their family doctor ÷ their admissions",
        _r("fd_referred_admissions", "contracted_admissions")),
    Kpi("wait_fd_referred_county_min", "家医转诊患者县级候诊时间", "County wait, family-doctor referrals", "minutes",
        "mean county-hospital wait of family-doctor referrals", _r("fd_wait", "fd_visits", MINUTES_PER_DAY)),
    Kpi("bed_wait_fd_referred_county_days", "家医转诊患者县级等床时间", "County bed wait, family-doctor referrals",
        "days", "mean county-hospital bed wait of family-doctor referrals", _r("fd_bed_wait", "fd_admissions")),
    Kpi("telemedicine_per_1000", "远程会诊(每千人年)", "Telemedicine consultations", "per 1000 resident-years",
        "referrals resolved by a remote consultation ÷ 1000 resident-years", _per_resident("telemedicine", 1000.0)),
    Kpi("service_revenue_share", "医疗服务收入占比", "Service revenue share", "share",
        "service revenue (excluding drugs, consumables and tests) ÷ medical revenue",
        _r("service_revenue", "cost"), Target(0.35, "target ≥ 35 % (Kunming)")),
    Kpi("tcm_share_primary", "基层中医药诊疗量占比", "TCM share of primary visits", "share of primary visits",
        "TCM visits at primary level ÷ primary visits", _r("tcm_primary", "visits_primary"),
        Target(0.35, "target ≥ 35 % (Hunan)")),
    Kpi("county_inpatient_margin", "县级住院结余(每例)", "County inpatient margin", "CNY per case",
        "(fund + out-of-pocket − charges) of county stays ÷ county admissions",
        _r("county_margin", "admissions_county")),
    Kpi("case_payment_fund_share", "DRG/DIP付费占比", "Case-payment share of inpatient fund", "share",
        "fund paid for in-county stays by case payment (DRG, DIP at the provisional point price, same-payment) ÷ "
        "fund paid for in-county stays (seeds 000, 004: ≥ 70 %)", _r("fund_case_paid", "fund_inpatient_in_county"),
        Target(0.70, "target ≥ 70 % (seeds 000, 004)")),
    Kpi("rehab_los_days", "康复住院日", "Rehabilitation length of stay", "days",
        "bed-days of township stays after a referral down ÷ those stays (per-diem payment acts on it)",
        _r("rehab_bed_days", "rehab_stays")),
    Kpi("family_doctor_referrals_per_1000", "家庭医生上转(每千人年)", "Family-doctor referrals up",
        "per 1000 resident-years",
        "primary-care visits of contracted residents ending in a referral up ÷ 1000 resident-years",
        _per_resident("fd_referred_up", 1000.0)),
    *(Kpi(f"oop_remoteness_q{q}", f"次均自付({QUINTILE[q][0]})", f"Out-of-pocket, {QUINTILE[q][1]}", "CNY",
          f"out-of-pocket per episode of residents in remoteness quintile {q} (1 = closest)",
          _r(f"oop_q{q}", f"episodes_q{q}")) for q in range(1, 6)),
    *(Kpi(f"doctors_per_1000_{t}", f"每千人口{TIER_ZH[t]}医生数", f"Doctors per 1000 residents, {TIER_EN[t]}",
          "per 1000 residents", f"doctors at {TIER_EN[t]}, time-weighted (posted county doctors count where they "
          "serve) ÷ residents × 1000", _per_resident(f"doctor_years_{t}", 1000.0), group="workforce")
      for t in ("village", "township", "county")),
    Kpi("rotations_served", "下沉轮岗完成人次", "Rotations served", "doctor-postings",
        "county doctors completing a posting to a township centre (a posting of n doctors counts n), in the month "
        "the posting ends", lambda c, x: c["rotations_completed"], group="workforce"),
    Kpi("primary_senior_doctor_days", "基层上级医生服务天数", "Senior-doctor days at primary level", "doctor-days",
        "days served by county doctors posted to township centres (县管乡用)", lambda c, x: c["senior_primary_days"],
        group="workforce"),
    Kpi("doctors_pooled", "人员统筹调配人次", "Doctors moved by pooling", "doctor-moves",
        "township doctors the community moved between its centres (人员统筹), in the month they moved",
        lambda c, x: c["doctors_pooled"], group="workforce"),
    *(Kpi(f"stockout_share_{t}", f"{TIER_ZH[t]}缺药转诊比例", f"Stock-outs, {TIER_EN[t]}", "share of visits",
          f"consultations at {TIER_EN[t]} that could not complete because the chronic patient's medicine was out of "
          f"stock (patient sent up) ÷ consultations there", _r(f"stockouts_{t}", f"visits_{t}"), group="medicines")
      for t in ("village", "township")),
    Kpi("chronic_enrolled_share", "慢病管理纳入率", "Chronic patients enrolled", "share",
        "hypertension and diabetes patients enrolled at a chronic-disease management centre ÷ all such patients",
        _r("chronic_enrolled", "chronic_prevalent"), group="chronic"),
    Kpi("followup_completion", "慢病随访完成率", "Chronic follow-ups completed", "share",
        "scheduled chronic-centre follow-ups completed at the centre (the patient came, was not sent up and did not "
        "leave the queue) ÷ follow-ups scheduled", _r("followups_completed", "followups_scheduled"), group="chronic"),
    *(Kpi(f"cadre_load_{c}", f"{CADRE_ZH[c]}工时使用率", f"Minutes used vs available, {c.replace('_', ' ')}",
          "share", f"clinical minutes used by {c.replace('_', ' ')}s (consultations, bed-days) ÷ their minutes "
          "available (staff × minutes per working day × working days; above 1: overtime)",
          _r(f"cadre_used_{c}", f"cadre_available_{c}"), group="cadres") for c in CADRES),
    Kpi("cadre_overtime_share", "超时工作占比", "Overtime share of staff minutes", "share",
        "minutes used beyond those available, facility by facility and month by month, all cadres ÷ minutes used",
        lambda c, x: ratio(c["cadre_overtime"], sum(c[f"cadre_used_{k}"] for k in CADRES)), group="cadres"),
    Kpi("fund_budget", "医保基金总额预算", "Global budget", "CNY per year",
        "the year's global budget to the county medical community", group="budget"),
    Kpi("budget_spent", "医保基金支出(预算口径)", "Fund spending against the budget", "CNY per year",
        "residents' fund spending in the budget year, anywhere, with capitation and DIP settlements", group="budget"),
    Kpi("budget_balance", "医保基金结余", "Fund budget balance", "CNY per year",
        "global budget − withheld + paid back − fund spending in the budget year (negative: overspend)",
        group="budget"),
    Kpi("surplus_retained", "结余留用", "Surplus retained", "CNY per year",
        "surplus_retained × a positive balance: what the community keeps", group="budget"),
    Kpi("overspend_borne", "超支分担", "Overspend borne", "CNY per year",
        "overspend_shared × a negative balance: what the community bears", group="budget"),
    Kpi("reserve_opening", "医共体结余储备(年初)", "Community reserve, opening", "CNY",
        "the community's reserve when the year opens (last year's closing reserve)", group="budget"),
    Kpi("reserve_closing", "医共体结余储备(年末)", "Community reserve, closing", "CNY",
        "opening reserve + retained − borne, carried into the next year", group="budget"),
    Kpi("assessment_withheld", "考核预留金", "Withheld for assessment", "CNY per year",
        "withheld_share × the year's global budget", group="budget"),
    Kpi("assessment_score", "考核得分", "Assessment score", "share",
        "weighted mean of min(value ÷ target, 1) over county visit rate and primary-care share and "
        "min(target ÷ value, 1) for the upward referral rate, from the year's visits", group="budget"),
    Kpi("assessment_paid_back", "考核返还", "Paid back after assessment", "CNY per year",
        "withheld × score", group="budget"),
    Kpi("dip_points", "DIP总分值", "DIP points claimed", "points per year",
        "points claimed by county inpatient cases in the year", group="budget"),
    Kpi("dip_point_price", "DIP分值单价", "DIP point price", "CNY per point",
        "the year's DIP budget ÷ points claimed (settled at year end)", group="budget"),
    Kpi("cost_growth", "医疗费用增长率", "Cost growth", "year on year",
        "year-on-year growth of cost per resident", group="growth"),
)
REGISTRY: dict[str, Kpi] = {k.name: k for k in KPIS}
HEADLINE = ["county_visit_rate", "primary_care_share", "in_county_inpatient_share", "visits_per_resident",
            "cost_per_resident", "fund_per_resident", "oop_per_episode"]  # trajectory tables and figures
CORE = [k.name for k in KPIS if k.group == "core"]
BUDGET = [k.name for k in KPIS if k.group == "budget"]
OPTIONAL_GROUPS = ("workforce", "medicines", "chronic", "cadres")  # reported only when their lever is configured
GROWTH = "cost_growth"


def check_kpis(names, allowed=None) -> None:
    """ValueError naming the first of ``names`` that is not a KPI (of ``allowed``; default: any)."""
    allowed = REGISTRY if allowed is None else allowed
    for name in names:
        if name not in allowed:
            raise ValueError(f"unknown KPI {name!r}; allowed: {list(allowed)}")


def get(name: str) -> Kpi | None:
    return REGISTRY.get(name)
