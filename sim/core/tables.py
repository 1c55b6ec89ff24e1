"""Typed column tables: rows packed as bytes, copied into numpy columns once a day.

No pandas or dicts per event: a county-year logs a few million rows.  A row is packed by one
``struct`` call into the bytes of a numpy record and appended to a list; ``commit`` — called
once a simulated day — reads the day's bytes as records and copies them into one typed column
each (1, 4 or 8 bytes a value, grown in large steps).  Packing stores exactly what a typed array
would (same C casts), at a fraction of the cost of converting Python objects later.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Callable

import numpy as np

DTYPES = {"i": "i4", "d": "f8", "f": "f4", "b": "i1"}  # struct / array type codes → numpy


class Table:
    """Column store with row writers bound once for the hot path."""

    MIN_ROOM = 4096  # rows a column holds when it first grows

    def __init__(self, columns: dict[str, str]):
        self.names = tuple(columns)
        self.dtypes = tuple(np.dtype(DTYPES[code]) for code in columns.values())
        self._packer = struct.Struct("<" + "".join(columns.values()))  # little-endian, standard sizes, no padding
        self._record = np.dtype([(k, "<" + DTYPES[code]) for k, code in columns.items()])
        self._rows: list[bytes] = []  # packed rows since the last commit
        self._columns = [np.empty(0, dt) for dt in self.dtypes]  # committed rows, then unused room
        self._stored = 0

    def row_writer(self, names: tuple[str, ...]) -> tuple[Callable[..., bytes], Callable[[bytes], None]]:
        """``(pack, append)``: ``append(pack(a, b, ...))`` logs one row with its values in the order
        ``names``, which the caller states and must be the schema's, so the logging code names
        every value.  Two C calls a row, no Python frame."""
        if tuple(names) != self.names:
            raise ValueError(f"row writer names {tuple(names)} differ from the table's columns {self.names}")
        return self._packer.pack, self._rows.append

    def writer(self) -> Callable[..., None]:
        """A function ``write(col_a=..., col_b=..., ...)`` appending one row (every column
        required); for tables written rarely, where naming by keyword costs nothing that matters."""
        namespace = {"_append": self._rows.append, "_pack": self._packer.pack}
        exec(f"def write(*, {', '.join(self.names)}):\n    _append(_pack({', '.join(self.names)}))\n",
             namespace)  # generated like namedtuple's methods
        return namespace["write"]

    def add_block(self, **columns: np.ndarray) -> None:
        """Append many rows at once, one array per column (every column required)."""
        self.commit()
        self._store([np.asarray(columns[k]) for k in self.names])

    def commit(self) -> None:
        """Copy the buffered rows into the columns."""
        if not self._rows:
            return
        records = np.frombuffer(b"".join(self._rows), dtype=self._record)
        self._rows.clear()
        self._store([records[k] for k in self.names])

    def _store(self, arrays: list[np.ndarray]) -> None:
        start = self._stored
        stop = start + len(arrays[0])
        if stop > len(self._columns[0]):  # grow by a quarter: few copies, little unused room
            room = max(stop, len(self._columns[0]) * 5 // 4, self.MIN_ROOM)
            self._columns = [np.concatenate([c[:start], np.empty(room - start, c.dtype)]) for c in self._columns]
        for column, a in zip(self._columns, arrays):
            column[start:stop] = a
        self._stored = stop

    def arrays(self, start: int = 0) -> dict[str, np.ndarray]:
        """The columns as numpy arrays (views), from row ``start`` on."""
        self.commit()
        return {name: c[start:self._stored] for name, c in zip(self.names, self._columns)}

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
