"""Column tables: packed rows come back as the typed values a numpy cast of them gives, in order,
across commits, columns grown in place or moved, and blocks added at once."""
import numpy as np
import pytest

from sim.core.tables import Table

COLUMNS = {"fac": "i", "time": "d", "cost": "f", "flag": "b"}


def test_rows_round_trip_through_commits_and_chunks(monkeypatch):
    monkeypatch.setattr(Table, "INITIAL_ROWS", 8)  # columns double many times
    rng = np.random.default_rng(3)
    fac, time = rng.integers(-5, 10**6, 200), rng.random(200) * 1e4
    cost, flag = rng.random(200) * 1e3, rng.random(200) < 0.3
    table = Table(COLUMNS)
    pack, append = table.row_writer(tuple(COLUMNS))
    write = table.writer()
    for i in range(150):
        if i % 2:
            append(pack(int(fac[i]), float(time[i]), float(cost[i]), bool(flag[i])))
        else:
            write(fac=int(fac[i]), time=float(time[i]), cost=float(cost[i]), flag=bool(flag[i]))
        if i % 37 == 0:
            table.commit()
    assert len(table) == 150
    table.add_block(fac=fac[150:], time=time[150:], cost=cost[150:], flag=flag[150:])
    out = table.arrays()
    assert [out[k].dtype for k in COLUMNS] == [np.dtype(t) for t in ("i4", "f8", "f4", "i1")]
    assert np.array_equal(out["fac"], fac.astype("i4"))
    assert np.array_equal(out["time"], time)
    assert np.array_equal(out["cost"], cost.astype("f4"))  # the same rounding as a float32 cast
    assert np.array_equal(out["flag"], flag.astype("i1"))
    assert np.array_equal(table.arrays(120)["time"], time[120:])


def test_rows_read_from_any_start_while_the_columns_grow(monkeypatch):
    """``arrays(start)`` (what the event log streams) sees the rows from ``start`` on; rows added
    after earlier views were handed out follow on, and those views keep their rows (a column
    whose views are held is moved to a new map when it grows, not resized under them)."""
    monkeypatch.setattr(Table, "INITIAL_ROWS", 8)
    time = np.arange(50, dtype="f8")
    table = Table(COLUMNS)
    assert [len(a) for a in table.arrays().values()] == [0, 0, 0, 0]
    for lo, hi in ((0, 5), (5, 21), (21, 30)):
        table.add_block(fac=np.arange(lo, hi), time=time[lo:hi], cost=time[lo:hi], flag=np.zeros(hi - lo))
    assert [np.array_equal(table.arrays(s)["time"], time[s:30]) for s in (3, 8, 16, 29, 30, 0)] == [True] * 6
    table.add_block(fac=np.arange(30, 50), time=time[30:], cost=time[30:], flag=np.ones(20))
    for s in (45, 29, 0, 31, 0):
        assert np.array_equal(table.arrays(s)["time"], time[s:])
        assert np.array_equal(table.arrays(s)["fac"], np.arange(s, 50, dtype="i4"))
    assert np.array_equal(table.arrays()["flag"], np.r_[np.zeros(30), np.ones(20)].astype("i1"))


def test_row_writer_must_name_the_columns_in_schema_order():
    with pytest.raises(ValueError, match="differ from the table's columns"):
        Table(COLUMNS).row_writer(("time", "fac", "cost", "flag"))


def test_held_views_keep_their_rows_when_the_columns_grow(monkeypatch):
    """Views from ``arrays()`` pin their column's map: growing moves the column to a new map
    (the rows copied) and the held views still read what they read before."""
    monkeypatch.setattr(Table, "INITIAL_ROWS", 4)
    table = Table(COLUMNS)
    table.add_block(fac=np.arange(4), time=np.arange(4.0), cost=np.ones(4), flag=np.zeros(4))
    held = table.arrays()
    table.add_block(fac=np.arange(4, 40), time=np.arange(4.0, 40.0), cost=np.ones(36), flag=np.ones(36))
    assert np.array_equal(held["time"], np.arange(4.0)) and np.array_equal(held["fac"], np.arange(4))
    out = table.arrays()
    assert np.array_equal(out["time"], np.arange(40.0)) and np.array_equal(out["fac"], np.arange(40, dtype="i4"))
    assert np.array_equal(out["flag"], np.r_[np.zeros(4), np.ones(36)].astype("i1"))


def test_rows_logged_as_one_piece_count_as_rows_and_are_stored_once_a_batch_is_full(monkeypatch):
    """Compiled steps append a run of packed rows as one piece: ``len`` counts its rows, and
    ``store_due`` stores the buffer only once it holds a batch's bytes, in the order logged."""
    monkeypatch.setattr(Table, "BATCH_BYTES", 10 * 17)  # ten rows of 4 + 8 + 4 + 1 bytes
    table = Table(COLUMNS)
    pack, append = table.row_writer(tuple(COLUMNS))
    append(b"".join(pack(i, float(i), 0.5, 1) for i in range(6)))
    table.store_due()
    assert len(table) == 6 and table._stored == 0  # below a batch: still buffered
    append(pack(6, 6.0, 0.5, 0))
    append(b"".join(pack(i, float(i), 0.5, 1) for i in range(7, 12)))
    table.store_due()
    assert len(table) == 12 and table._stored == 12
    assert np.array_equal(table.arrays()["fac"], np.arange(12, dtype="i4"))


def test_columns_grow_where_maps_cannot_be_resized(monkeypatch):
    """Where the system cannot resize a map (no mremap, e.g. macOS), a growing column is copied
    into a new map, as when views of it are held."""
    import mmap

    class Fixed(mmap.mmap):
        def resize(self, size):
            raise SystemError("mmap: resizing not available--no mremap()")

    monkeypatch.setattr("sim.core.tables._anonymous", lambda size: Fixed(-1, size))
    monkeypatch.setattr(Table, "INITIAL_ROWS", 4)
    table = Table(COLUMNS)
    for lo in range(0, 30, 3):
        table.add_block(fac=np.arange(lo, lo + 3), time=np.arange(lo, lo + 3.0), cost=np.zeros(3), flag=np.ones(3))
        table.commit()
    assert np.array_equal(table.arrays()["fac"], np.arange(30, dtype="i4"))
    assert np.array_equal(table.arrays(7)["time"], np.arange(7.0, 30.0))
