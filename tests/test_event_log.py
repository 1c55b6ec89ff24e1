"""The optional per-event log holds exactly what the monitors counted, and changes no result."""
import pandas as pd
import pyarrow.parquet as pq
from conftest import small_county

from sim.core.tables import EventLog
from sim.studies.runner import single_run


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


def test_cli_event_log_needs_out_and_writes_one_folder_per_replication(tmp_path):
    from conftest import CONFIGS

    from sim.outputs.cli import main

    assert main(["run", str(CONFIGS / "small_county.yaml"), "--replications", "2", "--event-log", "--quiet"]) == 2
    out = tmp_path / "run"
    assert main(["run", str(CONFIGS / "small_county.yaml"), "--replications", "2", "--workers", "1", "--quiet",
                 "--no-figures", "--event-log", "--out", str(out)]) == 0
    for rep in ("rep000", "rep001"):
        assert len(pd.read_parquet(out / "events" / rep / "episodes.parquet")) > 0
