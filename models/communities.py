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
    vin = (visits["time"] >= warmup) & (visits["time"] < end)
    com = county.village_community[visits["village"][vin]]
    fac = visits["fac"][vin]
    tier = county.fac_tier[fac]
    other = in_county[tier] & (county.fac_community[fac] >= 0) & (county.fac_community[fac] != com)
    ein = (episodes["time"] >= warmup) & (episodes["time"] < end)
    ecom = county.village_community[episodes["village"][ein]]
    pop = np.bincount(county.village_community, weights=county.village_pop, minlength=n)
    nv = np.bincount(com, minlength=n).astype(float)
    inc = np.bincount(com, weights=in_county[tier].astype(float), minlength=n)
    fund = np.bincount(ecom, weights=episodes["fund"][ein], minlength=n)
    years = (end - warmup) / days_per_year
    return pd.DataFrame({
        "community": county.community_names, "residents": pop, "visits": nv,
        "primary_care_share": ratio(np.bincount(com, weights=primary[tier].astype(float), minlength=n), nv),
        "county_visit_rate": ratio(inc, nv),
        "cross_community_share": ratio(np.bincount(com, weights=other.astype(float), minlength=n), inc),
        "fund_per_resident": ratio(fund, pop * years),
    })
