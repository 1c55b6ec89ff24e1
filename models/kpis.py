"""KPIs from the monitors, each defined exactly as in docs/sources/domain.md.

All KPIs count only what happens after the warm-up: visits and stays by their start time,
episodes by their arrival time.  The same function computes annual, per-year and monthly
values by grouping rows (``numpy.bincount``), so the definitions exist once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models import cadres
from models.geography import County
from models.kpi_registry import GROWTH, KPIS, REGISTRY
from models.communities import visit_sums
from models.kpi_registry import ratio as _ratio
from models.tiers import TIERS
from sim.core.jit import njit

PRIMARY = np.array([t in ("village", "township") for t in TIERS])
IN_COUNTY = np.array([t != "outside" for t in TIERS])

# Views of the registry for code that needs (Chinese name, unit) by KPI; order = registry order.
KPI_INFO: dict[str, tuple[str, str]] = {k.name: (k.zh, k.unit) for k in KPIS if k.group == "core"}
BUDGET_KPIS = {k.name: (k.zh, k.unit) for k in KPIS if k.group == "budget"}
GROWTH_KPI = (GROWTH, (REGISTRY[GROWTH].zh, REGISTRY[GROWTH].unit))
ALL_KPI_INFO = {k.name: (k.zh, k.unit) for k in KPIS}


@dataclass(frozen=True)
class CountyContext:
    """What KPIs need besides the sums: resident-years per row and the opening-hours share."""

    resident_years: np.ndarray
    open_share: float


def kpi_table(s: pd.DataFrame, resident_years, open_share, groups: frozenset[str] | set[str] = frozenset()
              ) -> pd.DataFrame:
    """Every core KPI of the registry, and those of the optional ``groups``, from rows of sums (one
    county's months or years, or several counties' sums added up: a pooled KPI is a ratio of
    pooled sums, never a mean of ratios)."""
    col = _columns(s)
    ctx = CountyContext(resident_years, open_share)
    names = list(KPI_INFO) + [k.name for k in KPIS if k.group in groups]
    counts = {key: col[key] for key in ("visits", "admissions", "episodes")}
    return pd.DataFrame(counts | {name: REGISTRY[name].compute(col, ctx) for name in names})


def _columns(s: pd.DataFrame) -> dict[str, np.ndarray]:
    """The columns of ``s`` as contiguous arrays; when all are float64 (sums always are), one
    copy of the whole table cut into rows, as asking pandas column by column costs ~10 µs each."""
    if s.columns.is_unique and all(dtype == np.float64 for dtype in s.dtypes):
        return dict(zip(s.columns, np.ascontiguousarray(s.to_numpy().T)))
    return {k: s[k].to_numpy() for k in s.columns}


def _sum(group: np.ndarray, n: int, weights=None, mask=None) -> np.ndarray:
    """``np.bincount(group[mask], weights[mask], minlength=n)[:n]`` as floats, in one compiled
    pass without the masked copies: each group's sum is added in row order from 0.0, as
    bincount adds (the weights as float64, as bincount casts them)."""
    if (mask is None or mask.dtype != np.bool_ or len(group) != len(mask)
            or (weights is not None and len(weights) != len(group))):
        return _bincount(group, n, weights, mask)
    return _masked_sums(group, n, None, 1, weights, mask)[0]


def _sum_by(group: np.ndarray, n: int, key: np.ndarray, k: int, weights=None, mask=None) -> np.ndarray:
    """(k, n): row j is ``_sum(group, n, weights, mask & (key == j))``, all rows in one pass (each
    cell's additions in the same row order)."""
    if mask is None or mask.dtype != np.bool_ or not (len(group) == len(mask) == len(key)) or (
            weights is not None and len(weights) != len(group)):
        return np.array([_bincount(group, n, weights, (key == j) if mask is None else mask & (key == j))
                         for j in range(k)]).reshape(k, n)
    return _masked_sums(group, n, key, k, weights, mask)


@njit(cache=True)
def _masked_sums(group, n, key, k, weights, mask):
    """(k, n) sums of ``weights`` (counts when None) by ``key`` row (one row when None) and group,
    over the rows ``mask`` keeps, each cell added in row order from 0.0 (counts of 1.0 are exact)."""
    out = np.zeros((k, n))
    for i in range(len(group)):
        if not mask[i]:
            continue
        j = 0
        if key is not None:
            j = key[i]
            if not 0 <= j < k:
                continue
        g = group[i]
        if g < 0:
            raise ValueError("negative group")
        if g < n:
            if weights is None:
                out[j, g] += 1.0
            else:
                out[j, g] += np.float64(weights[i])
    return out


@njit(cache=True, inline="always")
def _month_of(t, warmup, length):
    """The month after the warm-up of time ``t``, as a float: ``floor((t - warmup) / length)``."""
    return np.floor((t - warmup) / length)


@njit(cache=True)
def _months(t, warmup, length):
    """``np.floor((t - warmup) / length).astype(np.int32)`` in one pass: the same IEEE operations
    on float64 times, without numpy's three temporaries."""
    out = np.empty(len(t), dtype=np.int32)
    for i in range(len(t)):
        out[i] = np.int32(_month_of(t[i], warmup, length))
    return out


@njit(cache=True)
def _flow_counts(time, status, first, final, ups, downs, tier, warmup, end, T):
    """Completed episodes from ``warmup`` to ``end`` by (first tier, final tier, referred up,
    referred down), flattened in that order."""
    out = np.zeros(T * T * 4, dtype=np.int64)
    for i in range(len(time)):
        if time[i] >= warmup and time[i] < end and status[i] == 0:
            out[((tier[first[i]] * T + tier[final[i]]) * 2 + (ups[i] > 0)) * 2 + (downs[i] > 0)] += 1
    return out


@njit(cache=True)
def _hour_sums(time, fac, wait, tier, warmup, end, T):
    """Visits from ``warmup`` to ``end`` and their waits by (tier, hour of the day asked for):
    ``_sum`` over the key ``tier · 24 + min(floor((t mod 1) · 24), 23)``, in one pass."""
    n, total = np.zeros(T * 24), np.zeros(T * 24)
    for i in range(len(time)):
        t = time[i]
        if t >= warmup and t < end:
            key = tier[fac[i]] * 24 + min(np.int64(np.floor((t % 1.0) * 24.0)), 23)
            n[key] += 1.0
            total[key] += np.float64(wait[i])
    return n, total


@njit(cache=True)
def _cell_keys(t, fac, warmup, end, length, n, F):
    """``month · F + facility`` per row, the month (``_month_of``) kept in 0 .. n - 1
    (a float sliver at the very end stays in the last month); rows outside [warm-up, end) go to
    the discard bin ``n · F``."""
    out = np.empty(len(t), dtype=np.intp)
    top = float(max(n - 1, 0))
    for i in range(len(t)):
        if t[i] < warmup or t[i] >= end:
            out[i] = n * F
        else:
            out[i] = np.intp(min(max(_month_of(t[i], warmup, length), 0.0), top)) * F + fac[i]
    return out


def _bincount(group: np.ndarray, n: int, weights=None, mask=None) -> np.ndarray:
    if mask is not None:
        group = group[mask]
        weights = None if weights is None else weights[mask]
    return np.bincount(group, weights=weights, minlength=n)[:n].astype(float)


class KpiCalculator:
    """Turns one replication's logs into KPI tables."""

    def __init__(self, county: County, warmup: float, end: float, days_per_year: int,
                 open_hours: float):
        self.county, self.warmup, self.end = county, warmup, end
        self.days_per_year = days_per_year
        self.open_share = open_hours / 24.0
        self.tier = county.fac_tier.astype(np.int8)  # small: indexed by millions of visits
        self.remoteness = county.remoteness_quintile()
        self.capacity_log: list[tuple[float, np.ndarray, np.ndarray]] = []  # phased capacity changes (time, doctors, beds)
        self.rotations: dict[str, list] | None = None  # per month: posted doctors serving, completing (plan columns)
        self.groups: set[str] = set()  # optional KPI groups this run reports (kpi_registry.OPTIONAL_GROUPS)
        self.chronic: dict[str, np.ndarray] = {}  # per month: enrolled and prevalent patients, missed follow-up times
        self.cadres: cadres.CadresSpec | None = None  # staff minutes by cadre (group "cadres")
        self.pool_moves: list[tuple[int, int]] = []  # (day, doctors moved) by the community's pooling

    def _month(self, t: np.ndarray) -> np.ndarray:
        """Month after the warm-up (negative during it): months are days_per_year / 12 long."""
        return _months(np.ascontiguousarray(t, dtype=np.float64), float(self.warmup), self.days_per_year / 12.0)

    def table(self, visits: dict, stays: dict, episodes: dict, transfers: dict, arrivals: np.ndarray,
              by: str = "all", outside: dict | None = None) -> pd.DataFrame:
        """KPIs per group (``all``, ``year`` or ``month``); reads the logs once per call."""
        return self.kpis(self.aggregate(self.sums(visits, stays, episodes, transfers, arrivals, outside), by))

    def sums(self, visits: dict, stays: dict, episodes: dict, transfers: dict, arrivals: np.ndarray,
             outside: dict | None = None) -> pd.DataFrame:
        """The additive quantities behind every KPI, one row per month after the warm-up.

        Every KPI is a ratio of such sums, so years and the whole run are sums of months: the
        logs are read once.  ``arrivals`` (arrival times) count every episode, even one still in
        transit when the run ends.
        """
        length = self.days_per_year / 12.0
        span = self.end - self.warmup
        n = int(np.ceil(span / length - 1e-9))
        out: dict[str, np.ndarray] = {"days": np.minimum(length, span - length * np.arange(n))}

        vin = (visits["time"] >= self.warmup) & (visits["time"] < self.end)
        g = self._month(visits["time"])
        vt = self.tier[visits["fac"]]
        sin = (stays["time"] >= self.warmup) & (stays["time"] < self.end)
        gs = self._month(stays["time"])
        st = self.tier[stays["fac"]]
        tin = (transfers["time"] >= self.warmup) & (transfers["time"] < self.end)
        gt = self._month(transfers["time"])
        tt = self.tier[transfers["fac"]]
        ein = (episodes["time"] >= self.warmup) & (episodes["time"] < self.end)
        ge = self._month(episodes["time"])
        county = TIERS.index("county")

        vin_county, vin_primary = vin & IN_COUNTY[vt], vin & PRIMARY[vt]
        out["visits"] = _sum(g, n, mask=vin)
        out["visits_in_county"] = _sum(g, n, mask=vin_county)
        out["visits_primary"] = _sum(g, n, mask=vin_primary)
        out["admissions"] = _sum(gs, n, mask=sin)
        out["admissions_in_county"] = _sum(gs, n, mask=sin & IN_COUNTY[st])
        out["bed_days_stayed"] = _sum(gs, n, stays["los"], sin)
        out["oop_stays"] = _sum(gs, n, stays["oop"], sin)
        for name, tiers, visit_mask in (("fund_in_county", IN_COUNTY, vin_county),
                                        ("fund_primary", PRIMARY, vin_primary),
                                        ("fund", np.ones(len(TIERS), bool), vin)):
            out[name] = (_sum(g, n, visits["fund"], visit_mask) + _sum(gs, n, stays["fund"], sin & tiers[st])
                         + _sum(gt, n, transfers["fund"], tin & tiers[tt]))
        out["cost"] = _sum(g, n, visits["cost"], vin) + _sum(gs, n, stays["cost"], sin)
        out["service_revenue"] = _sum(g, n, visits["service_revenue"], vin) + _sum(gs, n, stays["service_revenue"], sin)
        ain = (arrivals >= self.warmup) & (arrivals < self.end)
        out["episodes"] = _sum(self._month(arrivals), n, mask=ain)
        out["oop"] = _sum(ge, n, episodes["oop"], ein)
        out["balked"] = _sum(ge, n, mask=ein & (episodes["status"] == 1))
        out["declined"] = _sum(ge, n, mask=ein & (episodes["status"] == 2))
        for code, name in ((1, "self_treated"), (2, "forgone")):
            if outside is None or not len(outside["time"]):
                out[name] = np.zeros(n)
                continue
            t = outside["time"]
            out[name] = _sum(self._month(t), n, mask=(t >= self.warmup) & (t < self.end) & (outside["option"] == code))
        T = len(TIERS)  # per tier: rows of that tier, each tier's sums in one pass
        wait_t, visits_t, service_t = (_sum_by(g, n, vt, T, w, vin) for w in (visits["wait"], None, visits["service"]))
        bed_wait_t, admissions_t, los_t = (_sum_by(gs, n, st, T, w, sin) for w in (stays["wait"], None, stays["los"]))
        for t, name in enumerate(TIERS):
            out[f"wait_{name}"], out[f"visits_{name}"] = wait_t[t], visits_t[t]
            out[f"service_{name}"] = service_t[t]
            out[f"bed_wait_{name}"], out[f"admissions_{name}"] = bed_wait_t[t], admissions_t[t]
            out[f"bed_days_{name}"] = self._bed_days(stays, n, st == t)
            out[f"los_{name}"] = los_t[t]  # bed-days asked for (stays begun), queue or not
        out["referred_up"] = _sum(g, n, mask=vin & (visits["referred_out"] == 1))
        out["referred_down"] = _sum(gs, n, mask=sin & (stays["down"] > 0))
        out["sent_on"] = _sum(gs, n, mask=sin & (stays["sent_on"] == 1))
        contracted = sin & (stays["contracted"] == 1)
        out["contracted_admissions"] = _sum(gs, n, mask=contracted)
        out["fd_referred_admissions"] = _sum(gs, n, mask=contracted & (stays["family_doctor"] == 1))
        m = vin & (vt == county) & (visits["family_doctor"] == 1)
        out["fd_wait"], out["fd_visits"] = _sum(g, n, visits["wait"], m), _sum(g, n, mask=m)
        m = sin & (st == county) & (stays["family_doctor"] == 1)
        out["fd_bed_wait"], out["fd_admissions"] = _sum(gs, n, stays["wait"], m), _sum(gs, n, mask=m)
        out["telemedicine"] = _sum(g, n, mask=vin & (visits["telemedicine"] == 1))
        out["tcm_primary"] = _sum(g, n, mask=vin_primary & (visits["tcm"] == 1))
        in_county_stay = sin & IN_COUNTY[st]
        out["fund_inpatient_in_county"] = _sum(gs, n, stays["fund"], in_county_stay)
        out["fund_case_paid"] = _sum(gs, n, stays["fund"], in_county_stay & (stays["payment"] == 1))
        rehab = sin & (stays["down"] == 1)
        out["rehab_stays"], out["rehab_bed_days"] = _sum(gs, n, mask=rehab), _sum(gs, n, stays["los"], rehab)
        out["fd_referred_up"] = _sum(g, n, mask=vin_primary & (visits["referred_out"] == 1)
                                     & (visits["contracted"] == 1))
        margin = stays["fund"].astype(float) + stays["oop"] - stays["cost"]
        out["county_margin"] = _sum(gs, n, margin, sin & (st == county))
        quint = self.remoteness[episodes["village"]]
        oop_q, episodes_q = (_sum_by(ge, n, quint, 5, w, ein) for w in (episodes["oop"], None))
        for q in range(5):
            out[f"oop_q{q + 1}"], out[f"episodes_q{q + 1}"] = oop_q[q], episodes_q[q]
        docs, beds = self.capacity_by_month(n)
        for name in ("township", "county"):
            fac = self.tier == TIERS.index(name)
            out[f"doctor_days_{name}"] = np.where(docs[:, fac] > 0, docs[:, fac], 0).sum(axis=1) * out["days"]
            out[f"bed_days_open_{name}"] = np.where(beds[:, fac] > 0, beds[:, fac], 0).sum(axis=1) * out["days"]
        if "medicines" in self.groups:
            for t in ("village", "township"):
                m = vin & (vt == TIERS.index(t)) & (visits["stockout"] == 1)
                out[f"stockouts_{t}"] = _sum(g, n, mask=m)
        if "chronic" in self.groups:
            for key in ("enrolled", "prevalent"):
                out[f"chronic_{key}"] = np.asarray(self.chronic[key][:n], float) * out["days"]
            t = self.chronic["missed"]
            scheduled = ein & (episodes["scheduled"] == 1)
            out["followups_scheduled"] = (_sum(ge, n, mask=scheduled)
                                          + _sum(self._month(t), n, mask=(t >= self.warmup) & (t < self.end)))
            completed = scheduled & (episodes["ups"] == 0) & (episodes["status"] == 0)
            out["followups_completed"] = _sum(ge, n, mask=completed)
        if "workforce" in self.groups:
            for t, name in enumerate(TIERS[:3]):
                fac = self.tier == t
                out[f"doctor_years_{name}"] = (np.where(docs[:, fac] > 0, docs[:, fac], 0).sum(axis=1) * out["days"]
                                               / self.days_per_year)
            rotations = self.rotations or {"serving": np.zeros(n), "completing": np.zeros(n)}
            out["senior_primary_days"] = np.asarray(rotations["serving"][:n], float) * out["days"]
            out["rotations_completed"] = np.asarray(rotations["completing"][:n], float)
            moves = np.array(self.pool_moves, float).reshape(-1, 2)  # (day, doctors)
            t = moves[:, 0]
            out["doctors_pooled"] = _sum(self._month(t), n, moves[:, 1], (t >= self.warmup) & (t < self.end))
        if "cadres" in self.groups:
            out.update(self._cadre_minutes(visits, stays, n, out["days"], docs, beds))
        return pd.DataFrame(out)

    def _cadre_minutes(self, visits: dict, stays: dict, n: int, days: np.ndarray, docs: np.ndarray,
                       beds: np.ndarray) -> dict[str, np.ndarray]:
        """Minutes used and available by cadre per month, from consultations and bed-days by facility."""
        F, length = self.county.n_facilities, self.days_per_year / 12.0
        consultations, consult_days = self._cell_sums(visits, ("service",), F, n, length)
        bed_days = self._bed_days_monthly(stays, F, n, length)
        return cadres.minutes(self.cadres, self.county.fac_tier, consultations, consult_days, bed_days, docs, beds,
                              days, self.days_per_year)

    def aggregate(self, sums: pd.DataFrame, by: str) -> pd.DataFrame:
        """Monthly sums added up per year (12 months) or over the whole run."""
        if by == "month":
            return sums
        key = np.zeros(len(sums), dtype=int) if by == "all" else np.arange(len(sums)) // 12
        return sums.groupby(key).sum().reset_index(drop=True)

    def kpis(self, s: pd.DataFrame) -> pd.DataFrame:
        """Every core KPI of the registry from the sums, row by row."""
        return kpi_table(s, float(self.county.population) * s["days"].to_numpy() / self.days_per_year,
                         self.open_share, self.groups)

    def capacity_by_month(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Doctors and beds per (month, facility), time-weighted where a phased plan changed them
        (-1 = unlimited, as in the county)."""
        c = self.county
        docs, beds = np.tile(c.fac_doctors.astype(float), (n, 1)), np.tile(c.fac_beds.astype(float), (n, 1))
        if not self.capacity_log:
            return docs, beds
        length = self.days_per_year / 12.0
        for m in range(n):
            a, b = self.warmup + m * length, min(self.warmup + (m + 1) * length, self.end)
            cuts = [a] + [t for t, _, _ in self.capacity_log if a < t < b] + [b]
            parts = [((hi - lo) / (b - a), *self._capacity_at(lo)) for lo, hi in zip(cuts[:-1], cuts[1:])]
            docs[m] = sum(w * d for w, d, _ in parts)
            beds[m] = sum(w * bd for w, _, bd in parts)
        return docs, beds

    def _average_capacity(self) -> tuple[np.ndarray, np.ndarray]:
        """Doctors and beds per facility over the run (time-weighted under a phased plan)."""
        if not self.capacity_log:
            return self.county.fac_doctors, self.county.fac_beds
        length = self.days_per_year / 12.0
        n = max(int(np.ceil((self.end - self.warmup) / length - 1e-9)), 1)
        weights = np.minimum(length, self.end - self.warmup - length * np.arange(n))
        docs, beds = self.capacity_by_month(n)
        return weights @ docs / weights.sum(), weights @ beds / weights.sum()

    def _capacity_at(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        doctors, beds = self.county.fac_doctors, self.county.fac_beds
        for time, d, b in self.capacity_log:
            if time <= t:
                doctors, beds = d, b
        return doctors.astype(float), beds.astype(float)

    def _bed_days(self, stays: dict, n: int, mask: np.ndarray) -> np.ndarray:
        """Bed-days inside each of the n months, splitting stays that cross month boundaries."""
        start = stays["time"][mask] + stays["wait"][mask]
        stop = start + stays["los"][mask]
        edges = np.minimum(self.warmup + self.days_per_year / 12.0 * np.arange(n + 1), self.end)
        lo = np.clip(start[:, None], edges[:-1], edges[1:])
        hi = np.clip(stop[:, None], edges[:-1], edges[1:])
        return (hi - lo).sum(axis=0) if len(start) else np.zeros(n)

    def facilities(self, visits: dict, stays: dict, samples: int, in_sys_doc: np.ndarray,
                   in_sys_bed: np.ndarray) -> pd.DataFrame:
        c = self.county
        F = c.n_facilities
        span = self.end - self.warmup
        vin = (visits["time"] >= self.warmup) & (visits["time"] < self.end)
        sin = (stays["time"] >= self.warmup) & (stays["time"] < self.end)
        vf, sf = visits["fac"], stays["fac"]
        nv, wait, busy = (_sum(vf, F, w, vin) for w in (None, visits["wait"], visits["service"]))
        sojourn = wait + busy
        ns, bwait = _sum(sf, F, mask=sin), _sum(sf, F, stays["wait"], sin)
        bsoj = bwait + _sum(sf, F, stays["los"], sin)
        bed_days = self._bed_days_all(stays, F)
        doctors, n_beds = self._average_capacity()
        docs = np.where(doctors > 0, doctors, np.nan)
        beds = np.where(n_beds > 0, n_beds, np.nan)
        df = pd.DataFrame({
            "facility": c.fac_names,
            "tier": [TIERS[t] for t in c.fac_tier],
            "township": [c.township_names[t] if t >= 0 else "" for t in c.fac_township],
            "x_km": c.fac_xy[:, 0], "y_km": c.fac_xy[:, 1], "mobile": np.asarray(c.fac_mobile, dtype=bool),
            "doctors": doctors, "beds": n_beds,
            "visits": nv, "admissions": ns,
            "mean_wait_min": _ratio(wait, nv) * 1440.0,
            "utilisation": busy / (docs * span * self.open_share),
            "bed_occupancy": bed_days / (beds * span),
            "mean_bed_wait_days": _ratio(bwait, ns),
            "arrival_rate_per_day": nv / span,
            "mean_sojourn_days": _ratio(sojourn, nv),
            "admission_rate_per_day": ns / span,
            "mean_bed_sojourn_days": _ratio(bsoj, ns),
        })
        if samples:
            df["mean_in_system"] = in_sys_doc / samples
            df["mean_in_beds"] = in_sys_bed / samples
        return df

    def facility_monthly(self, visits: dict, stays: dict) -> pd.DataFrame:
        """Per month (as ``table(..., by="month")``) and facility: the load columns of
        :meth:`facilities` with the same definitions, one row per (month, facility), month-major.

        Visits and admissions count by their start time (only t in [warm-up, end)); utilisation is
        the service time of consultations started in the month ÷ (doctors × month length × opening
        share); bed occupancy splits stays across month boundaries.  Sums are ``numpy.bincount``
        over a combined ``month * F + facility`` index (rows outside the window go to a discard
        bin), computed over fixed-size slices of the logs so temporaries stay a few MB however
        long the run."""
        c = self.county
        F = c.n_facilities
        span = self.end - self.warmup
        length = self.days_per_year / 12.0
        n = max(int(np.ceil(span / length - 1e-9)), 0)
        lengths = np.minimum(length, span - length * np.arange(n))
        nv, wait, busy = self._cell_sums(visits, ("wait", "service"), F, n, length)
        ns, bwait = self._cell_sums(stays, ("wait",), F, n, length)
        bed_days = self._bed_days_monthly(stays, F, n, length)
        doctors, n_beds = self.capacity_by_month(n)
        docs = np.where(doctors > 0, doctors, np.nan)
        beds = np.where(n_beds > 0, n_beds, np.nan)
        months = lengths[:, None]
        return pd.DataFrame({
            "month": np.repeat(np.arange(n, dtype=np.int64), F),
            "facility": np.tile(np.asarray(c.fac_names, dtype=object), n),
            "tier": np.tile(np.array([TIERS[t] for t in c.fac_tier], dtype=object), n),
            "township": np.tile(np.array([c.township_names[t] if t >= 0 else "" for t in c.fac_township],
                                         dtype=object), n),
            "visits": nv.ravel(), "admissions": ns.ravel(),
            "utilisation": (busy / (docs * months * self.open_share)).ravel(),
            "bed_occupancy": (bed_days / (beds * months)).ravel(),
            "mean_wait_min": (_ratio(wait, nv) * 1440.0).ravel(),
            "mean_bed_wait_days": _ratio(bwait, ns).ravel(),
            "doctors": doctors.ravel(),  # time-weighted in the month (-1: unlimited)
            "beds": n_beds.ravel(),
        })

    CHUNK_ROWS = 1 << 20

    def _cell_sums(self, log: dict, columns: tuple[str, ...], F: int, n: int, length: float) -> list[np.ndarray]:
        """(month, facility) row counts, then sums of each of ``columns``, of the rows with time in
        [warm-up, end); each an (n, F) float array."""
        size = n * F
        out = [np.zeros(size + 1) for _ in range(len(columns) + 1)]
        t_all, fac_all = log["time"], log["fac"]
        for s in range(0, len(t_all), self.CHUNK_ROWS):
            key = _cell_keys(t_all[s:s + self.CHUNK_ROWS], fac_all[s:s + self.CHUNK_ROWS], float(self.warmup),
                             float(self.end), length, n, F)
            out[0] += np.bincount(key, minlength=size + 1)
            for acc, col in zip(out[1:], columns):
                acc += np.bincount(key, weights=log[col][s:s + self.CHUNK_ROWS], minlength=size + 1)
        return [acc[:size].reshape(n, F) for acc in out]

    def _bed_days_monthly(self, stays: dict, F: int, n: int, length: float) -> np.ndarray:
        """(month, facility) bed-days: each stay clipped to [warm-up, end) and cut into one piece
        per month it touches (memory ∝ stays, not stays × months)."""
        start = stays["time"] + stays["wait"]
        stop = start + stays["los"]
        lo = np.clip(start, self.warmup, self.end)
        hi = np.clip(stop, self.warmup, self.end)
        keep = np.flatnonzero(hi > lo)
        lo, hi, fac = lo[keep], hi[keep], stays["fac"][keep]
        first = np.clip(np.floor((lo - self.warmup) / length), 0, n - 1).astype(np.int64)
        last = np.clip(np.floor((hi - self.warmup) / length), 0, n - 1).astype(np.int64)
        pieces = last - first + 1
        stay = np.repeat(np.arange(len(lo)), pieces)
        month = first[stay] + (np.arange(len(stay)) - np.repeat(np.cumsum(pieces) - pieces, pieces))
        edges = np.minimum(self.warmup + length * np.arange(n + 1), self.end)
        days = np.minimum(hi[stay], edges[month + 1]) - np.maximum(lo[stay], edges[month])
        days = np.maximum(days, 0.0)
        return np.bincount(month * F + fac[stay], weights=days, minlength=n * F)[:n * F].reshape(n, F)

    def _bed_days_all(self, stays: dict, F: int) -> np.ndarray:
        start = stays["time"] + stays["wait"]
        stop = start + stays["los"]
        lo = np.clip(start, self.warmup, self.end)
        hi = np.clip(stop, self.warmup, self.end)
        return np.bincount(stays["fac"], weights=hi - lo, minlength=F)

    def waits_by_hour(self, visits: dict) -> pd.DataFrame:
        """Outpatient visits and mean wait for a doctor by tier and hour of the day the
        consultation was asked for (after the warm-up)."""
        n, wait = _hour_sums(visits["time"], visits["fac"], visits["wait"], self.tier, self.warmup, self.end,
                             len(TIERS))
        return pd.DataFrame({"tier": np.repeat(np.array(TIERS, dtype=object), 24),
                             "hour": np.tile(np.arange(24), len(TIERS)), "visits": n,
                             "mean_wait_min": _ratio(wait, n) * 1440.0})

    def villages(self, visits: dict, episodes: dict) -> pd.DataFrame:
        """Per village (for equity maps): visits, primary-care share, out-of-pocket per episode."""
        c = self.county
        V = c.n_villages
        ein = (episodes["time"] >= self.warmup) & (episodes["time"] < self.end)
        nv, inc, prim, _ = visit_sums(visits["time"], visits["village"], visits["fac"], self.warmup, self.end,
                                       np.arange(V), np.full(c.n_facilities, -1), c.fac_tier, IN_COUNTY, PRIMARY, V)
        ne, oop = _sum(episodes["village"], V, mask=ein), _sum(episodes["village"], V, episodes["oop"], ein)
        return pd.DataFrame({
            "village": c.village_names,
            "township": [c.township_names[t] for t in c.village_township],
            "population": c.village_pop, "x_km": c.village_xy[:, 0], "y_km": c.village_xy[:, 1],
            "remoteness_quintile": self.remoteness + 1,
            "visits": nv, "primary_care_share": _ratio(prim, nv), "county_visit_rate": _ratio(inc, nv),
            "episodes": ne, "oop_per_episode": _ratio(oop, ne),
        })

    def flows(self, episodes: dict) -> pd.DataFrame:
        """Episodes by first-contact tier, final tier and whether they were referred up or down."""
        T = len(TIERS)
        counts = _flow_counts(episodes["time"], episodes["status"], episodes["first"], episodes["final"],
                              episodes["ups"], episodes["downs"], self.tier, self.warmup, self.end, T)
        idx = np.flatnonzero(counts)
        return pd.DataFrame({
            "first_tier": np.array(TIERS)[idx // (4 * T)],
            "final_tier": np.array(TIERS)[(idx // 4) % T],
            "referred_up": (idx // 2) % 2 == 1,
            "referred_down": idx % 2 == 1,
            "episodes": counts[idx],
        })
