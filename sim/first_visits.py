"""First consultations compiled (numba): the bulk of a county's episodes, in SimPy's order.

Most episodes end at their first consultation (95 % in the baseline).  ``FirstVisits`` takes a
run of a day's arrivals and gives each its first consultation in time order while no SimPy
event is due: the same test as ``Clock.fast_forward`` (an arrival goes ahead when it is not
later than now or when every queued event is later than it).  An episode that continues
(referral, admission, return visit) lowers that limit to the time of its next step, which the
pathway schedules with ``Clock.call_later`` once the compiled run returns, in the same order
and hence with the same SimPy event ids as step by step.  Every running sum (the doctors'
queues, waits per facility, fund and ledger spending, annual caps, tallies) is added in the
same order with the same IEEE operations as the Python steps, which share those books; the
rules come from ``models/`` (the same functions, compiled) or from tables the Python rules
fill.  Results are bit-identical (tests/test_first_visits.py).

Only scenarios whose first consultation needs nothing more are run this way (``supports``);
every other scenario, and every later consultation, stays on the Python steps.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from models.episode import DECISION_DRAWS as D
from models.records import EPISODE_COLUMNS, VISIT_COLUMNS
from models.referral import TREAT_HERE
from models.reimbursement import capped, fee_share
from models.seeking import return_odds_factor, takes
from models.tiers import OUTSIDE
from sim.core.station import serve_in_bank
from sim.core.tables import DTYPES

REFER, ADMIT, RETURN = 0, 1, 2  # how an episode continues after its first consultation
COMPLETED, DECLINED = 0, 2  # episode status codes (models/episode.py)
HOURS_PER_DAY = 24.0
ADMISSION_DRAW, RETURN_DRAW = D.admission, D.return_visit

_fee_share = njit(cache=True)(fee_share)
_capped = njit(cache=True)(capped)
_takes = njit(cache=True)(takes)
_return_odds_factor = njit(cache=True)(return_odds_factor)


def _records(columns: dict[str, str]) -> np.dtype:
    return np.dtype([(k, "<" + DTYPES[code]) for k, code in columns.items()])


VISIT_RECORD, EPISODE_RECORD = _records(VISIT_COLUMNS), _records(EPISODE_COLUMNS)


def supports(model) -> bool:
    """Whether this run's first consultations need only what the compiled step does: no phased
    plan or staff pooling (the rules would change mid-run), no balking, queue sampling or
    reserved servers, no family doctors (fee waivers, priority), no yearly deductibles, no
    telemedicine or medicine stock-outs, and no provider departure that could ever gain
    (global budget off, so no stake or assessment; no case or DIP payment at county level)."""
    care = model.care
    r = care.response
    return (model.plan.empty and not care.pool.active and model.balk is None and model.sample_dt <= 0
            and not care.family_doctor.active and not care.pay.yearly and care.in_stock is None
            and care.information.telemedicine_share <= 0 and not care.community.enabled
            and r.points is None and all(f is None for f in r.fixed[2]) and r.team_share <= 0
            and all(s.reserved == 0 and not s.track for s in model.doctors))


@njit(cache=True)
def _run(i, hi, now, limit, forced,
         time, village, cond, sev, admit, case, resident, first, contracted, svc0, tcm0, scheduled, u_ref,
         free, servers, busy,
         fac_tier, visit_cost, tcm_visit_cost, visit_service, gatekept, sched_row, out_ded, out_rate,
         cap_out, used_out, tcm_bonus, can, target_of, is_primary, travel_days, travel_hours,
         admission_odds, return_prob, return_asc, return_terms, return_days, return_oop, seeking_on,
         wait_sum, wait_n, seen, solved, perceive, year, has_year, ledger_village, ledger_spent, has_ledger,
         vrows, erows, cont):
    """First consultations of arrivals ``i`` .. ``hi`` while none is due after ``limit`` (the
    next SimPy event): returns (next arrival, now, visit rows, episode rows, continuations)."""
    nv = ne = nc = 0
    adm_col, ret_col = ADMISSION_DRAW, RETURN_DRAW
    beta, scale, beta_hours = return_terms[0], return_terms[1], return_terms[2]
    while i < hi:
        t = time[i]
        if not forced:
            if t > now:
                if limit <= t:
                    break
                now = t
        forced = False
        fac, v, c, k, res = first[i], village[i], cond[i], case[i], resident[i]
        svc, tcm = svc0[i], tcm0[i]
        wait = serve_in_bank(free, servers, busy, fac, now, svc)
        # Care.consult for a first consultation (not referred in)
        wait_sum[fac] += wait
        wait_n[fac] += 1
        tier = fac_tier[fac]
        base = tcm_visit_cost[tier, k] if tcm else visit_cost[tier, k]
        cost = base
        r = sched_row[gatekept[c], tier]
        fund = _fee_share(cost, out_ded[r], out_rate[r])
        if cap_out >= 0.0:
            fund = _capped(fund, res, used_out, cap_out)
        if tcm and tcm_bonus != 0.0:
            fund = min(cost, fund + tcm_bonus * cost)
        oop = cost - fund
        ep_cost, ep_fund, ep_oop = 0.0 + cost, 0.0 + fund, 0.0 + oop
        if has_year:
            year[0] += fund
        if has_ledger:
            ledger_spent[ledger_village[v]] += fund
        target = TREAT_HERE
        if not can[fac, k]:
            target = target_of[v, tier, k]
        referred_out = target != TREAT_HERE
        if has_year:
            year[1] += 1.0
            year[2] += 1.0 if tier != OUTSIDE else 0.0
            year[3] += 1.0 if is_primary[tier] else 0.0
            year[4] += 1.0 if referred_out else 0.0
        if perceive:
            seen[fac] += 1
            if not referred_out:
                solved[fac] += 1
        rv = vrows[nv]
        rv.fac, rv.village, rv.time, rv.wait, rv.service = fac, v, now, wait, svc
        rv.cost, rv.fund, rv.oop, rv.service_revenue = cost, fund, oop, base * visit_service[tier, c]
        rv.referred_out, rv.referred_in, rv.family_doctor, rv.tcm = referred_out, 0, 0, tcm
        rv.telemedicine, rv.contracted, rv.stockout = 0, contracted[i], 0
        nv += 1
        done = wait + svc
        kind, delay, status = -1, 0.0, COMPLETED
        if referred_out:
            kind, delay, fac_next = REFER, done + travel_days[v, target], target
        elif admit[i]:
            if _takes(u_ref[i, adm_col], admission_odds[tier, k]):
                kind, delay, fac_next = ADMIT, done, fac
            else:
                status = DECLINED
        else:
            u = u_ref[i, ret_col]
            p = return_prob[tier]
            if u < p:
                comes = True
                if seeking_on:
                    odds = _return_odds_factor(return_asc[tier], beta, scale, beta_hours,
                                               return_oop[gatekept[c], tier, k], travel_hours[v, fac])
                    comes = _takes(u / p, odds)
                if comes:
                    kind, delay, fac_next = RETURN, done + return_days, fac
        if kind >= 0:
            cont[nc, 0], cont[nc, 1], cont[nc, 2] = i, kind, fac_next
            cont[nc, 3], cont[nc, 4], cont[nc, 5], cont[nc, 6], cont[nc, 7] = now, delay, ep_cost, ep_fund, ep_oop
            nc += 1
            due = now + delay
            if due < limit:
                limit = due
        else:
            re = erows[ne]
            re.time, re.village, re.condition, re.severity, re.first, re.final = t, v, c, sev[i], fac, fac
            re.ups, re.downs, re.stays, re.cost, re.fund, re.oop = 0, 0, 0, ep_cost, ep_fund, ep_oop
            re.contracted, re.finish, re.status, re.scheduled = contracted[i], now + done, status, scheduled[i]
            ne += 1
        i += 1
    return i, now, nv, ne, nc


class FirstVisits:
    """The compiled first consultations of one run, with the tables and books they share with
    the Python steps of ``CountyModel``."""

    def __init__(self, model, bank):
        self.model, self.bank = model, bank
        care, pay = model.care, model.care.pay
        n_tiers, n_cases = len(care.visit_cost), len(care.visit_cost[0])
        self.fac_tier = np.asarray(care.fac_tier, dtype=np.int64)
        self.visit_cost = np.asarray(care.visit_cost, dtype=np.float64)
        self.tcm_visit_cost = np.asarray(care.tcm_visit_cost, dtype=np.float64)
        self.visit_service = np.asarray(care.visit_service, dtype=np.float64)
        self.gatekept = np.asarray(care.gatekept_by_condition, dtype=np.int64)
        self.sched_row = np.asarray(pay._rows[False], dtype=np.int64)  # [gatekept][tier]
        self.out_ded, self.out_rate = np.asarray(pay.out_ded, dtype=float), np.asarray(pay.out_rate, dtype=float)
        self.cap_out = -1.0 if pay.cap_out is None else float(pay.cap_out)
        self.used_out = np.frombuffer(pay._used_out, dtype=np.float64) if pay._used_out is not None else np.zeros(1)
        self.tcm_bonus = float(care.tcm.bonus)
        self.can = np.asarray(care.can, dtype=np.bool_)
        self.target = np.asarray(care.target, dtype=np.int64)
        self.is_primary = np.asarray(care.is_primary, dtype=np.bool_)
        self.travel_days = np.asarray(care.travel_days, dtype=np.float64)
        self.travel_hours = self.travel_days * HOURS_PER_DAY  # Care.asks_back's product, element by element
        self.admission_odds = np.array([[care.admission_odds(t, k, False) for k in range(n_cases)]
                                        for t in range(n_tiers)])
        self.return_prob = np.asarray(care.provider.return_prob, dtype=np.float64)
        self.return_asc = np.asarray(care.seeking.return_asc, dtype=np.float64)
        self.return_terms = np.asarray(care.seeking.return_terms, dtype=np.float64)
        self.return_days = care.provider.return_days
        self.return_oop = np.array([[[care.return_oop(t, k, False, bool(g)) for k in range(n_cases)]
                                     for t in range(n_tiers)] for g in (0, 1)])
        self.seeking_on = bool(care.seeking.enabled)
        # the books both paths add to, in event order: numpy arrays from now on
        care._wait_sum = np.array(care._wait_sum, dtype=np.float64)
        care._wait_n = np.array(care._wait_n, dtype=np.int64)
        self.perceptions = care.perceptions
        if self.perceptions is not None:
            self.perceptions._seen = np.array(self.perceptions._seen, dtype=np.int64)
            self.perceptions._solved = np.array(self.perceptions._solved, dtype=np.int64)
            self.seen, self.solved = self.perceptions._seen, self.perceptions._solved
        else:
            self.seen = self.solved = np.zeros(1, dtype=np.int64)
        self.ledger_village = np.asarray(care.ledger.village, dtype=np.int64)
        self.year = np.zeros(5)
        self.cont = np.zeros((0, 8))

    def day(self, b, first, is_contracted, svc0, tcm0, scheduled, cases, u_ref) -> None:
        """Typed copies of a day's arrival columns for the compiled step."""
        self.cols = (np.ascontiguousarray(b.time, dtype=np.float64), b.village.astype(np.int64),
                     b.condition.astype(np.int64), b.severity.astype(np.int64), b.admit.astype(np.int64),
                     cases.astype(np.int64), b.resident.astype(np.int64), first.astype(np.int64),
                     is_contracted.astype(np.int8), np.ascontiguousarray(svc0, dtype=np.float64),
                     tcm0.astype(np.int8), scheduled.astype(np.int8), np.ascontiguousarray(u_ref))
        n = len(b)
        if len(self.cont) < n:
            self.vrows = np.zeros(n, VISIT_RECORD)
            self.erows = np.zeros(n, EPISODE_RECORD)
            self.cont = np.zeros((n, 8))

    def run(self, i: int, hi: int, forced: bool) -> tuple[int, np.ndarray]:
        """First consultations from arrival ``i`` on (``forced``: it is due now, the clock having
        waited for it) until ``hi`` or the next SimPy event; rows are logged and the books
        written back.  Returns the next arrival and the continuations (arrival, how, facility,
        time, delay, cost, fund, out-of-pocket) for the caller to schedule in order."""
        model, care, env = self.model, self.model.care, self.model.env
        years = care.community.years
        y = years[-1] if years else None
        if y is not None:
            book = self.year
            book[0], book[1], book[2], book[3], book[4] = y.spent, y.visits, y.visits_in_county, y.visits_primary, \
                y.referred_up
        spent = care.ledger._spent
        ledger = np.array(spent if spent is not None else [0.0], dtype=np.float64)
        bank = self.bank
        i, now, nv, ne, nc = _run(
            i, hi, env.now, env.next_due(), forced, *self.cols, bank.free, bank.servers, bank.busy,
            self.fac_tier, self.visit_cost, self.tcm_visit_cost, self.visit_service, self.gatekept, self.sched_row,
            self.out_ded, self.out_rate, self.cap_out, self.used_out, self.tcm_bonus, self.can, self.target,
            self.is_primary, self.travel_days, self.travel_hours, self.admission_odds, self.return_prob,
            self.return_asc, self.return_terms, self.return_days, self.return_oop, self.seeking_on,
            care._wait_sum, care._wait_n, self.seen, self.solved, self.perceptions is not None,
            self.year, y is not None, self.ledger_village, ledger, spent is not None,
            self.vrows, self.erows, self.cont)
        if y is not None:
            book = self.year
            y.spent = float(book[0])
            y.visits, y.visits_in_county, y.visits_primary, y.referred_up = int(book[1]), int(book[2]), \
                int(book[3]), int(book[4])
        if spent is not None:
            spent[:] = ledger.tolist()
        if nv:
            model.add_visit(self.vrows[:nv].tobytes())
        if ne:
            model.add_episode(self.erows[:ne].tobytes())
        env.move_to(now)
        return i, self.cont[:nc]
