"""Capability catalogue (诊疗疾病目录) and referral (双向转诊).

A facility treats a case when its catalogue covers the condition at that severity, as
outpatient or (if it has beds) as inpatient.  The catalogue is its tier's unless
``capability.facilities`` names the facility: then listed conditions take the facility's own
highest severity, and a specialty hospital's ``lines`` are the only conditions it treats.  A case beyond it is referred up the configured
tier chain to the nearest capable facility; out-of-county hospitals treat everything.
Stable county/outside inpatients are referred down to their own township centre for
rehabilitation with a per-condition probability.  An admission that would wait longer than
``referral.full_bed_wait_days`` for a bed goes to the next capable hospital instead: a smaller
county hospital with beds, else outside the county (a transfer out counts as a referral up).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models.geography import County
from models.levers import levers_with
from models.tiers import SEVERITY_LEVELS, TIERS

if TYPE_CHECKING:
    from models.scenario import Scenario

TREAT_HERE = -1


def _facility_catalogues(scenario: Scenario, county: County, names: list[str]) -> list:
    """(facility index, FacilityCapability) for every facility the scenario names."""
    index = {n: f for f, n in enumerate(county.fac_names)}
    return [(index[n], spec) for n, spec in scenario.capability.facilities.items() if n in index]


COUNTY_TIER = TIERS.index("county")


def refers_down(tier: int, u: float, prob: float) -> bool:
    """A stable county or outside inpatient goes down (下转) with probability ``prob``; plain
    arithmetic, compiled as is by ``sim/compiled_steps.py``."""
    return tier >= COUNTY_TIER and u < prob


def elsewhere_when_full(next_hospital: int, wait: float, limit: float) -> bool:
    """An admission goes to ``next_hospital`` (``overflow_hospitals``) when its bed wait here
    would pass ``limit`` days and there is one; plain arithmetic, compiled as is by
    ``sim/compiled_steps.py``."""
    return next_hospital != TREAT_HERE and wait > limit


def overflow_hospitals(county: County, can: np.ndarray) -> np.ndarray:
    """overflow[f, k]: where an admission of case ``k`` goes when county hospital ``f``'s beds are
    full (床位已满): the largest smaller county hospital with beds that admits ``k``, else the
    first outside hospital listed that does; TREAT_HERE for every other facility (township
    centres, outside hospitals) and when none is capable.  Hospitals are ordered by beds (then
    index), so a full hospital's patients never come back to it."""
    n_fac, n_cases = can.shape
    out = np.full((n_fac, n_cases), TREAT_HERE, dtype=np.int64)
    fixed = ~county.fac_mobile
    hospitals = np.flatnonzero((county.fac_tier == COUNTY_TIER) & (county.fac_beds > 0) & fixed)
    hospitals = hospitals[np.lexsort((hospitals, -county.fac_beds[hospitals]))]
    outside = np.flatnonzero((county.fac_tier == TIERS.index("outside")) & (county.fac_beds != 0) & fixed)
    for i, f in enumerate(hospitals):
        for g in (*hospitals[i + 1:], *outside):
            take = (out[f] == TREAT_HERE) & can[g]
            out[f, take] = g
    return out


class ReferralModel:
    def __init__(self, scenario: Scenario, county: County):
        names = list(scenario.conditions)
        F, C, S = county.n_facilities, len(names), SEVERITY_LEVELS
        # cap[kind, f, c] = highest severity facility f treats (kind 0 outpatient, 1 inpatient)
        cap = np.zeros((2, F, C), dtype=np.int64)
        for f in range(F):
            tier = TIERS[county.fac_tier[f]]
            if tier == "outside":
                cap[:, f, :] = S
                continue
            spec = getattr(scenario.capability, tier)
            for c, n in enumerate(names):
                cap[0, f, c] = spec.outpatient.get(n, 0)
                cap[1, f, c] = spec.inpatient.get(n, 0) if county.fac_beds[f] != 0 else 0
        own = _facility_catalogues(scenario, county, names)
        for f, spec in own:
            for kind, table in enumerate((spec.outpatient, spec.inpatient)):
                for n, level in table.items():
                    cap[kind, f, names.index(n)] = level if kind == 0 or county.fac_beds[f] != 0 else 0
        for lever in levers_with("adjust_capability"):  # capacity, sinking, medicines
            lever.adjust_capability(scenario, county, cap)
        self.offers = np.ones((F, C), dtype=bool)  # offers[f, c]: c is one of f's lines
        for f, spec in own:
            if spec.lines is not None:
                self.offers[f] = np.isin(names, spec.lines)
        cap[:, ~self.offers] = 0  # levers widen catalogues, never a specialty hospital's lines
        self.cap = cap
        self.fixed = ~county.fac_mobile  # touring teams receive no referrals or emergencies
        sev = np.arange(1, S + 1)
        # can[f, c, s, admit]
        self.can = np.stack([cap[0][:, :, None] >= sev, cap[1][:, :, None] >= sev], axis=-1)
        self.up = {TIERS.index(k): TIERS.index(v) for k, v in scenario.referral.up.items()}
        rule = scenario.referral.target_rule
        self.largest = {TIERS.index(t) for t, r in rule.items() if r == "largest"}
        self.by_community = {TIERS.index(t) for t, r in rule.items() if r == "community"}
        self.specialist = ~self.offers.all(axis=1)[:, None] & self.offers  # [f, c]: f's own specialty line
        self._picked: dict[tuple[int, bytes, int], np.ndarray] = {}  # _pick's answers while building
        self.target = self._targets(county, C, S)
        self.emergency_first = self._emergency(county, C, S)
        down = scenario.referral.down_prob
        self.down_prob = np.array([down.get(n, 0.0) for n in names])
        del self._picked

    def offered(self, county: County) -> np.ndarray:
        """offered[v, k, c]: choice-set option k treats condition c at all (False for a specialty
        hospital outside its lines, so patients do not choose it for that condition)."""
        cs = county.choice_set
        return self.offers[np.where(cs >= 0, cs, 0)]

    def _targets(self, county: County, C: int, S: int) -> np.ndarray:
        """target[v, from_tier, c, s, admit]: facility a patient is referred to, or TREAT_HERE."""
        V = county.n_villages
        out = np.full((V, len(TIERS), C, S, 2), TREAT_HERE, dtype=np.int64)
        for t_from in range(len(TIERS)):
            for c in range(C):
                for s in range(S):
                    for a in range(2):
                        out[:, t_from, c, s, a] = self._chain(county, t_from, c, s, a)
        return out

    def _chain(self, county: County, t_from: int, c: int, s: int, a: int) -> np.ndarray:
        res = np.full(county.n_villages, TREAT_HERE, dtype=np.int64)
        tier = t_from
        pending = np.ones(county.n_villages, dtype=bool)
        while tier in self.up and pending.any():
            tier = self.up[tier]
            ok = self._specialist_first(np.flatnonzero((county.fac_tier == tier) & self.can[:, c, s, a] & self.fixed), c)
            if ok.size:
                best = self._pick(county, tier, ok, a)
                res[pending] = best[pending]
                pending[:] = False
        return res

    def _pick(self, county: County, tier: int, ok: np.ndarray, admit: int) -> np.ndarray:
        """Per village, the facility among ``ok`` that a referral of this tier goes to: the nearest,
        the largest, or the largest of the village's own medical community (else the largest).
        Many (tier, condition, severity) cases share one set of capable facilities: each set is
        picked once per model (callers copy the answer into their tables)."""
        key = (tier, ok.tobytes(), admit)
        if key not in self._picked:
            self._picked[key] = self._pick_new(county, tier, ok, admit)
        return self._picked[key]

    def _pick_new(self, county: County, tier: int, ok: np.ndarray, admit: int) -> np.ndarray:
        if tier in self.by_community:
            out = self._pick_largest(county, ok, admit)
            for com in range(len(county.community_names)):
                mine = ok[county.fac_community[ok] == com]
                if mine.size:
                    villages = county.village_community == com
                    out[villages] = self._pick_largest(county, mine, admit)[villages]
            return out
        if tier in self.largest:
            return self._pick_largest(county, ok, admit)
        return ok[np.argmin(county.travel_hours[:, ok], axis=1)]

    def _specialist_first(self, ok: np.ndarray, c: int) -> np.ndarray:
        """A specialty hospital of condition ``c``'s line receives that line's referrals."""
        special = ok[self.specialist[ok, c]]
        return special if special.size else ok

    @staticmethod
    def _pick_largest(county: County, ok: np.ndarray, admit: int) -> np.ndarray:
        size = (county.fac_beds if admit else county.fac_doctors)[ok].astype(float)
        size = np.where(size < 0, np.inf, size)
        top = ok[size == size.max()]
        return top[np.argmin(county.travel_hours[:, top], axis=1)]

    def _emergency(self, county: County, C: int, S: int) -> np.ndarray:
        """first[v, c, s, admit]: the lowest tier that can treat the case, and within it the
        facility the tier's target rule names (rule-based first contact, no preference)."""
        first = np.empty((county.n_villages, C, S, 2), dtype=np.int64)
        usable = (county.fac_doctors != 0) & self.fixed
        for c in range(C):
            for s in range(S):
                for a in range(2):
                    for tier in range(len(TIERS)):
                        ok = self._specialist_first(
                            np.flatnonzero(self.can[:, c, s, a] & usable & (county.fac_tier == tier)), c)
                        if ok.size:
                            first[:, c, s, a] = self._pick(county, tier, ok, a)
                            break
                    else:
                        ok = np.flatnonzero(usable)
                        first[:, c, s, a] = ok[np.argmin(county.travel_hours[:, ok], axis=1)]
        return first

    def incapable(self, county: County) -> np.ndarray:
        """incapable[v, k, c, s]: choice-set option k cannot treat the case as an outpatient
        (patients choose before they know whether they need a bed)."""
        cs = county.choice_set
        fac = np.where(cs >= 0, cs, 0)
        finish = self.can[..., 0]
        return ~finish[fac]

    def refer_down(self, tier: int, condition: int, u: float, prob: float | None = None) -> bool:
        """Stable county/outside inpatients go down with the condition's (or the given) probability."""
        return refers_down(tier, u, self.down_prob[condition] if prob is None else prob)

    @staticmethod
    def rehab_facility(county: County, village: int) -> int:
        centre = county.own_centre[village]
        return int(centre) if centre >= 0 and county.fac_beds[centre] != 0 else TREAT_HERE
