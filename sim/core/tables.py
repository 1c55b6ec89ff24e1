"""Typed column tables: rows packed as bytes, copied into numpy columns a few hundred KiB at a time.

No pandas or dicts per event: a county-year logs a few million rows.  A row is packed by one
``struct`` call into the bytes of a numpy record and appended to a list (compiled code appends
a run of rows as one piece); ``store_due`` — called once a simulated day — reads the buffered
bytes as records and copies them into one typed column each (1, 4 or 8 bytes a value) once they
fill a batch.  Copying a column costs about as much for a hundred rows as for thousands, so
batching, not the day, sets the cost.  Packing stores exactly what a typed array would (same C
casts), at a fraction of the cost of converting Python objects later.

Columns are stored in fixed-size chunks, never copied while a run grows, so memory follows the
rows logged (a growing array would briefly need the old and the new copy, and its step sizes
would make memory per row depend on where a run's size lands).  ``arrays()`` joins each column's
chunks into one array, column by column, freeing a column's chunks once it is joined: the peak
is the stored rows plus one column.
"""
from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import Callable

import numpy as np

DTYPES = {"i": "i4", "d": "f8", "f": "f4", "b": "i1"}  # struct / array type codes → numpy


def _block(dtypes: tuple[np.dtype, ...], rows: int) -> tuple[mmap.mmap, list[np.ndarray]]:
    """An empty storage chunk of every column, in private memory of its own (an anonymous map),
    column after column: freeing it gives the memory back to the system (malloc would keep blocks
    below its mapping threshold in its heap, where a freed block between live ones still counts
    as the process's memory).  One map per chunk of all columns: a 2M-resident county-year makes
    about 90.  Ordinary pages: transparent huge pages cut the page faults but not the median run
    time, and added runs with 40-80 ms of system time (50k residents, 0.5 y: 8 runs each)."""
    size = rows * sum(d.itemsize for d in dtypes)
    private = getattr(mmap, "MAP_PRIVATE", None)  # private memory (not shared: shared maps keep their pages)
    store = mmap.mmap(-1, size) if private is None else mmap.mmap(-1, size, flags=private | mmap.MAP_ANONYMOUS)
    columns, offset = [], 0
    for dtype in dtypes:
        columns.append(np.frombuffer(store, dtype, rows, offset))
        offset += rows * dtype.itemsize
    return store, columns


def _release(store: mmap.mmap, offset: int, length: int) -> None:
    """Give one column's pages of a block back to the system (the block's map stays for the others)."""
    if offset % mmap.PAGESIZE == 0 and length % mmap.PAGESIZE == 0:  # whole pages (not tests' tiny blocks)
        store.madvise(mmap.MADV_DONTNEED, offset, length)


class Table:
    """Column store with row writers bound once for the hot path."""

    CHUNK_ROWS = 1 << 18  # rows a storage chunk holds: 256 KiB-2 MiB a column, untouched room costs no RSS
    BATCH_BYTES = 1 << 19  # buffered bytes that make ``store_due`` store them (~10k rows)
    BATCH_PIECES = 4096  # ... or buffered pieces (rows logged one at a time hold ~100 bytes each)

    def __init__(self, columns: dict[str, str]):
        self.names = tuple(columns)
        self.dtypes = tuple(np.dtype(DTYPES[code]) for code in columns.values())
        self._packer = struct.Struct("<" + "".join(columns.values()))  # little-endian, standard sizes, no padding
        self._record = np.dtype([(k, "<" + DTYPES[code]) for k, code in columns.items()])
        self._rows: list[bytes] = []  # packed rows since the last commit
        self._chunks: list[list[np.ndarray]] = [[] for _ in self.dtypes]  # per column; only the last has room
        self._blocks: list[mmap.mmap] = []  # the maps holding the chunks not yet joined
        self._room = 0  # unused rows at the end of each column's last chunk
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
        if len(rows) >= self.BATCH_PIECES or sum(map(len, rows)) >= self.BATCH_BYTES:
            self.commit()

    def commit(self) -> None:
        """Copy the buffered rows into the columns."""
        if not self._rows:
            return
        records = np.frombuffer(b"".join(self._rows), dtype=self._record)
        self._rows.clear()
        self._store([records[k] for k in self.names])

    def _store(self, arrays: list[np.ndarray]) -> None:
        n, done = len(arrays[0]), 0
        while done < n:
            if not self._room:
                store, columns = _block(self.dtypes, self.CHUNK_ROWS)
                self._blocks.append(store)
                for chunks, column in zip(self._chunks, columns):
                    chunks.append(column)
                self._room = self.CHUNK_ROWS
            at = len(self._chunks[0][-1]) - self._room
            take = min(self._room, n - done)
            for chunks, a in zip(self._chunks, arrays):
                chunks[-1][at:at + take] = a[done:done + take]
            self._room -= take
            done += take
        self._stored += n

    def _filled(self, chunks: list[np.ndarray]) -> list[np.ndarray]:
        """A column's chunks cut to the rows stored in them."""
        return chunks[:-1] + [chunks[-1][:len(chunks[-1]) - self._room]] if chunks else []

    def _join(self) -> None:
        """Make each column one array, column by column (a column's chunks are freed once joined)."""
        if len(self._chunks[0]) < 2:
            return
        offset = 0
        for i, (chunks, dtype) in enumerate(zip(self._chunks, self.dtypes)):
            joined = np.concatenate(self._filled(chunks))
            chunks.clear()
            self._chunks[i] = [joined]
            for store in self._blocks:
                _release(store, offset, self.CHUNK_ROWS * dtype.itemsize)
            offset += self.CHUNK_ROWS * dtype.itemsize
        self._blocks.clear()
        self._room = 0

    def arrays(self, start: int = 0) -> dict[str, np.ndarray]:
        """The columns as numpy arrays from row ``start`` on: views of the whole columns for
        ``start`` 0 (joining the chunks first; they stay valid), else a copy of those rows if
        they span chunks or a view of one chunk, valid until the next ``arrays()`` joins (which
        gives the chunks' memory back): read it at once, as the event log does."""
        self.commit()
        if start == 0:
            self._join()
        out = {}
        for name, dtype, chunks in zip(self.names, self.dtypes, self._chunks):
            pieces, offset = [], 0
            for chunk in self._filled(chunks):
                if offset + len(chunk) > start:
                    pieces.append(chunk[max(start - offset, 0):])
                offset += len(chunk)
            out[name] = pieces[0] if len(pieces) == 1 else np.concatenate(pieces) if pieces else np.empty(0, dtype)
        return out

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
