"""Column tables: packed rows come back as the typed values a numpy cast of them gives, in order,
across daily commits, column growth and blocks added at once."""
import numpy as np
import pytest

from sim.core.tables import Table

COLUMNS = {"fac": "i", "time": "d", "cost": "f", "flag": "b"}


def test_rows_round_trip_through_commits_and_growth(monkeypatch):
    monkeypatch.setattr(Table, "MIN_ROOM", 8)  # force several growths
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


def test_row_writer_must_name_the_columns_in_schema_order():
    with pytest.raises(ValueError, match="differ from the table's columns"):
        Table(COLUMNS).row_writer(("time", "fac", "cost", "flag"))
