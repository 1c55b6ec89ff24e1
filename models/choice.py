"""Facility choice (就医选择): multinomial logit over the facilities a patient can reach.

Utility of facility j for a patient from village v with condition c at severity s:
    tier constant + beta_quality · quality[tier] + beta_travel · hours[v, j]
    + beta_log_oop · ln(1 + expected out-of-pocket / oop_scale_cny) + beta_incapable · [j cannot treat the case]
    + beta_wait · perceived wait at j (hours, smoothed daily from observed waits)
    + beta_log_size · ln(doctors at j / tier's geometric mean)  (0 by default)
    + the inclusive value of a TCM consultation where j offers one (models/levers/tcm.py).
Out-of-pocket enters in logs: sensitivity diminishes with the amount, as the non-linear cost
levels of the DCE in docs/sources/data/choice_dce_yan2022.csv suggest.  The consultation and the
stay have a coefficient each: the consultation's is calibrated to the elasticity of a first
outpatient visit (it is also the price term of care-seeking, models/seeking.py); the stay's, a
weak one after the DCE, weighs the bill of an admission the patient may need (expected utility
over needing a bed).
A specialty hospital is not an option for conditions outside its lines.
Emergencies bypass this (nearest capable facility, see referral.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models import levers
from models.adaptation import chosen_options, utility_less_row_max
from models.costs import CostModel
from models.geography import County
from models.levers.tcm import inclusive_value, tcm_probability
from models.referral import ReferralModel
from models.reimbursement import Reimbursement
from models.tiers import PRIMARY_TIERS, TIERS
from sim.core.jit import njit
from sim.core.sums import last_axis_sums

if TYPE_CHECKING:
    from models.scenario import Scenario


def _tier_oop(pay: Reimbursement, costs: CostModel, p_admit: np.ndarray,
              gatekept: np.ndarray | None, deductible_due: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(T, C, S) out-of-pocket a first-contact patient expects for the consultation and for a
    stay; county care for a gatekept condition is unreferred when chosen first."""
    def oop(admit: float) -> np.ndarray:
        stays = np.full_like(p_admit, admit)
        return np.stack([pay.expected_oop(t, costs.visit[t], costs.per_day[t] * costs.los_mean[t], stays,
                                          referred=False, gatekept=gatekept, deductible_due=deductible_due)
                         for t in range(len(TIERS))])
    visit = oop(0.0)
    return visit, oop(1.0) - visit


class ChoiceModel:
    def __init__(self, scenario: Scenario, county: County, costs: CostModel, pay: Reimbursement,
                 referral: ReferralModel, gatekept: np.ndarray | None = None):
        spec = scenario.choice
        self.beta_wait = spec.beta_wait_per_hour
        cs = county.choice_set  # (V, K)
        self.choice_set = cs
        self.valid = cs >= 0
        fac = np.where(self.valid, cs, 0)
        tier = county.fac_tier[fac]  # (V, K)
        base = np.array([spec.tier_constant.get(t, 0.0) + spec.beta_quality * spec.quality.get(t, 0.0)
                         for t in TIERS])[tier] + spec.beta_quality * levers.quality_boost(scenario, county)[fac]
        base = base + spec.beta_travel_per_hour * county.travel_hours[np.arange(len(cs))[:, None], fac]
        if spec.beta_log_size:
            size = np.log(np.where(county.fac_doctors > 0, county.fac_doctors, 1).astype(float))
            for t in range(len(TIERS)):  # relative to the tier's mean: shifts shares within a tier only
                size[county.fac_tier == t] -= size[county.fac_tier == t].mean() if (county.fac_tier == t).any() else 0
            base = base + spec.beta_log_size * size[fac]
        conds = [scenario.conditions[n] for n in scenario.conditions]
        p_admit = np.array([c.admission_prob for c in conds])  # (C, S)
        visit_oop, stay_oop = _tier_oop(pay, costs, p_admit, gatekept)
        price = (spec.beta_log_oop * np.log1p(visit_oop / spec.oop_scale_cny)
                 + p_admit * spec.beta_log_stay_oop * np.log1p(stay_oop / spec.stay_oop_scale_cny))  # (T, C, S)
        util = (base[:, :, None, None] + price[tier]
                + spec.beta_incapable * referral.incapable(county)
                + inclusive_value(tcm_probability(scenario, county, costs))[fac])  # (V, K, C, S)
        usable = self.valid[:, :, None] & referral.offered(county)  # (V, K, C)
        usable |= ~usable.any(axis=1, keepdims=True) & self.valid[:, :, None]  # nothing offers c: keep all
        self.static = np.where(usable[..., None], util, -np.inf).transpose(0, 2, 3, 1)  # (V, C, S, K)
        self._fac = fac
        self.deductible_gap = None
        if pay.yearly:  # 年度门诊起付线: what a visit's price weighs while the level's deductible is due
            due_oop, _ = _tier_oop(pay, costs, p_admit, gatekept, deductible_due=True)
            gap = spec.beta_log_oop * (np.log1p(due_oop / spec.oop_scale_cny) - np.log1p(visit_oop / spec.oop_scale_cny))
            primary = np.array([t in PRIMARY_TIERS for t in TIERS])[tier][:, :, None, None]  # (V, K)
            self.deductible_gap = [np.where(in_pool, gap[tier], 0.0).transpose(0, 2, 3, 1)
                                   for in_pool in (primary, ~primary)]  # per pool: (V, C, S, K)
        self.cum = None
        self.update(np.zeros(county.n_facilities))

    def update(self, wait_hours: np.ndarray, closed: np.ndarray | None = None,
               perceived: np.ndarray | None = None) -> None:
        """Recompute choice probabilities from perceived waits (called once a day) and what word
        of mouth adds per facility (``perceived``); facilities in ``closed`` (e.g. mobile clinics
        not touring today) cannot be chosen.  Also the inclusive value of formal care per
        (village, condition, severity), the expected best utility that care-seeking weighs."""
        dyn = self.beta_wait * wait_hours[self._fac]
        if perceived is not None:
            dyn = dyn + perceived[self._fac]
        if closed is not None and len(closed):
            dyn = np.where(np.isin(self._fac, closed) & self.valid, -np.inf, dyn)
        self.util, top = _static_plus(self.static, dyn)  # static + dyn less the row maximum (and it)
        e = np.exp(self.util)  # numpy's exp and log on the arrays they always had, its sum's bits
        total = last_axis_sums(e)
        self.prob, self.cum, self.inclusive_value = _shares(e, total, top, np.log(total))

    def deductible_utility(self, village: np.ndarray, condition: np.ndarray, severity: np.ndarray,
                           due: np.ndarray) -> np.ndarray:
        """(N, K) utility each patient's options lose while the patient's yearly outpatient
        deductible for that level of care (primary, hospital; ``due`` (N, 2)) is still to pay:
        patients weigh the price they face now (spot price), not the year's average."""
        return sum(self.deductible_gap[p][village, condition, severity] * due[:, p:p + 1] for p in range(2))

    def draw(self, village: np.ndarray, condition: np.ndarray, severity: np.ndarray, u: np.ndarray,
             habit: np.ndarray | None = None) -> np.ndarray:
        """Facility chosen by each patient, by inverse CDF on the patient's own uniform; ``habit``
        (N, K) adds each option's habit utility for the patient."""
        if habit is not None:  # draw_logit on util[village, condition, severity] + habit, gathered compiled
            p = np.exp(utility_less_row_max(self.util, village, condition, severity, habit))  # numpy's exp
            return chosen_options(p, np.ascontiguousarray(u, dtype=np.float64), self.choice_set, village)
        cum = self.cum[village, condition, severity]  # (N, K)
        k = (u[:, None] >= cum).sum(axis=1)
        last = (self.prob[village, condition, severity] > 0).cumsum(axis=1).argmax(axis=1)
        k = np.minimum(k, last)  # guards rounding at the top of the cumulative sum
        return self.choice_set[village, k]


@njit(cache=True)
def _static_plus(static, dyn):
    """``u = static + dyn[:, None, None, :]`` less its maximum over facilities, and that maximum
    (V, C, S, 1): the same additions and subtractions as the numpy expression, in one pass."""
    V, C, S, K = static.shape
    u = np.empty((V, C, S, K))
    top = np.empty((V, C, S, 1))
    for v in range(V):
        for c in range(C):
            for s in range(S):
                for k in range(K):
                    u[v, c, s, k] = static[v, c, s, k] + dyn[v, k]
                m = u[v, c, s, 0]
                for k in range(1, K):
                    if u[v, c, s, k] > m:
                        m = u[v, c, s, k]
                top[v, c, s, 0] = m
                for k in range(K):
                    u[v, c, s, k] = u[v, c, s, k] - m
    return u, top


@njit(cache=True)
def _shares(e, total, top, log_total):
    """``p = e / total``, its running sum over facilities (``np.cumsum``: left to right) and the
    inclusive value ``top + ln total`` (V, C, S)."""
    V, C, S, K = e.shape
    p = np.empty_like(e)
    cum = np.empty_like(e)
    iv = np.empty((V, C, S))
    for v in range(V):
        for c in range(C):
            for s in range(S):
                run = 0.0
                for k in range(K):
                    x = e[v, c, s, k] / total[v, c, s, 0]
                    p[v, c, s, k] = x
                    run = x if k == 0 else run + x
                    cum[v, c, s, k] = run
                iv[v, c, s] = top[v, c, s, 0] + log_total[v, c, s, 0]
    return p, cum, iv
