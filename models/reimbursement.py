"""Reimbursement (医保报销): cost → insurance-fund payment and out-of-pocket payment.

Per tier: outpatient and inpatient rates applied above a deductible (起付线); annual fund caps
per resident; self-referred (unreferred) out-of-county care is paid at the lower
``outside_unreferred`` schedule.
"""
from __future__ import annotations

from array import array
from typing import TYPE_CHECKING

import numpy as np

from models.tiers import TIERS

if TYPE_CHECKING:
    from models.scenario import ReimbursementSpec


OUTSIDE = TIERS.index("outside")


def _zeros(n: int) -> array:
    return array("d", bytes(8 * n))


class Reimbursement:
    def __init__(self, spec: ReimbursementSpec, n_residents: int):
        rows = [spec.tier(t) for t in TIERS] + [spec.outside_unreferred]
        self.out_rate = [r.outpatient_rate for r in rows]
        self.out_ded = [r.outpatient_deductible for r in rows]
        self.in_rate = [r.inpatient_rate for r in rows]
        self.in_ded = [r.inpatient_deductible for r in rows]
        self.continuous = spec.continuous_deductible
        self.cap_out = spec.annual_cap_outpatient
        self.cap_in = spec.annual_cap_inpatient
        # typed arrays: per-element access as fast as a list, but compact (8 bytes a resident)
        self._used_out = _zeros(n_residents) if self.cap_out is not None else None
        self._used_in = _zeros(n_residents) if self.cap_in is not None else None

    def _row(self, tier: int, referred: bool) -> int:
        return len(TIERS) if tier == OUTSIDE and not referred else tier

    def outpatient(self, tier: int, cost: float, resident: int, referred: bool) -> float:
        """Fund payment for one outpatient visit (charged against the resident's annual cap)."""
        return self._capped(self.outpatient_fee(tier, cost, referred), resident, self._used_out, self.cap_out)

    def outpatient_fee(self, tier: int, cost: float, referred: bool) -> float:
        """The fund's fee-for-service share of a visit, before any annual cap."""
        r = self._row(tier, referred)
        return max(cost - self.out_ded[r], 0.0) * self.out_rate[r]

    def inpatient(self, tier: int, cost: float, resident: int, referred: bool, deductible_paid: float = 0.0,
                  case_payment: float | None = None) -> tuple[float, float, float]:
        """(fund payment, out-of-pocket, deductible charged) for one admission.

        With the continuous deductible (连续计算起付线) a referred patient pays only the part of
        this tier's deductible above what the episode already paid (``deductible_paid``).  A
        fixed ``case_payment`` (DRG, same-payment) is what the fund pays the facility; the
        patient still pays their share of the charges by the usual rules.
        """
        r = self._row(tier, referred)
        ded = self.in_ded[r]
        if self.continuous and referred:
            ded = max(ded - deductible_paid, 0.0)
        fund = self._capped(max(cost - ded, 0.0) * self.in_rate[r], resident, self._used_in, self.cap_in)
        oop = cost - fund
        return (fund if case_payment is None else case_payment), oop, min(ded, cost)

    @staticmethod
    def _capped(fund: float, resident: int, used: array | None, cap: float | None) -> float:
        if used is None:
            return fund
        room = cap - used[resident]
        if fund > room:
            fund = room if room > 0 else 0.0
        used[resident] += fund
        return fund

    def carry_usage(self, old: "Reimbursement") -> None:
        """Keep this insurance year's cap use when the rules change mid-year."""
        for mine, theirs in ((self._used_out, old._used_out), (self._used_in, old._used_in)):
            if mine is not None and theirs is not None:
                mine[:] = theirs

    def new_year(self) -> None:
        """Annual caps restart each insurance year."""
        for used in (self._used_out, self._used_in):
            if used is not None:
                used[:] = _zeros(len(used))

    def expected_inpatient_fund(self, tier: int, stay_cost: np.ndarray) -> np.ndarray:
        """Fee-for-service fund payment for a stay of this cost (caps ignored)."""
        return np.maximum(stay_cost - self.in_ded[tier], 0.0) * self.in_rate[tier]

    def expected_oop(self, tier: int, visit_cost: np.ndarray, stay_cost: np.ndarray, p_admit: np.ndarray,
                     referred: bool) -> np.ndarray:
        """Out-of-pocket a patient expects at a tier (caps ignored), for facility choice."""
        r = self._row(tier, referred)
        fund_v = np.maximum(visit_cost - self.out_ded[r], 0.0) * self.out_rate[r]
        fund_s = np.maximum(stay_cost - self.in_ded[r], 0.0) * self.in_rate[r]
        return (visit_cost - fund_v) + p_admit * (stay_cost - fund_s)
