"""Monitors: compact append-only columns (``array.array``), turned into numpy arrays once.

No pandas or dicts per event: a county-year appends a few million rows, so each column is a
typed array (4 or 8 bytes a value) and KPIs are computed with ``numpy.bincount`` at the end.
"""
from __future__ import annotations

from array import array

import numpy as np

VISIT_COLUMNS = {"fac": "i", "village": "i", "time": "d", "wait": "d", "service": "f", "cost": "f", "fund": "f", "oop": "f",
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
        """Zero-copy numpy views of the columns (call once logging has ended: a column that
        exports a view can no longer grow)."""
        return {k: np.frombuffer(col, dtype=_dtype(col.typecode)) if len(col) else np.zeros(0, dtype=_dtype(col.typecode))
                for k, col in self.columns.items()}

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
        self._arrivals = array("d")
        self.arrival_times = self._arrivals.append  # bound once: one call per episode
        self.samples = 0
        self.in_system_doctors = np.zeros(n_facilities)
        self.in_system_beds = np.zeros(n_facilities)

    @property
    def arrived(self) -> int:
        return len(self._arrivals)

    def arrivals(self) -> np.ndarray:
        return np.frombuffer(self._arrivals, dtype="f8") if len(self._arrivals) else np.zeros(0)


class EventLog:
    """Streams the per-event tables to Parquet in chunks while a replication runs (off by default).

    One file per table (``visits``, ``stays``, ``episodes``) in ``folder``; each flush appends a
    row group of the rows logged since the last one, so a long run never rebuilds big frames.
    """

    CHUNK_ROWS = 250_000

    def __init__(self, folder, monitor: Monitor, chunk_rows: int | None = None):
        from pathlib import Path

        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.tables = {"visits": monitor.visits, "stays": monitor.stays, "episodes": monitor.episodes}
        self.written = {k: 0 for k in self.tables}
        self.writers: dict = {}
        self.chunk_rows = chunk_rows or self.CHUNK_ROWS

    def flush(self, final: bool = False) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        for name, table in self.tables.items():
            start, stop = self.written[name], len(table)
            if stop - start < (1 if final else self.chunk_rows):
                continue
            cols = {k: np.frombuffer(col, dtype=_dtype(col.typecode))[start:stop] for k, col in table.columns.items()}
            batch = pa.table(cols)
            if name not in self.writers:
                self.writers[name] = pq.ParquetWriter(self.folder / f"{name}.parquet", batch.schema)
            self.writers[name].write_table(batch)
            self.written[name] = stop
        if final:
            for w in self.writers.values():
                w.close()
