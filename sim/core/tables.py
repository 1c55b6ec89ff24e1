"""Typed column tables: rows buffered as tuples, stored as numpy blocks once a day.

No pandas or dicts per event: a county-year logs a few million rows.  A row is one tuple
appended to a list (the cheapest thing Python does per event); ``commit`` — called once a
simulated day — turns the buffered rows into one typed numpy block per column (1, 4 or 8 bytes
a value), so memory stays compact and the per-row cost is a single ``list.append``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

DTYPES = {"i": "i4", "d": "f8", "f": "f4", "b": "i1"}


class Table:
    """Column store with row writers bound once for the hot path."""

    def __init__(self, columns: dict[str, str]):
        self.names = tuple(columns)
        self.dtypes = tuple(np.dtype(DTYPES[code]) for code in columns.values())
        self._rows: list[tuple] = []  # rows since the last commit, in schema order
        self._blocks: list[list[np.ndarray]] = [[] for _ in self.names]  # committed blocks per column
        self._stored = 0

    def row_writer(self, names: tuple[str, ...]) -> Callable[[tuple], None]:
        """``write((a, b, ...))`` appending one row given as a tuple in the order ``names``, which
        the caller states and must be the schema's: the logging code names every value."""
        if tuple(names) != self.names:
            raise ValueError(f"row writer names {tuple(names)} differ from the table's columns {self.names}")
        return self._rows.append

    def writer(self) -> Callable[..., None]:
        """A function ``write(col_a=..., col_b=..., ...)`` appending one row (every column
        required); for tables written rarely, where naming by keyword costs nothing that matters."""
        namespace = {"_append": self._rows.append}
        exec(f"def write(*, {', '.join(self.names)}):\n    _append(({', '.join(self.names)},))\n",
             namespace)  # generated like namedtuple's methods
        return namespace["write"]

    def add_block(self, **columns: np.ndarray) -> None:
        """Append many rows at once, one array per column (every column required)."""
        self.commit()
        arrays = [np.asarray(columns[k]).astype(dt) for k, dt in zip(self.names, self.dtypes)]
        if len(arrays[0]):
            self._store(arrays)

    def commit(self) -> None:
        """Turn the buffered rows into one typed block per column."""
        if not self._rows:
            return
        rows = np.array(self._rows, dtype="f8")  # every value is a number; f8 holds them all exactly
        self._rows.clear()
        self._store([rows[:, j].astype(dt) for j, dt in enumerate(self.dtypes)])

    def _store(self, arrays: list[np.ndarray]) -> None:
        for blocks, a in zip(self._blocks, arrays):
            blocks.append(a)
        self._stored += len(arrays[0])

    def arrays(self, start: int = 0) -> dict[str, np.ndarray]:
        """The columns as numpy arrays, from row ``start`` on (all rows: joined once and kept)."""
        self.commit()
        out = {}
        for name, dt, blocks in zip(self.names, self.dtypes, self._blocks):
            if start == 0 and len(blocks) > 1:
                blocks[:] = [np.concatenate(blocks)]
            pieces, offset = [], 0
            for b in blocks:
                if offset + len(b) > start:
                    pieces.append(b[max(start - offset, 0):])
                offset += len(b)
            out[name] = pieces[0] if len(pieces) == 1 else np.concatenate(pieces) if pieces else np.zeros(0, dt)
        return out

    def __len__(self) -> int:
        return self._stored + len(self._rows)


class EventLog:
    """Streams tables to Parquet in chunks while a run goes on.

    One file per table in ``folder``; each flush appends a row group of the rows logged since
    the last one, so a long run never rebuilds big frames.
    """

    CHUNK_ROWS = 250_000

    def __init__(self, folder: str | Path, tables: dict[str, Table], chunk_rows: int | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.tables = tables
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
            batch = pa.table(table.arrays(start))
            if name not in self.writers:
                self.writers[name] = pq.ParquetWriter(self.folder / f"{name}.parquet", batch.schema)
            self.writers[name].write_table(batch)
            self.written[name] = stop
        if final:
            for w in self.writers.values():
                w.close()
