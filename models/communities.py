"""Medical communities (医共体) of a county: fund accounting and indicators by community.

Seed 001 asks for two or more medical communities per county, each with its member facilities
and its own budget.  Residents belong to their township's community; the fund's spending on a
resident (visits, stays, anywhere) is charged to that community, a lump sum paid to a facility
(capitation) to the facility's.  A community's budget is the county budget pro rata to its
residents, so the communities' balances add up to the county's.  Patients may use another
community's facilities (cross-community care), which the indicators record.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from models.geography import County
from models.kpi_registry import ratio
from sim.core.jit import njit


class CommunityLedger:
    """Fund spending by community and budget year (years as the global budget counts them)."""

    def __init__(self, county: County):
        self.names = county.community_names
        self.village = county.village_community.tolist()
        self.facility = county.fac_community.tolist()
        pop = np.bincount(county.village_community, weights=county.village_pop, minlength=len(self.names))
        self.population_share = pop / pop.sum()
        self.years: list[tuple[int, list[float]]] = []  # plain floats: one add per visit, no numpy scalar
        self._spent: list[float] | None = None  # this year's spending by community

    def start_year(self, year: int) -> None:
        self._spent = [0.0] * len(self.names)
        self.years.append((year, self._spent))

    def resident_spend(self, village: int, amount: float) -> None:
        if self._spent is not None:
            self._spent[self.village[village]] += amount

    def facility_spend(self, fac: int, amount: float) -> None:
        """A lump sum to a facility; one outside every community is shared pro rata to residents."""
        if self.years:
            com = self.facility[fac]
            if com >= 0:
                self.years[-1][1][com] += amount
            else:
                spent = self.years[-1][1]
                for c, share in enumerate(self.population_share.tolist()):
                    spent[c] += amount * share

    def table(self, budget: list[dict]) -> pd.DataFrame:
        """One row per (budget year, community): budget, fund spent and balance; the budget columns
        are NaN when the global budget is off."""
        budgets = {row["year"]: row["fund_budget"] for row in budget}
        rows = []
        for year, spent in self.years:
            if year < 0:
                continue
            total = budgets.get(year, np.nan)
            for c, name in enumerate(self.names):
                b = total * self.population_share[c]
                rows.append({"year": year, "community": name, "budget": b, "fund_spent": spent[c],
                             "balance": b - spent[c]})
        return pd.DataFrame(rows, columns=["year", "community", "budget", "fund_spent", "balance"])


def community_indicators(county: County, visits: dict, episodes: dict, warmup: float, end: float,
                         days_per_year: int, in_county: np.ndarray, primary: np.ndarray) -> pd.DataFrame:
    """Per community: residents, visits, primary-care share, county visit rate, the share of its
    residents' in-county visits made in another community, and fund spending per resident-year."""
    n = len(county.community_names)
    nv, inc, prim, other = visit_sums(visits["time"], visits["village"], visits["fac"], warmup, end,
                                       county.village_community, county.fac_community, county.fac_tier,
                                       in_county, primary, n)
    fund = _fund_sums(episodes["time"], episodes["village"], episodes["fund"], warmup, end,
                      county.village_community, n)
    pop = np.bincount(county.village_community, weights=county.village_pop, minlength=n)
    years = (end - warmup) / days_per_year
    return pd.DataFrame({
        "community": county.community_names, "residents": pop, "visits": nv,
        "primary_care_share": ratio(prim, nv),
        "county_visit_rate": ratio(inc, nv),
        "cross_community_share": ratio(other, inc),
        "fund_per_resident": ratio(fund, pop * years),
    })


@njit(cache=True)
def _community(village_community, village, n):
    """The resident's community, checked as ``np.bincount(..., minlength=n)`` would need it."""
    com = village_community[village]
    if com < 0 or com >= n:
        raise ValueError("village community outside 0..n-1")
    return com


@njit(cache=True)
def visit_sums(time, village, fac, warmup, end, village_community, fac_community, fac_tier, in_county,
                primary, n):
    """Per residents' community (or any grouping of villages, ``village_community``: each village
    its own for the village table), one pass over the visits from ``warmup`` to ``end``: visits,
    in-county visits, primary-care visits and in-county visits to another community's facility
    (counts as floats, as ``np.bincount`` of masks gave them, without the masked copies)."""
    visits, inc, prim, other = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(len(time)):
        if time[i] >= warmup and time[i] < end:
            com = _community(village_community, village[i], n)
            f = fac[i]
            tier = fac_tier[f]
            visits[com] += 1.0
            if in_county[tier]:
                inc[com] += 1.0
                if fac_community[f] >= 0 and fac_community[f] != com:
                    other[com] += 1.0
            if primary[tier]:
                prim[com] += 1.0
    return visits, inc, prim, other


@njit(cache=True)
def _fund_sums(time, village, fund, warmup, end, village_community, n):
    """Fund spending per residents' community over the episodes from ``warmup`` to ``end``, added
    in row order from 0.0 as ``np.bincount`` adds its float64 weights."""
    out = np.zeros(n)
    for i in range(len(time)):
        if time[i] >= warmup and time[i] < end:
            out[_community(village_community, village[i], n)] += np.float64(fund[i])
    return out
