"""The optional per-event log holds exactly what the monitors counted, and changes no result."""
import pandas as pd
import pyarrow.parquet as pq

from conftest import small_county
from sim.monitor import EventLog
from sim.runner import single_run


def test_event_log_matches_monitors_and_leaves_results_unchanged(tmp_path, monkeypatch):
    monkeypatch.setattr(EventLog, "CHUNK_ROWS", 2000)  # force several chunks
    scenario = small_county()
    plain = single_run(scenario, 0, keep_logs=True)
    logged = single_run(scenario, 0, event_log=tmp_path / "events")
    pd.testing.assert_series_equal(pd.Series(plain.kpis), pd.Series(logged.kpis), check_exact=True)
    for name in ("visits", "stays", "episodes"):
        table = pd.read_parquet(tmp_path / "events" / f"{name}.parquet")
        assert len(table) == len(plain.logs[name]["time"]) > 0
        assert (table["time"].to_numpy() == plain.logs[name]["time"]).all()
    assert pq.ParquetFile(tmp_path / "events" / "visits.parquet").num_row_groups > 1
