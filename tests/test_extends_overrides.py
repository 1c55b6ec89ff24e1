"""Issue test 9: `extends` and `--set` overrides; `countysim validate` prints the resolved YAML."""
from __future__ import annotations

import copy
import subprocess

import pytest
import yaml
from conftest import BASELINE, PYTHON, ROOT, SMALL, read_yaml, set_dotted, write_yaml

from models.loading import load_scenario, resolved_dict
from sim.core.config_files import ConfigError


def _dump(path, overrides=()):
    return resolved_dict(load_scenario(path, list(overrides)))


@pytest.fixture(scope="module")
def parent():
    return _dump(BASELINE)


def test_child_overrides_one_key_keeps_the_rest(tmp_path, parent):
    child = write_yaml(tmp_path / "policy.yaml", {
        "extends": str(BASELINE),
        "reimbursement": {"township": {"outpatient_rate": 0.8}},
    })
    got = _dump(child)
    assert got["reimbursement"]["township"]["outpatient_rate"] == 0.8
    assert parent["reimbursement"]["township"]["outpatient_rate"] != 0.8  # the override changes something
    expected = set_dotted(copy.deepcopy(parent), "reimbursement.township.outpatient_rate", 0.8)
    assert got == expected  # siblings (deductibles, inpatient rate, other tiers) all kept


def test_child_nested_override_in_list_and_mapping(tmp_path, parent):
    child = write_yaml(tmp_path / "child.yaml", {
        "extends": str(BASELINE),
        "name": "child",
        "conditions": {"minor_acute": {"incidence": 3.0}},
        "simulation": {"years": 2},
    })
    got = _dump(child)
    expected = copy.deepcopy(parent)
    expected["name"] = "child"
    expected["conditions"]["minor_acute"]["incidence"] = 3.0
    expected["simulation"]["years"] = 2.0
    assert got == expected
    assert got["conditions"]["minor_acute"]["seasonality"] == parent["conditions"]["minor_acute"]["seasonality"]


def test_relative_extends_resolves_against_child_folder(tmp_path):
    (tmp_path / "policies").mkdir()
    write_yaml(tmp_path / "base.yaml", read_yaml(SMALL))
    child = write_yaml(tmp_path / "policies" / "p.yaml", {"extends": "../base.yaml", "simulation": {"seed": 99}})
    got = _dump(child)
    expected = set_dotted(_dump(SMALL), "simulation.seed", 99)
    assert got == expected


def test_set_equals_child_file(tmp_path):
    child = write_yaml(tmp_path / "child.yaml", {"extends": str(SMALL),
                                                 "reimbursement": {"county": {"outpatient_rate": 0.55}}})
    assert _dump(child) == _dump(SMALL, ["reimbursement.county.outpatient_rate=0.55"])


def test_set_comes_after_extends_and_parses_yaml_values(tmp_path):
    child = write_yaml(tmp_path / "child.yaml", {"extends": str(SMALL), "simulation": {"seed": 5}})
    got = _dump(child, ["simulation.seed=6", "geography.synthetic.county_hospitals.0.doctors=7",
                        "service.balk_queue_length=null", "conditions.minor_acute.severity=[0.7, 0.2, 0.1]"])
    assert got["simulation"]["seed"] == 6
    assert got["geography"]["synthetic"]["county_hospitals"][0]["doctors"] == 7
    assert got["service"]["balk_queue_length"] is None
    assert got["conditions"]["minor_acute"]["severity"] == [0.7, 0.2, 0.1]
    # nothing else moved
    expected = _dump(SMALL)
    for k, v in (("simulation.seed", 6), ("geography.synthetic.county_hospitals.0.doctors", 7),
                 ("service.balk_queue_length", None), ("conditions.minor_acute.severity", [0.7, 0.2, 0.1])):
        set_dotted(expected, k, v)
    assert got == expected


def test_set_list_index_out_of_range_is_config_error():
    with pytest.raises(ConfigError, match="county_hospitals.5"):
        load_scenario(SMALL, ["geography.synthetic.county_hospitals.5.doctors=3"])


def test_cli_validate_prints_resolved_yaml(tmp_path):
    child = write_yaml(tmp_path / "child.yaml", {"extends": str(SMALL), "simulation": {"seed": 5}})
    p = subprocess.run([PYTHON, "-m", "sim.outputs.cli", "validate", str(child), "--set", "simulation.years=0.5"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    printed = yaml.safe_load(p.stdout)
    assert printed == _dump(child, ["simulation.years=0.5"])
    assert printed["simulation"]["seed"] == 5 and printed["simulation"]["years"] == 0.5
    assert printed["geography"]["synthetic"]["population"] == 20000  # inherited
    # the printed YAML is itself a complete, valid scenario that resolves to the same thing
    again = write_yaml(tmp_path / "resolved.yaml", printed)
    assert _dump(again) == printed
