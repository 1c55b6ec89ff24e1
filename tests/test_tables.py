"""Column tables: packed rows come back as the typed values a numpy cast of them gives, in order,
across daily commits, storage chunks, joins and blocks added at once."""
import numpy as np
import pytest

from sim.core.tables import Table

COLUMNS = {"fac": "i", "time": "d", "cost": "f", "flag": "b"}


def test_rows_round_trip_through_commits_and_chunks(monkeypatch):
    monkeypatch.setattr(Table, "CHUNK_ROWS", 8)  # force many chunks
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


def test_rows_read_from_any_start_before_and_after_joining(monkeypatch):
    """``arrays(start)`` (what the event log streams) sees the same rows whether the columns are
    still in chunks or were joined by ``arrays()``, and rows added after a join follow on."""
    monkeypatch.setattr(Table, "CHUNK_ROWS", 8)
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
