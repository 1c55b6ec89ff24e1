"""Monitors: compact append-only columns (``array.array``), turned into numpy arrays once.

No pandas or dicts per event: a county-year appends a few million rows, so each column is a
typed array (4 or 8 bytes a value) and KPIs are computed with ``numpy.bincount`` at the end.
"""
from __future__ import annotations

from array import array

import numpy as np

VISIT_COLUMNS = {"fac": "i", "time": "d", "wait": "d", "service": "f", "cost": "f", "fund": "f", "oop": "f",
                 "service_revenue": "f", "referred_out": "b", "referred_in": "b", "family_doctor": "b",
                 "tcm": "b", "telemedicine": "b"}
STAY_COLUMNS = {"fac": "i", "time": "d", "wait": "d", "los": "f", "cost": "f", "fund": "f", "oop": "f",
                "service_revenue": "f", "down": "b", "referred": "b", "contracted": "b", "family_doctor": "b"}
EPISODE_COLUMNS = {"time": "d", "village": "i", "condition": "b", "severity": "b", "first": "i", "final": "i",
                   "ups": "b", "downs": "b", "stays": "b", "cost": "f", "fund": "f", "oop": "f",
                   "contracted": "b", "finish": "d", "status": "b"}
TRANSFER_COLUMNS = {"fac": "i", "time": "d", "fund": "d"}  # lump sums such as capitation
COMPLETED, BALKED = 0, 1


class Table:
    """Column store: ``append`` methods are bound once for the hot path."""

    def __init__(self, columns: dict[str, str]):
        self.columns = {k: array(code) for k, code in columns.items()}
        self.appenders = tuple(col.append for col in self.columns.values())

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.frombuffer(col, dtype=col.typecode if col.typecode != "b" else "i1").copy()
                if len(col) else np.zeros(0, dtype=_dtype(col.typecode)) for k, col in self.columns.items()}

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))


def _dtype(code: str) -> str:
    return {"i": "i4", "d": "f8", "f": "f4", "b": "i1"}[code]


class Monitor:
    def __init__(self, n_facilities: int):
        self.visits = Table(VISIT_COLUMNS)
        self.stays = Table(STAY_COLUMNS)
        self.episodes = Table(EPISODE_COLUMNS)
        self.transfers = Table(TRANSFER_COLUMNS)
        self.budget: list[dict] = []
        self.arrived = 0
        self._arrivals = array("d")
        self.arrival_times = self._arrivals.append  # bound once: one call per episode
        self.samples = 0
        self.in_system_doctors = np.zeros(n_facilities)
        self.in_system_beds = np.zeros(n_facilities)

    def arrivals(self) -> np.ndarray:
        return np.frombuffer(self._arrivals, dtype="f8").copy()
