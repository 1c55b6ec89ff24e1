"""Costs per visit and per inpatient stay (医疗费用), before insurance.

Visit cost = tier outpatient price × condition/severity multiplier; stay cost = tier per-day
price × length of stay × the same multiplier.  Each tier's price is split into drugs, tests,
consumables and labour services, which the medicine and price levers adjust, and a price
schedule by service category (``prices.schedule``) multiplies each tier × condition charge;
the service share feeds the service-revenue KPI.  Lengths of stay are lognormal around the condition's
county-tier mean scaled by the tier's ``los_factor``.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from models.levers import information, levers_with
from models.levers.prices import CATEGORIES, SERVICE_LINES, category_shares, change_vector, price_factor
from models.tiers import TIERS

if TYPE_CHECKING:
    from models.scenario import Scenario, TierSpec


def _price_parts(base: np.ndarray, tiers: list[TierSpec], scenario: Scenario) -> np.ndarray:
    shares = np.array([[t.drug_share, t.test_share, t.consumable_share, t.service_share] for t in tiers])
    parts = base[:, None] * shares
    for lever in levers_with("adjust_prices"):  # medicines, then prices
        parts = lever.adjust_prices(getattr(scenario, lever.KEY), parts)
    return parts


def lognormal_stay(mean: float, sigma: float, u: float) -> float:
    """A lognormal stay of this ``mean`` and log-``sigma`` from the uniform ``u`` (inverse CDF, so
    common random numbers hold); ``sim/compiled_steps.py`` compiles this same function."""
    z = normal_quantile(min(max(u, 1e-12), 1 - 1e-12))
    return mean * math.exp(sigma * z - 0.5 * sigma * sigma)


def normal_quantile(p: float) -> float:
    """The standard normal's inverse CDF: ``statistics.NormalDist().inv_cdf`` written out (Wichura's
    AS241, the same operations as the standard library's, which tests/test_compiled_steps.py checks
    bit for bit) so that it can be compiled."""
    q = p - 0.5
    if math.fabs(q) <= 0.425:
        r = 0.180625 - q * q
        num = (((((((2.5090809287301226727e+3 * r + 3.3430575583588128105e+4) * r + 6.7265770927008700853e+4) * r
                   + 4.5921953931549871457e+4) * r + 1.3731693765509461125e+4) * r + 1.9715909503065514427e+3) * r
                + 1.3314166789178437745e+2) * r + 3.3871328727963666080e+0) * q
        den = (((((((5.2264952788528545610e+3 * r + 2.8729085735721942674e+4) * r + 3.9307895800092710610e+4) * r
                   + 2.1213794301586595867e+4) * r + 5.3941960214247511077e+3) * r + 6.8718700749205790830e+2) * r
                + 4.2313330701600911252e+1) * r + 1.0)
        return 0.0 + (num / den) * 1.0
    r = p if q <= 0.0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r = r - 1.6
        num = (((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r + 2.41780725177450611770e-1) * r
                   + 1.27045825245236838258e+0) * r + 3.64784832476320460504e+0) * r + 5.76949722146069140550e+0) * r
                + 4.63033784615654529590e+0) * r + 1.42343711074968357734e+0)
        den = (((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r + 1.51986665636164571966e-2) * r
                   + 1.48103976427480074590e-1) * r + 6.89767334985100004550e-1) * r + 1.67638483018380384940e+0) * r
                + 2.05319162663775882187e+0) * r + 1.0)
    else:
        r = r - 5.0
        num = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 1.24266094738807843860e-3) * r
                   + 2.65321895265761230930e-2) * r + 2.96560571828504891230e-1) * r + 1.78482653991729133580e+0) * r
                + 5.46378491116411436990e+0) * r + 6.65790464350110377720e+0)
        den = (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r + 1.84631831751005468180e-5) * r
                   + 7.86869131145613259100e-4) * r + 1.48753612908506148525e-2) * r + 1.36929880922735805310e-1) * r
                + 5.99832206555887937690e-1) * r + 1.0)
    x = num / den
    if q < 0.0:
        x = -x
    return 0.0 + x * 1.0


class CostModel:
    """Charges by tier, condition and severity.  ``raise_scale`` multiplies the price schedule's
    raises (its budget-neutral factor); ``schedule=False`` prices as if there were no schedule."""

    def __init__(self, scenario: Scenario, raise_scale: float = 1.0, schedule: bool = True):
        conds = [scenario.conditions[n] for n in scenario.conditions]
        tiers = [scenario.tier(t) for t in TIERS]
        mult = np.array([c.cost_multiplier for c in conds])  # (C, S)
        visit_parts = _price_parts(np.array([t.outpatient_cost for t in tiers]), tiers, scenario)
        day_parts = _price_parts(np.array([t.inpatient_cost_per_day for t in tiers]), tiers, scenario)
        sched = scenario.prices.schedule
        names = list(scenario.conditions)
        self.visit_shares = category_shares(visit_parts, names, sched)  # (T, C, categories)
        self.day_shares = category_shares(day_parts, names, sched)
        on = schedule and sched.active
        scale = raise_scale if on else 0.0
        fv = price_factor(self.visit_shares, sched, scale) if on else np.ones(self.visit_shares.shape[:2])
        fd = price_factor(self.day_shares, sched, scale) if on else np.ones(self.day_shares.shape[:2])
        self.visit = visit_parts.sum(axis=1)[:, None, None] * mult[None] * fv[:, :, None]  # (T, C, S)
        self.per_day = day_parts.sum(axis=1)[:, None, None] * mult[None] * fd[:, :, None]
        tcm = price_factor(self.visit_shares, sched, scale, tcm_visit=True) if on else fv
        self.tcm_visit = self.visit * (tcm / fv)[:, :, None]  # a TCM visit: its services priced as TCM
        change = change_vector(sched, scale) if on else np.zeros(len(CATEGORIES))
        service = [CATEGORIES.index(k) for k in SERVICE_LINES]
        self.visit_service_share = (self.visit_shares[..., service] @ (1 + change[service])) / fv  # (T, C)
        self.stay_service_share = (self.day_shares[..., service] @ (1 + change[service])) / fd
        township = TIERS.index("township")
        rehab = 1.0 + (self.day_shares[township, 0, service].sum() * change[CATEGORIES.index("rehabilitation")]
                       if on and "township" in sched.tiers else 0.0)
        self.rehab_per_day = float(day_parts[township].sum()) * rehab
        self.los_mean = np.array([t.los_factor for t in tiers])[:, None, None] * \
            np.array([c.los_days for c in conds])[None]  # (T, C, S)
        cv = scenario.service.los_cv
        self._sigma = math.sqrt(math.log1p(cv * cv))
        self.rehab_days = scenario.referral.rehab_days
        self.repeat_test_share = information.repeat_test_share(scenario.information)

    def length_of_stay(self, mean: float, u: float) -> float:
        """Lognormal stay with the configured CV, from a uniform draw (inverse CDF keeps CRN)."""
        return lognormal_stay(mean, self._sigma, u)

    @property
    def los_sigma(self) -> float:
        return self._sigma
