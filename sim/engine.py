"""The SimPy layer: moves patients and time, asks the models for every decision.

An episode is: arrival at first contact (logit choice, or rule for emergencies) → wait for a
doctor → consultation → treated here (outpatient, or wait for a bed and stay) or referred up
(travel, next visit) → after a county/outside stay possibly referred down for rehabilitation
at the township centre → costs, fund payment and out-of-pocket recorded.
"""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import simpy
from simpy.events import Timeout

from sim.config import SEVERITY_LEVELS, TIERS, Scenario, TierSpec
from sim.monitor import BALKED, COMPLETED, Monitor
from sim.station import Station
from sim.streams import REFERRAL_DRAWS, SERVICE_DRAWS, Streams
from models.choice import ChoiceModel
from models.costs import CostModel
from models.demand import DemandModel
from models.geography import County
from models.referral import TREAT_HERE, ReferralModel
from models.reimbursement import Reimbursement

MINUTES_PER_DAY = 1440.0
HOURS_PER_DAY = 24.0
MAX_VISITS = SERVICE_DRAWS - 2


class Episode:
    __slots__ = ("time", "village", "cond", "sev", "admit", "resident", "first", "u_svc", "u_ref",
                 "visits", "ups", "downs", "stays", "cost", "fund")

    def __init__(self, time, village, cond, sev, admit, resident, first, u_svc, u_ref):
        self.time, self.village, self.cond, self.sev, self.admit = time, village, cond, sev, admit
        self.resident, self.first, self.u_svc, self.u_ref = resident, first, u_svc, u_ref
        self.visits = self.ups = self.downs = self.stays = 0
        self.cost = self.fund = 0.0


def service_sampler(distribution: str, cv: float):
    """Map (mean, uniform) → service time; inverse-CDF so each episode keeps its own draw."""
    if distribution == "exponential":
        return lambda mean, u: -mean * math.log1p(-u)
    if distribution == "deterministic":
        return lambda mean, u: mean
    sigma = math.sqrt(math.log1p(cv * cv))
    inv = NormalDist().inv_cdf
    return lambda mean, u: mean * math.exp(sigma * inv(min(max(u, 1e-12), 1 - 1e-12)) - 0.5 * sigma * sigma)


class CountyModel:
    def __init__(self, scenario: Scenario, county: County, streams: Streams):
        self.scenario, self.county, self.streams = scenario, county, streams
        sim = scenario.simulation
        self.env = simpy.Environment()
        self.warmup = sim.warmup_days
        self.end = sim.warmup_days + sim.years * sim.days_per_year
        self.days_per_year = sim.days_per_year
        self.demand = DemandModel(scenario, county)
        self.costs = CostModel(scenario)
        self.pay = Reimbursement(scenario.reimbursement, county.population)
        self.referral = ReferralModel(scenario, county)
        self.choice = ChoiceModel(scenario, county, self.costs, self.pay, self.referral)
        self.monitor = Monitor(county.n_facilities)
        self.doctors = [Station(None if d < 0 else int(d)) for d in county.fac_doctors]
        self.beds = [Station(None if b < 0 else int(b)) for b in county.fac_beds]
        tiers = [scenario.tiers.get(t, TierSpec()) for t in TIERS]
        self.fac_tier = county.fac_tier.tolist()
        self.svc_mean = [tiers[t].service_minutes / MINUTES_PER_DAY for t in self.fac_tier]
        self.service_time = service_sampler(scenario.service.distribution, scenario.service.cv)
        self.balk = scenario.service.balk_queue_length
        self.sample_dt = sim.sample_interval_days
        self.smoothing = scenario.choice.wait_smoothing
        # flattened lookup tables for the hot path
        C, S = len(scenario.conditions), SEVERITY_LEVELS
        self._C, self._S = C, S
        self.can = self.referral.can.reshape(-1).tolist()  # index ((f*C + c)*S + s)*2 + a
        self.target = self.referral.target.reshape(-1).tolist()  # ((((v*T + t)*C + c)*S + s)*2 + a)
        self.travel_days = (county.travel_hours / HOURS_PER_DAY).tolist()
        self.visit_cost = self.costs.visit.tolist()
        self.per_day = self.costs.per_day.tolist()
        self.los_mean = self.costs.los_mean.tolist()
        self._wait_sum = [0.0] * county.n_facilities
        self._wait_n = [0] * county.n_facilities
        self.perceived_wait = np.zeros(county.n_facilities)

    # ------------------------------------------------------------------ processes
    def run(self) -> Monitor:
        self.env.process(self._arrivals())
        self.env.process(self._daily())
        if self.sample_dt > 0:
            self.env.process(self._sampler())
        self.env.run(until=self.end)
        return self.monitor

    def _arrivals(self):
        env, s, ref, mon = self.env, self.streams, self.referral, self.monitor
        emergency = self.demand.emergency
        visit, end, warmup = self._visit, self.end, self.warmup
        for day in range(int(math.ceil(self.end))):
            b = self.demand.day_batch(s.arrivals, day)
            n = len(b)
            u_choice = s.choice.random(n)
            u_svc = s.service.random((n, SERVICE_DRAWS)).tolist()
            u_ref = s.referral.random((n, REFERRAL_DRAWS)).tolist()
            first = self.choice.draw(b.village, b.condition, b.severity, u_choice)
            em = emergency[b.condition]
            if em.any():
                first[em] = ref.emergency_first[b.village[em], b.condition[em], b.severity[em], b.admit[em].astype(int)]
            rows = zip(b.time.tolist(), b.village.tolist(), b.condition.tolist(), b.severity.tolist(),
                       b.admit.tolist(), b.resident.tolist(), first.tolist(), u_svc, u_ref)
            for t, v, c, sv, a, r, f, us, ur in rows:
                if t >= end:
                    return
                if t > env.now:
                    yield Timeout(env, t - env.now)
                mon.arrived += 1
                if t >= warmup:
                    mon.arrived_in_window += 1
                visit(Episode(t, v, c, sv, int(a), r, f, us, ur), f)

    def _daily(self):
        """Once a day: update perceived waits (for choice); restart annual caps each year."""
        env, alpha = self.env, self.smoothing
        day = 0
        while True:
            yield Timeout(env, 1.0)
            day += 1
            n = np.array(self._wait_n, dtype=float)
            if n.any():
                today = np.divide(np.array(self._wait_sum), n, out=np.zeros_like(n), where=n > 0) * HOURS_PER_DAY
                self.perceived_wait = np.where(n > 0, (1 - alpha) * self.perceived_wait + alpha * today,
                                               self.perceived_wait)
                self.choice.update(self.perceived_wait)
                self._wait_sum = [0.0] * len(self._wait_sum)
                self._wait_n = [0] * len(self._wait_n)
            if day % self.days_per_year == 0:
                self.pay.new_year()

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

    # ------------------------------------------------------------------ episode steps
    def _visit(self, ep: Episode, fac: int) -> None:
        now = self.env.now
        station = self.doctors[fac]
        if self.balk is not None and station.capacity is not None and station.queue_length(now) >= self.balk:
            self._finish(ep, fac, now, BALKED)
            return
        svc = self.service_time(self.svc_mean[fac], ep.u_svc[ep.visits])
        if ep.visits < MAX_VISITS - 1:
            ep.visits += 1
        wait = station.serve(now, svc)
        self._wait_sum[fac] += wait
        self._wait_n[fac] += 1
        tier = self.fac_tier[fac]
        c, s, a = ep.cond, ep.sev, ep.admit
        cost = self.visit_cost[tier][c][s]
        fund = self.pay.outpatient(tier, cost, ep.resident, ep.ups > 0)
        ep.cost += cost
        ep.fund += fund
        done = wait + svc
        C, S = self._C, self._S
        target = TREAT_HERE
        if not self.can[((fac * C + c) * S + s) * 2 + a]:
            target = self.target[((((ep.village * 4 + tier) * C + c) * S + s) * 2) + a]
        self.monitor.visits.appenders[0](fac)
        vis = self.monitor.visits.appenders
        vis[1](now); vis[2](wait); vis[3](svc); vis[4](cost); vis[5](fund)
        vis[6](target != TREAT_HERE); vis[7](ep.ups > 0)
        if target != TREAT_HERE:
            ep.ups += 1
            self._later(done + self.travel_days[ep.village][target], self._visit, ep, target)
        elif a:
            self._later(done, self._admit, ep, fac)
        else:
            self._finish(ep, fac, now + done, COMPLETED)

    def _admit(self, ep: Episode, fac: int) -> None:
        tier = self.fac_tier[fac]
        c, s = ep.cond, ep.sev
        los = self.costs.length_of_stay(self.los_mean[tier][c][s], ep.u_svc[MAX_VISITS])
        end = self._stay(ep, fac, tier, los, self.per_day[tier][c][s] * los, rehab=False)
        if self.referral.refer_down(tier, c, ep.u_ref[0]):
            rf = self.referral.rehab_facility(self.county, ep.village)
            if rf != TREAT_HERE:
                ep.downs += 1
                self._later(end - self.env.now, self._rehab, ep, rf)
                return
        self._finish(ep, fac, end, COMPLETED)

    def _rehab(self, ep: Episode, fac: int) -> None:
        los = self.costs.length_of_stay(self.costs.rehab_days, ep.u_svc[MAX_VISITS + 1])
        end = self._stay(ep, fac, self.fac_tier[fac], los, self.costs.rehab_per_day * los, rehab=True)
        self._finish(ep, fac, end, COMPLETED)

    def _stay(self, ep: Episode, fac: int, tier: int, los: float, cost: float, rehab: bool) -> float:
        now = self.env.now
        wait = self.beds[fac].serve(now, los)
        fund = self.pay.inpatient(tier, cost, ep.resident, ep.ups > 0 or rehab)
        ep.cost += cost
        ep.fund += fund
        ep.stays += 1
        for col, value in zip(self.monitor.stays.appenders, (fac, now, wait, los, cost, fund, rehab, ep.ups > 0)):
            col(value)
        return now + wait + los

    def _finish(self, ep: Episode, fac: int, when: float, status: int) -> None:
        values = (ep.time, ep.village, ep.cond, ep.sev, ep.first, fac, ep.ups, ep.downs, ep.stays, ep.cost,
                  ep.fund, when, status)
        for col, value in zip(self.monitor.episodes.appenders, values):
            col(value)
