"""The county's rules of care (诊疗规则): every decision the patient pathway asks for.

The pathway (``sim/pathway.py``) moves patients and time; this module answers what happens:
where an episode first goes, what a consultation costs and who pays, whether the case is
treated here or referred on, how long a stay lasts, whether a patient goes down for
rehabilitation, and the daily and monthly bookkeeping of the fund and of patients'
perceptions.  It assembles the domain models and the levers and holds no clock.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models.choice import ChoiceModel
from models.communities import CommunityLedger
from models.costs import CostModel
from models.demand import DayBatch, DemandModel
from models.episode import DECISION_DRAWS as D
from models.episode import SERVICE_DRAWS, Episode, case_key
from models.geography import County
from models.levers import county_under_levers, information, sinking
from models.levers.day_surgery import DaySurgery
from models.levers.family_doctor import FamilyDoctor, contracted
from models.levers.payment import CasePayment, GlobalBudget
from models.levers.tcm import Tcm, tcm_probability
from models.referral import TREAT_HERE, ReferralModel
from models.reimbursement import Reimbursement
from models.tiers import COUNTY, OUTSIDE, SEVERITY_LEVELS, TIERS
from models.volumes import price_raise_scale

if TYPE_CHECKING:
    from models.scenario import Scenario

MINUTES_PER_DAY = 1440.0
HOURS_PER_DAY = 24.0


class Care:
    """The domain side of a run: models and levers for one scenario and county."""

    def __init__(self, scenario: Scenario, county: County):
        self.base_county = county
        sim = scenario.simulation
        self.warmup, self.days_per_year = sim.warmup_days, sim.days_per_year
        self.end = sim.warmup_days + sim.years * sim.days_per_year
        self.budget = GlobalBudget(scenario, county.population)
        self._build(scenario)
        self.ledger = CommunityLedger(self.county)
        self._wait_sum = [0.0] * self.county.n_facilities
        self._wait_n = [0] * self.county.n_facilities
        self.perceived_wait = np.zeros(self.county.n_facilities)
        self.choice.update(self.perceived_wait, sinking.unavailable_today(scenario, self.county, 0))
        self._next_month, self._next_budget_year, self._budget_year, self._year_start = 0.0, self.warmup, 0, 0.0
        if self.warmup > 0:
            self.budget.start_year(-1, self.warmup, self.days_per_year)  # warm-up stub, never reported
            self.ledger.start_year(-1)

    def _build(self, scenario: Scenario) -> None:
        """Models and levers for ``scenario``: everything that holds no state of the run."""
        county = county_under_levers(scenario, self.base_county)
        self.scenario, self.county = scenario, county
        self.demand = DemandModel(scenario, county)
        self.costs = CostModel(scenario, price_raise_scale(scenario, county))
        self.pay = Reimbursement(scenario.reimbursement, county.population)
        self.referral = ReferralModel(scenario, county)
        self.choice = ChoiceModel(scenario, county, self.costs, self.pay, self.referral)
        self.budget.configure(scenario.payment.global_budget, county.population)
        self.case_payment = CasePayment.build(scenario, self.costs, self.pay)
        self.day_surgery = DaySurgery(scenario)
        self.information = scenario.information
        self.family_doctor = FamilyDoctor(scenario, county)
        self.tcm = Tcm(tcm_probability(scenario, county, self.costs), scenario.tcm)
        self.capitation = self.family_doctor.capitation_by_facility(county)
        self.fac_tier = county.fac_tier.tolist()
        self.consult_days = [scenario.tier(TIERS[t]).service_minutes / MINUTES_PER_DAY for t in self.fac_tier]
        # per-case tables, indexed [facility][case] and [village][tier][case]
        n_cases = len(scenario.conditions) * SEVERITY_LEVELS * 2
        self.can = self.referral.can.reshape(county.n_facilities, n_cases).tolist()
        self.target = self.referral.target.reshape(county.n_villages, len(TIERS), n_cases).tolist()
        self.visit_cost = np.repeat(self.costs.visit.reshape(len(TIERS), -1), 2, axis=1).tolist()
        self.tcm_visit_cost = np.repeat(self.costs.tcm_visit.reshape(len(TIERS), -1), 2, axis=1).tolist()
        self.per_day = np.repeat(self.costs.per_day.reshape(len(TIERS), -1), 2, axis=1).tolist()
        self.los_mean = np.repeat(self.costs.los_mean.reshape(len(TIERS), -1), 2, axis=1).tolist()
        self.case_fee = [list(np.repeat(np.array(t, dtype=object).reshape(-1), 2)) for t in self.case_payment.case]
        self.travel_days = (county.travel_hours / HOURS_PER_DAY).tolist()
        self.visit_service = self.costs.visit_service_share.tolist()
        self.stay_service = self.costs.stay_service_share.tolist()
        self.repeat_tests = self.costs.repeat_test_share
        self.smoothing = scenario.choice.wait_smoothing

    def adopt(self, scenario: Scenario, day: int) -> None:
        """Switch to a plan's next scenario (分年度实施) on ``day``: models and levers are rebuilt;
        perceived waits, annual cap use and the budget year carry over."""
        used = self.pay
        self._build(scenario)
        self.pay.carry_usage(used)
        self.choice.update(self.perceived_wait, sinking.unavailable_today(scenario, self.county, day))

    # ------------------------------------------------------------------ arrival
    def first_contacts(self, b: DayBatch, u_choice: np.ndarray, u_decision: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First facility of each of a day's episodes and whether its resident is contracted:
        logit choice, emergencies by rule, contracted residents to their family doctor."""
        first = self.choice.draw(b.village, b.condition, b.severity, u_choice)
        em = self.demand.emergency[b.condition]
        if em.any():
            first[em] = self.referral.emergency_first[b.village[em], b.condition[em], b.severity[em],
                                                      b.admit[em].astype(int)]
        is_contracted = contracted(b.resident, self.family_doctor.coverage)
        if self.family_doctor.active:
            first = self.family_doctor.first_contact(b.village, is_contracted, em, u_decision[:, D.family_doctor],
                                                     first)
        return first, is_contracted

    @staticmethod
    def case_keys(b: DayBatch) -> np.ndarray:
        return case_key(b.condition, b.severity, b.admit.astype(int))

    def tcm_visits(self, facilities: np.ndarray, cases: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Which first consultations are TCM (中医) rather than Western: the patient's choice."""
        return self.tcm.visits(facilities, cases, u)

    def is_tcm(self, ep: Episode, fac: int, visit: int) -> bool:
        return self.tcm.visit(fac, ep.case, ep.service_draw(SERVICE_DRAWS.tcm + visit))

    # ------------------------------------------------------------------ consultation
    def consult(self, ep: Episode, fac: int, wait: float, tcm: bool = False) -> tuple[float, float, float, float, int,
                                                                                       bool]:
        """A consultation after ``wait``: its (cost, fund, out-of-pocket, service revenue, next
        facility or TREAT_HERE, resolved by telemedicine).  Referred patients repeat tests unless
        results are mutually recognised; capitation waives the fund's fee before any cap is
        charged; a TCM consultation is priced as TCM and reimbursed with the TCM bonus; the wait
        feeds the perceived wait patients weigh when they choose."""
        self._wait_sum[fac] += wait
        self._wait_n[fac] += 1
        tier = self.fac_tier[fac]
        referred_in = ep.ups > 0
        base = (self.tcm_visit_cost if tcm else self.visit_cost)[tier][ep.case]
        cost = base * (1.0 + self.repeat_tests) if referred_in else base
        if self.family_doctor.fee_waived(tier, ep.contracted):  # capitation already paid: no fee, cap untouched
            fund, oop = 0.0, cost - self.pay.outpatient_fee(tier, cost, referred_in)
        else:
            fund = self.pay.outpatient(tier, cost, ep.resident, referred_in)
            if tcm and self.tcm.bonus:
                fund = min(cost, fund + self.tcm.bonus * cost)
            oop = cost - fund
        self.spend(ep, cost, fund, oop)
        target, tele = TREAT_HERE, False
        if not self.can[fac][ep.case]:
            target = self.target[ep.village][tier][ep.case]
            if target != TREAT_HERE:
                target, tele = self._keep_here(ep, fac, tier, target)
        return cost, fund, oop, base * self.visit_service[tier][ep.cond], target, tele

    def _keep_here(self, ep: Episode, fac: int, tier: int, target: int) -> tuple[int, bool]:
        """Levers that turn a would-be referral into care here: telemedicine at primary level
        (outpatient cases, or where there are beds) and a county under budget pressure."""
        admissible = not ep.admit or self.county.fac_beds[fac] != 0
        if admissible and information.telemedicine_resolves(self.information, tier, ep.decision_draw(D.telemedicine)):
            return TREAT_HERE, True
        if tier == COUNTY and self.fac_tier[target] == OUTSIDE and admissible \
                and self.budget.keeps_in_county(ep.decision_draw(D.budget)):
            return TREAT_HERE, False
        return target, False

    def referred_up(self, ep: Episode, fac: int) -> None:
        """A referral leaves ``fac``: from primary care, a contracted resident's is a
        family-doctor referral (家庭医生转诊) with access to reserved county slots."""
        ep.ups += 1
        if self.family_doctor.refers(self.fac_tier[fac], ep.contracted):
            ep.fd = True

    # ------------------------------------------------------------------ admission and stays
    def downshift(self, ep: Episode, fac: int) -> int:
        """Township centre a same-payment (同病同付) county admission is sent to, or TREAT_HERE."""
        if self.case_payment.sends_down(self.fac_tier[fac], ep.cond, ep.decision_draw(D.same_payment)):
            rf = self.referral.rehab_facility(self.county, ep.village)
            if rf != TREAT_HERE and self.can[rf][ep.case]:
                return rf
        return TREAT_HERE

    def acute_stay(self, ep: Episode, tier: int) -> tuple[float, float, float | None]:
        """(length of stay, charges, fixed case payment or None): a day case, or a lognormal stay
        shortened where a case payment rewards it."""
        if self.day_surgery.day_case(tier, ep.cond, ep.decision_draw(D.day_surgery)):
            los = self.day_surgery.los
        else:
            los = self.costs.length_of_stay(self.los_mean[tier][ep.case] * self.case_payment.los_factor[tier],
                                            ep.service_draw(SERVICE_DRAWS.stay))
        return los, self.per_day[tier][ep.case] * los, self.case_fee[tier][ep.case]

    def rehab_after(self, ep: Episode, tier: int) -> int:
        """Township centre a stable inpatient is referred down to (下转), or TREAT_HERE."""
        p_down = self.budget.down_prob(self.referral.down_prob[ep.cond])
        if self.referral.refer_down(tier, ep.cond, ep.decision_draw(D.down), p_down):
            return self.referral.rehab_facility(self.county, ep.village)
        return TREAT_HERE

    def rehab_stay(self, ep: Episode) -> tuple[float, float]:
        los = self.costs.length_of_stay(self.costs.rehab_days, ep.service_draw(SERVICE_DRAWS.rehab))
        return los, self.costs.rehab_per_day * los

    def stay_bill(self, ep: Episode, tier: int, cost: float, referred: bool,
                  case_fee: float | None) -> tuple[float, float, float]:
        """(fund, out-of-pocket, service revenue) of a stay; the deductible carries over the episode."""
        fund, oop, ded = self.pay.inpatient(tier, cost, ep.resident, referred, ep.ded_paid, case_fee)
        ep.ded_paid += ded
        self.spend(ep, cost, fund, oop)
        ep.stays += 1
        return fund, oop, cost * self.stay_service[tier][ep.cond]

    def spend(self, ep: Episode, cost: float, fund: float, oop: float) -> None:
        ep.cost += cost
        ep.fund += fund
        ep.oop += oop
        self.ledger.resident_spend(ep.village, fund)
        if self.budget.enabled:
            self.budget.spend(fund)

    # ------------------------------------------------------------------ days, months, years
    def start_of_day(self, now: float) -> list[tuple[int, float]]:
        """Budget years start when the warm-up ends; capitation is paid monthly.  Returns the
        lump sums paid today as (facility, CNY)."""
        dpy = self.days_per_year
        if now >= self._next_budget_year - 1e-9:
            self.budget.start_year(self._budget_year, min(dpy, self.end - now), dpy)
            self.ledger.start_year(self._budget_year)
            self._budget_year, self._year_start = self._budget_year + 1, now
            self._next_budget_year += dpy
        paid = []
        if now >= self._next_month - 1e-9:
            share = (dpy / 12.0) / dpy
            for f in np.flatnonzero(self.capitation):
                amount = float(self.capitation[f] * share)
                paid.append((int(f), amount))
                self.budget.spend(amount)
                self.ledger.facility_spend(int(f), amount)
            self._next_month += dpy / 12.0
        return paid

    def end_of_day(self, day: int, now: float) -> None:
        """Perceived waits (smoothed daily) and touring mobile clinics update choice; annual caps
        restart each insurance year; budget pressure follows spending."""
        n = np.array(self._wait_n, dtype=float)
        closed = sinking.unavailable_today(self.scenario, self.county, day)
        if n.any() or len(closed):
            alpha = self.smoothing
            today = np.divide(np.array(self._wait_sum), n, out=np.zeros_like(n), where=n > 0) * HOURS_PER_DAY
            self.perceived_wait = np.where(n > 0, (1 - alpha) * self.perceived_wait + alpha * today,
                                           self.perceived_wait)
            self.choice.update(self.perceived_wait, closed)
            self._wait_sum = [0.0] * len(self._wait_sum)
            self._wait_n = [0] * len(self._wait_n)
        if day % self.days_per_year == 0:
            self.pay.new_year()
        self.budget.update(now - self._year_start)
