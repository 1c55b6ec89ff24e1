"""Demand: illness episodes per village and condition class (发病与就诊需求).

Episodes are not one process per resident: each village × condition is a Poisson process with
rate = population × annual incidence × seasonal multiplier.  Their superposition is drawn one
day at a time (a Poisson count, then marks by rate share), which is the same process in law.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from models.geography import County
from models.levers import medicines
from models.tiers import SEVERITY_LEVELS
from sim.core.jit import njit
from sim.core.search import count_at_or_below, count_at_or_below_guided, guide_table, stable_order

if TYPE_CHECKING:
    from models.scenario import Scenario


@dataclass
class DayBatch:
    """The episodes arriving on one day, sorted by time; all arrays have one row per episode."""

    time: np.ndarray
    village: np.ndarray
    condition: np.ndarray
    severity: np.ndarray  # 0-based (0 = mild)
    admit: np.ndarray  # needs an inpatient stay (bool)
    resident: np.ndarray

    def __len__(self) -> int:
        return len(self.time)

    def columns(self) -> tuple[np.ndarray, ...]:
        """The arrays in field order (spelled out: ``dataclasses.fields`` costs more than a day's take)."""
        return self.time, self.village, self.condition, self.severity, self.admit, self.resident

    def take(self, index: np.ndarray) -> "DayBatch":
        """The episodes at ``index`` (a subset or a reordering)."""
        return DayBatch(*(a[index] for a in self.columns()))

    def join(self, other: "DayBatch") -> "DayBatch":
        """These episodes followed by ``other``'s (not re-sorted)."""
        return DayBatch(*(np.concatenate([a, b]) for a, b in zip(self.columns(), other.columns())))


class DemandModel:
    def __init__(self, scenario: Scenario, county: County):
        sim = scenario.simulation
        self.names = list(scenario.conditions)
        conds = [scenario.conditions[n] for n in self.names]
        self.days_per_year = sim.days_per_year
        self.incidence = np.array([c.incidence for c in conds])
        season = np.ones((len(conds), 12))
        for i, c in enumerate(conds):
            if c.seasonality is not None:
                s = np.asarray(c.seasonality, dtype=float)
                season[i] = s * 12.0 / s.sum()
        self.season = season
        self.sev_cum = np.cumsum([c.severity for c in conds], axis=1)
        self.admission_prob = np.array([c.admission_prob for c in conds])
        self.all_day = np.array([c.all_day for c in conds])
        self.emergency = np.array([c.emergency for c in conds])
        self.open_start = sim.open_start_hour / 24.0
        self.open_len = sim.open_hours / 24.0
        profile = sim.arrival_profile
        if profile is not None:
            w = np.asarray(profile, dtype=float)
            self.hour_weight = w / w.sum()
            self.hour_cum = np.cumsum(self.hour_weight)
        else:
            self.hour_weight = None
        # the compiled day takes arrays either way
        self.profile_cum, self.profile_weight = (np.zeros(1), np.ones(1)) if profile is None else (
            self.hour_cum, self.hour_weight)
        self._month_rates: dict[int, tuple[float, np.ndarray]] = {}
        pop = county.village_pop.astype(float)
        self.population = pop.sum()
        self.village_cum = np.cumsum(pop) / max(pop.sum(), 1.0)
        self.village_guide = guide_table(self.village_cum, max(len(self.village_cum), 1))
        self.village_pop = county.village_pop
        self.offsets = county.resident_offsets()
        self.keep = medicines.keep_probability(scenario)

    def month_of(self, day: float) -> int:
        return int((day % self.days_per_year) * 12 // self.days_per_year)

    def time_of_day(self, u: np.ndarray) -> np.ndarray:
        """Outpatient arrival time (fraction of a day) from a uniform: uniform over opening hours,
        or piecewise uniform by the hourly ``arrival_profile`` (morning-heavy, closed hours empty)."""
        if self.hour_weight is None:
            return self.open_start + self.open_len * u
        # side="right" never lands on a closed hour: its cumulative weight equals the previous hour's
        hour = np.minimum(np.searchsorted(self.hour_cum, u, side="right"), len(self.hour_cum) - 1)
        within = (u - (self.hour_cum[hour] - self.hour_weight[hour])) / self.hour_weight[hour]
        return self.open_start + (hour + np.clip(within, 0.0, 1.0)) / 24.0

    def daily_rates(self, day: int) -> np.ndarray:
        """Expected episodes per condition class on this day."""
        return self.population * self.incidence * self.season[:, self.month_of(day)] / self.days_per_year

    def day_batch(self, rng: np.random.Generator, day: int) -> DayBatch:
        """Draw one day's arrivals; the number of draws depends only on the arrivals themselves."""
        month = self.month_of(day)
        if month not in self._month_rates:  # the same rates every day of a month
            rates = self.daily_rates(day)
            total = rates.sum()
            self._month_rates[month] = (total, np.cumsum(rates) / total if total > 0 else rates)
        total, rate_cum = self._month_rates[month]
        n = int(rng.poisson(total)) if total > 0 else 0
        u = rng.random((n, 6))
        r = rng.random(n)
        return DayBatch(*_day_marks(u, r, day, rate_cum, self.village_cum, self.village_guide, self.all_day,
                                    self.profile_cum, self.profile_weight, self.hour_weight is not None,
                                    self.open_start, self.open_len, self.sev_cum, self.admission_prob, self.offsets,
                                    self.village_pop, self.keep))


@njit(cache=True)
def _day_marks(u, r, day, rate_cum, village_cum, village_guide, all_day, hour_cum, hour_weight, by_hour, open_start,
               open_len, sev_cum, admission_prob, offsets, village_pop, keep):
    """A day's episodes from their uniforms ``u`` (N, 6) and ``r`` (N,), kept and in time
    order: condition, village, time of day, severity, admission, thinning and resident, each
    element by the same IEEE operations as the numpy expressions they replace (``searchsorted``
    side right, ``np.minimum``, ``np.clip``, a stable sort)."""
    n = len(r)
    cond = np.empty(n, dtype=np.int64)
    village = np.empty(n, dtype=np.int64)
    tod = np.empty(n)
    sev = np.empty(n, dtype=np.int64)
    admit = np.empty(n, dtype=np.bool_)
    resident = np.empty(n, dtype=np.int64)
    kept = np.empty(n, dtype=np.bool_)
    _mark_each(u, r, rate_cum, village_cum, village_guide, all_day, hour_cum, hour_weight, by_hour, open_start,
               open_len, sev_cum, admission_prob, offsets, village_pop, keep, cond, village, tod, sev, admit, resident,
               kept)
    order = stable_order(tod)
    order = order[kept[order]]
    return day + tod[order], village[order], cond[order], sev[order], admit[order], resident[order]


@njit(cache=True, _nrt=False)  # allocates nothing: no reference counts (sim/compiled_steps.py, RUN_WITHOUT_NRT)
def _mark_each(u, r, rate_cum, village_cum, village_guide, all_day, hour_cum, hour_weight, by_hour, open_start,
               open_len, sev_cum, admission_prob, offsets, village_pop, keep, cond, village, tod, sev, admit, resident,
               kept):
    """``_day_marks``' episodes one by one, into the arrays after ``keep``."""
    C, V = len(rate_cum), len(village_cum)
    for i in range(len(r)):
        c = min(count_at_or_below(rate_cum, u[i, 0]), C - 1)
        v = min(count_at_or_below_guided(village_cum, village_guide, u[i, 1]), V - 1)
        x = u[i, 2]
        if all_day[c]:
            t = x
        elif by_hour:
            h = min(count_at_or_below(hour_cum, x), len(hour_cum) - 1)
            within = (x - (hour_cum[h] - hour_weight[h])) / hour_weight[h]
            if within < 0.0:
                within = 0.0
            elif within > 1.0:
                within = 1.0
            t = open_start + (h + within) / 24.0
        else:
            t = open_start + open_len * x
        s = min(count_at_or_below(sev_cum[c], u[i, 3]), SEVERITY_LEVELS - 1)
        cond[i], village[i], tod[i], sev[i] = c, v, t, s
        admit[i] = u[i, 4] < admission_prob[c, s]
        resident[i] = offsets[v] + np.int64(r[i] * village_pop[v])
        kept[i] = u[i, 5] < keep[c]
