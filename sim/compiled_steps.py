"""The pathway's steps compiled (numba): consultations and stays, in SimPy's order of events.

``CompiledSteps`` runs, in one compiled loop, what ``CountyModel``'s Python steps would do for
the scenarios ``supports`` accepts: the first consultations of a day's arrivals, the
consultations after a referral and return visits (复诊), acute and rehabilitation stays (下转)
and the episode's end.  An arrival goes ahead exactly when ``Clock.fast_forward`` would; when it
would not, the loop makes the arrivals' timeout itself and runs its own steps due before it,
handing back to SimPy only when a SimPy event (a day's bookkeeping) comes first.  Episodes
between steps wait here in a heap ordered by (time, event id), with event ids handed out in the
order the Python steps would take them, so SimPy's order and ids are unchanged; a placeholder
entry in SimPy's queue stands for the next of them while SimPy runs.  Every running sum (the
queues, waits per facility, fund and ledger spending, caps and deductibles, tallies) is added in
the same order with the same IEEE operations, on books shared with the Python steps.  The rules
are the ``models/`` functions the Python steps call, compiled as they are, or tables filled by
Care's own methods.  Under the payment reforms (总额预算, DRG/DIP, 按床日, 同病同付) the provider's
gains move with the community's stake (daily) and the DIP point price (yearly), which only the
Python day steps change, between compiled runs: their tables are refilled at the next run; the
assessment's part of keeping a referral moves with every visit and is computed in the loop from
the running tallies (``marginal_payback``).  Results are bit-identical (tests/test_compiled_steps.py,
benchmarks/table_hashes.py); benchmarks/issue15_speed.md has the design and the figures.
"""
from __future__ import annotations

from types import FunctionType

import numpy as np

from models.community import INDICATORS, LOWER, marginal_payback
from models.costs import lognormal_stay, normal_quantile
from models.episode import DECISION_DRAWS, MAX_VISITS, SERVICE_DRAWS
from models.incentives import KEEP_MOVES, departs, probability
from models.levers import LEVERS
from models.levers.day_surgery import is_day_case
from models.levers.family_doctor import family_doctor_referral
from models.levers.information import resolves_remotely
from models.levers.medicines import out_of_stock
from models.levers.payment import CASE, FEE_FOR_SERVICE, PER_DIEM
from models.records import EPISODE_COLUMNS, STAY_COLUMNS, VISIT_COLUMNS
from models.referral import TREAT_HERE, elsewhere_when_full, refers_down
from models.reimbursement import capped, fee_after_deductible, fee_share, inpatient_fee
from models.seeking import return_odds_factor, takes
from models.tiers import COUNTY, OUTSIDE
from sim.core.jit import njit
from sim.core.prefetch import prefetch
from sim.core.station import serve_in_bank, wait_in_bank
from sim.core.tables import DTYPES

COMPLETED, DECLINED = 0, 2  # episode status codes (models/episode.py)
HOURS_PER_DAY = 24.0
ADMISSION_DRAW, RETURN_DRAW = DECISION_DRAWS.admission, DECISION_DRAWS.return_visit

_inline = njit(cache=True, inline="always")  # a models/ rule compiled as it is, into the loop


def _calling_compiled(rule, name: str, callee):
    """``rule``'s own code, with its call of ``name`` going to ``callee`` compiled."""
    return FunctionType(rule.__code__, {**rule.__globals__, name: njit(cache=True)(callee)})


_fee_share = _inline(fee_share)
_capped = _inline(capped)
_fee_after_deductible = _inline(fee_after_deductible)
_takes = _inline(takes)
_return_odds_factor = _inline(return_odds_factor)
_lognormal_stay = _inline(_calling_compiled(lognormal_stay, "normal_quantile", normal_quantile))
_inpatient_fee = _inline(inpatient_fee)
_refers_down = _inline(refers_down)
_elsewhere_when_full = _inline(elsewhere_when_full)
_resolves_remotely = _inline(resolves_remotely)
_out_of_stock = _inline(out_of_stock)
_is_day_case = _inline(is_day_case)
_family_doctor_referral = _inline(family_doctor_referral)
_departs = _inline(_calling_compiled(departs, "probability", probability))
_marginal_payback = njit(cache=True)(marginal_payback)


def _records(columns: dict[str, str]) -> np.dtype:
    return np.dtype([(k, "<" + DTYPES[code]) for k, code in columns.items()])


VISIT_RECORD, EPISODE_RECORD, STAY_RECORD = _records(VISIT_COLUMNS), _records(EPISODE_COLUMNS), _records(STAY_COLUMNS)


# the levers whose effect on consultations and stays ``supports`` checks (those it lets through
# change only what the compiled steps read from Care's tables: costs, capacities, choice)
KNOWN_LEVERS = frozenset({"family_doctor", "payment", "capacity", "sinking", "information", "medicines", "prices",
                          "day_surgery", "tcm", "salary", "workforce", "chronic_centres"})


def supports(model) -> bool:
    """Whether this run's consultations and stays need only what the compiled steps do: no
    balking or queue sampling, and in every part of a phased plan only levers this module
    knows (the payment reforms included: global budget, assessment, DRG/DIP, per diem,
    same-payment)."""
    if model.balk is not None or model.sample_dt > 0 or any(s.track for s in (*model.doctors, *model.beds)):
        return False
    return all(_levers_known(v) for v in model.plan.variants)


def _levers_known(scenario) -> bool:
    """A lever added since goes to the Python steps until this module handles it (docs/extending.md)."""
    return all(getattr(scenario, lever.KEY) == lever.Spec() for lever in LEVERS if lever.KEY not in KNOWN_LEVERS)


# integer state (si) and float state (sf) of a compiled run, shared with CompiledSteps
I_NEXT, I_END, I_FORCED, I_MODE, I_EID, I_KN, I_NFREE, I_NV, I_NE, I_NS, I_STATUS, I_TIMEOUT_EID, I_HAS_YEAR, \
    I_HAS_LEDGER, I_PERCEIVE, I_SEEKING, I_QPRIO, I_QEID, I_HAS_CAP, I_HAS_CAP_IN, I_CONTINUOUS, I_HAS_STOCK, \
    I_YEARLY, I_ASSESSED, I_HAS_DIP, I_CLAIMED, I_PER_DIEM = range(27)
F_NOW, F_QTIME, F_TIMEOUT, F_CAP, F_TCM_BONUS, F_RETURN_DAYS, F_REPEAT_TESTS, F_CAP_IN, F_SIGMA, F_REHAB_MEAN, \
    F_REHAB_PER_DAY, F_TELE_SHARE, F_DAY_CASE_SHARE, F_DAY_CASE_LOS, F_KAPPA, F_TEAM_KAPPA, F_REFERRAL_SHARE, \
    F_ADMISSION_SHARE, F_STEP_DOWN_SHARE, F_STEP_DOWN_ELIGIBLE, F_SAME_PAYMENT_SHARE, F_PER_DIEM, F_WITHHELD, \
    F_DIP_PAID, F_FULL_WAIT = range(25)
PREFETCH_AHEAD = 4  # arrivals: a resident's books are asked for this many consultations before they are read
ARRIVALS, DRAIN = 0, 1  # modes: a run of a day's arrivals, or the pending steps due before SimPy's next event
DONE, WAIT, GROW, FLUSH = 0, 1, 2, 3  # why a compiled run returns
NORMAL_PRIORITY = 1  # simpy.events.NORMAL: every step of the pathway is scheduled with it
# day columns: floats (time, first consultation's duration) and ints
D_TIME, D_SVC = range(2)
D_VILLAGE, D_COND, D_SEV, D_ADMIT, D_CASE, D_RESIDENT, D_FIRST, D_CONTRACTED, D_TCM, D_SCHEDULED = range(10)
# an episode between consultations (a slot): floats, with its rows of draws, and ints
SVC_W, REF_W, LATER_W = SERVICE_DRAWS.width, DECISION_DRAWS.width, MAX_VISITS - 1
K_TIME, K_COST, K_FUND, K_OOP, K_DED_PAID, K_STEP_DOWN = range(6)  # a step's due time is kept by the heap
K_SVC_DRAWS = 6
K_REF_DRAWS = K_SVC_DRAWS + SVC_W
K_LATER = K_REF_DRAWS + REF_W
KF_WIDTH = K_LATER + LATER_W
K_FAC, K_VILLAGE, K_COND, K_SEV, K_CASE, K_RESIDENT, K_CONTRACTED, K_SCHEDULED, K_FIRST, K_UPS, K_VISITS, \
    K_RETURNED, K_ADMIT, K_KIND, K_DOWNS, K_STAYS, K_FD, K_SENT_ON = range(18)  # a step's event id is kept by the heap
KI_WIDTH = 18
VISIT, ADMISSION, REHABILITATION, ADMISSION_DOWN = 0, 1, 2, 3  # an episode's next step (K_KIND)
NOT_DOWN, REHAB, DOWNSHIFT = 0, 1, 2  # stays.down (sim/pathway.py)
FD_LOCAL_DRAW, KEEP_DRAW, WITHHOLD_DRAW = DECISION_DRAWS.fd_local, DECISION_DRAWS.keep_in_county, DECISION_DRAWS.withhold
STEP_DOWN_DRAW, SAME_PAYMENT_DRAW = DECISION_DRAWS.step_down, DECISION_DRAWS.same_payment
TCM_DRAW, STAY_DRAW, REHAB_DRAW = SERVICE_DRAWS.tcm, SERVICE_DRAWS.stay, SERVICE_DRAWS.rehab
DOWN_DRAW, TELE_DRAW, STOCK_DRAW, DAY_CASE_DRAW = DECISION_DRAWS.down, DECISION_DRAWS.telemedicine, \
    DECISION_DRAWS.stock, DECISION_DRAWS.day_surgery


# RUN_WITHOUT_NRT: ``_run`` is compiled without numba's reference counting (NRT).  It allocates
# nothing, and every array it touches is the caller's; but with NRT each step inlined from
# elsewhere (``serve_in_bank``, ``_spend``, ...) takes and drops a reference to every array it
# is given, an atomic increment and decrement (~7 ns each on a 2026 Xeon), about 15 for each
# consultation: a tenth of the engine benchmark's run.  Without NRT the steps are the same
# arithmetic on the same arrays, so results cannot change; an allocation added to the loop fails
# to compile rather than leak.


@njit(cache=True, inline="always")
def _before(t1, p1, e1, t2, p2, e2):
    """SimPy's event order: (time, priority, event id)."""
    return t1 < t2 or (t1 == t2 and (p1 < p2 or (p1 == p2 and e1 < e2)))


@njit(cache=True, inline="always")
def _k_push(heap, due, eid, si, slot, t, e):
    """Schedule the episode in ``slot`` at time ``t``, event id ``e``, among the pending ones.  The
    keys sit in the heap's own arrays beside the slots, so a comparison does not fetch a slot's
    row: in a big county those rows outgrow the processor's cache."""
    n = si[I_KN]
    si[I_KN] = n + 1
    while n > 0:
        parent = (n - 1) >> 1
        if not _before(t, NORMAL_PRIORITY, e, due[parent], NORMAL_PRIORITY, eid[parent]):
            break
        heap[n], due[n], eid[n] = heap[parent], due[parent], eid[parent]
        n = parent
    heap[n], due[n], eid[n] = slot, t, e


@njit(cache=True, inline="always")
def _k_pop(heap, due, eid, si):
    """The pending episode due first, and its due time (its slot stays taken)."""
    top, top_due = heap[0], due[0]
    n = si[I_KN] - 1
    si[I_KN] = n
    slot, t, e = heap[n], due[n], eid[n]
    j = 0
    while True:
        m = 2 * j + 1
        if m >= n:
            break
        if m + 1 < n and _before(due[m + 1], NORMAL_PRIORITY, eid[m + 1], due[m], NORMAL_PRIORITY, eid[m]):
            m += 1
        if not _before(due[m], NORMAL_PRIORITY, eid[m], t, NORMAL_PRIORITY, e):
            break
        heap[j], due[j], eid[j] = heap[m], due[m], eid[m]
        j = m
    heap[j], due[j], eid[j] = slot, t, e
    return top, top_due


@njit(cache=True, inline="always")
def _claimed(order, n, fac):
    """Whether ``fac`` is among the first ``n`` facilities of ``order`` (those with DIP claims this year)."""
    for j in range(n):
        if order[j] == fac:
            return True
    return False


@njit(cache=True, inline="always")
def _free(kfree, si, slot):
    kfree[si[I_NFREE]] = slot
    si[I_NFREE] += 1


@njit(cache=True, inline="always")
def _next(si, ki, kheap, kdue, keid, slot, kind, fac, due):
    """The episode's next step (a consultation, an admission, a rehabilitation stay) at ``fac``,
    at ``due``, with the next SimPy event id."""
    ki[slot, K_KIND], ki[slot, K_FAC] = kind, fac
    _k_push(kheap, kdue, keid, si, slot, due, si[I_EID])
    si[I_EID] += 1


@njit(cache=True, inline="always")
def _spend(si, kf, year, ledger_village, ledger_spent, slot, v, cost, fund, oop):
    """``Care.spend``: the episode's sums, the community's and the ledger's spending."""
    kf[slot, K_COST] += cost
    kf[slot, K_FUND] += fund
    kf[slot, K_OOP] += oop
    if si[I_HAS_YEAR]:
        year[0] += fund
    if si[I_HAS_LEDGER]:
        ledger_spent[ledger_village[v]] += fund


@njit(cache=True, inline="always")
def _finish(si, kf, ki, kfree, erows, slot, fac, when, status):
    """``CountyModel._finish``: the episode's row; its slot is free again."""
    ne = si[I_NE]
    re = erows[ne]
    re.time, re.village, re.condition, re.severity = kf[slot, K_TIME], ki[slot, K_VILLAGE], ki[slot, K_COND], \
        ki[slot, K_SEV]
    re.first, re.final, re.ups, re.downs, re.stays = ki[slot, K_FIRST], fac, ki[slot, K_UPS], ki[slot, K_DOWNS], \
        ki[slot, K_STAYS]
    re.cost, re.fund, re.oop = kf[slot, K_COST], kf[slot, K_FUND], kf[slot, K_OOP]
    re.contracted, re.finish, re.status, re.scheduled = ki[slot, K_CONTRACTED], when, status, ki[slot, K_SCHEDULED]
    si[I_NE] = ne + 1
    _free(kfree, si, slot)


@njit(cache=True, _nrt=False)  # no reference counts: see RUN_WITHOUT_NRT
def _run(si, sf, day_f, day_i, u_svc, u_ref, later, consult_days, tcm_by_case, free, servers, held, busy,
         fac_tier, visit_cost, tcm_visit_cost, visit_service, gatekept, sched_row, out_ded, out_rate, used_out,
         can, target_of, is_primary, travel_days, admission_odds, return_prob, return_asc,
         return_terms, return_oop, wait_sum, wait_n, seen, solved, year, ledger_village, ledger_spent,
         bed_free, bed_servers, bed_held, bed_busy, per_day, in_row, in_ded, in_rate, used_in, stay_service,
         down_prob, rehab_fac, overflow, fac_beds, in_stock, day_case_eligible, year_ded, pool_of_row, paid_primary,
         paid_hospital, fee_waived, emergency, mild_odds, sends_down, points, weights, targets, lower, keep_moves,
         dip_points, dip_order, stay_mean, team_gain, keep_value, admit_gain, step_down_gain, downshift_gain,
         case_fee, is_dip, kf, ki, kheap, kdue, keid, kfree, vrows, erows, srows):
    """Consultations and stays in SimPy's order: the first ones of the day's arrivals ``si[I_NEXT]`` ..
    ``si[I_END]`` (mode ARRIVALS) and the pending ones (referrals, return visits) due before
    them, or only the pending ones due before SimPy's next event (mode DRAIN).
    Sets ``si[I_STATUS]``: DONE, WAIT (the arrivals wait for SimPy's next event with a timeout
    at ``sf[F_TIMEOUT]``, event id ``si[I_TIMEOUT_EID]``), GROW (no free slot for another
    episode) or FLUSH (no room for more rows); ``si``/``sf`` keep what the next call goes on from.
    ``si[I_FORCED]``: 1 the next arrival goes ahead now, -1 it waits for its timeout.

    Each consultation is ``CountyModel._visit`` with ``Care.consult`` and the rules after it, for
    what ``supports`` allows; the episode then ends (its row is logged), waits in its slot for
    its next consultation (referral, return visit) or its stays.  The provider's gains
    (``Care._departs``) come from tables refilled whenever the stake or the DIP price changes,
    the assessment's part of keeping a referral from the running tallies."""
    status = DONE
    beta, scale, beta_hours = return_terms[0], return_terms[1], return_terms[2]
    while True:
        if si[I_NV] + 1 > len(vrows) or si[I_NE] + 1 > len(erows) or si[I_NS] + 1 > len(srows):
            status = FLUSH
            break
        pending = si[I_KN] > 0
        due_first = pending and _before(kdue[0], NORMAL_PRIORITY, keid[0], sf[F_QTIME], si[I_QPRIO],
                                        si[I_QEID])  # a pending consultation before SimPy's next event
        take_pending = True
        if si[I_MODE] == DRAIN:
            if not due_first:
                break
        else:
            i = si[I_NEXT]
            if i >= si[I_END]:
                break
            if si[I_NFREE] == 0:
                status = GROW
                break
            now, t, forced = sf[F_NOW], day_f[i, D_TIME], si[I_FORCED]
            if forced == 0 and t > now:
                kt = kdue[0] if pending else np.inf
                qt = sf[F_QTIME]
                if (kt if kt < qt else qt) > t:  # Clock.fast_forward: nothing due at or before t
                    sf[F_NOW] = t
                    forced = 1
                else:  # the arrivals wait with a Timeout(t - now); events before it happen first
                    sf[F_TIMEOUT], si[I_TIMEOUT_EID] = now + (t - now), si[I_EID]
                    si[I_EID] += 1
                    forced = si[I_FORCED] = -1
            elif forced == 0:
                forced = 1
            if forced == -1:
                deadline, deid = sf[F_TIMEOUT], si[I_TIMEOUT_EID]
                if not (due_first and _before(kdue[0], NORMAL_PRIORITY, keid[0], deadline,
                                              NORMAL_PRIORITY, deid)):
                    if _before(sf[F_QTIME], si[I_QPRIO], si[I_QEID], deadline, NORMAL_PRIORITY, deid):
                        status = WAIT  # SimPy has an event first: the caller yields the timeout
                        break
                    sf[F_NOW] = deadline  # the timeout is the next event: the arrival goes ahead
                    si[I_FORCED] = 1
                    continue
            else:
                take_pending = False
        if take_pending:  # the pending step due first
            slot, now = _k_pop(kheap, kdue, keid, si)
            sf[F_NOW] = now
            if ki[slot, K_KIND] != VISIT:  # CountyModel._admit, _admit_down or _rehab
                fac = ki[slot, K_FAC]
                tier, v, c, k = fac_tier[fac], ki[slot, K_VILLAGE], ki[slot, K_COND], ki[slot, K_CASE]
                kind = ki[slot, K_KIND]
                if kind == ADMISSION and tier == COUNTY and sf[F_SAME_PAYMENT_SHARE] > 0 and sends_down[c] \
                        and _departs(kf[slot, K_REF_DRAWS + SAME_PAYMENT_DRAW], sf[F_SAME_PAYMENT_SHARE],
                                     downshift_gain[k], sf[F_KAPPA]):  # Care.downshift
                    rf = rehab_fac[v]
                    if rf != TREAT_HERE and can[rf, k]:
                        ki[slot, K_DOWNS] += 1
                        _next(si, ki, kheap, kdue, keid, slot, ADMISSION_DOWN, rf, now + travel_days[v, rf])
                        continue
                nxt = overflow[fac, k]
                if kind == ADMISSION and nxt != TREAT_HERE:  # Care.elsewhere_when_full
                    if _elsewhere_when_full(nxt, wait_in_bank(bed_free, bed_servers, bed_held, fac, now,
                                                              ki[slot, K_FD] != 0), sf[F_FULL_WAIT]):
                        if fac_tier[nxt] == OUTSIDE:
                            ki[slot, K_UPS] += 1
                        ki[slot, K_SENT_ON] = 1
                        _next(si, ki, kheap, kdue, keid, slot, ADMISSION, nxt, now + travel_days[v, nxt])
                        continue
                acute = kind != REHABILITATION
                fee, payment = 0.0, FEE_FOR_SERVICE
                if acute:  # Care.acute_stay
                    down = DOWNSHIFT if kind == ADMISSION_DOWN else NOT_DOWN
                    if _is_day_case(tier, day_case_eligible[c], kf[slot, K_REF_DRAWS + DAY_CASE_DRAW],
                                    sf[F_DAY_CASE_SHARE]):
                        los = sf[F_DAY_CASE_LOS]
                    else:
                        los = _lognormal_stay(stay_mean[tier, k], sf[F_SIGMA], kf[slot, K_SVC_DRAWS + STAY_DRAW])
                        if tier == COUNTY and not _refers_down(tier, kf[slot, K_REF_DRAWS + DOWN_DRAW], down_prob[c]) \
                                and rehab_fac[v] != TREAT_HERE \
                                and _departs(kf[slot, K_REF_DRAWS + STEP_DOWN_DRAW], sf[F_STEP_DOWN_ELIGIBLE],
                                             step_down_gain[k], sf[F_KAPPA]):  # Care._steps_down
                            kf[slot, K_STEP_DOWN] = los * sf[F_STEP_DOWN_SHARE]
                            los -= kf[slot, K_STEP_DOWN]
                    fee = case_fee[tier, k]
                    if not np.isnan(fee):
                        payment = CASE
                        if is_dip[tier, k]:  # Community.claim_points (the fee is the points at the price)
                            if not _claimed(dip_order, si[I_CLAIMED], fac):
                                dip_order[si[I_CLAIMED]] = fac
                                si[I_CLAIMED] += 1
                            dip_points[fac] += points[k]
                            sf[F_DIP_PAID] += fee
                    cost = per_day[tier, k] * los
                else:  # Care.rehab_stay
                    if kf[slot, K_STEP_DOWN] > 0:
                        los = kf[slot, K_STEP_DOWN]
                    else:
                        los = _lognormal_stay(sf[F_REHAB_MEAN], sf[F_SIGMA], kf[slot, K_SVC_DRAWS + REHAB_DRAW])
                    if si[I_PER_DIEM]:
                        fee, payment = sf[F_PER_DIEM] * los, PER_DIEM
                    cost, down = sf[F_REHAB_PER_DAY] * los, REHAB
                # ---- CountyModel._stay and Care.stay_bill
                wait = serve_in_bank(bed_free, bed_servers, bed_held, bed_busy, fac, now, los, ki[slot, K_FD] != 0)
                referred = ki[slot, K_UPS] > 0 or down != NOT_DOWN
                r = in_row[1 if referred else 0, gatekept[c], tier]
                fund, charged = _inpatient_fee(cost, in_ded[r], in_rate[r], kf[slot, K_DED_PAID],
                                               si[I_CONTINUOUS] != 0 and referred)
                if si[I_HAS_CAP_IN]:
                    fund = _capped(fund, ki[slot, K_RESIDENT], used_in, sf[F_CAP_IN])
                oop = cost - fund
                if payment != FEE_FOR_SERVICE:  # the fund pays the fixed fee; the patient by the usual rules
                    fund = fee
                kf[slot, K_DED_PAID] += charged
                _spend(si, kf, year, ledger_village, ledger_spent, slot, v, cost, fund, oop)
                ki[slot, K_STAYS] += 1
                ns = si[I_NS]
                rs = srows[ns]
                rs.fac, rs.time, rs.wait, rs.los, rs.cost, rs.fund, rs.oop = fac, now, wait, los, cost, fund, oop
                rs.service_revenue, rs.down, rs.referred = cost * stay_service[tier, c], down, referred
                rs.contracted, rs.family_doctor, rs.payment = ki[slot, K_CONTRACTED], ki[slot, K_FD], payment
                rs.sent_on, ki[slot, K_SENT_ON] = ki[slot, K_SENT_ON], 0
                si[I_NS] = ns + 1
                end = now + wait + los
                if acute and (kf[slot, K_STEP_DOWN] > 0 or _refers_down(tier, kf[slot, K_REF_DRAWS + DOWN_DRAW],
                                                                          down_prob[c])) \
                        and rehab_fac[v] != TREAT_HERE:  # Care.rehab_after
                    ki[slot, K_DOWNS] += 1
                    _next(si, ki, kheap, kdue, keid, slot, REHABILITATION, rehab_fac[v], now + (end - now))
                    continue
                _finish(si, kf, ki, kfree, erows, slot, fac, end, COMPLETED)
                continue
            fac, k = ki[slot, K_FAC], ki[slot, K_VISITS]
            svc = consult_days[fac] * kf[slot, K_LATER + k - 1]
            tcm = 1 if kf[slot, K_SVC_DRAWS + TCM_DRAW + k] < tcm_by_case[fac, ki[slot, K_CASE]] else 0  # Tcm.visit
        else:  # arrival i becomes an episode in a free slot, with its first consultation now
            si[I_FORCED] = 0
            slot = kfree[si[I_NFREE] - 1]
            si[I_NFREE] -= 1
            now, fac, svc, tcm = sf[F_NOW], day_i[i, D_FIRST], day_f[i, D_SVC], day_i[i, D_TCM]
            kf[slot, K_TIME], kf[slot, K_COST], kf[slot, K_FUND], kf[slot, K_OOP] = day_f[i, D_TIME], 0.0, 0.0, 0.0
            for j in range(SVC_W):
                kf[slot, K_SVC_DRAWS + j] = u_svc[i, j]
            for j in range(REF_W):
                kf[slot, K_REF_DRAWS + j] = u_ref[i, j]
            for j in range(LATER_W):
                kf[slot, K_LATER + j] = later[i, j]
            ki[slot, K_VILLAGE], ki[slot, K_COND], ki[slot, K_SEV] = day_i[i, D_VILLAGE], day_i[i, D_COND], \
                day_i[i, D_SEV]
            ki[slot, K_CASE], ki[slot, K_RESIDENT] = day_i[i, D_CASE], day_i[i, D_RESIDENT]
            ki[slot, K_CONTRACTED], ki[slot, K_SCHEDULED] = day_i[i, D_CONTRACTED], day_i[i, D_SCHEDULED]
            ki[slot, K_FIRST], ki[slot, K_ADMIT] = day_i[i, D_FIRST], day_i[i, D_ADMIT]
            ki[slot, K_UPS], ki[slot, K_VISITS], ki[slot, K_RETURNED] = 0, 0, 0
            ki[slot, K_DOWNS], ki[slot, K_STAYS], ki[slot, K_FD], kf[slot, K_DED_PAID] = 0, 0, 0, 0.0
            ki[slot, K_SENT_ON] = 0
            kf[slot, K_STEP_DOWN] = 0.0
            si[I_NEXT] = i + 1
            ahead = i + PREFETCH_AHEAD
            if ahead < si[I_END]:  # that arrival's books (a big county's do not stay in cache) start loading
                resident = day_i[ahead, D_RESIDENT]
                if si[I_HAS_CAP]:
                    prefetch(used_out, resident)
                if si[I_YEARLY]:
                    prefetch(paid_primary, resident)
                    prefetch(paid_hospital, resident)
        sf[F_NOW] = now
        # ---- CountyModel._visit
        visits = ki[slot, K_VISITS]
        if visits < MAX_VISITS - 1:
            visits += 1
            ki[slot, K_VISITS] = visits
        wait = serve_in_bank(free, servers, held, busy, fac, now, svc, ki[slot, K_FD] != 0)
        referred_in = ki[slot, K_UPS] > 0
        # ---- Care.consult
        wait_sum[fac] += wait
        wait_n[fac] += 1
        tier, v, c, k = fac_tier[fac], ki[slot, K_VILLAGE], ki[slot, K_COND], ki[slot, K_CASE]
        base = tcm_visit_cost[tier, k] if tcm else visit_cost[tier, k]
        cost = base * (1.0 + sf[F_REPEAT_TESTS]) if referred_in else base
        gk = gatekept[c]
        referred = 1 if referred_in else 0
        r = sched_row[referred, gk, tier]
        if ki[slot, K_CONTRACTED] and fee_waived[tier]:  # capitation already paid: no fee, cap untouched
            fund = 0.0
            oop = cost - _fee_share(cost, out_ded[r], out_rate[r])
        else:
            if si[I_YEARLY]:  # Reimbursement.outpatient with a yearly deductible (年度门诊起付线)
                fund = _fee_after_deductible(cost, ki[slot, K_RESIDENT],
                                             paid_primary if pool_of_row[r] == 0 else paid_hospital, year_ded[r],
                                             out_rate[r])
            else:
                fund = _fee_share(cost, out_ded[r], out_rate[r])
            if si[I_HAS_CAP]:
                fund = _capped(fund, ki[slot, K_RESIDENT], used_out, sf[F_CAP])
            if tcm and sf[F_TCM_BONUS] != 0.0:
                fund = min(cost, fund + sf[F_TCM_BONUS] * cost)
            oop = cost - fund
        _spend(si, kf, year, ledger_village, ledger_spent, slot, v, cost, fund, oop)
        target, tele, stockout = TREAT_HERE, False, False
        if not can[fac, k]:
            target = target_of[v, tier, k]
            if target != TREAT_HERE and (ki[slot, K_ADMIT] == 0 or fac_beds[fac] != 0):  # Care._keep_here
                if _resolves_remotely(tier, kf[slot, K_REF_DRAWS + TELE_DRAW], sf[F_TELE_SHARE]):
                    target, tele = TREAT_HERE, True
                elif tier == COUNTY and fac_tier[target] == OUTSIDE:  # the community keeps it in the county
                    assessed = si[I_ASSESSED] != 0 and si[I_HAS_YEAR] != 0
                    gain = keep_value[k, ki[slot, K_ADMIT]] + (
                        _marginal_payback(sf[F_WITHHELD], year[1:], keep_moves, weights, targets, lower) if assessed
                        else 0.0)
                    if _departs(kf[slot, K_REF_DRAWS + KEEP_DRAW], sf[F_REFERRAL_SHARE], gain, sf[F_KAPPA]):
                        target = TREAT_HERE
                elif ki[slot, K_CONTRACTED] and is_primary[tier] and \
                        _departs(kf[slot, K_REF_DRAWS + FD_LOCAL_DRAW], sf[F_REFERRAL_SHARE],
                                 team_gain[fac_tier[target], k], sf[F_TEAM_KAPPA]):
                    target = TREAT_HERE  # the capitated team manages its contracted resident itself
        elif si[I_HAS_STOCK] and _out_of_stock(kf[slot, K_REF_DRAWS + STOCK_DRAW + visits - 1], in_stock[fac, c]):
            target = target_of[v, tier, k]  # the medicine is missing: sent up the referral chain
            stockout = target != TREAT_HERE
        elif tier == COUNTY and ki[slot, K_SEV] == 0 and not emergency[c]:  # Care._marginal_admission
            u = kf[slot, K_REF_DRAWS + WITHHOLD_DRAW]
            if ki[slot, K_ADMIT]:
                if _departs(u, sf[F_ADMISSION_SHARE], -admit_gain[k], sf[F_KAPPA]):
                    ki[slot, K_ADMIT] = 0
            else:
                admitted = k | 1
                odds = mild_odds[c]
                if odds > 0 and can[fac, admitted] and fac_beds[fac] != 0 \
                        and _departs(u, sf[F_ADMISSION_SHARE] * odds, admit_gain[admitted], sf[F_KAPPA]):
                    ki[slot, K_ADMIT], ki[slot, K_CASE], k = 1, admitted, admitted
        referred_out = target != TREAT_HERE
        if si[I_HAS_YEAR]:  # Community.count_visit
            year[1] += 1.0
            year[2] += 1.0 if tier != OUTSIDE else 0.0
            year[3] += 1.0 if is_primary[tier] else 0.0
            year[4] += 1.0 if referred_out else 0.0
        if si[I_PERCEIVE] and visits == 1 and not referred_in:
            seen[fac] += 1
            if not referred_out:
                solved[fac] += 1
        nv = si[I_NV]
        rv = vrows[nv]
        rv.fac, rv.village, rv.time, rv.wait, rv.service = fac, v, now, wait, svc
        rv.cost, rv.fund, rv.oop, rv.service_revenue = cost, fund, oop, base * visit_service[tier, c]
        rv.referred_out, rv.referred_in, rv.family_doctor, rv.tcm = referred_out, referred_in, ki[slot, K_FD], tcm
        rv.telemedicine, rv.contracted, rv.stockout = tele, ki[slot, K_CONTRACTED], stockout
        si[I_NV] = nv + 1
        # ---- what follows the consultation
        done = wait + svc
        status_end = COMPLETED
        if referred_out:  # Care.referred_up
            ki[slot, K_UPS] += 1
            if _family_doctor_referral(tier, ki[slot, K_CONTRACTED] != 0):
                ki[slot, K_FD] = 1
            _next(si, ki, kheap, kdue, keid, slot, VISIT, target, now + (done + travel_days[v, target]))
            continue
        if ki[slot, K_ADMIT]:
            if _takes(kf[slot, K_REF_DRAWS + ADMISSION_DRAW], admission_odds[referred, tier, k]):
                _next(si, ki, kheap, kdue, keid, slot, ADMISSION, fac, now + done)
                continue
            status_end = DECLINED
        elif not ki[slot, K_RETURNED]:  # Care.asks_back
            u, p = kf[slot, K_REF_DRAWS + RETURN_DRAW], return_prob[tier]
            if u < p:
                comes = True
                if si[I_SEEKING]:
                    odds = _return_odds_factor(return_asc[tier], beta, scale, beta_hours,
                                               return_oop[referred, gk, tier, k],
                                               travel_days[v, fac] * HOURS_PER_DAY)  # Care.asks_back's hours
                    comes = _takes(u / p, odds)
                if comes:
                    ki[slot, K_RETURNED] = 1
                    _next(si, ki, kheap, kdue, keid, slot, VISIT, fac, now + (done + sf[F_RETURN_DAYS]))
                    continue
        _finish(si, kf, ki, kfree, erows, slot, fac, now + done, status_end)
    si[I_STATUS] = status


class CompiledSteps:
    """The compiled consultations of one run, with the tables and books they share with the
    Python steps of ``CountyModel``."""

    CAPACITY = 1024  # episodes between consultations to make room for at first (doubled when short)

    def __init__(self, model, doctors, beds):
        self.model, self.doctors, self.beds = model, doctors, beds
        care = model.care
        # the books both paths add to, in event order: numpy arrays from now on
        care._wait_sum = np.array(care._wait_sum, dtype=np.float64)
        care._wait_n = np.array(care._wait_n, dtype=np.int64)
        perceptions = care.perceptions
        if perceptions is not None:
            perceptions._seen = np.array(perceptions._seen, dtype=np.int64)
            perceptions._solved = np.array(perceptions._solved, dtype=np.int64)
        self.year = np.zeros(5)  # the community year's spending and visit tallies, copied in and out
        self.ledger = np.zeros(len(care.ledger.names))
        self.si, self.sf = np.zeros(I_PER_DIEM + 1, dtype=np.int64), np.zeros(F_FULL_WAIT + 1)
        n_fac = care.county.n_facilities
        self.dip_points, self.dip_order = np.zeros(n_fac), np.zeros(n_fac, dtype=np.int64)  # the year's DIP claims
        self.refresh()
        self._slots(self.CAPACITY)
        self.day(np.zeros(0), np.zeros((0, 10), dtype=np.int64), np.zeros((0, SVC_W)), np.zeros((0, REF_W)),
                 np.zeros((0, LATER_W)))
        self.drain_call = self._drain  # one bound method: placeholders are recognised by it
        self.placed: set[int] = set()  # event ids of the pending consultations with a placeholder in SimPy's queue

    def refresh(self) -> None:
        """The rules' tables from the county's current Care (at the start, and when a phased plan
        or pooled staff change them) and the stations' current arrays."""
        care, doctors, beds = self.model.care, self.doctors, self.beds
        pay, response = care.pay, care.response
        specs = [getattr(care.scenario.payment.assessment, k) for k in INDICATORS]
        n_tiers, n_cases = len(care.visit_cost), len(care.visit_cost[0])
        used_out = np.frombuffer(pay._used_out, dtype=np.float64) if pay._used_out is not None else np.zeros(1)
        used_in = np.frombuffer(pay._used_in, dtype=np.float64) if pay._used_in is not None else np.zeros(1)
        referred = (False, True)
        admission_odds = np.array([[[care.admission_odds(t, k, r) for k in range(n_cases)] for t in range(n_tiers)]
                                   for r in referred])
        return_oop = np.array([[[[care.return_oop(t, k, r, g) for k in range(n_cases)] for t in range(n_tiers)]
                                for g in (False, True)] for r in referred])
        perceptions = care.perceptions
        seen, solved = (perceptions._seen, perceptions._solved) if perceptions is not None else \
            (np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64))
        self.shared = (
            np.asarray(care.consult_days, dtype=np.float64), np.asarray(care.tcm._by_case, dtype=np.float64),
            doctors.free, doctors.servers, doctors.held, doctors.busy,
            np.asarray(care.fac_tier, dtype=np.int64), np.asarray(care.visit_cost, dtype=np.float64),
            np.asarray(care.tcm_visit_cost, dtype=np.float64), np.asarray(care.visit_service, dtype=np.float64),
            np.asarray(care.gatekept_by_condition, dtype=np.int64),
            np.asarray(pay._rows, dtype=np.int64),  # schedule row [referred][gatekept][tier]
            np.asarray(pay.out_ded, dtype=float), np.asarray(pay.out_rate, dtype=float), used_out,
            np.asarray(care.can, dtype=np.bool_), np.asarray(care.target, dtype=np.int64),
            np.asarray(care.is_primary, dtype=np.bool_), np.asarray(care.travel_days, dtype=np.float64),
            admission_odds, np.asarray(care.provider.return_prob, dtype=np.float64),
            np.asarray(care.seeking.return_asc, dtype=np.float64),
            np.asarray(care.seeking.return_terms, dtype=np.float64), return_oop,
            care._wait_sum, care._wait_n, seen, solved, self.year, np.asarray(care.ledger.village, dtype=np.int64),
            self.ledger, beds.free, beds.servers, beds.held, beds.busy,
            np.asarray(care.per_day, dtype=np.float64),
            np.array([[[pay._row(t, r, g) for t in range(n_tiers)] for g in (False, True)] for r in referred]),
            np.asarray(pay.in_ded, dtype=float), np.asarray(pay.in_rate, dtype=float), used_in,
            np.asarray(care.stay_service, dtype=np.float64), np.asarray(care.referral.down_prob, dtype=np.float64),
            np.array([care.referral.rehab_facility(care.county, v) for v in range(care.county.n_villages)],
                     dtype=np.int64),
            np.asarray(care.overflow, dtype=np.int64),
            np.asarray(care.county.fac_beds, dtype=np.int64),
            np.asarray(care.in_stock if care.in_stock is not None else np.ones((1, 1)), dtype=np.float64),
            np.asarray(care.day_surgery.eligible, dtype=np.int64),
            np.asarray(pay.year_ded, dtype=np.float64), np.asarray(pay.pool, dtype=np.int64),
            *(np.frombuffer(paid, dtype=np.float64) for paid in (pay._ded_paid or (np.zeros(1), np.zeros(1)))),
            np.array([t in care.fee_waived_tiers for t in range(n_tiers)], dtype=np.bool_),
            np.asarray(care.emergency, dtype=np.bool_), np.asarray(care.mild_admission_odds, dtype=np.float64),
            np.asarray(care.case_payment.downshift or [False] * len(care.emergency), dtype=np.bool_),
            np.asarray(response.points or [0.0] * n_cases, dtype=np.float64),
            *(np.array([getattr(s, name) for s in specs], dtype=dtype)
              for name, dtype in (("weight", np.float64), ("target", np.float64))),
            np.array(LOWER, dtype=np.bool_), np.array(KEEP_MOVES, dtype=np.float64),
            self.dip_points, self.dip_order)
        spec = care.response_spec
        self.si[I_ASSESSED], self.si[I_HAS_DIP] = care.community.assessment is not None, response.points is not None
        self.si[I_PER_DIEM] = response.per_diem is not None
        self.sf[F_PER_DIEM] = response.per_diem if response.per_diem is not None else 0.0
        self.sf[F_KAPPA], self.sf[F_TEAM_KAPPA] = response.kappa, response.team_kappa
        self.sf[F_REFERRAL_SHARE], self.sf[F_ADMISSION_SHARE] = spec.discretionary_referral_share, \
            spec.discretionary_admission_share
        self.sf[F_STEP_DOWN_SHARE], self.sf[F_STEP_DOWN_ELIGIBLE] = spec.step_down_share, spec.step_down_eligible_share
        self.sf[F_SAME_PAYMENT_SHARE] = care.case_payment.eligible_share
        self.sf[F_FULL_WAIT] = care.full_bed_wait
        self._gains_for = None
        self._refresh_gains()
        self.si[I_HAS_CAP], self.si[I_PERCEIVE] = pay.cap_out is not None, perceptions is not None
        self.si[I_SEEKING] = care.seeking.enabled
        self.sf[F_CAP] = pay.cap_out if pay.cap_out is not None else 0.0
        self.sf[F_TCM_BONUS], self.sf[F_RETURN_DAYS] = care.tcm.bonus, care.provider.return_days
        self.sf[F_REPEAT_TESTS] = care.repeat_tests
        self.si[I_HAS_CAP_IN], self.si[I_CONTINUOUS] = pay.cap_in is not None, pay.continuous
        self.sf[F_CAP_IN] = pay.cap_in if pay.cap_in is not None else 0.0
        self.sf[F_SIGMA] = care.costs.los_sigma
        self.sf[F_REHAB_PER_DAY] = care.costs.rehab_per_day
        self.si[I_HAS_STOCK], self.si[I_YEARLY] = care.in_stock is not None, pay.yearly
        self.sf[F_TELE_SHARE] = care.information.telemedicine_share
        self.sf[F_DAY_CASE_SHARE], self.sf[F_DAY_CASE_LOS] = care.day_surgery.share, care.day_surgery.los

    def _refresh_gains(self) -> None:
        """What the provider's departures gain (ProviderResponse, per case) and the stays' means
        and fixed fees: they move with the community's stake (daily) and the DIP point price
        (yearly), which the Python steps change between compiled runs; refilled when they did."""
        care = self.model.care
        r, community = care.response, care.community
        key = (r, community.stake, community.dip_price)
        if key == self._gains_for:
            return
        self._gains_for = key
        n_tiers, n_cases = len(care.visit_cost), len(care.visit_cost[0])
        tiers, cases = range(n_tiers), range(n_cases)
        fees = [[r.case_fee(t, k) for k in cases] for t in tiers]
        self.gains = (
            np.array([[m * r.los_factor(t, k) for k, m in enumerate(row)]  # Care.acute_stay's mean
                      for t, row in enumerate(care.los_mean)]),
            np.array([[r.team_gain(t, k, bool(k % 2)) for k in cases] for t in tiers]),
            np.array([[r.keep_value(k, admit) for admit in (False, True)] for k in cases]),
            *(np.array([gain(k) for k in cases]) for gain in (r.admit_gain, r.step_down_gain, r.downshift_gain)),
            np.array([[np.nan if f is None else f for f in row] for row in fees]),
            np.array([[r.is_dip(t, k) for k in cases] for t in tiers], dtype=np.bool_))
        self.sf[F_REHAB_MEAN] = care.costs.rehab_days * r.rehab_los_factor()  # Care.rehab_stay's mean

    def _slots(self, capacity: int) -> None:
        """Room for ``capacity`` episodes between consultations (those there keep their slots)."""
        n_old = len(getattr(self, "kheap", ()))
        kf, ki = np.zeros((capacity, KF_WIDTH)), np.zeros((capacity, KI_WIDTH), dtype=np.int64)
        heap, free = np.zeros(capacity, dtype=np.int64), np.zeros(capacity, dtype=np.int64)
        due, eid = np.zeros(capacity), np.zeros(capacity, dtype=np.int64)  # the heap's keys, beside it
        n_free = int(self.si[I_NFREE])
        if n_old:
            kf[:n_old], ki[:n_old], heap[:n_old], free[:n_free] = self.kf, self.ki, self.kheap, self.kfree[:n_free]
            due[:n_old], eid[:n_old] = self.kdue, self.keid
        added = np.arange(capacity - 1, n_old - 1, -1, dtype=np.int64)
        free[n_free:n_free + len(added)] = added
        self.kf, self.ki, self.kheap, self.kdue, self.keid, self.kfree = kf, ki, heap, due, eid, free
        self.si[I_NFREE] = n_free + len(added)

    def day(self, time, columns, u_svc, u_ref, later) -> None:
        """A day's arrivals, typed for the compiled step: times, the int ``columns`` (D_*) and
        their rows of draws."""
        n = len(time)
        day_f = np.empty((n, 2))
        day_f[:, D_TIME] = time
        self.day_f, self.day_i = day_f, columns
        self.u_svc, self.u_ref = np.ascontiguousarray(u_svc, dtype=np.float64), np.ascontiguousarray(u_ref)
        self.later = np.ascontiguousarray(later, dtype=np.float64)
        self._room()

    def _room(self) -> None:
        """Rows for whatever one compiled run can log: the day's arrivals and every pending episode."""
        room = len(self.day_f) + len(self.kheap) + 16
        if len(getattr(self, "vrows", ())) < room:
            self.vrows, self.erows = np.zeros(room, VISIT_RECORD), np.zeros(room, EPISODE_RECORD)
            self.srows = np.zeros(room, STAY_RECORD)

    def arrivals(self, b, first, is_contracted, svc0, tcm0, scheduled, cases, u_svc, u_ref, later, m: int) -> None:
        """The day's first ``m`` arrivals are to be seen (columns as ``CountyModel._arrivals`` has them)."""
        cols = np.empty((len(b), 10), dtype=np.int64)
        for c, values in ((D_VILLAGE, b.village), (D_COND, b.condition), (D_SEV, b.severity), (D_ADMIT, b.admit),
                          (D_CASE, cases), (D_RESIDENT, b.resident), (D_FIRST, first), (D_CONTRACTED, is_contracted),
                          (D_TCM, tcm0), (D_SCHEDULED, scheduled)):
            cols[:, c] = values
        self.day(b.time, cols, u_svc, u_ref, later)
        self.day_f[:, D_SVC] = svc0
        self.si[I_NEXT], self.si[I_END], self.si[I_FORCED] = 0, m, 0

    def resumed(self) -> None:
        """The clock has reached the timeout the arrivals waited for: the next arrival goes ahead."""
        self.si[I_FORCED] = 1

    def run(self, mode: int) -> int:
        """One compiled run from the clock's present state: rows are logged, the books written
        back, admissions scheduled for the Python steps and the clock moved on.  Returns the
        status (DONE, WAIT, GROW, FLUSH)."""
        model, care, env, si, sf = self.model, self.model.care, self.model.env, self.si, self.sf
        if si[I_STATUS] == GROW:  # the last run found no free slot
            self._slots(2 * len(self.kheap))
            self._room()
        years = care.community.years
        y = years[-1] if years else None
        if y is not None:
            book = self.year
            book[0], book[1], book[2], book[3], book[4] = y.spent, y.visits, y.visits_in_county, y.visits_primary, \
                y.referred_up
        spent = care.ledger._spent
        if spent is not None:
            self.ledger[:] = spent
        self._refresh_gains()
        dip = y is not None and si[I_HAS_DIP] != 0
        if dip:  # Community.claim_points' books, in the order facilities first claimed
            self.dip_points[:] = 0.0
            claimed = list(y.dip_points)
            self.dip_order[:len(claimed)] = claimed
            self.dip_points[claimed] = list(y.dip_points.values())
            si[I_CLAIMED], sf[F_DIP_PAID] = len(claimed), y.dip_paid
        if y is not None:
            sf[F_WITHHELD] = y.withheld
        head = env.head()
        while head is not None and getattr(head[3], "fn", None) is self.drain_call:
            env.drop_head()  # the consultations a placeholder stands for are run here, in order
            self.placed.discard(head[2])
            head = env.head()
        si[I_MODE] = mode
        si[I_EID], si[I_NV], si[I_NE], si[I_NS] = env.take_event_id(), 0, 0, 0
        si[I_HAS_YEAR], si[I_HAS_LEDGER] = y is not None, spent is not None
        if head is None:
            sf[F_QTIME], si[I_QPRIO], si[I_QEID] = np.inf, NORMAL_PRIORITY, 0
        else:
            sf[F_QTIME], si[I_QPRIO], si[I_QEID] = head[0], head[1], head[2]
        sf[F_NOW] = env.now
        _run(si, sf, self.day_f, self.day_i, self.u_svc, self.u_ref, self.later, *self.shared, *self.gains,
             self.kf, self.ki, self.kheap, self.kdue, self.keid, self.kfree, self.vrows, self.erows, self.srows)
        env.resume_event_ids(int(si[I_EID]))
        if y is not None:
            book = self.year
            y.spent = float(book[0])
            y.visits, y.visits_in_county, y.visits_primary, y.referred_up = int(book[1]), int(book[2]), \
                int(book[3]), int(book[4])
        if spent is not None:
            spent[:] = self.ledger.tolist()
        if dip:
            y.dip_points = {int(f): float(self.dip_points[f]) for f in self.dip_order[:si[I_CLAIMED]]}
            y.dip_paid = float(sf[F_DIP_PAID])
        if si[I_NV]:
            model.add_visit(self.vrows[:si[I_NV]].tobytes())
        if si[I_NS]:
            model.add_stay(self.srows[:si[I_NS]].tobytes())
        if si[I_NE]:
            model.add_episode(self.erows[:si[I_NE]].tobytes())
        env.move_to(float(sf[F_NOW]))
        return int(si[I_STATUS])

    @property
    def timeout(self) -> tuple[float, int]:
        return float(self.sf[F_TIMEOUT]), int(self.si[I_TIMEOUT_EID])

    def detach(self) -> None:
        """The run is over: let go of the model, which holds these steps (a reference cycle)."""
        self.model = None

    def run_simpy_step(self) -> bool:
        """The arrivals wait for a timeout and SimPy's next event comes first: if it is a pathway
        step (an admission, a stay's end), make it here (True) rather than yield; a placeholder is
        dropped, as the compiled run makes its consultations itself.  The timeout keeps its event
        id, so every later event's id is as if it had been made."""
        placed = self.model.env.head()
        if not self.model.env.run_next_call(self.drain_call):
            return False
        self.placed.discard(placed[2])
        return True

    def hand_to_simpy(self) -> None:
        """Before SimPy runs other events: a placeholder at the next pending consultation's time
        and event id, so it (and any due before SimPy's next event) happens in order."""
        if self.si[I_KN] > 0:
            eid = int(self.keid[0])
            if eid not in self.placed:  # one placeholder per consultation: SimPy's entries must differ
                self.placed.add(eid)
                self.model.env.call_at(float(self.kdue[0]), eid, self.drain_call, eid, None)

    def _drain(self, eid: int, _) -> None:
        """A placeholder's turn: the pending consultations due before SimPy's next event."""
        self.placed.discard(eid)
        while self.run(DRAIN) in (FLUSH, GROW):
            pass
        self.hand_to_simpy()
