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



# integer state (si) and float state (sf) of a compiled run, shared with FirstVisits
I_NEXT, I_END, I_FORCED, I_MODE, I_EID, I_KN, I_NFREE, I_NV, I_NE, I_NC, I_STATUS, I_TIMEOUT_EID, I_HAS_YEAR, \
    I_HAS_LEDGER, I_PERCEIVE, I_SEEKING, I_QPRIO, I_QEID, I_HAS_CAP = range(19)
F_NOW, F_QTIME, F_TIMEOUT, F_CAP, F_TCM_BONUS, F_RETURN_DAYS = range(6)
ARRIVALS, DRAIN = 0, 1  # modes: a run of a day's arrivals, or return visits due before SimPy's next event
DONE, WAIT, GROW, FLUSH = 0, 1, 2, 3  # why a compiled run returns
NORMAL_PRIORITY = 1  # simpy.events.NORMAL: every step of the pathway is scheduled with it
# day columns: floats (time, first and return consultation durations) and ints
D_TIME, D_SVC, D_SVC_BACK = range(3)
D_VILLAGE, D_COND, D_SEV, D_ADMIT, D_CASE, D_RESIDENT, D_FIRST, D_CONTRACTED, D_TCM, D_SCHEDULED, D_TCM_BACK = range(11)
# pending return visits (kept here, not in SimPy's queue): floats and ints per slot
K_DUE, K_TIME, K_COST, K_FUND, K_OOP, K_SVC = range(6)
K_EID, K_FAC, K_VILLAGE, K_COND, K_SEV, K_CASE, K_RESIDENT, K_CONTRACTED, K_SCHEDULED, K_TCM = range(10)


@njit(cache=True, inline="always")
def _before(t1, p1, e1, t2, p2, e2):
    """SimPy's event order: (time, priority, event id)."""
    return t1 < t2 or (t1 == t2 and (p1 < p2 or (p1 == p2 and e1 < e2)))


@njit(cache=True)
def _k_push(kf, ki, heap, free_slots, si, slot):
    n = si[I_KN]
    heap[n] = slot
    si[I_KN] = n + 1
    while n > 0:
        parent = (n - 1) >> 1
        a, b = heap[n], heap[parent]
        if kf[a, K_DUE] < kf[b, K_DUE] or (kf[a, K_DUE] == kf[b, K_DUE] and ki[a, K_EID] < ki[b, K_EID]):
            heap[n], heap[parent] = b, a
            n = parent
        else:
            break


@njit(cache=True)
def _k_pop(kf, ki, heap, free_slots, si):
    top = heap[0]
    n = si[I_KN] - 1
    si[I_KN] = n
    heap[0] = heap[n]
    j = 0
    while True:
        left = 2 * j + 1
        if left >= n:
            break
        m = left
        right = left + 1
        if right < n:
            a, b = heap[right], heap[left]
            if kf[a, K_DUE] < kf[b, K_DUE] or (kf[a, K_DUE] == kf[b, K_DUE] and ki[a, K_EID] < ki[b, K_EID]):
                m = right
        a, b = heap[m], heap[j]
        if kf[a, K_DUE] < kf[b, K_DUE] or (kf[a, K_DUE] == kf[b, K_DUE] and ki[a, K_EID] < ki[b, K_EID]):
            heap[m], heap[j] = b, a
            j = m
        else:
            break
    free_slots[si[I_NFREE]] = top
    si[I_NFREE] += 1
    return top


@njit(cache=True, inline="always")
def _consult(si, sf, fac, v, c, k, res, now, svc, tcm, free, servers, busy, wait_sum, wait_n, fac_tier, visit_cost,
             tcm_visit_cost, gatekept, sched_row, out_ded, out_rate, used_out, year, ledger_village, ledger_spent):
    """The queue and the fund's side of ``Care.consult`` for a consultation not referred in."""
    wait = serve_in_bank(free, servers, busy, fac, now, svc)
    wait_sum[fac] += wait
    wait_n[fac] += 1
    tier = fac_tier[fac]
    base = tcm_visit_cost[tier, k] if tcm else visit_cost[tier, k]
    cost = base
    r = sched_row[gatekept[c], tier]
    fund = _fee_share(cost, out_ded[r], out_rate[r])
    if si[I_HAS_CAP]:
        fund = _capped(fund, res, used_out, sf[F_CAP])
    if tcm and sf[F_TCM_BONUS] != 0.0:
        fund = min(cost, fund + sf[F_TCM_BONUS] * cost)
    oop = cost - fund
    if si[I_HAS_YEAR]:
        year[0] += fund
    if si[I_HAS_LEDGER]:
        ledger_spent[ledger_village[v]] += fund
    return wait, tier, base, cost, fund, oop


@njit(cache=True, inline="always")
def _tally(si, year, tier, is_primary, referred_out):
    """``Community.count_visit``."""
    if si[I_HAS_YEAR]:
        year[1] += 1.0
        year[2] += 1.0 if tier != OUTSIDE else 0.0
        year[3] += 1.0 if is_primary[tier] else 0.0
        year[4] += 1.0 if referred_out else 0.0


@njit(cache=True, inline="always")
def _visit_row(vrows, n, fac, v, now, wait, svc, cost, fund, oop, revenue, referred_out, tcm, contracted):
    rv = vrows[n]
    rv.fac, rv.village, rv.time, rv.wait, rv.service = fac, v, now, wait, svc
    rv.cost, rv.fund, rv.oop, rv.service_revenue = cost, fund, oop, revenue
    rv.referred_out, rv.referred_in, rv.family_doctor, rv.tcm = referred_out, 0, 0, tcm
    rv.telemedicine, rv.contracted, rv.stockout = 0, contracted, 0


@njit(cache=True, inline="always")
def _episode_row(erows, n, t, v, c, sv, fac, cost, fund, oop, contracted, finish, status, scheduled):
    re = erows[n]
    re.time, re.village, re.condition, re.severity, re.first, re.final = t, v, c, sv, fac, fac
    re.ups, re.downs, re.stays, re.cost, re.fund, re.oop = 0, 0, 0, cost, fund, oop
    re.contracted, re.finish, re.status, re.scheduled = contracted, finish, status, scheduled


@njit(cache=True)
def _return_visit(si, sf, kf, ki, kheap, kfree, free, servers, busy, fac_tier, visit_cost, tcm_visit_cost,
                  visit_service, gatekept, sched_row, out_ded, out_rate, used_out, can, target_of, is_primary,
                  wait_sum, wait_n, year, ledger_village, ledger_spent, vrows, erows):
    """The next pending return visit (复诊), at its time: a consultation at the facility that asked
    for it, which treats the case as it did a week before, and the episode's end."""
    slot = _k_pop(kf, ki, kheap, kfree, si)
    now = kf[slot, K_DUE]
    sf[F_NOW] = now
    fac, v, c, k = ki[slot, K_FAC], ki[slot, K_VILLAGE], ki[slot, K_COND], ki[slot, K_CASE]
    svc, tcm = kf[slot, K_SVC], ki[slot, K_TCM]
    wait, tier, base, cost, fund, oop = _consult(
        si, sf, fac, v, c, k, ki[slot, K_RESIDENT], now, svc, tcm, free, servers, busy, wait_sum, wait_n, fac_tier,
        visit_cost, tcm_visit_cost, gatekept, sched_row, out_ded, out_rate, used_out, year, ledger_village,
        ledger_spent)
    target = TREAT_HERE if can[fac, k] else target_of[v, tier, k]
    if target != TREAT_HERE:  # the same case, place and rules resolved here a week before
        raise AssertionError("a return visit cannot be referred on")
    _tally(si, year, tier, is_primary, False)
    nv = si[I_NV]
    _visit_row(vrows, nv, fac, v, now, wait, svc, cost, fund, oop, base * visit_service[tier, c], False, tcm,
               ki[slot, K_CONTRACTED])
    si[I_NV] = nv + 1
    ne = si[I_NE]
    _episode_row(erows, ne, kf[slot, K_TIME], v, c, ki[slot, K_SEV], fac, kf[slot, K_COST] + cost,
                 kf[slot, K_FUND] + fund, kf[slot, K_OOP] + oop, ki[slot, K_CONTRACTED], now + (wait + svc),
                 COMPLETED, ki[slot, K_SCHEDULED])
    si[I_NE] = ne + 1


@njit(cache=True)
def _run(si, sf, day_f, day_i, u_ref, free, servers, busy,
         fac_tier, visit_cost, tcm_visit_cost, visit_service, gatekept, sched_row, out_ded, out_rate, used_out,
         can, target_of, is_primary, travel_days, travel_hours, admission_odds, return_prob, return_asc,
         return_terms, return_oop, wait_sum, wait_n, seen, solved, year, ledger_village, ledger_spent,
         kf, ki, kheap, kfree, vrows, erows, cont):
    """First consultations of the day's arrivals ``si[I_NEXT]`` .. ``si[I_END]`` (mode ARRIVALS), or
    the return visits due before SimPy's next event (mode DRAIN), in SimPy's order of events.
    Sets ``si[I_STATUS]``: DONE, WAIT (the arrivals wait for SimPy's next event with a timeout
    at ``sf[F_TIMEOUT]``, event id ``si[I_TIMEOUT_EID]``), GROW (no room for another pending return
    visit) or FLUSH (no room for more rows); the state in ``si``/``sf`` lets the next call go on."""
    i, hi, eid = si[I_NEXT], si[I_END], si[I_EID]
    qt, qp, qe = sf[F_QTIME], si[I_QPRIO], si[I_QEID]
    beta, scale, beta_hours = return_terms[0], return_terms[1], return_terms[2]
    status = DONE
    while True:
        if si[I_NV] + 2 > len(vrows) or si[I_NE] + 2 > len(erows) or si[I_NC] + 1 > len(cont):
            status = FLUSH
            break
        if si[I_MODE] == DRAIN:
            if si[I_KN] == 0:
                break
            top = kheap[0]
            if not _before(kf[top, K_DUE], NORMAL_PRIORITY, ki[top, K_EID], qt, qp, qe):
                break
            _return_visit(si, sf, kf, ki, kheap, kfree, free, servers, busy, fac_tier, visit_cost, tcm_visit_cost,
                          visit_service, gatekept, sched_row, out_ded, out_rate, used_out, can, target_of, is_primary,
                          wait_sum, wait_n, year, ledger_village, ledger_spent, vrows, erows)
            continue
        if i >= hi:
            break
        if si[I_KN] >= len(kheap):
            status = GROW
            break
        now, t = sf[F_NOW], day_f[i, D_TIME]
        if si[I_FORCED] == 0 and t > now:
            kt = kf[kheap[0], K_DUE] if si[I_KN] > 0 else np.inf
            if (kt if kt < qt else qt) <= t:
                # Clock.fast_forward fails: the arrivals wait with a Timeout(t - now), and every
                # event before it happens first: pending return visits here, anything else in SimPy
                deadline, deid = now + (t - now), eid
                eid += 1
                while si[I_KN] > 0 and si[I_NV] + 2 <= len(vrows) and si[I_NE] + 2 <= len(erows):
                    top = kheap[0]
                    kt, ke = kf[top, K_DUE], ki[top, K_EID]
                    if not (_before(kt, NORMAL_PRIORITY, ke, deadline, NORMAL_PRIORITY, deid)
                            and _before(kt, NORMAL_PRIORITY, ke, qt, qp, qe)):
                        break
                    _return_visit(si, sf, kf, ki, kheap, kfree, free, servers, busy, fac_tier, visit_cost,
                                  tcm_visit_cost, visit_service, gatekept, sched_row, out_ded, out_rate, used_out,
                                  can, target_of, is_primary, wait_sum, wait_n, year, ledger_village, ledger_spent,
                                  vrows, erows)
                if _before(qt, qp, qe, deadline, NORMAL_PRIORITY, deid) or si[I_KN] > 0 and _before(
                        kf[kheap[0], K_DUE], NORMAL_PRIORITY, ki[kheap[0], K_EID], deadline, NORMAL_PRIORITY, deid):
                    sf[F_TIMEOUT], si[I_TIMEOUT_EID] = deadline, deid  # SimPy (or more rows) first
                    status = WAIT
                    break
                sf[F_NOW] = deadline  # the timeout is the next event: the arrival goes ahead
                si[I_FORCED] = 1
                continue
            now = t
        si[I_FORCED] = 0
        sf[F_NOW] = now
        # the first consultation (CountyModel._visit and Care.consult, not referred in)
        v, c, k, fac = day_i[i, D_VILLAGE], day_i[i, D_COND], day_i[i, D_CASE], day_i[i, D_FIRST]
        svc, tcm, contracted = day_f[i, D_SVC], day_i[i, D_TCM], day_i[i, D_CONTRACTED]
        wait, tier, base, cost, fund, oop = _consult(
            si, sf, fac, v, c, k, day_i[i, D_RESIDENT], now, svc, tcm, free, servers, busy, wait_sum, wait_n,
            fac_tier, visit_cost, tcm_visit_cost, gatekept, sched_row, out_ded, out_rate, used_out, year,
            ledger_village, ledger_spent)
        target = TREAT_HERE if can[fac, k] else target_of[v, tier, k]
        referred_out = target != TREAT_HERE
        _tally(si, year, tier, is_primary, referred_out)
        if si[I_PERCEIVE]:
            seen[fac] += 1
            if not referred_out:
                solved[fac] += 1
        nv = si[I_NV]
        _visit_row(vrows, nv, fac, v, now, wait, svc, cost, fund, oop, base * visit_service[tier, c], referred_out,
                   tcm, contracted)
        si[I_NV] = nv + 1
        done = wait + svc
        kind, fac_next, delay, status_end = -1, fac, 0.0, COMPLETED
        if referred_out:
            kind, fac_next, delay = REFER, target, done + travel_days[v, target]
        elif day_i[i, D_ADMIT]:
            if _takes(u_ref[i, ADMISSION_DRAW], admission_odds[tier, k]):
                kind, delay = ADMIT, done
            else:
                status_end = DECLINED
        else:
            u, p = u_ref[i, RETURN_DRAW], return_prob[tier]
            if u < p:
                comes = True
                if si[I_SEEKING]:
                    odds = _return_odds_factor(return_asc[tier], beta, scale, beta_hours,
                                               return_oop[gatekept[c], tier, k], travel_hours[v, fac])
                    comes = _takes(u / p, odds)
                if comes:
                    kind, delay = RETURN, done + sf[F_RETURN_DAYS]
        if kind == RETURN:
            slot = kfree[si[I_NFREE] - 1]
            si[I_NFREE] -= 1
            kf[slot, K_DUE], kf[slot, K_TIME], kf[slot, K_COST] = now + delay, t, 0.0 + cost
            kf[slot, K_FUND], kf[slot, K_OOP], kf[slot, K_SVC] = 0.0 + fund, 0.0 + oop, day_f[i, D_SVC_BACK]
            ki[slot, K_EID], ki[slot, K_FAC], ki[slot, K_VILLAGE], ki[slot, K_COND] = eid, fac, v, c
            ki[slot, K_SEV], ki[slot, K_CASE], ki[slot, K_RESIDENT] = day_i[i, D_SEV], k, day_i[i, D_RESIDENT]
            ki[slot, K_CONTRACTED], ki[slot, K_SCHEDULED] = contracted, day_i[i, D_SCHEDULED]
            ki[slot, K_TCM] = day_i[i, D_TCM_BACK]
            eid += 1
            _k_push(kf, ki, kheap, kfree, si, slot)
        elif kind >= 0:
            n = si[I_NC]
            cont[n, 0], cont[n, 1], cont[n, 2], cont[n, 3], cont[n, 4] = i, kind, fac_next, now, delay
            cont[n, 5], cont[n, 6], cont[n, 7], cont[n, 8] = 0.0 + cost, 0.0 + fund, 0.0 + oop, eid
            si[I_NC] = n + 1
            if _before(now + delay, NORMAL_PRIORITY, eid, qt, qp, qe):
                qt, qp, qe = now + delay, NORMAL_PRIORITY, eid
            eid += 1
        else:
            ne = si[I_NE]
            _episode_row(erows, ne, t, v, c, day_i[i, D_SEV], fac, 0.0 + cost, 0.0 + fund, 0.0 + oop, contracted,
                         now + done, status_end, day_i[i, D_SCHEDULED])
            si[I_NE] = ne + 1
        i += 1
    si[I_NEXT], si[I_EID], si[I_STATUS] = i, eid, status
    sf[F_QTIME], si[I_QPRIO], si[I_QEID] = qt, qp, qe


class FirstVisits:
    """The compiled first consultations and return visits of one run, with the tables and books
    they share with the Python steps of ``CountyModel``."""

    CAPACITY = 1024  # pending return visits to make room for at first (doubled when short)

    def __init__(self, model, bank):
        self.model, self.bank = model, bank
        care, pay = model.care, model.care.pay
        n_tiers, n_cases = len(care.visit_cost), len(care.visit_cost[0])
        self.consult_days = np.asarray(care.consult_days, dtype=np.float64)
        sched_row = np.asarray(pay._rows[False], dtype=np.int64)  # [gatekept][tier], not referred in
        used_out = np.frombuffer(pay._used_out, dtype=np.float64) if pay._used_out is not None else np.zeros(1)
        travel_days = np.asarray(care.travel_days, dtype=np.float64)
        admission_odds = np.array([[care.admission_odds(t, k, False) for k in range(n_cases)] for t in range(n_tiers)])
        return_oop = np.array([[[care.return_oop(t, k, False, bool(g)) for k in range(n_cases)]
                                for t in range(n_tiers)] for g in (0, 1)])
        # the books both paths add to, in event order: numpy arrays from now on
        care._wait_sum = np.array(care._wait_sum, dtype=np.float64)
        care._wait_n = np.array(care._wait_n, dtype=np.int64)
        perceptions = care.perceptions
        if perceptions is not None:
            perceptions._seen = np.array(perceptions._seen, dtype=np.int64)
            perceptions._solved = np.array(perceptions._solved, dtype=np.int64)
            seen, solved = perceptions._seen, perceptions._solved
        else:
            seen = solved = np.zeros(1, dtype=np.int64)
        self.year = np.zeros(5)  # the community year's spending and visit tallies, copied in and out
        self.ledger = np.zeros(len(care.ledger.names))
        self.tables = (
            np.asarray(care.fac_tier, dtype=np.int64), np.asarray(care.visit_cost, dtype=np.float64),
            np.asarray(care.tcm_visit_cost, dtype=np.float64), np.asarray(care.visit_service, dtype=np.float64),
            np.asarray(care.gatekept_by_condition, dtype=np.int64), sched_row, np.asarray(pay.out_ded, dtype=float),
            np.asarray(pay.out_rate, dtype=float), used_out, np.asarray(care.can, dtype=np.bool_),
            np.asarray(care.target, dtype=np.int64), np.asarray(care.is_primary, dtype=np.bool_), travel_days,
            travel_days * HOURS_PER_DAY,  # Care.asks_back's product, element by element
            admission_odds, np.asarray(care.provider.return_prob, dtype=np.float64),
            np.asarray(care.seeking.return_asc, dtype=np.float64),
            np.asarray(care.seeking.return_terms, dtype=np.float64), return_oop,
            care._wait_sum, care._wait_n, seen, solved, self.year, np.asarray(care.ledger.village, dtype=np.int64),
            self.ledger)
        self.si, self.sf = np.zeros(19, dtype=np.int64), np.zeros(6)
        self.si[I_HAS_CAP], self.si[I_PERCEIVE] = pay.cap_out is not None, perceptions is not None
        self.si[I_SEEKING] = care.seeking.enabled
        self.sf[F_CAP] = pay.cap_out if pay.cap_out is not None else 0.0
        self.sf[F_TCM_BONUS], self.sf[F_RETURN_DAYS] = care.tcm.bonus, care.provider.return_days
        self._pending(self.CAPACITY)
        self.si[I_NFREE] = self.CAPACITY
        self.day_f, self.day_i, self.u_ref = np.zeros((0, 3)), np.zeros((0, 11), dtype=np.int64), np.zeros((0, 1))
        self._rows(0)
        self.drain_call = self._drain  # one bound method: placeholders are recognised by it
        self.placed: set[int] = set()  # event ids of the return visits with a placeholder in SimPy's queue

    def _pending(self, capacity: int) -> None:
        """Room for ``capacity`` pending return visits (the slots in use keep their place)."""
        old = getattr(self, "kf", None)
        kf, ki = np.zeros((capacity, 6)), np.zeros((capacity, 10), dtype=np.int64)
        heap, free = np.zeros(capacity, dtype=np.int64), np.zeros(capacity, dtype=np.int64)
        n_old = 0
        if old is not None:
            n_old = len(old)
            kf[:n_old], ki[:n_old], heap[:n_old] = self.kf, self.ki, self.kheap
            free[:self.si[I_NFREE]] = self.kfree[:self.si[I_NFREE]]
        added = np.arange(capacity - 1, n_old - 1, -1, dtype=np.int64)
        free[self.si[I_NFREE]:self.si[I_NFREE] + len(added)] = added
        self.kf, self.ki, self.kheap, self.kfree = kf, ki, heap, free
        self.si[I_NFREE] += len(added) if old is not None else 0

    def _rows(self, n: int) -> None:
        room = n + len(self.kheap) + 16
        if len(getattr(self, "vrows", ())) < room:
            self.vrows, self.erows, self.cont = np.zeros(room, VISIT_RECORD), np.zeros(room, EPISODE_RECORD), \
                np.zeros((room, 9))

    def day(self, b, first, is_contracted, svc0, tcm0, scheduled, cases, later, tcm_back, u_ref) -> None:
        """A day's arrival columns, typed for the compiled step."""
        n = len(b)
        day_f = np.empty((n, 3))
        day_f[:, D_TIME], day_f[:, D_SVC] = b.time, svc0
        day_f[:, D_SVC_BACK] = self.consult_days[first] * later[:, 0]  # CountyModel._next_visit's duration
        day_i = np.empty((n, 11), dtype=np.int64)
        for col, values in ((D_VILLAGE, b.village), (D_COND, b.condition), (D_SEV, b.severity), (D_ADMIT, b.admit),
                            (D_CASE, cases), (D_RESIDENT, b.resident), (D_FIRST, first),
                            (D_CONTRACTED, is_contracted), (D_TCM, tcm0), (D_SCHEDULED, scheduled),
                            (D_TCM_BACK, tcm_back)):
            day_i[:, col] = values
        self.day_f, self.day_i, self.u_ref = day_f, day_i, np.ascontiguousarray(u_ref)
        self._rows(n)

    def start_day(self, m: int) -> None:
        """The day's first ``m`` arrivals are to be seen."""
        self.si[I_NEXT], self.si[I_END], self.si[I_FORCED] = 0, m, 0

    def resumed(self) -> None:
        """The clock has reached the time the arrivals waited for: the next arrival goes ahead."""
        self.si[I_FORCED] = 1

    @property
    def next_arrival(self) -> int:
        return int(self.si[I_NEXT])

    def run(self, mode: int) -> np.ndarray:
        """One compiled run from the clock's present state; rows are logged, the books written
        back and the clock moved on.  Returns the continuations (arrival, how, facility, time,
        delay, cost, fund, out-of-pocket, event id) for the caller to schedule."""
        model, care, env, si, sf = self.model, self.model.care, self.model.env, self.si, self.sf
        if si[I_STATUS] == GROW:  # the last run found no room for another pending return visit
            self._pending(2 * len(self.kheap))
            self._rows(len(self.day_f))
        years = care.community.years
        y = years[-1] if years else None
        if y is not None:
            book = self.year
            book[0], book[1], book[2], book[3], book[4] = y.spent, y.visits, y.visits_in_county, y.visits_primary, \
                y.referred_up
        spent = care.ledger._spent
        if spent is not None:
            self.ledger[:] = spent
        head = env.head()
        while head is not None and getattr(head[3], "fn", None) is self.drain_call:
            env.drop_head()  # the return visits a placeholder stands for are run here, in order
            self.placed.discard(head[2])
            head = env.head()
        si[I_MODE] = mode
        si[I_EID], si[I_NV], si[I_NE], si[I_NC] = env.take_event_id(), 0, 0, 0
        si[I_HAS_YEAR], si[I_HAS_LEDGER] = y is not None, spent is not None
        if head is None:
            sf[F_QTIME], si[I_QPRIO], si[I_QEID] = np.inf, NORMAL_PRIORITY, 0
        else:
            sf[F_QTIME], si[I_QPRIO], si[I_QEID] = head[0], head[1], head[2]
        sf[F_NOW] = env.now
        bank = self.bank
        _run(si, sf, self.day_f, self.day_i, self.u_ref, bank.free, bank.servers, bank.busy, *self.tables,
             self.kf, self.ki, self.kheap, self.kfree, self.vrows, self.erows, self.cont)
        env.resume_event_ids(int(si[I_EID]))
        if y is not None:
            book = self.year
            y.spent = float(book[0])
            y.visits, y.visits_in_county, y.visits_primary, y.referred_up = int(book[1]), int(book[2]), \
                int(book[3]), int(book[4])
        if spent is not None:
            spent[:] = self.ledger.tolist()
        if si[I_NV]:
            model.add_visit(self.vrows[:si[I_NV]].tobytes())
        if si[I_NE]:
            model.add_episode(self.erows[:si[I_NE]].tobytes())
        env.move_to(float(sf[F_NOW]))
        return self.cont[:si[I_NC]]  # valid until the next run: room grows only then

    @property
    def status(self) -> int:
        return int(self.si[I_STATUS])

    @property
    def timeout(self) -> tuple[float, int]:
        return float(self.sf[F_TIMEOUT]), int(self.si[I_TIMEOUT_EID])

    def hand_to_simpy(self) -> None:
        """Before SimPy runs other events: a placeholder at the next pending return visit's time
        and event id, so it (and any due before SimPy's next event) happens in order."""
        if self.si[I_KN] > 0:
            top = self.kheap[0]
            eid = int(self.ki[top, K_EID])
            if eid not in self.placed:  # one placeholder per return visit: SimPy's entries must differ
                self.placed.add(eid)
                self.model.env.call_at(float(self.kf[top, K_DUE]), eid, self.drain_call, eid, None)

    def _drain(self, eid: int, _) -> None:
        """A placeholder's turn: the return visits due before SimPy's next event."""
        self.placed.discard(eid)
        while True:
            self.run(DRAIN)
            if self.status != FLUSH:
                break
        self.hand_to_simpy()

