"""Typed column tables: compact append-only columns (``array.array``) turned into numpy once.

No pandas or dicts per event: a county-year appends a few million rows, so each column is a
typed array (1, 4 or 8 bytes a value).  ``Table.writer()`` builds a row writer from the column
schema — one keyword argument per column — so the code that logs a row names every value.
"""
from __future__ import annotations

from array import array
from pathlib import Path
from typing import Callable

import numpy as np

DTYPES = {"i": "i4", "d": "f8", "f": "f4", "b": "i1"}


class Table:
    """Column store with a named row writer bound once for the hot path."""

    def __init__(self, columns: dict[str, str]):
        self.columns = {k: array(code) for k, code in columns.items()}

    def writer(self) -> Callable[..., None]:
        """A function ``write(col_a=..., col_b=..., ...)`` appending one row (every column required)."""
        names = list(self.columns)
        namespace = {f"_append_{i}": col.append for i, col in enumerate(self.columns.values())}
        body = "\n".join(f"    _append_{i}({name})" for i, name in enumerate(names))
        exec(f"def write(*, {', '.join(names)}):\n{body}\n", namespace)  # generated like namedtuple's methods
        return namespace["write"]

    def arrays(self) -> dict[str, np.ndarray]:
        """Zero-copy numpy views of the columns (call once logging has ended: a column that
        exports a view can no longer grow)."""
        return {k: np.frombuffer(col, dtype=DTYPES[col.typecode]) if len(col) else np.zeros(0, dtype=DTYPES[col.typecode])
                for k, col in self.columns.items()}

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))


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
            cols = {k: np.frombuffer(col, dtype=DTYPES[col.typecode])[start:stop] for k, col in table.columns.items()}
            batch = pa.table(cols)
            if name not in self.writers:
                self.writers[name] = pq.ParquetWriter(self.folder / f"{name}.parquet", batch.schema)
            self.writers[name].write_table(batch)
            self.written[name] = stop
        if final:
            for w in self.writers.values():
                w.close()
