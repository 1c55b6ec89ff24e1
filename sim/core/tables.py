"""Typed column tables: rows packed as bytes, copied into numpy columns a few hundred KiB at a time.

No pandas or dicts per event: a county-year logs a few million rows.  A row is packed by one
``struct`` call into the bytes of a numpy record and appended to a list (compiled code appends
a run of rows as one piece); ``store_due`` — called once a simulated day — reads the buffered
bytes as records and copies them into one typed column each (1, 4 or 8 bytes a value) once they
fill a batch.  Copying a column costs about as much for a hundred rows as for thousands, so
batching, not the day, sets the cost.  Packing stores exactly what a typed array would (same C
casts), at a fraction of the cost of converting Python objects later.

Each column is one anonymous memory map that doubles in place as rows arrive (``mremap``:
the kernel moves page tables, not bytes), so a column is always one contiguous array: ``arrays()``
hands out views, never joins or copies, and memory follows the rows logged — room reserved but
not yet written costs address space, not RSS.  A column whose views are held when it must grow
is copied into a new map instead; the views stay valid.
"""
from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import Callable

import numpy as np

DTYPES = {"i": "i4", "d": "f8", "f": "f4", "b": "i1"}  # struct / array type codes → numpy


def _anonymous(size: int) -> mmap.mmap:
    """Private anonymous memory of ``size`` bytes, given back to the system when freed (malloc
    would keep it in its heap while live blocks sit above it)."""
    private = getattr(mmap, "MAP_PRIVATE", None)
    return mmap.mmap(-1, size) if private is None else mmap.mmap(-1, size, flags=private | mmap.MAP_ANONYMOUS)


class Table:
    """Column store with row writers bound once for the hot path."""

    INITIAL_ROWS = 1 << 16  # a column's first map; it doubles from there
    BATCH_BYTES = 1 << 19  # buffered bytes that make ``store_due`` store them (~10k rows)
    BATCH_PIECES = 4096  # ... or buffered pieces (rows logged one at a time hold ~100 bytes each)

    def __init__(self, columns: dict[str, str]):
        self.names = tuple(columns)
        self.dtypes = tuple(np.dtype(DTYPES[code]) for code in columns.values())
        self._packer = struct.Struct("<" + "".join(columns.values()))  # little-endian, standard sizes, no padding
        self._record = np.dtype([(k, "<" + DTYPES[code]) for k, code in columns.items()])
        self._rows: list[bytes] = []  # packed rows since the last commit
        self._counted, self._bytes = 0, 0  # of them, the pieces store_due has counted, and their bytes
        self._maps: list[mmap.mmap | None] = [None] * len(self.dtypes)  # one per column
        self._capacity = 0  # rows every column's map has room for
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
        rows = np.empty(len(columns[self.names[0]]), self._record)
        for k in self.names:
            rows[k] = columns[k]
        self._rows.append(rows.tobytes())

    def store_due(self) -> None:
        """``commit`` once the buffered rows fill a batch (the buffer's size is its bytes, or its
        pieces when rows come one at a time); rows are stored in the order logged either way."""
        rows = self._rows
        if len(rows) > self._counted:  # bytes of the pieces logged since the last call
            self._bytes += sum(map(len, rows[self._counted:]))
            self._counted = len(rows)
        if len(rows) >= self.BATCH_PIECES or self._bytes >= self.BATCH_BYTES:
            self.commit()

    def commit(self) -> None:
        """Copy the buffered rows into the columns."""
        if not self._rows:
            return
        records = np.frombuffer(b"".join(self._rows), dtype=self._record)
        self._rows.clear()
        self._counted = self._bytes = 0
        self._store([records[k] for k in self.names])

    def _store(self, arrays: list[np.ndarray]) -> None:
        n, at = len(arrays[0]), self._stored
        if at + n > self._capacity:
            self._grow(at + n)
        for store, dtype, a in zip(self._maps, self.dtypes, arrays):
            np.frombuffer(store, dtype, n, at * dtype.itemsize)[:] = a  # a view for this copy only
        self._stored = at + n

    def _grow(self, rows: int) -> None:
        """Room for ``rows``: every column's map doubled until it fits, in place when no view of it
        is held, else (or where the system cannot resize a map) a new map with the rows copied;
        held views keep the old one."""
        capacity = max(self._capacity, self.INITIAL_ROWS)
        while capacity < rows:
            capacity *= 2
        for i, (store, dtype) in enumerate(zip(self._maps, self.dtypes)):
            size = capacity * dtype.itemsize
            if store is None:
                self._maps[i] = _anonymous(size)
                continue
            try:
                store.resize(size)
            except (BufferError, SystemError, OSError):  # views of it are held, or no mremap here (macOS)
                moved = _anonymous(size)
                np.frombuffer(moved, dtype, self._stored)[:] = np.frombuffer(store, dtype, self._stored)
                self._maps[i] = moved
        self._capacity = capacity

    def arrays(self, start: int = 0) -> dict[str, np.ndarray]:
        """The columns from row ``start`` on, as views of the stored rows (no copy); they stay
        valid whatever is logged afterwards."""
        self.commit()
        n = max(self._stored - start, 0)
        return {name: np.frombuffer(store, dtype, n, start * dtype.itemsize) if n else np.empty(0, dtype)
                for name, dtype, store in zip(self.names, self.dtypes, self._maps)}

    def __len__(self) -> int:
        return self._stored + sum(map(len, self._rows)) // self._packer.size


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
