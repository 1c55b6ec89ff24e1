"""Reimbursement (医保报销): cost → insurance-fund payment and out-of-pocket payment.

Per tier: outpatient and inpatient rates applied above a deductible (起付线); annual fund caps
per resident (and, optionally, a yearly outpatient deductible, 年度门诊起付线); self-referred (unreferred) out-of-county care is paid at the lower
``outside_unreferred`` schedule.  Under gatekeeping (首诊在基层, ``referral.gatekeeping``) county
care for a listed condition without a referral is paid at ``county_unreferred`` (when set): the
rule is enforced by price, so bypassing primary care is a choice with a cost.
"""
from __future__ import annotations

from array import array
from typing import TYPE_CHECKING

import numpy as np

from models.tiers import PRIMARY_TIERS, TIERS

if TYPE_CHECKING:
    from models.scenario import ReimbursementSpec


OUTSIDE = TIERS.index("outside")
COUNTY = TIERS.index("county")


def fee_share(cost: float, deductible: float, rate: float) -> float:
    """The fund's share of a visit's ``cost`` above a per-visit ``deductible``.  Plain arithmetic
    on floats, so ``sim/compiled_steps.py`` compiles this same function for its consultations."""
    fee = cost - deductible
    return (0.0 if 0.0 > fee else fee) * rate  # max(fee, 0.0) without the call


def inpatient_fee(cost: float, deductible: float, rate: float, deductible_paid: float,
                  continuous: bool) -> tuple[float, float]:
    """(the fund's share of a stay before any annual cap, deductible charged).  With the
    continuous deductible (``continuous``: 连续计算起付线, a referred patient) only the part above
    what the episode already paid is due.  Compiled as is by ``sim/compiled_steps.py``."""
    if continuous:
        deductible = max(deductible - deductible_paid, 0.0)
    return max(cost - deductible, 0.0) * rate, min(deductible, cost)


def fee_after_deductible(cost: float, resident: int, paid, deductible: float, rate: float) -> float:
    """The fund's share of a visit that first pays what is left of the resident's yearly
    ``deductible`` (``paid``: every resident's payments towards it this year, charged here);
    compiled as is by ``sim/compiled_steps.py``."""
    left = deductible - paid[resident]
    charged = 0.0 if left <= 0.0 else (cost if cost < left else left)
    paid[resident] += charged
    return (cost - charged) * rate


def capped(fund: float, resident: int, used, cap: float) -> float:
    """``fund`` limited to what is left of the resident's annual ``cap``, charged to ``used``
    (an array of every resident's use this year); compiled as is by ``sim/compiled_steps.py``."""
    room = cap - used[resident]
    if fund > room:
        fund = room if room > 0 else 0.0
    used[resident] += fund
    return fund


def _zeros(n: int) -> array:
    return array("d", bytes(8 * n))


class Reimbursement:
    def __init__(self, spec: ReimbursementSpec, n_residents: int):
        rows = [spec.tier(t) for t in TIERS] + [spec.outside_unreferred, spec.county_unreferred or spec.county]
        self.out_rate = [r.outpatient_rate for r in rows]
        self.yearly = spec.outpatient_deductible_per == "year"
        # a yearly deductible is charged from each resident's running total (below); a visit's fee,
        # as patients and providers weigh it, is then the fee once the deductible is met (assumed)
        self.out_ded = [0.0 if self.yearly else r.outpatient_deductible for r in rows]
        self.year_ded = [r.outpatient_deductible for r in rows]
        self.pool = [0 if i < len(TIERS) and TIERS[i] in PRIMARY_TIERS else 1 for i in range(len(rows))]
        self._pool_deductible = [max(d for d, q in zip(self.year_ded, self.pool) if q == pool) for pool in (0, 1)]
        self.in_rate = [r.inpatient_rate for r in rows]
        self.in_ded = [r.inpatient_deductible for r in rows]
        self.continuous = spec.continuous_deductible
        self.cap_out = spec.annual_cap_outpatient
        self.cap_in = spec.annual_cap_inpatient
        # typed arrays: per-element access as fast as a list, but compact (8 bytes a resident)
        self._used_out = _zeros(n_residents) if self.cap_out is not None else None
        self._used_in = _zeros(n_residents) if self.cap_in is not None else None
        self._ded_paid = [_zeros(n_residents), _zeros(n_residents)] if self.yearly else None
        # schedule row of every (referred, gatekept, tier), looked up once a visit instead of computed
        self._rows = [[[self._row(t, referred, gatekept) for t in range(len(TIERS))] for gatekept in (False, True)]
                      for referred in (False, True)]

    def _row(self, tier: int, referred: bool, gatekept: bool = False) -> int:
        """Schedule row: unreferred out-of-county care always, unreferred county care for a
        gatekept condition, are paid at their own lower schedules."""
        if referred:
            return tier
        if tier == OUTSIDE:
            return len(TIERS)
        return len(TIERS) + 1 if tier == COUNTY and gatekept else tier

    def outpatient(self, tier: int, cost: float, resident: int, referred: bool, gatekept: bool = False) -> float:
        """Fund payment for one outpatient visit (charged against the resident's annual cap)."""
        if self._ded_paid is None:
            r = self._rows[referred][gatekept][tier]
            fee = fee_share(cost, self.out_ded[r], self.out_rate[r])
        else:
            fee = self._fee_after_yearly_deductible(tier, cost, resident, referred, gatekept)
        return fee if self._used_out is None else capped(fee, resident, self._used_out, self.cap_out)

    def outpatient_fee(self, tier: int, cost: float, referred: bool, gatekept: bool = False) -> float:
        """The fund's fee-for-service share of a visit, before any annual cap (``referred`` and
        ``gatekept`` are Python bools: they index the schedule rows)."""
        r = self._rows[referred][gatekept][tier]
        return fee_share(cost, self.out_ded[r], self.out_rate[r])

    def _fee_after_yearly_deductible(self, tier: int, cost: float, resident: int, referred: bool,
                                     gatekept: bool) -> float:
        """The fund's share of a visit once the resident's yearly deductible for this level of care
        (primary or hospital) has been paid: the visit first pays what is left of it."""
        r = self._rows[referred][gatekept][tier]
        return fee_after_deductible(cost, resident, self._ded_paid[self.pool[r]], self.year_ded[r], self.out_rate[r])

    def inpatient(self, tier: int, cost: float, resident: int, referred: bool, deductible_paid: float = 0.0,
                  case_payment: float | None = None, gatekept: bool = False) -> tuple[float, float, float]:
        """(fund payment, out-of-pocket, deductible charged) for one admission.

        With the continuous deductible (连续计算起付线) a referred patient pays only the part of
        this tier's deductible above what the episode already paid (``deductible_paid``).  A
        fixed ``case_payment`` (DRG, same-payment) is what the fund pays the facility; the
        patient still pays their share of the charges by the usual rules.
        """
        r = self._row(tier, referred, gatekept)
        fee, charged = inpatient_fee(cost, self.in_ded[r], self.in_rate[r], deductible_paid, self.continuous and referred)
        fund = self._capped(fee, resident, self._used_in, self.cap_in)
        oop = cost - fund
        return (fund if case_payment is None else case_payment), oop, charged

    @staticmethod
    def _capped(fund: float, resident: int, used: array | None, cap: float | None) -> float:
        return fund if used is None else capped(fund, resident, used, cap)

    def carry_usage(self, old: "Reimbursement") -> None:
        """Keep this insurance year's cap use and deductible paid when the rules change mid-year."""
        pairs = [(self._used_out, old._used_out), (self._used_in, old._used_in)]
        if self._ded_paid is not None and old._ded_paid is not None:
            pairs += list(zip(self._ded_paid, old._ded_paid))
        for mine, theirs in pairs:
            if mine is not None and theirs is not None:
                mine[:] = theirs

    def new_year(self) -> None:
        """Annual caps and yearly deductibles restart each insurance year."""
        for used in (self._used_out, self._used_in, *(self._ded_paid or ())):
            if used is not None:
                used[:] = _zeros(len(used))

    def expected_inpatient_fund(self, tier: int, stay_cost: np.ndarray) -> np.ndarray:
        """Fee-for-service fund payment for a stay of this cost (caps ignored)."""
        return np.maximum(stay_cost - self.in_ded[tier], 0.0) * self.in_rate[tier]

    def expected_oop(self, tier: int, visit_cost: np.ndarray, stay_cost: np.ndarray, p_admit: np.ndarray,
                     referred: bool, gatekept: np.ndarray | None = None, deductible_due: bool = False) -> np.ndarray:
        """Out-of-pocket a patient expects at a tier (caps ignored), for facility choice; arrays
        are (condition, severity) and ``gatekept`` flags conditions under gatekeeping.  With
        ``deductible_due`` the visit still has the whole yearly deductible to pay."""
        out = self._expected_oop(self._row(tier, referred), visit_cost, stay_cost, p_admit, deductible_due)
        if gatekept is not None and gatekept.any():
            bypass = self._expected_oop(self._row(tier, referred, True), visit_cost, stay_cost, p_admit,
                                        deductible_due)
            out = np.where(gatekept[:, None], bypass, out)
        return out

    def deductible_due(self, residents: np.ndarray) -> np.ndarray:
        """(N, 2) whether each resident has yet to pay this year's primary-care and hospital
        outpatient deductibles in full (yearly deductibles only)."""
        due = np.empty((len(residents), 2), dtype=bool)
        for pool, paid in enumerate(self._ded_paid):
            due[:, pool] = np.frombuffer(paid, dtype=np.float64)[residents] < self._pool_deductible[pool]
        return due

    def _expected_oop(self, r: int, visit_cost, stay_cost, p_admit, deductible_due: bool = False):
        ded = self.year_ded[r] if deductible_due else self.out_ded[r]
        fund_v = np.maximum(visit_cost - ded, 0.0) * self.out_rate[r]
        fund_s = np.maximum(stay_cost - self.in_ded[r], 0.0) * self.in_rate[r]
        return (visit_cost - fund_v) + p_admit * (stay_cost - fund_s)

    def expected_stay_oop(self, tier: int, stay_cost: np.ndarray, referred: bool, gatekept: bool = False) -> np.ndarray:
        """Out-of-pocket a patient expects for a stay of this cost (caps ignored)."""
        r = self._row(tier, referred, gatekept)
        return stay_cost - np.maximum(stay_cost - self.in_ded[r], 0.0) * self.in_rate[r]
