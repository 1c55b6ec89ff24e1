"""What a run records: one row per visit, inpatient stay, episode and lump-sum transfer.

The column schemas live here and nowhere else; the pathway writes rows through named writers
built from them (``Table.writer``) and the KPI registry (``models/kpis.py``) reads them.
"""
from __future__ import annotations

from array import array

import numpy as np

from models.episode import BALKED, COMPLETED, DECLINED  # noqa: F401  (episode status codes, re-exported)
from sim.core.tables import Table

VISIT_COLUMNS = {"fac": "i", "village": "i", "time": "d", "wait": "d", "service": "f", "cost": "f", "fund": "f",
                 "oop": "f", "service_revenue": "f", "referred_out": "b", "referred_in": "b", "family_doctor": "b",
                 "tcm": "b", "telemedicine": "b", "contracted": "b",
                 "stockout": "b"}  # stockout: the facility lacked the chronic patient's medicine (sent up)
# payment: 0 fee-for-service, 1 case payment (DRG, DIP, same-payment), 2 per diem; sent_on: 1 when a full
# hospital sent the admission here (床位已满转院, referral.full_bed_wait_days)
STAY_COLUMNS = {"fac": "i", "time": "d", "wait": "d", "los": "f", "cost": "f", "fund": "f", "oop": "f",
                "service_revenue": "f", "down": "b", "referred": "b", "contracted": "b", "family_doctor": "b",
                "payment": "b", "sent_on": "b"}
EPISODE_COLUMNS = {"time": "d", "village": "i", "condition": "b", "severity": "b", "first": "i", "final": "i",
                   "ups": "b", "downs": "b", "stays": "b", "cost": "f", "fund": "f", "oop": "f",
                   "contracted": "b", "finish": "d", "status": "b",
                   "scheduled": "b"}  # scheduled: a chronic-centre follow-up (慢病管理中心随访)
TRANSFER_COLUMNS = {"fac": "i", "time": "d", "fund": "d"}  # lump sums: capitation, DIP year-end settlements
OUTSIDE_COLUMNS = {"time": "d", "village": "i", "option": "b"}  # illnesses self-treated (1) or left untreated (2)
MISSED_COLUMNS = {"time": "d", "village": "i"}  # scheduled chronic-centre follow-ups the patient did not come to


class Monitor:
    """The run's records: typed tables plus arrival times and queue samples."""

    def __init__(self, n_facilities: int):
        self.visits = Table(VISIT_COLUMNS)
        self.stays = Table(STAY_COLUMNS)
        self.episodes = Table(EPISODE_COLUMNS)
        self.transfers = Table(TRANSFER_COLUMNS)
        self.outside = Table(OUTSIDE_COLUMNS)
        self.missed = Table(MISSED_COLUMNS)
        self.budget: list[dict] = []
        self.community_budget = None  # pandas table by (budget year, community), set at the end of a run
        self._arrivals = array("d")
        self.samples = 0
        self.in_system_doctors = np.zeros(n_facilities)
        self.in_system_beds = np.zeros(n_facilities)
        self.capacity_log: list[tuple[float, np.ndarray, np.ndarray]] = []  # (time, doctors, beds) after a change

    def capacity_changed(self, time: float, doctors: np.ndarray, beds: np.ndarray) -> None:
        self.capacity_log.append((time, doctors.copy(), beds.copy()))

    def arrival_times(self, times: np.ndarray) -> None:
        """Episodes that arrived: a day's arrival times at once."""
        self._arrivals.frombytes(np.ascontiguousarray(times, dtype="f8").tobytes())

    def store_due(self) -> None:
        """Store each table's buffered rows once they fill a batch (called once a simulated day)."""
        for table in (self.visits, self.stays, self.episodes, self.transfers, self.outside, self.missed):
            table.store_due()

    @property
    def arrived(self) -> int:
        return len(self._arrivals)

    def arrivals(self) -> np.ndarray:
        return np.frombuffer(self._arrivals, dtype="f8") if len(self._arrivals) else np.zeros(0)

    def event_tables(self) -> dict[str, Table]:
        """The per-event tables an event log streams to Parquet."""
        return {"visits": self.visits, "stays": self.stays, "episodes": self.episodes}
