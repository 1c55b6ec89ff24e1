"""Every shipped study file validates, with every scenario it implies, before anyone runs it."""
from pathlib import Path

import pytest

from sim.outputs.cli import main

ROOT = Path(__file__).resolve().parents[1]
STUDIES = {
    "experiment": ["reimbursement_gap", "family_doctor_coverage", "full_reform_vs_baseline", "plan_variants"],
    "plan-search": ["reach_65"],
    "province": ["province_example", "province_try"],
    "sensitivity": ["sobol_primary_share", "morris_screening"],
    "calibrate": ["calibrate_baseline", "calibrate_huairou"],
}


@pytest.mark.parametrize("command,name", [(c, n) for c, names in STUDIES.items() for n in names])
def test_shipped_study_validates(command, name, capsys):
    path = ROOT / "experiments" / f"{name}.yaml"
    assert main([command, str(path), "--dry-run", "--quiet"]) == 0, capsys.readouterr().err


def test_every_study_file_is_listed():
    shipped = {p.stem for p in (ROOT / "experiments").glob("*.yaml")}
    assert shipped == {n for names in STUDIES.values() for n in names}


@pytest.mark.parametrize("path", sorted((ROOT / "configs" / "plans").glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_plan_validates_with_its_targets(path, capsys):
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "schedule:" in out and "targets:" in out
