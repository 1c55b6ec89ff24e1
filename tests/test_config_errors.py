"""Issue test 8: bad input gives a clear ConfigError naming the key path and the file.

Each bad scenario is written as a real YAML file (a copy of tests/configs/small_county.yaml or
mmc.yaml with one change), so the message must name that file and the dotted key path.  The
same mistakes given as ``--set`` overrides must name the key path and ``--set``.  The CLI must
turn these into exit status 2 with the key path on stderr and no traceback.
"""
from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import pytest
from conftest import MMC, PYTHON, ROOT, SMALL, read_yaml, set_dotted, write_yaml

from models.loading import load_scenario
from sim.core.config_files import ConfigError

# (key to change, bad value, key path the message must name)
BAD = [
    ("simulation.yeers", 2, "simulation.yeers"),  # unknown key
    ("simulation.years", "abc", "simulation.years"),  # wrong type
    ("geography.synthetic.population", -5, "geography.synthetic.population"),  # negative population
    ("reimbursement.township.outpatient_rate", 1.5, "reimbursement.township.outpatient_rate"),  # not in [0, 1]
    ("geography.synthetic.township_doctors", 0, "geography.synthetic.township_doctors"),  # zero doctors where needed
    ("geography.synthetic.county_hospitals.0.doctors", 0, "geography.synthetic.county_hospitals.0.doctors"),
    ("geography.outside", None, "referral.up.county"),  # referral target that does not exist
    ("conditions.minor_acute.severity", [0.5, 0.3, 0.1], "conditions.minor_acute.severity"),  # sum != 1
    ("capability.village.outpatient.flu", 1, "capability.village.outpatient.flu"),  # unknown condition
    ("referral.up.township", "village", "referral.up.township"),  # referral downwards
]
IDS = [b[0] + "=" + str(b[1]) for b in BAD]


def _bad_copy(tmp_path: Path, base: Path, key: str, value, name: str = "bad_scenario.yaml") -> Path:
    data = set_dotted(copy.deepcopy(read_yaml(base)), key, value)
    return write_yaml(tmp_path / name, data)


def _message(path: Path, overrides=()) -> str:
    with pytest.raises(ConfigError) as info:
        load_scenario(path, list(overrides))
    return str(info.value)


@pytest.mark.parametrize("key,value,where", BAD, ids=IDS)
def test_bad_value_in_file_names_path_and_file(tmp_path, key, value, where):
    bad = _bad_copy(tmp_path, SMALL, key, value)
    msg = _message(bad)
    assert where in msg, msg
    assert str(bad) in msg, msg


def test_good_copy_is_valid(tmp_path):
    """Control for the cases above: the unchanged copy validates, so each error is the one change."""
    good = write_yaml(tmp_path / "good.yaml", read_yaml(SMALL))
    assert load_scenario(good).geography.synthetic.population == 20000


@pytest.mark.parametrize("key,value,where", BAD, ids=IDS)
def test_bad_value_by_set_names_path_and_origin(key, value, where):
    text = "null" if value is None else str(value).replace("'", "")
    msg = _message(SMALL, [f"{key}={text}"])
    assert where in msg, msg
    if key == "geography.outside":
        # the broken key referral.up.county itself still comes from the file
        assert str(SMALL) in msg, msg
    else:  # the bad value came from the command line
        assert "--set" in msg, msg


def test_minimal_config_needs_no_policy_blocks(tmp_path):
    """The issue's minimal network, without any policy block, is a valid scenario."""
    data = read_yaml(MMC)
    data.pop("day_surgery", None)  # the workaround in mmc.yaml
    minimal = write_yaml(tmp_path / "minimal.yaml", data)
    s = load_scenario(minimal)
    assert list(s.conditions) == ["illness"]


def test_explicit_config_lacking_target_tier(tmp_path):
    """An explicit county with only a village clinic cannot refer village -> township."""
    data = read_yaml(MMC)
    del data["referral"]  # default chain village -> township -> county -> outside
    bad = write_yaml(tmp_path / "no_township.yaml", data)
    msg = _message(bad)
    assert "referral.up.village" in msg and "township" in msg, msg
    assert str(bad) in msg


def test_error_lists_allowed_range_and_value(tmp_path):
    bad = _bad_copy(tmp_path, SMALL, "reimbursement.township.outpatient_rate", 1.5)
    msg = _message(bad)
    assert "(got 1.5)" in msg and "less than or equal to 1" in msg, msg


# ----------------------------------------------------------------------------- extends chains
def _chain(tmp_path: Path) -> tuple[Path, Path, Path]:
    """base (copy of small_county) <- child <- grandchild, with relative extends paths."""
    (tmp_path / "base").mkdir()
    (tmp_path / "child").mkdir()
    base = write_yaml(tmp_path / "base" / "small_county.yaml", read_yaml(SMALL))
    child = write_yaml(tmp_path / "child" / "child.yaml",
                       {"extends": "../base/small_county.yaml", "name": "child",
                        "simulation": {"seed": 5}})
    grand = write_yaml(tmp_path / "grand.yaml", {"extends": "child/child.yaml", "name": "grand",
                                                  "reimbursement": {"county": {"inpatient_rate": 0.7}}})
    return base, child, grand


def test_extends_chain_bad_key_in_child_names_child(tmp_path):
    base, child, grand = _chain(tmp_path)
    data = read_yaml(child)
    data["simulation"]["yeers"] = 2
    write_yaml(child, data)
    for top in (child, grand):  # loading the child itself, or through the grandchild
        msg = _message(top)
        assert "simulation.yeers" in msg
        assert str(child) in msg, msg
        assert str(base) not in msg and str(grand) not in msg, msg


def test_extends_chain_bad_value_in_grandchild_names_grandchild(tmp_path):
    base, child, grand = _chain(tmp_path)
    data = read_yaml(grand)
    data["reimbursement"]["county"]["inpatient_rate"] = 1.2
    write_yaml(grand, data)
    msg = _message(grand)
    assert "reimbursement.county.inpatient_rate" in msg and str(grand) in msg, msg
    assert str(child) not in msg


def test_extends_chain_bad_value_in_base_names_base(tmp_path):
    base, child, grand = _chain(tmp_path)
    write_yaml(base, set_dotted(read_yaml(base), "geography.synthetic.population", -5))
    msg = _message(grand)
    assert "geography.synthetic.population" in msg and str(base) in msg, msg


def test_extends_cross_field_error_in_child_names_child(tmp_path):
    base, child, grand = _chain(tmp_path)
    data = read_yaml(child)
    data["simulation"]["open_hours"] = 20  # base has open_start_hour 8: 8 + 20 > 24
    write_yaml(child, data)
    msg = _message(child)
    assert "open_hours" in msg
    assert str(child) in msg and str(base) not in msg, msg


def test_extends_cycle_and_missing_parent(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    write_yaml(a, {"extends": "b.yaml"})
    write_yaml(b, {"extends": "a.yaml"})
    assert "cycle" in _message(a)
    c = write_yaml(tmp_path / "c.yaml", {"extends": "nope.yaml"})
    msg = _message(c)
    assert "nope.yaml" in msg and "not found" in msg


# ----------------------------------------------------------------------------- CLI
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "sim.outputs.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_cli_validate_bad_file_exit_2(tmp_path):
    bad = _bad_copy(tmp_path, SMALL, "simulation.yeers", 2)
    p = _cli("validate", str(bad))
    assert p.returncode == 2, p.stderr
    assert "simulation.yeers" in p.stderr and str(bad) in p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    assert p.stdout == ""


def test_cli_validate_bad_set_and_missing_file(tmp_path):
    p = _cli("validate", str(SMALL), "--set", "reimbursement.township.outpatient_rate=1.5")
    assert p.returncode == 2
    assert "reimbursement.township.outpatient_rate" in p.stderr and "Traceback" not in p.stderr
    p = _cli("validate", str(tmp_path / "missing.yaml"))
    assert p.returncode == 2 and "missing.yaml" in p.stderr and "Traceback" not in p.stderr
    p = _cli("validate", str(SMALL), "--set", "simulation.years")  # no '='
    assert p.returncode == 2 and "Traceback" not in p.stderr
