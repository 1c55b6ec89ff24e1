"""The SimPy layer: moves patients and time, asks the models for every decision.

An episode is: arrival at first contact (family doctor, logit choice, or rule for
emergencies) → wait for a doctor → consultation → treated here (outpatient, or wait for a
bed and stay) or referred up (travel, next visit) → after a county/outside stay possibly
referred down for rehabilitation at the township centre → costs, fund payment and
out-of-pocket recorded.  Every decision comes from a model in ``models/``; this module only
keeps the clock, the queues and the records.
"""
from __future__ import annotations

import math

import numpy as np
import simpy
from scipy.special import ndtri
from simpy.events import Timeout

from sim.config import SEVERITY_LEVELS, TIERS, Scenario, TierSpec
from sim.monitor import BALKED, COMPLETED, EventLog, Monitor
from sim.station import Station
from sim.streams import (BUDGET, DAY_SURGERY, DOWN, FAMILY_DOCTOR, MAX_VISITS, REFERRAL_DRAWS, REHAB_DRAW,
                         SAME_PAYMENT, SERVICE_DRAWS, STAY_DRAW, TCM_DRAW, TELEMEDICINE, Streams)
from models import capacity, information, sinking
from models.choice import ChoiceModel
from models.costs import CostModel
from models.day_surgery import DaySurgery
from models.demand import DemandModel
from models.family_doctor import FamilyDoctor, contracted
from models.geography import County
from models.payment import CasePayment, GlobalBudget
from models.referral import TREAT_HERE, ReferralModel
from models.reimbursement import Reimbursement

MINUTES_PER_DAY = 1440.0
HOURS_PER_DAY = 24.0
TIER_COUNT = len(TIERS)
VILLAGE, TOWNSHIP, COUNTY, OUTSIDE = range(TIER_COUNT)
NOT_DOWN, REHAB, DOWNSHIFT = 0, 1, 2


class Episode:
    """One illness episode.  Its uniform draws stay in the day's arrays (row ``row``) and are read
    only when a step needs them."""

    __slots__ = ("time", "village", "cond", "sev", "admit", "resident", "first", "u_svc", "u_ref", "row",
                 "contracted", "visits", "ups", "downs", "stays", "cost", "fund", "oop", "fd", "ded_paid")

    def __init__(self, time, village, cond, sev, admit, resident, first, u_svc, u_ref, row, is_contracted):
        self.time, self.village, self.cond, self.sev, self.admit = time, village, cond, sev, int(admit)
        self.resident, self.first, self.u_svc, self.u_ref, self.row = resident, first, u_svc, u_ref, row
        self.contracted = is_contracted
        self.visits = self.ups = self.downs = self.stays = 0
        self.cost = self.fund = self.oop = self.ded_paid = 0.0
        self.fd = False


def service_sampler(distribution: str, cv: float):
    """Map (mean, uniform) → service time, for numpy arrays or scalars alike; inverse-CDF so
    each episode keeps its own draw whatever else changes."""
    if distribution == "exponential":
        return lambda mean, u: -mean * np.log1p(-u)
    if distribution == "deterministic":
        return lambda mean, u: mean + 0.0 * u
    sigma = math.sqrt(math.log1p(cv * cv))
    return lambda mean, u: mean * np.exp(sigma * ndtri(np.clip(u, 1e-12, 1 - 1e-12)) - 0.5 * sigma * sigma)


class Clock(simpy.Environment):
    """A SimPy environment that can move straight to the next arrival when nothing else is due
    before it: the same order of events as a Timeout, without scheduling one."""

    def fast_forward(self, t: float) -> bool:
        if self._queue and self._queue[0][0] <= t:
            return False
        self._now = t
        return True


def policy_county(scenario: Scenario, county: County) -> County:
    """The county as the levers leave it (capacity changes, stationed doctors, mobile clinics)."""
    county = county.copy()
    capacity.adjust_county(scenario, county)
    sinking.adjust_county(scenario, county)
    return county


class CountyModel:
    def __init__(self, scenario: Scenario, county: County, streams: Streams):
        county = policy_county(scenario, county)
        self.scenario, self.county, self.streams = scenario, county, streams
        sim = scenario.simulation
        self.env = Clock()
        self.warmup = sim.warmup_days
        self.end = sim.warmup_days + sim.years * sim.days_per_year
        self.days_per_year = sim.days_per_year
        self.demand = DemandModel(scenario, county)
        self.costs = CostModel(scenario)
        self.pay = Reimbursement(scenario.reimbursement, county.population)
        self.referral = ReferralModel(scenario, county)
        self.choice = ChoiceModel(scenario, county, self.costs, self.pay, self.referral)
        self.budget = GlobalBudget(scenario, county.population)
        self.case_payment = CasePayment.build(scenario, self.costs, self.pay)
        self.day_surgery = DaySurgery(scenario)
        self.information = scenario.information
        self.monitor = Monitor(county.n_facilities)
        self.family_doctor = FamilyDoctor(scenario, county)
        reserved = self.family_doctor.reserved_servers
        track = scenario.service.balk_queue_length is not None or sim.sample_interval_days > 0
        self.doctors = [Station(None if d < 0 else int(d), reserved(d, t), track)
                        for d, t in zip(county.fac_doctors, county.fac_tier)]
        self.beds = [Station(None if b < 0 else int(b), reserved(b, t), track)
                     for b, t in zip(county.fac_beds, county.fac_tier)]
        tiers = [scenario.tiers.get(t, TierSpec()) for t in TIERS]
        self.fac_tier = county.fac_tier.tolist()
        self.svc_mean = [tiers[t].service_minutes / MINUTES_PER_DAY for t in self.fac_tier]
        self.service_times = service_sampler(scenario.service.distribution, scenario.service.cv)
        self.balk = scenario.service.balk_queue_length
        self.sample_dt = sim.sample_interval_days
        self.smoothing = scenario.choice.wait_smoothing
        self.tcm_share = [scenario.tcm.share.get(t, 0.0) for t in TIERS]
        self.capitation = self.family_doctor.capitation_by_facility(county)
        # flattened lookup tables for the hot path
        C, S = len(scenario.conditions), SEVERITY_LEVELS
        self._C, self._S = C, S
        self.can = self.referral.can.reshape(-1).tolist()  # index ((f*C + c)*S + s)*2 + a
        self.target = self.referral.target.reshape(-1).tolist()  # ((((v*T + t)*C + c)*S + s)*2 + a)
        self.travel_days = (county.travel_hours / HOURS_PER_DAY).tolist()
        self.visit_cost = self.costs.visit.tolist()
        self.visit_service = self.costs.visit_service_share.tolist()
        self.stay_service = self.costs.stay_service_share.tolist()
        self.per_day = self.costs.per_day.tolist()
        self.los_mean = self.costs.los_mean.tolist()
        self.repeat_tests = self.costs.repeat_test_share
        self._wait_sum = [0.0] * county.n_facilities
        self._wait_n = [0] * county.n_facilities
        self.perceived_wait = np.zeros(county.n_facilities)
        self.choice.update(self.perceived_wait, sinking.unavailable_today(scenario, county, 0))

    # ------------------------------------------------------------------ processes
    def run(self, event_log: str | None = None) -> Monitor:
        """Run to the end; with ``event_log`` (a folder) stream every visit, stay and episode to
        Parquet in chunks as the run goes."""
        self.log = EventLog(event_log, self.monitor) if event_log else None
        self.env.process(self._arrivals())
        self.env.process(self._daily())
        if self.sample_dt > 0:
            self.env.process(self._sampler())
        self.env.run(until=self.end)
        if self.log:
            self.log.flush(final=True)
        self.monitor.budget = self.budget.table()
        return self.monitor

    def _arrivals(self):
        """One day of arrivals at a time: decisions known at arrival (first contact, first
        consultation time, TCM attribute) are drawn for the whole day with numpy."""
        env, s, ref, mon, fd = self.env, self.streams, self.referral, self.monitor, self.family_doctor
        emergency = self.demand.emergency
        visit, end = self._visit, self.end
        svc_mean, tcm_share, fac_tier = np.array(self.svc_mean), np.array(self.tcm_share), self.county.fac_tier
        for day in range(int(math.ceil(self.end))):
            b = self.demand.day_batch(s.arrivals, day)
            n = len(b)
            u_choice = s.choice.random(n)
            u_svc = s.service.random((n, SERVICE_DRAWS))
            u_ref = s.referral.random((n, REFERRAL_DRAWS))
            first = self.choice.draw(b.village, b.condition, b.severity, u_choice)
            em = emergency[b.condition]
            if em.any():
                first[em] = ref.emergency_first[b.village[em], b.condition[em], b.severity[em], b.admit[em].astype(int)]
            is_contracted = contracted(b.resident, fd.coverage)
            if fd.active:
                first = fd.first_contact(b.village, is_contracted, em, u_ref[:, FAMILY_DOCTOR], first)
            svc0 = self.service_times(svc_mean[first], u_svc[:, 0])
            tcm0 = u_svc[:, TCM_DRAW] < tcm_share[fac_tier[first]]
            rows = zip(b.time.tolist(), b.village.tolist(), b.condition.tolist(), b.severity.tolist(),
                       b.admit.tolist(), b.resident.tolist(), first.tolist(), is_contracted.tolist(),
                       svc0.tolist(), tcm0.tolist(), range(n))
            for t, v, c, sv, a, r, f, k, svc, tcm, j in rows:
                if t >= end:
                    return
                if t > env.now and not env.fast_forward(t):
                    yield Timeout(env, t - env.now)
                mon.arrival_times(t)
                visit(Episode(t, v, c, sv, a, r, f, u_svc, u_ref, j, k), f, svc, tcm)

    def _daily(self):
        """Once a day: perceived waits and mobile-clinic tours (for choice); monthly capitation;
        annual caps restart every insurance year; budget years start when the warm-up ends."""
        env, alpha, dpy = self.env, self.smoothing, self.days_per_year
        month = dpy / 12.0
        next_month, next_budget_year, budget_year, year_start = 0.0, self.warmup, 0, 0.0
        if self.warmup > 0:
            self.budget.start_year(-1, self.warmup, dpy)  # warm-up stub, never reported
        day = 0
        while True:
            now = env.now
            if now >= next_budget_year - 1e-9:
                self.budget.start_year(budget_year, min(dpy, self.end - now), dpy)
                budget_year, year_start, next_budget_year = budget_year + 1, now, next_budget_year + dpy
            if self.capitation.any() and now >= next_month - 1e-9:
                self._pay_capitation(month / dpy)
                next_month += month
            yield Timeout(env, 1.0)
            day += 1
            n = np.array(self._wait_n, dtype=float)
            closed = sinking.unavailable_today(self.scenario, self.county, day)
            if n.any() or len(closed):
                today = np.divide(np.array(self._wait_sum), n, out=np.zeros_like(n), where=n > 0) * HOURS_PER_DAY
                self.perceived_wait = np.where(n > 0, (1 - alpha) * self.perceived_wait + alpha * today,
                                               self.perceived_wait)
                self.choice.update(self.perceived_wait, closed)
                self._wait_sum = [0.0] * len(self._wait_sum)
                self._wait_n = [0] * len(self._wait_n)
            if day % dpy == 0:
                self.pay.new_year()
            if self.log:
                self.log.flush()
            self.budget.update(env.now - year_start)

    def _pay_capitation(self, share: float) -> None:
        now = self.env.now
        cols = self.monitor.transfers.appenders
        for f in np.flatnonzero(self.capitation):
            amount = float(self.capitation[f] * share)
            cols[0](int(f)); cols[1](now); cols[2](amount)
            self.budget.spend(amount)

    def _sampler(self):
        """Time-average number in system per station (for Little's law checks)."""
        env, mon = self.env, self.monitor
        while True:
            yield Timeout(env, self.sample_dt)
            now = env.now
            if now < self.warmup:
                continue
            mon.samples += 1
            mon.in_system_doctors += [st.in_system(now) for st in self.doctors]
            mon.in_system_beds += [st.in_system(now) for st in self.beds]

    def _later(self, delay: float, fn, ep: Episode, fac: int) -> None:
        Timeout(self.env, delay).callbacks.append(lambda _ev: fn(ep, fac))

    def _next_visit(self, ep: Episode, fac: int) -> None:
        """A later consultation (after a referral): its draws come from the episode's row."""
        k = ep.visits
        u = ep.u_svc[ep.row]
        svc = float(self.service_times(self.svc_mean[fac], u[k]))
        self._visit(ep, fac, svc, bool(u[TCM_DRAW + k] < self.tcm_share[self.fac_tier[fac]]))

    # ------------------------------------------------------------------ episode steps
    def _visit(self, ep: Episode, fac: int, svc: float, tcm: bool) -> None:
        now = self.env.now
        station = self.doctors[fac]
        if self.balk is not None and station.would_wait(now, ep.fd) and station.queue_length(now) >= self.balk:
            self._finish(ep, fac, now, BALKED)
            return
        if ep.visits < MAX_VISITS - 1:
            ep.visits += 1
        wait = station.serve(now, svc, ep.fd)
        self._wait_sum[fac] += wait
        self._wait_n[fac] += 1
        tier = self.fac_tier[fac]
        c, s, a = ep.cond, ep.sev, ep.admit
        referred_in = ep.ups > 0
        base = self.visit_cost[tier][c][s]
        cost = base * (1.0 + self.repeat_tests) if referred_in else base
        fund = self.pay.outpatient(tier, cost, ep.resident, referred_in)
        oop = cost - fund
        if self.family_doctor.fee_waived(tier, ep.contracted):
            fund = 0.0
        self._spend(ep, cost, fund, oop)
        done = wait + svc
        target = TREAT_HERE
        tele = False
        if not self.can[((fac * self._C + c) * self._S + s) * 2 + a]:
            target = self.target[((((ep.village * TIER_COUNT + tier) * self._C + c) * self._S + s) * 2) + a]
            if target != TREAT_HERE:
                target, tele = self._keep_here(ep, fac, tier, target)
        vis = self.monitor.visits.appenders
        vis[0](fac); vis[1](ep.village); vis[2](now); vis[3](wait); vis[4](svc); vis[5](cost); vis[6](fund)
        vis[7](oop); vis[8](base * self.visit_service[tier]); vis[9](target != TREAT_HERE); vis[10](referred_in)
        vis[11](ep.fd); vis[12](tcm); vis[13](tele)
        if target != TREAT_HERE:
            ep.ups += 1
            if tier <= TOWNSHIP and ep.contracted:
                ep.fd = True
            self._later(done + self.travel_days[ep.village][target], self._next_visit, ep, target)
        elif a:
            self._later(done, self._admit, ep, fac)
        else:
            self._finish(ep, fac, now + done, COMPLETED)

    def _keep_here(self, ep: Episode, fac: int, tier: int, target: int) -> tuple[int, bool]:
        """Levers that turn a would-be referral into care here: telemedicine at primary level
        (outpatient cases, or where there are beds) and a county under budget pressure."""
        admissible = not ep.admit or self.county.fac_beds[fac] != 0
        if admissible and information.telemedicine_resolves(self.information, tier, ep.u_ref[ep.row, TELEMEDICINE]):
            return TREAT_HERE, True
        if tier == COUNTY and self.fac_tier[target] == OUTSIDE and admissible \
                and self.budget.keeps_in_county(ep.u_ref[ep.row, BUDGET]):
            return TREAT_HERE, False
        return target, False

    def _admit(self, ep: Episode, fac: int) -> None:
        tier = self.fac_tier[fac]
        c, s = ep.cond, ep.sev
        if self.case_payment.sends_down(tier, c, ep.u_ref[ep.row, SAME_PAYMENT]):
            rf = self.referral.rehab_facility(self.county, ep.village)
            if rf != TREAT_HERE and self.can[((rf * self._C + c) * self._S + s) * 2 + 1]:
                ep.downs += 1
                self._later(self.travel_days[ep.village][rf], self._admit_down, ep, rf)
                return
        self._acute_stay(ep, fac, tier, NOT_DOWN)

    def _admit_down(self, ep: Episode, fac: int) -> None:
        self._acute_stay(ep, fac, self.fac_tier[fac], DOWNSHIFT)

    def _acute_stay(self, ep: Episode, fac: int, tier: int, down: int) -> None:
        c, s = ep.cond, ep.sev
        if self.day_surgery.day_case(tier, c, ep.u_ref[ep.row, DAY_SURGERY]):
            los = self.day_surgery.los
        else:
            los = self.costs.length_of_stay(self.los_mean[tier][c][s] * self.case_payment.los_factor[tier],
                                            ep.u_svc[ep.row, STAY_DRAW])
        end = self._stay(ep, fac, tier, los, self.per_day[tier][c][s] * los, down,
                         self.case_payment.case[tier][c][s])
        p_down = self.budget.down_prob(self.referral.down_prob[c])
        if self.referral.refer_down(tier, c, ep.u_ref[ep.row, DOWN], p_down):
            rf = self.referral.rehab_facility(self.county, ep.village)
            if rf != TREAT_HERE:
                ep.downs += 1
                self._later(end - self.env.now, self._rehab, ep, rf)
                return
        self._finish(ep, fac, end, COMPLETED)

    def _rehab(self, ep: Episode, fac: int) -> None:
        los = self.costs.length_of_stay(self.costs.rehab_days, ep.u_svc[ep.row, REHAB_DRAW])
        end = self._stay(ep, fac, self.fac_tier[fac], los, self.costs.rehab_per_day * los, REHAB, None)
        self._finish(ep, fac, end, COMPLETED)

    def _stay(self, ep: Episode, fac: int, tier: int, los: float, cost: float, down: int,
              case_payment: float | None) -> float:
        now = self.env.now
        wait = self.beds[fac].serve(now, los, ep.fd)
        referred = ep.ups > 0 or down != NOT_DOWN
        fund, oop, ded = self.pay.inpatient(tier, cost, ep.resident, referred, ep.ded_paid, case_payment)
        ep.ded_paid += ded
        self._spend(ep, cost, fund, oop)
        ep.stays += 1
        values = (fac, now, wait, los, cost, fund, oop, cost * self.stay_service[tier], down, referred,
                  ep.contracted, ep.fd)
        for col, value in zip(self.monitor.stays.appenders, values):
            col(value)
        return now + wait + los

    def _spend(self, ep: Episode, cost: float, fund: float, oop: float) -> None:
        ep.cost += cost
        ep.fund += fund
        ep.oop += oop
        if self.budget.enabled:
            self.budget.spend(fund)

    def _finish(self, ep: Episode, fac: int, when: float, status: int) -> None:
        col = self.monitor.episodes.appenders
        col[0](ep.time); col[1](ep.village); col[2](ep.cond); col[3](ep.sev); col[4](ep.first); col[5](fac)
        col[6](ep.ups); col[7](ep.downs); col[8](ep.stays); col[9](ep.cost); col[10](ep.fund); col[11](ep.oop)
        col[12](ep.contracted); col[13](when); col[14](status)
