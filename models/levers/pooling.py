"""Pooled township staff (人员统筹): the medical community moves doctors to where the patients are.

Seeds 000–002 have the county medical community (医共体) employ and deploy primary staff as one
pool (人员统筹使用).  The rule here: on the first day of every month of the run (months of
``days_per_year / 12`` days counted from the start, warm-up included), in each community, the
township centre with the longest predicted wait receives ``doctors_per_move`` doctors from the
centre whose predicted wait would stay shortest without them, provided that centre keeps at least
``minimum_doctors`` and its wait would stay below the receiving centre's.  Waits are predicted
from the month just ended: its consultations × consultation time ÷ opening time is the offered
load, and the M/M/c (Erlang C) mean wait for the centre's doctors follows.  Each move lowers the
longest predicted wait, so under steady demand doctors do not shuttle back and forth.  Erlang C
rather than consultations per doctor: at the same load per doctor a centre cut to one or two
doctors queues far longer, and a move that would only shift the queue is not made.  The
stations change size that day, as for a rotation or a phased plan; moves add up month after
month and outlast a plan's changes (a centre pushed below the minimum by another lever gives
its community's moves back).  Patients respond through waits and facility size in choice.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from models.tiers import TIERS
from sim.core.config_files import Strict
from sim.core.queueing import erlang_c_wait

if TYPE_CHECKING:
    from models.geography import County
    from models.scenario import Scenario

TOWNSHIP = TIERS.index("township")


class PoolingSpec(Strict):
    """Township doctors pooled and moved monthly by the community (人员统筹)."""

    enabled: bool = Field(False, description="move township doctors monthly, inside each community, to the centre "
                                             "with the longest predicted wait")
    doctors_per_move: int = Field(1, ge=1, le=20, description="doctors moved per community per month (assumed)")
    minimum_doctors: int = Field(1, ge=1, le=50, description="doctors a centre always keeps (assumed)")


def centres(county: County) -> np.ndarray:
    """Township centres with a finite number of doctors (touring teams excluded)."""
    return np.flatnonzero((county.fac_tier == TOWNSHIP) & ~county.fac_mobile & (county.fac_doctors > 0))


class StaffPool:
    """The community's moves so far (doctors per facility, adding to zero in each community) and
    the month's consultations by facility."""

    def __init__(self, county: County, days_per_year: float):
        self.moved = np.zeros(county.n_facilities, dtype=np.int64)
        self.consultations = np.zeros(county.n_facilities)
        self.month = days_per_year / 12.0
        self.next_day = self.month
        self.spec = PoolingSpec()
        self.open_share = 1.0
        self.log: list[tuple[int, int]] = []  # (day, doctors moved that day)

    @property
    def active(self) -> bool:
        return self.spec.enabled

    def settle(self, scenario: Scenario, county: County) -> None:
        """The scenario's pooling rule, and the moves so far applied to its county (in place)."""
        self.spec = scenario.workforce.pooling
        self.open_share = scenario.simulation.open_hours / 24.0
        self._fit(county.n_facilities)
        if not self.active:
            self.moved[:] = 0
            return
        short = (self.moved < 0) & (county.fac_doctors + self.moved < self.spec.minimum_doctors)
        for community in np.unique(county.fac_community[short]):
            self.moved[county.fac_community == community] = 0
        county.fac_doctors += self.moved

    def _fit(self, n: int) -> None:
        """Other levers add facilities after the base county's (touring teams, 巡回医疗), and a
        plan may add or drop them: centres keep their index, so the books are cut or padded."""
        if len(self.moved) != n:
            grow = max(n - len(self.moved), 0)
            self.moved = np.pad(self.moved[:n], (0, grow))
            self.consultations = np.pad(self.consultations[:n], (0, grow))

    def count(self, consultations: list[int]) -> None:
        """A day's consultations by facility."""
        self.consultations += consultations

    def month_end(self, day: int, county: County, consult_days: list[float]) -> bool:
        """On a month's first day, this month's moves (added to ``moved``); True when any doctor moved."""
        if not self.active or day < self.next_day - 1e-9:
            return False
        self.next_day += self.month
        load, self.consultations = self.consultations, np.zeros_like(self.consultations)
        offered = load * np.asarray(consult_days) / (self.month * self.open_share)  # busy doctors, open hours
        k, moved = self.spec.doctors_per_move, False
        facs = centres(county)
        for community in np.unique(county.fac_community[facs]):
            members = facs[county.fac_community[facs] == community]
            doctors = county.fac_doctors[members]
            now = np.array([erlang_c_wait(a, int(d)) for a, d in zip(offered[members], doctors)])
            after = np.array([erlang_c_wait(a, int(d) - k) if d - k >= self.spec.minimum_doctors else np.inf
                              for a, d in zip(offered[members], doctors)])
            take = int(np.argmax(now))
            after[take] = np.inf
            give = int(np.argmin(after))
            if after[give] < now[take]:
                self.moved[members[give]] -= k
                self.moved[members[take]] += k
                self.log.append((day, k))
                moved = True
        return moved


def county_problems(scenario: Scenario, county: County) -> list[tuple[str, str]]:
    """Pooling with no community holding two township centres has nothing to move."""
    if not scenario.workforce.pooling.enabled:
        return []
    facs = centres(county)
    if np.bincount(county.fac_community[facs]).max(initial=0) >= 2:
        return []
    return [("workforce.pooling.enabled", "no medical community has two township centres with doctors to pool; "
                                          "turn pooling off or put several townships in one community")]
