"""What the CLI prints and writes: an 80-column KPI table, one results format for run and
experiment, JSON on stdout for scripts, --version, and --set named in its own errors."""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from conftest import CONFIGS

from sim.outputs.cli import main
from sim.studies import kpi_text
from sim.studies.compare import format_summary

SMALL = str(CONFIGS / "exp_small.yaml")
SCIENTIFIC = re.compile(r"\d[eE][+-]\d")


def _run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_run_table_fits_80_columns_with_units_and_no_nan(capsys):
    status, out, _ = _run(capsys, "run", SMALL, "--replications", "2", "--workers", "1", "--quiet")
    assert status == 0
    lines = out.splitlines()
    assert max(map(kpi_text.display_width, lines)) <= 80
    assert not re.search(r"\bnan\b", out) and not SCIENTIFIC.search(out)
    row = next(x for x in lines if x.startswith("county_visit_rate "))
    assert row.rstrip().endswith(" %") and re.search(r"\d+\.\d\d +\[\d+\.\d\d, \d+\.\d\d\]", row)
    assert re.search(r"^oop_per_episode .* CNY$", out, re.M)
    # levers that are off: named once, not as rows of nan
    assert "family_doctor_referral_rate" in out and not any(x.startswith("family_doctor_referral_rate ") for x in lines)
    assert re.search(r"KPI\(s\) not measured here \(their lever is off\)", out)
    status, wide, _ = _run(capsys, "run", SMALL, "--replications", "2", "--workers", "1", "--quiet", "--wide")
    assert "县域就诊率" in wide and "share" in wide


def test_run_and_experiment_write_the_same_summary_files(figure_studies):
    folders = figure_studies["folders"]
    run, exp = folders["run"], folders["experiment"]
    csv = {k: pd.read_csv(f / "summary.csv") for k, f in (("run", run), ("exp", exp))}
    assert list(csv["run"].columns) == list(csv["exp"].columns)
    js = {k: json.loads((f / "summary.json").read_text()) for k, f in (("run", run), ("exp", exp))}
    assert js["run"].keys() == js["exp"].keys() == {"reference", "confidence", "scenarios"}
    for k in ("run", "exp"):
        entry = js[k]["scenarios"][js[k]["reference"]]["primary_care_share"]
        row = csv[k][(csv[k].scenario == js[k]["reference"]) & (csv[k].kpi == "primary_care_share")].iloc[0]
        assert entry["mean"] == pytest.approx(row["mean"]) and entry["ci_low"] == pytest.approx(row.ci_low)
        assert entry["unit"] == "share" and entry["n"] == 2
    lever = js["exp"]["scenarios"]["lever"]["primary_care_share"]
    assert {"diff_mean", "diff_ci_low", "diff_ci_high", "n_pairs"} <= lever.keys()
    runs = pd.read_parquet(run / "runs.parquet")
    assert csv["run"].set_index("kpi").loc["county_visit_rate", "mean"] == pytest.approx(runs.county_visit_rate.mean())


def test_json_on_stdout_is_the_summary_file(tmp_path, capsys):
    out = tmp_path / "r"
    status, stdout, _ = _run(capsys, "run", SMALL, "--replications", "2", "--workers", "1", "--quiet",
                             "--no-figures", "--json", "--out", str(out))
    assert status == 0
    assert json.loads(stdout) == json.loads((out / "summary.json").read_text())


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and re.fullmatch(r"countysim \d+\.\d+\.\d+\n", capsys.readouterr().out)


def test_misspelled_set_key_is_reported_against_set(tmp_path, capsys):
    status, _, err = _run(capsys, "run", SMALL, "--set", "reimbursment.township.outpatient_rate=0.9")
    assert status == 2 and "(--set): reimbursment: unknown key" in err and "Traceback" not in err
    study = tmp_path / "s.yaml"
    study.write_text(f"name: s\nbase: {SMALL}\nseed: 1\nreplications: 1\nscenarios:\n  a: {{}}\n", encoding="utf-8")
    status, _, err = _run(capsys, "experiment", str(study), "--dry-run", "--set", "reimbursment.township.x=1")
    assert status == 2 and "--set: reimbursment: unknown key" in err and f"{SMALL}:" not in err


def test_dry_run_shows_set_overrides(tmp_path, capsys):
    study = tmp_path / "s.yaml"
    study.write_text(f"name: s\nbase: {SMALL}\nseed: 1\nreplications: 1\nscenarios:\n  a: {{}}\n", encoding="utf-8")
    status, out, _ = _run(capsys, "experiment", str(study), "--dry-run", "--set",
                          "reimbursement.township.outpatient_rate=0.9")
    assert status == 0 and "reimbursement.township.outpatient_rate=0.9" in out and "(no overrides)" not in out


def test_experiment_tables_fit_80_columns(figure_studies):
    summary = pd.read_csv(figure_studies["folders"]["experiment"] / "summary.csv")
    text = format_summary(summary, list(dict.fromkeys(summary.kpi)), "baseline")
    assert max(map(kpi_text.display_width, text.splitlines())) <= 80
    assert not SCIENTIFIC.search(text) and not re.search(r"\bnan\b", text)
    assert re.search(r"^  lever +2 +\d+\.\d\d +\[.*\] +[+-]\d+\.\d\d pp +\[[+-]", text, re.M)


def test_table_fits_80_columns_with_every_kpi_at_large_values():
    """Every registry KPI on (all levers), budgets in tens of millions of CNY with negative bounds."""
    from models.kpi_registry import KPIS
    from sim.studies.runner import format_table

    summary = {}
    for k in KPIS:
        mean = 0.5 if k.is_share else 40_165_374.0 if k.group == "budget" else 1_234.5
        summary[k.name] = {"mean": mean, "ci_low": -mean * 0.9, "ci_high": mean * 1.1, "n": 10}
    text = format_table(summary)
    assert max(map(kpi_text.display_width, text.splitlines())) <= 80, text
    assert all(kpi_text.short_unit(k.name) for k in KPIS)
