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

from models.adaptation import Habits, Perceptions
from models.choice import ChoiceModel
from models.costs import CostModel
from models.demand import DayBatch, DemandModel
from models.episode import DECISION_DRAWS as D
from models.episode import SERVICE_DRAWS, Episode, case_key
from models.geography import County
from models.loading import county_of
from models.provider_demand import ProviderDemand
from models.levers import county_under_levers, information, sinking
from models.levers.day_surgery import DaySurgery
from models.levers.family_doctor import FamilyDoctor, contracted
from models.levers.payment import CasePayment, GlobalBudget
from models.levers.tcm import Tcm
from models.referral import TREAT_HERE, ReferralModel
from models.reimbursement import Reimbursement
from models.seeking import FORMAL, CareSeeking
from models.tiers import COUNTY, OUTSIDE, SEVERITY_LEVELS, TIERS

if TYPE_CHECKING:
    from models.scenario import Scenario

MINUTES_PER_DAY = 1440.0
HOURS_PER_DAY = 24.0


class Care:
    """The domain side of a run: models and levers for one scenario and county."""

    def __init__(self, scenario: Scenario, county: County):
        county = county_under_levers(scenario, county)
        self.scenario, self.county = scenario, county
        sim = scenario.simulation
        self.warmup, self.days_per_year = sim.warmup_days, sim.days_per_year
        self.end = sim.warmup_days + sim.years * sim.days_per_year
        self.demand = DemandModel(scenario, county)
        self.costs = CostModel(scenario)
        self.gatekept = gatekept_conditions(scenario)
        self.pay = Reimbursement(scenario.reimbursement, county.population)
        self.referral = ReferralModel(scenario, county)
        self.choice = ChoiceModel(scenario, county, self.costs, self.pay, self.referral, self.gatekept)
        self.seeking = CareSeeking(scenario.care_seeking, list(scenario.conditions), self.demand.emergency)
        self.adaptation = scenario.adaptation
        self.habits = Habits(scenario.adaptation, county.population)
        self.perceptions: Perceptions | None = None
        self.budget = GlobalBudget(scenario, county.population)
        self.case_payment = CasePayment.build(scenario, self.costs, self.pay)
        self.day_surgery = DaySurgery(scenario)
        self.information = scenario.information
        self.family_doctor = FamilyDoctor(scenario, county)
        self.provider = ProviderDemand(scenario.provider_demand, list(scenario.conditions),
                                       self.family_doctor.coverage)
        self.tcm = Tcm(scenario.tcm, county.fac_tier)
        self.capitation = self.family_doctor.capitation_by_facility(county)
        self.fac_tier = county.fac_tier.tolist()
        self.consult_days = [scenario.tier(TIERS[t]).service_minutes / MINUTES_PER_DAY for t in self.fac_tier]
        # per-case tables, indexed [facility][case] and [village][tier][case]
        n_cases = len(scenario.conditions) * SEVERITY_LEVELS * 2
        self.can = self.referral.can.reshape(county.n_facilities, n_cases).tolist()
        self.target = self.referral.target.reshape(county.n_villages, len(TIERS), n_cases).tolist()
        self.visit_cost = np.repeat(self.costs.visit.reshape(len(TIERS), -1), 2, axis=1).tolist()
        self.per_day = np.repeat(self.costs.per_day.reshape(len(TIERS), -1), 2, axis=1).tolist()
        self.los_mean = np.repeat(self.costs.los_mean.reshape(len(TIERS), -1), 2, axis=1).tolist()
        self.case_fee = [[x for x in np.repeat(np.array(t, dtype=object).reshape(-1), 2)]
                         for t in self.case_payment.case]
        self.travel_days = (county.travel_hours / HOURS_PER_DAY).tolist()
        self.visit_service = self.costs.visit_service_share.tolist()
        self.stay_service = self.costs.stay_service_share.tolist()
        self.repeat_tests = self.costs.repeat_test_share
        self.smoothing = scenario.choice.wait_smoothing
        self._wait_sum = [0.0] * county.n_facilities
        self._wait_n = [0] * county.n_facilities
        self.perceived_wait = np.zeros(county.n_facilities)
        self._update_choice(sinking.unavailable_today(scenario, county, 0))
        self._next_perception = self.days_per_year / 12.0
        self._next_month, self._next_budget_year, self._budget_year, self._year_start = 0.0, self.warmup, 0, 0.0
        if self.warmup > 0:
            self.budget.start_year(-1, self.warmup, self.days_per_year)  # warm-up stub, never reported

    # ------------------------------------------------------------------ arrival
    def first_contacts(self, b: DayBatch, u_choice: np.ndarray, u_decision: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First facility of each of a day's episodes and whether its resident is contracted:
        logit choice, emergencies by rule, contracted residents to their family doctor."""
        habit = self.habits.utility(self.choice.choice_set[b.village], b.resident) if self.habits.enabled else None
        first = self.choice.draw(b.village, b.condition, b.severity, u_choice, habit)
        em = self.demand.emergency[b.condition]
        if em.any():
            first[em] = self.referral.emergency_first[b.village[em], b.condition[em], b.severity[em],
                                                      b.admit[em].astype(int)]
        is_contracted = contracted(b.resident, self.family_doctor.coverage)
        if self.family_doctor.active:
            first = self.family_doctor.first_contact(b.village, is_contracted, em, u_decision[:, D.family_doctor],
                                                     first)
        if self.habits.enabled:
            chose = ~em
            self.habits.remember(b.resident[chose], first[chose], counted=np.ones(int(chose.sum()), dtype=bool))
        return first, is_contracted

    def seeking_options(self, b: DayBatch, u: np.ndarray) -> np.ndarray:
        """Formal care, self-treatment or forgone care for each of a day's illnesses."""
        return self.seeking.options(b.village, b.condition, b.severity, u)

    def followups(self, rng: np.random.Generator, day: int) -> tuple[DayBatch, np.ndarray]:
        """The day's family-doctor follow-ups (慢病随访) and the facility each is held at."""
        time, village, resident = self.provider.followups(self.demand, rng, day)
        n = len(time)
        order = np.argsort(time, kind="stable")
        zeros = np.zeros(n, dtype=np.int64)
        batch = DayBatch(time[order], village[order], zeros + self.provider.condition, zeros,
                         np.zeros(n, dtype=bool), resident[order])
        return batch, self.family_doctor.home[batch.village]

    @staticmethod
    def case_keys(b: DayBatch) -> np.ndarray:
        return case_key(b.condition, b.severity, b.admit.astype(int))

    def tcm_visits(self, facilities: np.ndarray, u: np.ndarray) -> np.ndarray:
        return self.tcm.visits(facilities, u)

    def is_tcm(self, ep: Episode, fac: int, visit: int) -> bool:
        return self.tcm.visit(fac, ep.service_draw(SERVICE_DRAWS.tcm + visit))

    # ------------------------------------------------------------------ consultation
    def consult(self, ep: Episode, fac: int) -> tuple[float, float, float, float, int, bool]:
        """A consultation's (cost, fund, out-of-pocket, service revenue, next facility or
        TREAT_HERE, resolved by telemedicine).  Referred patients repeat tests unless results
        are mutually recognised; capitation waives the fund's fee before any cap is charged."""
        tier = self.fac_tier[fac]
        referred_in = ep.ups > 0
        base = self.visit_cost[tier][ep.case]
        cost = base * (1.0 + self.repeat_tests) if referred_in else base
        gatekept = self.gatekept[ep.cond]
        if self.family_doctor.fee_waived(tier, ep.contracted):  # capitation already paid: no fee, cap untouched
            fund, oop = 0.0, cost - self.pay.outpatient_fee(tier, cost, referred_in, gatekept)
        else:
            fund = self.pay.outpatient(tier, cost, ep.resident, referred_in, gatekept)
            oop = cost - fund
        self.spend(ep, cost, fund, oop)
        target, tele = TREAT_HERE, False
        if not self.can[fac][ep.case]:
            target = self.target[ep.village][tier][ep.case]
            if target != TREAT_HERE:
                target, tele = self._keep_here(ep, fac, tier, target)
        if self.perceptions is not None and ep.visits == 1 and not referred_in:
            self.perceptions.observe(fac, target == TREAT_HERE)
        return cost, fund, oop, base * self.visit_service[tier], target, tele

    def asks_back(self, ep: Episode, fac: int) -> float | None:
        """Days until a return visit (复诊) the doctor asks for after a resolved outpatient
        consultation, or None; one return visit per episode."""
        if ep.returned or not self.provider.asks_back(self.fac_tier[fac], ep.decision_draw(D.return_visit)):
            return None
        ep.returned = True
        return self.provider.return_days

    def accepts_admission(self, ep: Episode, fac: int) -> bool:
        """Whether the patient takes the bed, weighing the stay's expected out-of-pocket."""
        if not self.seeking.enabled:
            return True
        tier = self.fac_tier[fac]
        stay = self.per_day[tier][ep.case] * self.los_mean[tier][ep.case]
        oop = float(self.pay.expected_stay_oop(tier, stay, ep.ups > 0, self.gatekept[ep.cond]))
        return self.seeking.accepts_admission(ep.cond, ep.sev, oop, ep.decision_draw(D.admission))

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
        fund, oop, ded = self.pay.inpatient(tier, cost, ep.resident, referred, ep.ded_paid, case_fee,
                                            self.gatekept[ep.cond])
        ep.ded_paid += ded
        self.spend(ep, cost, fund, oop)
        ep.stays += 1
        return fund, oop, cost * self.stay_service[tier]

    def spend(self, ep: Episode, cost: float, fund: float, oop: float) -> None:
        ep.cost += cost
        ep.fund += fund
        ep.oop += oop
        if self.budget.enabled:
            self.budget.spend(fund)

    # ------------------------------------------------------------------ days, months, years
    def observe_wait(self, fac: int, wait: float) -> None:
        self._wait_sum[fac] += wait
        self._wait_n[fac] += 1

    def start_of_day(self, now: float) -> list[tuple[int, float]]:
        """Budget years start when the warm-up ends; capitation is paid monthly.  Returns the
        lump sums paid today as (facility, CNY)."""
        dpy = self.days_per_year
        if now >= self._next_budget_year - 1e-9:
            self.budget.start_year(self._budget_year, min(dpy, self.end - now), dpy)
            self._budget_year, self._year_start = self._budget_year + 1, now
            self._next_budget_year += dpy
        paid = []
        if self.capitation.any() and now >= self._next_month - 1e-9:
            share = (dpy / 12.0) / dpy
            for f in np.flatnonzero(self.capitation):
                amount = float(self.capitation[f] * share)
                paid.append((int(f), amount))
                self.budget.spend(amount)
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
            if self.perceptions is not None and now >= self._next_perception - 1e-9:
                self.perceptions.month_end()
                self._next_perception += self.days_per_year / 12.0
            self._update_choice(closed)
            self._wait_sum = [0.0] * len(self._wait_sum)
            self._wait_n = [0] * len(self._wait_n)
        if day % self.days_per_year == 0:
            self.pay.new_year()
        self.budget.update(now - self._year_start)

    def _update_choice(self, closed: np.ndarray) -> None:
        """Facility choice, then care-seeking, from today's perceived waits and reputations."""
        perceived = self.perceptions.utility(self.scenario.choice.beta_quality) if self.perceptions else None
        self.choice.update(self.perceived_wait, closed, perceived)
        self.seeking.update(self.choice.formal_oop, self.choice.formal_hours)

    # ------------------------------------------------------------------ where residents start
    def settle(self, rng: np.random.Generator) -> None:
        """Habits and perceptions residents bring into the run: formed under
        ``adaptation.starts_from`` (e.g. the baseline), or under this scenario itself."""
        if not self.adaptation.enabled:
            return
        start = self.scenario._start
        if start is None:
            choice, referral, to_here = self.choice, self.referral, np.arange(self.county.n_facilities)
            boost0 = sinking.quality_boost(self.scenario, self.county)
        else:
            county = county_under_levers(start, county_of(start))
            costs = CostModel(start)
            referral = ReferralModel(start, county)
            choice = ChoiceModel(start, county, costs, Reimbursement(start.reimbursement, county.population),
                                 referral, gatekept_conditions(start))
            index = {name: i for i, name in enumerate(self.county.fac_names)}
            to_here = np.array([index.get(name, -1) for name in county.fac_names], dtype=np.int64)
            boost0 = np.zeros(self.county.n_facilities)
            known = to_here >= 0
            boost0[to_here[known]] = sinking.quality_boost(start, county)[known]
        weights = self.demand.incidence[:, None] * np.diff(np.concatenate(
            [np.zeros((len(self.demand.incidence), 1)), self.demand.sev_cum], axis=1), axis=1)
        weights[self.demand.emergency] = 0.0
        mapped = np.where(choice.choice_set >= 0, to_here[np.maximum(choice.choice_set, 0)], -1)
        resolved = expected_resolved(choice.prob, choice.choice_set, referral.can, weights, self.demand.admission_prob,
                                     self.county.village_pop)
        resolved_here = expected_resolved(self.choice.prob, self.choice.choice_set, self.referral.can, weights,
                                          self.demand.admission_prob, self.county.village_pop)
        known = to_here >= 0
        resolved_here[to_here[known]] = np.where(np.isnan(resolved[known]), resolved_here[to_here[known]],
                                                 resolved[known])
        self.perceptions = Perceptions(self.adaptation, np.nan_to_num(resolved_here, nan=1.0), boost0,
                                       sinking.quality_boost(self.scenario, self.county))
        village_of = np.repeat(np.arange(self.county.n_villages), self.county.village_pop)
        self.habits.settle(choice.util, weights, mapped, village_of, self.adaptation.burn_in_episodes, rng)
        self._update_choice(sinking.unavailable_today(self.scenario, self.county, 0))


def gatekept_conditions(scenario: Scenario) -> np.ndarray:
    """(C,) conditions under gatekeeping (首诊在基层); emergencies are always exempt."""
    listed = set(scenario.referral.gatekeeping.conditions)
    return np.array([n in listed and not c.emergency for n, c in scenario.conditions.items()])


def expected_resolved(prob: np.ndarray, choice_set: np.ndarray, can: np.ndarray, weights: np.ndarray,
                      admission_prob: np.ndarray, village_pop: np.ndarray) -> np.ndarray:
    """Share of first-contact patients each facility treats itself (NaN where none come), from
    choice probabilities (V, C, S, K) and the capability table can[f, c, s, needs bed]."""
    fac = np.maximum(choice_set, 0)  # (V, K)
    treat = can[fac]  # (V, K, C, S, 2)
    r = treat[..., 0] * (1 - admission_prob) + treat[..., 1] * admission_prob  # (V, K, C, S)
    w = (village_pop[:, None, None, None] * weights[None, :, :, None] * prob).transpose(0, 3, 1, 2)  # (V, K, C, S)
    w = np.where((choice_set >= 0)[:, :, None, None], w, 0.0)
    seen = np.bincount(fac.ravel(), weights=w.sum(axis=(2, 3)).ravel(), minlength=can.shape[0])
    solved = np.bincount(fac.ravel(), weights=(w * r).sum(axis=(2, 3)).ravel(), minlength=can.shape[0])
    return np.divide(solved, seen, out=np.full(can.shape[0], np.nan), where=seen > 0)
