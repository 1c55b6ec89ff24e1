"""The county's rules of care (诊疗规则): every decision the patient pathway asks for.

The pathway (``sim/pathway.py``) moves patients and time; this module answers what happens:
where an episode first goes, what a consultation costs and who pays, whether the case is
treated here or referred on, how long a stay lasts, whether a patient goes down for
rehabilitation, and the daily and monthly bookkeeping of the fund and of patients'
perceptions.  Where a provider has room to choose (keep a referral, admit, step down, how long
to keep a patient), it asks ``models/incentives.py`` what the choice gains the county medical
community (``models/community.py``).  It assembles the domain models and the levers and holds
no clock.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models import levers
from models.adaptation import Habits, Perceptions
from models.choice import ChoiceModel
from models.communities import CommunityLedger
from models.community import Community
from models.costs import CostModel
from models.demand import DayBatch, DemandModel
from models.episode import DECISION_DRAWS as D
from models.episode import SERVICE_DRAWS, Episode, case_condition, case_key, case_severity
from models.geography import County
from models.incentives import ProviderResponse, departs
from models.levers import county_under_levers, information, medicines, salary, sinking
from models.levers.chronic_centres import ChronicCentres
from models.levers.day_surgery import DaySurgery
from models.levers.family_doctor import PRIMARY, FamilyDoctor, contracted
from models.levers.payment import CASE, FEE_FOR_SERVICE, PER_DIEM, CasePayment
from models.levers.pooling import StaffPool
from models.levers.tcm import Tcm, tcm_probability
from models.loading import county_of
from models.provider_demand import ProviderDemand
from models.referral import TREAT_HERE, ReferralModel, elsewhere_when_full, overflow_hospitals
from models.reimbursement import Reimbursement
from models.seeking import CareSeeking, takes
from models.tiers import COUNTY, OUTSIDE, SEVERITY_LEVELS, TIERS
from models.volumes import price_raise_scale
from sim.core.jit import njit

if TYPE_CHECKING:
    from models.scenario import Scenario

MINUTES_PER_DAY = 1440.0
HOURS_PER_DAY = 24.0
SETTLED_BEFORE = 1e-6  # year-end settlements are dated this long before the year closes
RETURN_VISIT = D.return_visit  # the draw column asked once a resolved consultation


def _none(dtype) -> np.ndarray:
    a = np.zeros(0, dtype=dtype)
    a.setflags(write=False)  # shared by every run
    return a


NO_ARRIVALS = DayBatch(_none(float), _none(np.int64), _none(np.int64), _none(np.int64), _none(bool), _none(np.int64))
NO_FACILITIES = _none(np.int64)


class Care:
    """The domain side of a run: models and levers for one scenario and county."""

    def __init__(self, scenario: Scenario, county: County):
        self.base_county = county
        sim = scenario.simulation
        self.warmup, self.days_per_year = sim.warmup_days, sim.days_per_year
        self.end = sim.warmup_days + sim.years * sim.days_per_year
        # the county medical communities (医共体) as economic actors: one for the county for now
        self.communities = [Community(scenario.payment, county.population)]
        self.community = self.communities[0]
        # what residents carry through the run (and across a plan's changes): habits and perceptions
        self.habits = Habits(scenario.adaptation, county.population)
        self.perceptions: Perceptions | None = None
        self.pool = StaffPool(county, sim.days_per_year)  # township doctors moved by the community (人员统筹)
        self._build(scenario)
        self.ledger = CommunityLedger(self.county)
        self._wait_sum = [0.0] * self.county.n_facilities
        self._wait_n = [0] * self.county.n_facilities
        self.perceived_wait = np.zeros(self.county.n_facilities)
        self._update_choice(sinking.unavailable_today(scenario, self.county, 0))
        self._next_perception = self.days_per_year / 12.0
        self._next_month, self._next_budget_year, self._budget_year, self._year_start = 0.0, self.warmup, 0, 0.0
        if self.warmup > 0:
            self.community.start_year(-1, self.warmup, self.days_per_year)  # warm-up stub, never reported
            self.ledger.start_year(-1)

    def _build(self, scenario: Scenario) -> None:
        """Models and levers for ``scenario``: everything that holds no state of the run."""
        county = county_under_levers(scenario, self.base_county)
        self.pool.settle(scenario, county)
        self.scenario, self.county = scenario, county
        self.demand = DemandModel(scenario, county)
        self.costs = CostModel(scenario, price_raise_scale(scenario, county))
        self.gatekept = gatekept_conditions(scenario)
        self.gatekept_by_condition = self.gatekept.tolist()  # plain bools for the per-visit rules
        self.pay = Reimbursement(scenario.reimbursement, county.population)
        self.referral = ReferralModel(scenario, county)
        self.choice = ChoiceModel(scenario, county, self.costs, self.pay, self.referral, self.gatekept)
        self.seeking = CareSeeking(scenario.care_seeking, scenario.choice, list(scenario.conditions), self.demand.emergency)
        self.adaptation = scenario.adaptation
        self.community.configure(scenario.payment, county.population)
        self.case_payment = CasePayment.build(scenario, self.costs, self.pay)
        self.day_surgery = DaySurgery(scenario)
        self.information = scenario.information
        self.family_doctor = FamilyDoctor(scenario, county)
        self.fee_waived_tiers = frozenset(t for t in range(len(TIERS)) if self.family_doctor.fee_waived(t, True))
        self.response = ProviderResponse(scenario.payment.response, self.costs, self.pay, self.case_payment,
                                         self.community, self.family_doctor.referral_risk_share,
                                         self.family_doctor.capitation > 0)
        self.response_spec = scenario.payment.response
        self.emergency = self.demand.emergency.tolist()
        p = self.demand.admission_prob[:, 0]
        self.mild_admission_odds = np.divide(p, 1 - p, out=np.zeros_like(p), where=p < 1).tolist()
        self.tcm = Tcm(tcm_probability(scenario, county, self.costs), scenario.tcm)
        self.in_stock = medicines.in_stock(scenario, county)
        self.chronic = ChronicCentres(scenario, county)
        self.capitation = self.family_doctor.capitation_by_facility(county)
        self.fac_tier = county.fac_tier.tolist()
        self.is_primary = [t in PRIMARY for t in range(len(TIERS))]
        self.consult_days = [scenario.tier(TIERS[t]).service_minutes * salary.consultation_factor(scenario, TIERS[t])
                             / MINUTES_PER_DAY for t in self.fac_tier]
        # per-case tables, indexed [facility][case] and [village][tier][case]
        n_cases = len(scenario.conditions) * SEVERITY_LEVELS * 2
        self.can = self.referral.can.reshape(county.n_facilities, n_cases).tolist()
        self.overflow = overflow_hospitals(county, self.referral.can.reshape(county.n_facilities, n_cases)).tolist()
        self.full_bed_wait = scenario.referral.full_bed_wait_days
        self.target = self.referral.target.reshape(county.n_villages, len(TIERS), n_cases).tolist()
        self.visit_cost = np.repeat(self.costs.visit.reshape(len(TIERS), -1), 2, axis=1).tolist()
        self.tcm_visit_cost = np.repeat(self.costs.tcm_visit.reshape(len(TIERS), -1), 2, axis=1).tolist()
        self.per_day = np.repeat(self.costs.per_day.reshape(len(TIERS), -1), 2, axis=1).tolist()
        self.los_mean = np.repeat(self.costs.los_mean.reshape(len(TIERS), -1), 2, axis=1).tolist()
        # [village, facility] stays an array: villages × facilities grow with the square of a county
        self.travel_days = county.travel_hours / HOURS_PER_DAY
        self.visit_service = self.costs.visit_service_share.tolist()
        self.stay_service = self.costs.stay_service_share.tolist()
        self.repeat_tests = self.costs.repeat_test_share
        self.smoothing = scenario.choice.wait_smoothing
        self.provider = ProviderDemand(scenario.provider_demand, list(scenario.conditions),
                                       self.family_doctor.coverage, self._followup_intensity(scenario))

    def _followup_intensity(self, scenario: Scenario) -> float:
        """How a capitated family-doctor team changes its chronic follow-ups (慢病随访): the
        fee-for-service fee a follow-up at the team's facility would earn (residents weighted),
        against the expected fund cost of a referral of the follow-up condition to the county."""
        name = scenario.provider_demand.followup_condition
        if not self.response.capitated or name not in scenario.conditions:
            return 1.0
        c = list(scenario.conditions).index(name)
        home = self.family_doctor.home
        villages = np.flatnonzero(home >= 0)
        mild = case_key(c, 0, 0)
        fees = [self.pay.outpatient_fee(self.fac_tier[home[v]], self.visit_cost[self.fac_tier[home[v]]][mild],
                                        False, self.gatekept_by_condition[c]) for v in villages]
        fee = float(np.average(fees, weights=self.county.village_pop[villages])) if len(villages) else 0.0
        severity = np.diff(self.demand.sev_cum[c], prepend=0.0)
        admit = self.demand.admission_prob[c]
        referral = sum(severity[s] * ((1 - admit[s]) * self.response.referral_fund(COUNTY, case_key(c, s, 0), False)
                                      + admit[s] * self.response.referral_fund(COUNTY, case_key(c, s, 1), True))
                       for s in range(SEVERITY_LEVELS))
        return self.response.followup_factor(fee, referral)

    def adopt(self, scenario: Scenario, day: int) -> None:
        """Switch to a plan's next scenario (分年度实施) on ``day``: models and levers are rebuilt;
        perceived waits, annual cap use and the budget year carry over."""
        used = self.pay
        self._build(scenario)
        self.pay.carry_usage(used)
        self._update_choice(sinking.unavailable_today(scenario, self.county, day))

    # ------------------------------------------------------------------ arrival
    def first_contacts(self, b: DayBatch, u_choice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First facility of each of a day's episodes and whether its resident is contracted:
        logit choice with each resident's habit and family-doctor contract, emergencies by rule."""
        is_contracted = self.is_contracted(b)
        options = self.choice.choice_set[b.village]
        extra = self.habits.utility(options, b.resident) if self.habits.enabled else None
        if self.family_doctor.active:
            bonus = self.family_doctor.utility(options, b.village, is_contracted)
            extra = bonus if extra is None else extra + bonus
        if self.choice.deductible_gap is not None:
            due = self.choice.deductible_utility(b.village, b.condition, b.severity, self.pay.deductible_due(b.resident))
            extra = due if extra is None else extra + due
        first = self.choice.draw(b.village, b.condition, b.severity, u_choice, extra)
        em = self.demand.emergency[b.condition]
        if em.any():
            first[em] = self.referral.emergency_first[b.village[em], b.condition[em], b.severity[em],
                                                      b.admit[em].astype(int)]
        if self.habits.enabled:
            self.habits.remember(b.resident, first, ~em)
        return first, is_contracted

    def seeking_options(self, b: DayBatch, u: np.ndarray) -> np.ndarray:
        """Formal care, self-treatment or forgone care for each of a day's illnesses."""
        return self.seeking.options(b.village, b.condition, b.severity, u)

    def followups(self, rng: np.random.Generator, day: int) -> tuple[DayBatch, np.ndarray]:
        """The day's family-doctor follow-ups (慢病随访) and the facility each is held at."""
        if not self.provider.followups_on:  # none, and no draws: skip building empty batches (~10 µs a day)
            return NO_ARRIVALS, NO_FACILITIES
        time, village, resident = self.provider.followups(self.demand, rng, day)
        n = len(time)
        order = np.argsort(time, kind="stable")
        zeros = np.zeros(n, dtype=np.int64)
        batch = DayBatch(time[order], village[order], zeros + self.provider.condition, zeros,
                         np.zeros(n, dtype=bool), resident[order])
        return batch, self.family_doctor.home[batch.village]

    def is_contracted(self, b: DayBatch) -> np.ndarray:
        """Whether each episode's resident is contracted to a family doctor."""
        return contracted(b.resident, self.family_doctor.coverage)

    def centre_followups(self, rng: np.random.Generator, day: int) -> tuple[DayBatch, np.ndarray, DayBatch]:
        """The day's scheduled chronic-centre follow-ups (慢病管理中心): those who come, with their
        centre, and those who miss theirs."""
        if not self.chronic.on:  # none, and no draws: skip building empty batches (~15 µs a day)
            return NO_ARRIVALS, NO_FACILITIES, NO_ARRIVALS
        time, village, resident, attends = self.chronic.day(self.demand, rng, day)
        n = len(time)
        batch = DayBatch(time, village, np.full(n, self.chronic.condition, dtype=np.int64), np.zeros(n, dtype=np.int64),
                         np.zeros(n, dtype=bool), resident)
        came = batch.take(np.flatnonzero(attends))
        return came, self.chronic.centre[came.village], batch.take(np.flatnonzero(~attends))

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
                                                                                       bool, bool]:
        """A consultation after ``wait``: its (cost, fund, out-of-pocket, service revenue, next
        facility or TREAT_HERE, resolved by telemedicine, medicine out of stock).  A chronic
        patient whose medicine the facility lacks (缺药) is sent up the referral chain.  Referred
        patients repeat tests unless results are mutually recognised; capitation waives the fund's
        fee before any cap is charged; a TCM consultation is priced as TCM and reimbursed with the
        TCM bonus; the wait feeds the perceived wait patients weigh when they choose."""
        self._wait_sum[fac] += wait
        self._wait_n[fac] += 1
        tier = self.fac_tier[fac]
        case, cond = ep.case, ep.cond
        referred_in = ep.ups > 0
        base = (self.tcm_visit_cost if tcm else self.visit_cost)[tier][case]
        cost = base * (1.0 + self.repeat_tests) if referred_in else base
        gatekept = self.gatekept_by_condition[cond]
        if ep.contracted and tier in self.fee_waived_tiers:  # capitation already paid: no fee, cap untouched
            fund, oop = 0.0, cost - self.pay.outpatient_fee(tier, cost, referred_in, gatekept)
        else:
            fund = self.pay.outpatient(tier, cost, ep.resident, referred_in, gatekept)
            if tcm and self.tcm.bonus:
                fund = min(cost, fund + self.tcm.bonus * cost)
            oop = cost - fund
        self.spend(ep, cost, fund, oop)
        target, tele, stockout = TREAT_HERE, False, False
        if not self.can[fac][case]:
            target = self.target[ep.village][tier][case]
            if target != TREAT_HERE:
                target, tele = self._keep_here(ep, fac, tier, target)
        elif self.in_stock is not None and medicines.out_of_stock(ep.decision_draw(D.stock + ep.visits - 1),
                                                                  self.in_stock[fac][cond]):
            target = self.target[ep.village][tier][case]
            stockout = target != TREAT_HERE
        elif tier == COUNTY and ep.sev == 0 and not self.emergency[cond]:
            self._marginal_admission(ep, fac)
        self.community.count_visit(tier != OUTSIDE, self.is_primary[tier], target != TREAT_HERE)
        if self.perceptions is not None and ep.visits == 1 and not referred_in:
            self.perceptions.observe(fac, target == TREAT_HERE)
        return cost, fund, oop, base * self.visit_service[tier][cond], target, tele, stockout

    def _departs(self, ep: Episode, column: int, share: float, gain: float, kappa: float) -> bool:
        """A discretionary departure from routine, taken as incentives.py states."""
        return departs(ep.decision_draw(column), share, gain, kappa)

    def asks_back(self, ep: Episode, fac: int) -> float | None:
        """Days until a return visit (复诊) after a resolved outpatient consultation, or None: the
        doctor asks with the tier's probability and the patient comes if the visit's out-of-pocket
        and travel are worth it (models/seeking.py); one return visit per episode."""
        if ep.returned:
            return None
        tier = self.fac_tier[fac]
        u = ep.decision_draw(RETURN_VISIT)
        if not self.provider.asks_back(tier, u):
            return None
        oop = self.return_oop(tier, ep.case, ep.ups > 0, self.gatekept_by_condition[ep.cond])
        hours = float(self.travel_days[ep.village, fac]) * HOURS_PER_DAY
        if not self.seeking.comes_back(tier, oop, hours, u / self.provider.return_prob[tier]):
            return None
        ep.returned = True
        return self.provider.return_days

    def return_oop(self, tier: int, case: int, referred: bool, gatekept: bool) -> float:
        """Out-of-pocket of a return visit (before any annual cap), as the patient weighs it."""
        cost = self.visit_cost[tier][case]
        return cost - self.pay.outpatient_fee(tier, cost, referred, gatekept)

    def accepts_admission(self, ep: Episode, fac: int) -> bool:
        """Whether the patient takes the bed, weighing the stay's expected out-of-pocket."""
        odds = self.admission_odds(self.fac_tier[fac], ep.case, ep.ups > 0)
        return takes(ep.decision_draw(D.admission), odds)

    def admission_odds(self, tier: int, case: int, referred: bool) -> float:
        """``1 + exp(−utility)`` of taking a bed for ``case`` at ``tier`` (0: always taken)."""
        if not self.seeking.enabled:
            return 0.0
        cond, sev = case_condition(case), case_severity(case)
        stay = self.per_day[tier][case] * self.los_mean[tier][case]
        oop = float(self.pay.expected_stay_oop(tier, stay, referred, self.gatekept_by_condition[cond]))
        return self.seeking.admission_odds_factor(cond, sev, oop)

    def _keep_here(self, ep: Episode, fac: int, tier: int, target: int) -> tuple[int, bool]:
        """What turns a would-be referral into care here: telemedicine at primary level
        (outpatient cases, or where there are beds); a county hospital whose community gains by
        keeping the patient in the county; a capitated family-doctor team that gains by managing
        its contracted resident itself."""
        admissible = not ep.admit or self.county.fac_beds[fac] != 0
        if not admissible:
            return target, False
        if information.telemedicine_resolves(self.information, tier, ep.decision_draw(D.telemedicine)):
            return TREAT_HERE, True
        r, share = self.response, self.response_spec.discretionary_referral_share
        if tier == COUNTY and self.fac_tier[target] == OUTSIDE:
            if self._departs(ep, D.keep_in_county, share, r.keep_gain(ep.case, ep.admit), r.kappa):
                return TREAT_HERE, False
        elif r.team_share > 0 and ep.contracted and tier in PRIMARY:
            gain = r.team_gain(self.fac_tier[target], ep.case, ep.admit)
            if self._departs(ep, D.fd_local, share, gain, r.team_kappa):
                return TREAT_HERE, False
        return target, False

    def _marginal_admission(self, ep: Episode, fac: int) -> None:
        """A mild county case at the margin of admission.  Admitted, it is withheld (treated as
        an outpatient) when admitting gains the community less than under fee-for-service; a
        would-be outpatient is admitted (诱导住院) when admitting gains more, at the rate that
        matches up to ``discretionary_admission_share`` of the mild admissions (odds p/(1−p))."""
        share, kappa = self.response_spec.discretionary_admission_share, self.response.kappa
        if ep.admit:
            if self._departs(ep, D.withhold, share, -self.response.admit_gain(ep.case), kappa):
                ep.admit = 0
            return
        admitted = ep.case | 1
        odds = self.mild_admission_odds[ep.cond]
        if odds > 0 and self.can[fac][admitted] and self.county.fac_beds[fac] != 0 \
                and self._departs(ep, D.withhold, share * odds, self.response.admit_gain(admitted), kappa):
            ep.admit, ep.case = 1, admitted

    def referred_up(self, ep: Episode, fac: int) -> None:
        """A referral leaves ``fac``: from primary care, a contracted resident's is a
        family-doctor referral (家庭医生转诊) with access to reserved county slots."""
        ep.ups += 1
        if self.family_doctor.refers(self.fac_tier[fac], ep.contracted):
            ep.fd = True

    # ------------------------------------------------------------------ admission and stays
    def downshift(self, ep: Episode, fac: int) -> int:
        """Township centre a same-payment (同病同付) county admission is sent to when the community
        gains by it, or TREAT_HERE."""
        if self.case_payment.may_send_down(self.fac_tier[fac], ep.cond) and self._departs(
                ep, D.same_payment, self.case_payment.eligible_share, self.response.downshift_gain(ep.case),
                self.response.kappa):
            rf = self.referral.rehab_facility(self.county, ep.village)
            if rf != TREAT_HERE and self.can[rf][ep.case]:
                return rf
        return TREAT_HERE

    def elsewhere_when_full(self, ep: Episode, fac: int, wait: float) -> int:
        """Hospital an admission goes to because ``fac``'s bed wait would be ``wait`` days, longer
        than ``referral.full_bed_wait_days`` (床位已满), or TREAT_HERE: the next capable county
        hospital with beds, else outside the county, where the transfer is a referral up."""
        nxt = self.overflow[fac][ep.case]
        if not elsewhere_when_full(nxt, wait, self.full_bed_wait):
            return TREAT_HERE
        if self.fac_tier[nxt] == OUTSIDE:
            ep.ups += 1
        ep.sent_on = True
        return nxt

    def acute_stay(self, ep: Episode, fac: int) -> tuple[float, float, float | None, int]:
        """(length of stay, charges, fixed fund payment or None, how the fund pays): a day case,
        or a lognormal stay whose discretionary part follows the payment in force; part of a
        county stay may move to the township centre (early step-down, 早期下转).  A DIP case
        claims its points."""
        tier = self.fac_tier[fac]
        if self.day_surgery.day_case(tier, ep.cond, ep.decision_draw(D.day_surgery)):
            los = self.day_surgery.los
        else:
            los = self.costs.length_of_stay(self.los_mean[tier][ep.case] * self.response.los_factor(tier, ep.case),
                                            ep.service_draw(SERVICE_DRAWS.stay))
            if self._steps_down(ep, tier):
                ep.step_down = los * self.response_spec.step_down_share
                los -= ep.step_down
        fee = self.response.case_fee(tier, ep.case)
        if fee is not None and self.response.is_dip(tier, ep.case):
            fee = self.community.claim_points(fac, self.response.points[ep.case])
        return los, self.per_day[tier][ep.case] * los, fee, FEE_FOR_SERVICE if fee is None else CASE

    def _steps_down(self, ep: Episode, tier: int) -> bool:
        """A county inpatient not due for routine rehabilitation, stepped down early when the
        community gains by it."""
        if tier != COUNTY or self._routine_down(ep, tier) \
                or self.referral.rehab_facility(self.county, ep.village) == TREAT_HERE:
            return False
        return self._departs(ep, D.step_down, self.response_spec.step_down_eligible_share,
                             self.response.step_down_gain(ep.case), self.response.kappa)

    def _routine_down(self, ep: Episode, tier: int) -> bool:
        return self.referral.refer_down(tier, ep.cond, ep.decision_draw(D.down))

    def rehab_after(self, ep: Episode, tier: int) -> int:
        """Township centre a stable inpatient is referred down to (下转), or TREAT_HERE."""
        if ep.step_down > 0 or self._routine_down(ep, tier):
            return self.referral.rehab_facility(self.county, ep.village)
        return TREAT_HERE

    def rehab_stay(self, ep: Episode) -> tuple[float, float, float | None, int]:
        """A township stay after a county one: the days stepped down, or a rehabilitation stay
        whose discretionary part follows the payment; paid per diem (按床日) when it is on."""
        if ep.step_down > 0:
            los = ep.step_down
        else:
            los = self.costs.length_of_stay(self.costs.rehab_days * self.response.rehab_los_factor(),
                                            ep.service_draw(SERVICE_DRAWS.rehab))
        per_diem = self.case_payment.per_diem
        fee = None if per_diem is None else per_diem * los
        return los, self.costs.rehab_per_day * los, fee, FEE_FOR_SERVICE if fee is None else PER_DIEM

    def stay_bill(self, ep: Episode, tier: int, cost: float, referred: bool,
                  case_fee: float | None) -> tuple[float, float, float]:
        """(fund, out-of-pocket, service revenue) of a stay; the deductible carries over the episode."""
        fund, oop, ded = self.pay.inpatient(tier, cost, ep.resident, referred, ep.ded_paid, case_fee,
                                            self.gatekept_by_condition[ep.cond])
        ep.ded_paid += ded
        self.spend(ep, cost, fund, oop)
        ep.stays += 1
        return fund, oop, cost * self.stay_service[tier][ep.cond]

    def spend(self, ep: Episode, cost: float, fund: float, oop: float) -> None:
        ep.cost += cost
        ep.fund += fund
        ep.oop += oop
        self.community.spend(fund)
        self.ledger.resident_spend(ep.village, fund)

    # ------------------------------------------------------------------ days, months, years
    def start_of_day(self, now: float) -> list[tuple[int, float, float]]:
        """Budget years start when the warm-up ends (the last one is settled first); capitation
        is paid monthly.  Returns the lump sums paid as (facility, time, CNY)."""
        dpy = self.days_per_year
        paid = []
        if now >= self._next_budget_year - 1e-9:
            paid += self._close_year(now)
            self.community.start_year(self._budget_year, min(dpy, self.end - now), dpy)
            self.ledger.start_year(self._budget_year)
            self._budget_year, self._year_start = self._budget_year + 1, now
            self._next_budget_year += dpy
        if now >= self._next_month - 1e-9:
            share = (dpy / 12.0) / dpy
            for f in np.flatnonzero(self.capitation):
                amount = float(self.capitation[f] * share)
                paid.append((int(f), now, amount))
                self.community.spend(amount)
                self.ledger.facility_spend(int(f), amount)
            self._next_month += dpy / 12.0
        return paid

    def _close_year(self, now: float) -> list[tuple[int, float, float]]:
        """Settle the budget year ending at ``now``: DIP settlements, dated in that year."""
        return [(fac, now - SETTLED_BEFORE, amount) for fac, amount in self.community.close_year()]

    def finish(self, end: float) -> list[tuple[int, float, float]]:
        """The run ends: the last budget year is settled."""
        return self._close_year(end)

    def pool_staff(self, day: int) -> bool:
        """On a month's first day, the community's pooled township doctors move (人员统筹); True
        when they did (the county is rebuilt with the moves, as for a plan's change)."""
        if not self.pool.month_end(day, self.county, self.consult_days):
            return False
        self.adopt(self.scenario, day)
        return True

    def community_table(self) -> list[dict]:
        return self.community.table()

    def end_of_day(self, day: int, now: float) -> None:
        """Perceived waits (smoothed daily) and touring mobile clinics update choice; annual caps
        restart each insurance year; the community's stake follows its projected balance."""
        if self.pool.active:
            self.pool.count(np.array(self._wait_n, dtype=float))
        closed = sinking.unavailable_today(self.scenario, self.county, day)
        perceived, seen = _smoothed_waits(self.perceived_wait, np.asarray(self._wait_sum, dtype=np.float64),
                                          np.asarray(self._wait_n, dtype=np.int64), self.smoothing)
        if seen or len(closed):
            self.perceived_wait = perceived
            if self.perceptions is not None and now >= self._next_perception - 1e-9:
                self.perceptions.month_end()
                self._next_perception += self.days_per_year / 12.0
            self._update_choice(closed)
            self._wait_sum[:] = [0.0] * len(self._wait_sum)  # in place: the compiled steps share them
            self._wait_n[:] = [0] * len(self._wait_n)
        if day % self.days_per_year == 0:
            self.pay.new_year()
        self.community.update(now - self._year_start)

    def _update_choice(self, closed: np.ndarray) -> None:
        """Facility choice, then care-seeking, from today's perceived waits and reputations."""
        perceived = self.perceptions.utility(self.scenario.choice.beta_quality) if self.perceptions else None
        self.choice.update(self.perceived_wait, closed, perceived)
        self.seeking.update(self.choice.inclusive_value)

    # ------------------------------------------------------------------ where residents start
    def settle(self, rng: np.random.Generator) -> None:
        """Habits and perceptions residents bring into the run: formed under
        ``adaptation.starts_from`` (e.g. the baseline), or under this scenario itself."""
        if not self.adaptation.enabled:
            return
        start = self.scenario._start
        if start is None:
            choice, referral, to_here = self.choice, self.referral, np.arange(self.county.n_facilities)
            boost0 = levers.quality_boost(self.scenario, self.county)
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
            boost0[to_here[known]] = levers.quality_boost(start, county)[known]
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
                                       levers.quality_boost(self.scenario, self.county))
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


@njit(cache=True)
def _smoothed_waits(perceived, wait_sum, wait_n, alpha):
    """Perceived waits (hours) smoothed with today's mean wait at each facility that saw
    patients today, ``(1 − alpha) · perceived + alpha · today``, and whether any did; the
    operations of the numpy expressions, in one pass."""
    out = perceived.copy()
    seen = False
    for f in range(len(out)):
        if wait_n[f] > 0:
            today = wait_sum[f] / np.float64(wait_n[f]) * HOURS_PER_DAY
            out[f] = (1 - alpha) * perceived[f] + alpha * today
            seen = True
    return out, seen
