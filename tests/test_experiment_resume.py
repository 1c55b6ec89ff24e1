"""A batch killed with SIGKILL and resumed ends with exactly the tables of an uninterrupted one."""
from __future__ import annotations

import pandas as pd
import pytest
from experiment_helpers import TABLES, assert_same_tables, cli, resume, sigkill_after, small_experiment

from sim.studies.executors import InProcess
from sim.studies.experiment import run_experiment

REPS = 5  # 2 scenarios × 5 = 10 runs


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume")
    path = small_experiment(folder, replications=REPS)
    run_experiment(path, InProcess(), out=folder / "uninterrupted", progress=False)
    return path, folder / "uninterrupted"


@pytest.mark.parametrize("workers, kill_after", [(1, 2), (2, 5)])
def test_sigkill_then_resume_equals_uninterrupted(reference, tmp_path, workers, kill_after):
    path, expected = reference
    out = tmp_path / "out"
    cmd = cli("experiment", str(path), "--workers", str(workers), "--out", str(out))
    done = sigkill_after(cmd, out, kill_after)
    assert kill_after <= done < 2 * REPS and not (out / "runs.parquet").exists()

    resumed = resume(cmd)
    assert resumed.returncode == 0, resumed.stderr
    assert f"({done} from an earlier invocation)" in resumed.stderr
    assert_same_tables(expected, out)
    pd.testing.assert_frame_equal(pd.read_csv(expected / "summary.csv"), pd.read_csv(out / "summary.csv"))


def test_resume_survives_half_written_runs_and_temp_files(reference, tmp_path):
    """What a kill can leave: detail parts without their commit part, temp files, a torn commit part."""
    path, expected = reference
    out = tmp_path / "out"
    run_experiment(path, InProcess(), out=out, progress=False)
    parts = out / "parts"
    (parts / "runs" / "lever__r00001.parquet").unlink()  # killed after the detail parts, before the commit
    (parts / "monthly" / ".lever__r00002.parquet.999.tmp").write_bytes(b"half a file")
    torn = parts / "runs" / "baseline__r00003.parquet"
    torn.write_bytes(torn.read_bytes()[:50])
    for name in ("runs.parquet", "monthly.parquet"):
        (out / name).unlink()
    _, _, result, _ = run_experiment(path, InProcess(), out=out, resume=True, progress=False)
    assert result.skipped == 2 * REPS - 2
    assert not list(out.rglob("*.tmp"))
    assert_same_tables(expected, out)


def test_resume_reruns_scenarios_whose_config_changed(reference, tmp_path):
    path, _ = reference
    out = tmp_path / "out"
    run_experiment(path, InProcess(), out=out, progress=False)
    changed = small_experiment(tmp_path, name="small", replications=REPS,
                               scenarios={"baseline": {}, "lever": {"set": {"reimbursement.township.outpatient_rate": 0.7}}})
    _, _, result, _ = run_experiment(changed, InProcess(), out=out, resume=True, progress=False)
    assert result.skipped == REPS  # baseline kept, lever redone
    fresh = tmp_path / "fresh"
    run_experiment(changed, InProcess(), out=fresh, progress=False)
    assert_same_tables(fresh, out)


def test_resume_redoes_a_run_missing_a_detail_table(reference, tmp_path):
    """A run stored without one of its tables (e.g. by a version that wrote fewer) is redone."""
    path, expected = reference
    out = tmp_path / "out"
    run_experiment(path, InProcess(), out=out, progress=False)
    (out / "parts" / "year_sums" / "lever__r00002.parquet").unlink()
    _, _, result, _ = run_experiment(path, InProcess(), out=out, resume=True, progress=False)
    assert result.skipped == 2 * REPS - 1
    assert_same_tables(expected, out, TABLES + ("year_sums",))
