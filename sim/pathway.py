"""The patient pathway: where SimPy meets the county.

An episode is: arrival → first contact → wait for a doctor → consultation → treated here
(outpatient, or admitted: wait for a bed and stay) or referred up (travel, next consultation)
→ after a county/outside stay possibly referred down for rehabilitation → finish.  This module
keeps the clock, the queues and the records; every decision comes from ``models.care.Care``.
"""
from __future__ import annotations

import math

import numpy as np
from simpy.events import Timeout

from models.care import Care
from models.episode import (
    BALKED,
    COMPLETED,
    DECISION_DRAWS,
    DECLINED,
    LATER_STREAM_DECISIONS,
    MAX_VISITS,
    REFERRAL_STREAM_DECISIONS,
    SERVICE_DRAWS,
    Episode,
)
from models.geography import County
from models.loading import plan_of
from models.records import Monitor
from models.referral import TREAT_HERE
from models.scenario import Scenario
from models.seeking import FORMAL
from sim import compiled_steps
from sim.core.clock import Clock
from sim.core.station import Station, StationBank
from sim.core.streams import Streams, inverse_cdf_sampler, unit_sampler
from sim.core.tables import EventLog

NOT_DOWN, REHAB, DOWNSHIFT = 0, 1, 2  # why a stay happens where it does (stays.down)
# a day's arrivals become Python rows this many at a time: a whole day of a big county's rows
# would outgrow the CPU cache before the last of them is used (benchmarks/issue15_speed.md)
ROWS_AT_ONCE = 512


class CountyModel:
    COMPILED_STEPS = True  # off: every consultation by the Python steps (tests compare both)

    def __init__(self, scenario: Scenario, county: County, streams: Streams):
        self.plan = plan_of(scenario)
        sim = scenario.simulation
        self.changes = [] if self.plan.empty else self.plan.change_days(sim.warmup_days, sim.days_per_year)
        if not self.plan.empty:  # the run starts with its first month's parameters
            scenario = self.plan.variants[self.plan.variant_of_month[0]]
        self.care = care = Care(scenario, county)
        self.scenario, self.county, self.streams = scenario, care.county, streams
        sim = scenario.simulation
        self.env = Clock()
        self.warmup, self.end, self.days_per_year = care.warmup, care.end, care.days_per_year
        self.monitor = Monitor(self.county.n_facilities)
        reserved = care.family_doctor.reserved_servers
        track = scenario.service.balk_queue_length is not None or sim.sample_interval_days > 0
        self.doctors = [Station(None if d < 0 else int(d), reserved(d, t), track)
                        for d, t in zip(self.county.fac_doctors, self.county.fac_tier)]
        self.beds = [Station(None if b < 0 else int(b), reserved(b, t), track)
                     for b, t in zip(self.county.fac_beds, self.county.fac_tier)]
        self.service_times = inverse_cdf_sampler(scenario.service.distribution, scenario.service.cv)
        self.unit_times = unit_sampler(scenario.service.distribution, scenario.service.cv)
        self.balk = scenario.service.balk_queue_length
        self.sample_dt = sim.sample_interval_days
        self.pack_visit, self.add_visit = self.monitor.visits.row_writer(
            ("fac", "village", "time", "wait", "service", "cost", "fund", "oop", "service_revenue", "referred_out",
             "referred_in", "family_doctor", "tcm", "telemedicine", "contracted", "stockout"))
        self.pack_stay, self.add_stay = self.monitor.stays.row_writer(
            ("fac", "time", "wait", "los", "cost", "fund", "oop", "service_revenue", "down", "referred", "contracted",
             "family_doctor", "payment", "sent_on"))
        self.pack_episode, self.add_episode = self.monitor.episodes.row_writer(
            ("time", "village", "condition", "severity", "first", "final", "ups", "downs", "stays", "cost", "fund",
             "oop", "contracted", "finish", "status", "scheduled"))
        self.write_transfer = self.monitor.transfers.writer()
        self.seek_draws = streams.extra("care_seeking")
        self.later_decision_draws = streams.extra("later_decisions")
        self.followup_draws = streams.extra("followups")
        self.stock_draws = streams.extra("medicine_stock")
        self.chronic_draws = streams.extra("chronic_centres")
        care.settle(streams.extra("habits"))
        self.compiled = None  # the compiled steps (consultations, stays), where the scenario allows them
        if self.COMPILED_STEPS and compiled_steps.supports(self):
            doctors, beds = (StationBank([st.capacity for st in stations], [st.reserved for st in stations])
                             for stations in (self.doctors, self.beds))
            self.doctors, self.beds = doctors.stations, beds.stations
            self.compiled = compiled_steps.CompiledSteps(self, doctors, beds)

    # ------------------------------------------------------------------ processes
    def run(self, event_log: str | None = None) -> Monitor:
        """Run to the end; with ``event_log`` (a folder) stream every visit, stay and episode to
        Parquet in chunks as the run goes."""
        self.log = EventLog(event_log, self.monitor.event_tables()) if event_log else None
        self.env.process(self._arrivals())
        self.env.process(self._daily())
        if self.sample_dt > 0:
            self.env.process(self._sampler())
        self.env.run(until=self.end)
        if self.log:
            self.log.flush(final=True)
        for fac, when, amount in self.care.finish(self.end):
            self.write_transfer(fac=fac, time=when, fund=amount)
        self.monitor.budget = self.care.community_table()
        self.monitor.community_budget = self.care.ledger.table(self.monitor.budget)
        # The run is over.  Pending events and the compiled steps hold this model in reference
        # cycles: left alone, the model with its tables (~350 MB for a 500k county-year) waits for
        # a full collection, and runs kept in one process pile up until one comes.
        self.env.discard_pending()
        if self.compiled is not None:
            self.compiled.detach()
        return self.monitor

    def _day(self, day: int):
        """A day's illnesses that reach a facility, in time order, with their uniforms and first
        facilities: care-seeking filters the illnesses, family-doctor follow-ups join them.  Every
        illness draws its uniforms whatever it decides, so the draws stay common across scenarios."""
        s, care = self.streams, self.care
        b = care.demand.day_batch(s.arrivals, day)
        n = len(b)
        u_choice = s.choice.random(n)
        u_svc = s.service.random((n, SERVICE_DRAWS.width))
        u_ref = np.hstack([s.referral.random((n, REFERRAL_STREAM_DECISIONS)),
                           self.later_decision_draws.random((n, LATER_STREAM_DECISIONS)),
                           self.stock_draws.random((n, MAX_VISITS))])
        option = care.seeking_options(b, self.seek_draws.random(n))
        if (option != FORMAL).any():
            self._outside(b, option)
            keep = (option == FORMAL).nonzero()[0]
            b, u_choice, u_svc, u_ref = b.take(keep), u_choice[keep], u_svc[keep], u_ref[keep]
        first, is_contracted = care.first_contacts(b, u_choice)
        arrivals = (b, first, is_contracted, u_svc, u_ref, np.zeros(len(b), dtype=bool))
        fu, fu_first = care.followups(self.followup_draws, day)
        if len(fu):
            arrivals = self._join(arrivals, fu, fu_first, np.ones(len(fu), dtype=bool), self.followup_draws, False)
        came, centre, missed = care.centre_followups(self.chronic_draws, day)
        if len(missed):
            self.monitor.missed.add_block(time=missed.time, village=missed.village)
        if len(came):
            arrivals = self._join(arrivals, came, centre, care.is_contracted(came), self.chronic_draws, True)
        return arrivals

    def _join(self, arrivals, extra, extra_first, extra_contracted, rng, scheduled: bool):
        """The day's arrivals with provider-scheduled visits ``extra`` added, in time order; the
        scheduled visits draw their uniforms from their own stream ``rng``."""
        b, first, is_contracted, u_svc, u_ref, sched = arrivals
        m = len(extra)
        b = b.join(extra)
        first = np.concatenate([first, extra_first])
        is_contracted = np.concatenate([is_contracted, extra_contracted])
        u_svc = np.vstack([u_svc, rng.random((m, SERVICE_DRAWS.width))])
        u_ref = np.vstack([u_ref, np.hstack([rng.random((m, DECISION_DRAWS.stock)),
                                             self.stock_draws.random((m, MAX_VISITS))])])
        sched = np.concatenate([sched, np.full(m, scheduled)])
        order = np.argsort(b.time, kind="stable")
        return b.take(order), first[order], is_contracted[order], u_svc[order], u_ref[order], sched[order]

    def _outside(self, b, option: np.ndarray) -> None:
        """Illnesses self-treated or left untreated (after the warm-up they count in the KPIs)."""
        i = ((option != FORMAL) & (b.time < self.end)).nonzero()[0]
        self.monitor.outside.add_block(time=b.time[i], village=b.village[i], option=option[i])

    def _arrivals(self):
        """One day of arrivals at a time: what is known at arrival (first contact, first
        consultation time, TCM attribute) is drawn for the whole day with numpy."""
        env, mon = self.env, self.monitor
        visit, end, fast_forward = self._visit, self.end, self.env.fast_forward
        for day in range(int(math.ceil(self.end))):
            care = self.care  # a phased plan may have replaced it
            consult_days = np.array(care.consult_days)
            b, first, is_contracted, u_svc, u_ref, scheduled = self._day(day)
            n = len(b)
            svc0 = self.service_times(consult_days[first], u_svc[:, SERVICE_DRAWS.consultation])
            later = self.unit_times(u_svc[:, SERVICE_DRAWS.consultation + 1:SERVICE_DRAWS.consultation + MAX_VISITS])
            cases = care.case_keys(b)
            tcm0 = care.tcm_visits(first, cases, u_svc[:, SERVICE_DRAWS.tcm])
            late = (b.time >= end).nonzero()[0]
            m = late[0] if len(late) else n  # arrivals before the end of the run
            mon.arrival_times(b.time[:m])
            if self.compiled is not None:
                yield from self._compiled_day(b, first, is_contracted, svc0, tcm0, scheduled, cases, u_svc, u_ref,
                                              later, m)
                if m < n:
                    self.compiled.hand_to_simpy()
                    return
                continue
            for lo in range(0, m, ROWS_AT_ONCE):  # Python rows made just before use, while in cache
                hi = min(lo + ROWS_AT_ONCE, m)
                rows = zip(b.time[lo:hi].tolist(), b.village[lo:hi].tolist(), b.condition[lo:hi].tolist(),
                           b.severity[lo:hi].tolist(), b.admit[lo:hi].astype(int).tolist(), cases[lo:hi].tolist(),
                           b.resident[lo:hi].tolist(), first[lo:hi].tolist(), is_contracted[lo:hi].tolist(),
                           svc0[lo:hi].tolist(), tcm0[lo:hi].tolist(), range(lo, hi), scheduled[lo:hi].tolist())
                for t, v, c, sv, a, case, r, f, k, svc, tcm, j, sched in rows:
                    if not fast_forward(t):
                        yield Timeout(env, t - env.now)
                    visit(Episode(t, v, c, sv, a, case, r, f, u_svc, u_ref, j, k, sched, later), f, svc, tcm)
            if m < n:
                return
        if self.compiled is not None:
            self.compiled.hand_to_simpy()

    def _compiled_day(self, b, first, is_contracted, svc0, tcm0, scheduled, cases, u_svc, u_ref, later, m):
        """A day's first consultations, and the referrals and return visits they lead to, by
        ``sim/compiled_steps.py``, handing back to SimPy whenever one of its events is due."""
        fast = self.compiled
        fast.arrivals(b, first, is_contracted, svc0, tcm0, scheduled, cases, u_svc, u_ref, later, m)
        while True:
            status = fast.run(compiled_steps.ARRIVALS)
            if status == compiled_steps.WAIT:
                if fast.run_simpy_step():
                    continue
                event = self.env.timeout_at(*fast.timeout)
                fast.hand_to_simpy()
                yield event
                fast.resumed()
            elif status == compiled_steps.DONE:
                return

    def _daily(self):
        """Once a day the county's bookkeeping: budget years, capitation, perceived waits."""
        env, care = self.env, self.care
        day = 0
        while True:
            while self.changes and self.changes[0][0] <= day:
                self._adopt(self.plan.variants[self.changes.pop(0)[1]], day)
            if care.pool_staff(day):
                self._resize()
            for fac, when, amount in care.start_of_day(env.now):
                self.write_transfer(fac=fac, time=when, fund=amount)
            yield Timeout(env, 1.0)
            day += 1
            care.end_of_day(day, env.now)
            self.monitor.store_due()
            if self.log:
                self.log.flush()

    def _adopt(self, scenario: Scenario, day: int) -> None:
        """A phased plan's next parameters: the county's rules change and stations are resized."""
        self.care.adopt(scenario, day)
        self._resize()

    def _resize(self) -> None:
        """Stations take the county's current doctors and beds (a plan's change, pooled staff moved)."""
        now, county, reserved = self.env.now, self.care.county, self.care.family_doctor.reserved_servers
        for stations, sizes in ((self.doctors, county.fac_doctors), (self.beds, county.fac_beds)):
            for station, size, tier in zip(stations, sizes, county.fac_tier):
                capacity, held = None if size < 0 else int(size), reserved(size, tier)
                if capacity != station.capacity or held != station.reserved:
                    station.resize(capacity, held, now)
        self.monitor.capacity_changed(now, county.fac_doctors, county.fac_beds)
        if self.compiled is not None:
            self.compiled.refresh()  # the compiled steps take the new rules and stations

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

    def _later(self, delay: float, step, ep: Episode, fac: int) -> None:
        self.env.call_later(delay, step, ep, fac)

    # ------------------------------------------------------------------ episode steps
    def _next_visit(self, ep: Episode, fac: int) -> None:
        """A later consultation (after a referral): its draws come from the episode's row."""
        k = ep.visits
        self._visit(ep, fac, self.care.consult_days[fac] * ep.later_consultation(k), self.care.is_tcm(ep, fac, k))

    def _visit(self, ep: Episode, fac: int, svc: float, tcm: bool) -> None:
        now = self.env.now
        station = self.doctors[fac]
        if self.balk is not None and station.would_wait(now, ep.fd) and station.queue_length(now) >= self.balk:
            self._finish(ep, fac, now, BALKED)
            return
        if ep.visits < MAX_VISITS - 1:
            ep.visits += 1
        wait = station.serve(now, svc, ep.fd)
        referred_in = ep.ups > 0
        care = self.care
        cost, fund, oop, revenue, target, tele, stockout = care.consult(ep, fac, wait, tcm)
        referred_out = target != TREAT_HERE
        self.add_visit(self.pack_visit(fac, ep.village, now, wait, svc, cost, fund, oop, revenue, referred_out,
                                       referred_in, ep.fd, tcm, tele, ep.contracted, stockout))
        done = wait + svc
        if referred_out:
            care.referred_up(ep, fac)
            self._later(done + float(care.travel_days[ep.village, target]), self._next_visit, ep, target)
        elif ep.admit:
            if care.accepts_admission(ep, fac):
                self._later(done, self._admit, ep, fac)
            else:
                self._finish(ep, fac, now + done, DECLINED)
        else:
            back = care.asks_back(ep, fac)
            if back is None:
                self._finish(ep, fac, now + done, COMPLETED)
            else:
                self._later(done + back, self._next_visit, ep, fac)

    def _admit(self, ep: Episode, fac: int) -> None:
        down = self.care.downshift(ep, fac)
        if down != TREAT_HERE:
            ep.downs += 1
            self._later(float(self.care.travel_days[ep.village, down]), self._admit_down, ep, down)
            return
        elsewhere = self.care.elsewhere_when_full(ep, fac, self.beds[fac].wait_for(self.env.now, ep.fd))
        if elsewhere != TREAT_HERE:
            self._later(float(self.care.travel_days[ep.village, elsewhere]), self._admit, ep, elsewhere)
            return
        self._acute_stay(ep, fac, NOT_DOWN)

    def _admit_down(self, ep: Episode, fac: int) -> None:
        self._acute_stay(ep, fac, DOWNSHIFT)

    def _acute_stay(self, ep: Episode, fac: int, down: int) -> None:
        tier = self.care.fac_tier[fac]
        los, cost, case_fee, payment = self.care.acute_stay(ep, fac)
        end = self._stay(ep, fac, tier, los, cost, down, case_fee, payment)
        rehab = self.care.rehab_after(ep, tier)
        if rehab != TREAT_HERE:
            ep.downs += 1
            self._later(end - self.env.now, self._rehab, ep, rehab)
            return
        self._finish(ep, fac, end, COMPLETED)

    def _rehab(self, ep: Episode, fac: int) -> None:
        los, cost, fee, payment = self.care.rehab_stay(ep)
        end = self._stay(ep, fac, self.care.fac_tier[fac], los, cost, REHAB, fee, payment)
        self._finish(ep, fac, end, COMPLETED)

    def _stay(self, ep: Episode, fac: int, tier: int, los: float, cost: float, down: int,
              case_fee: float | None, payment: int) -> float:
        now = self.env.now
        wait = self.beds[fac].serve(now, los, ep.fd)
        referred = ep.ups > 0 or down != NOT_DOWN
        fund, oop, revenue = self.care.stay_bill(ep, tier, cost, referred, case_fee)
        self.add_stay(self.pack_stay(fac, now, wait, los, cost, fund, oop, revenue, down, referred, ep.contracted,
                                     ep.fd, payment, ep.sent_on))
        ep.sent_on = False
        return now + wait + los

    def _finish(self, ep: Episode, fac: int, when: float, status: int) -> None:
        self.add_episode(self.pack_episode(ep.time, ep.village, ep.cond, ep.sev, ep.first, fac, ep.ups, ep.downs,
                                           ep.stays, ep.cost, ep.fund, ep.oop, ep.contracted, when, status,
                                           ep.scheduled))
