"""Shared helpers and small scenario builders for the countysim test suite.

Configs live in tests/configs/:
  mmc.yaml           one village, one clinic with c doctors, 24 h, exponential service: an M/M/c queue
  small_county.yaml  ~20k residents, 3 townships x 4 villages, baseline-like parameters
Everything is kept short (tenths of a simulated year) so the whole suite runs in well under 3 minutes.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = Path(__file__).resolve().parent / "configs"
MMC = CONFIGS / "mmc.yaml"
SMALL = CONFIGS / "small_county.yaml"
BASELINE = ROOT / "configs" / "baseline.yaml"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable))

if str(ROOT) not in sys.path:  # the package is installed editable, but be safe
    sys.path.insert(0, str(ROOT))

from models.loading import load_scenario  # noqa: E402


# ----------------------------------------------------------------------------- scenario builders
def load(path: str | Path, *overrides: str):
    """load_scenario with --set style overrides given as positional strings."""
    return load_scenario(path, list(overrides))


def mmc_scenario(c: int, rho: float, service_minutes: float = 10.0, population: int = 10_000,
                 *extra: str):
    """Minimal explicit network that is an M/M/c queue with utilisation ``rho``.

    Returns (scenario, lam_per_day, mu_per_day)."""
    mu = 1440.0 / service_minutes
    lam = rho * c * mu
    incidence = lam * 365.0 / population
    s = load(MMC, f"geography.facilities.0.doctors={c}", f"geography.villages.0.population={population}",
             f"conditions.illness.incidence={incidence!r}", f"tiers.village.service_minutes={service_minutes!r}",
             *extra)
    return s, lam, mu


def small_county(*overrides: str):
    return load(SMALL, *overrides)


# ----------------------------------------------------------------------------- queueing formulas
def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of M/M/c (same time unit as 1/lam), written out from the Erlang C formula."""
    a = lam / mu
    rho = a / c
    if rho >= 1:
        return math.inf
    top = a ** c / math.factorial(c) / (1.0 - rho)
    p_wait = top / (sum(a ** k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


def mmck_block(lam: float, mu: float, c: int, queue_room: int) -> float:
    """Blocking probability of M/M/c with ``queue_room`` waiting places (system size c + queue_room)."""
    a = lam / mu
    rho = a / c
    w = [a ** n / math.factorial(n) for n in range(c + 1)]
    w += [a ** c / math.factorial(c) * rho ** (n - c) for n in range(c + 1, c + queue_room + 1)]
    return w[-1] / sum(w)


# ----------------------------------------------------------------------------- yaml helpers
def set_dotted(data: dict, key: str, value: Any) -> dict:
    node = data
    parts = key.split(".")
    for p in parts[:-1]:
        if isinstance(node, list):
            node = node[int(p)]
        else:
            node = node.setdefault(p, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value
    return data


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def read_yaml(path: Path) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def nan_equal_dicts(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            continue
        if x != y:
            return False
    return True


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


# ----------------------------------------------------------------------------- figures and report
@pytest.fixture(scope="session")
def figure_studies(tmp_path_factory):
    """One small real study of every kind, built once per session (tests/test_figures.py, test_report.py):
    an experiment (two scenarios and a two-point grid sweep), a `countysim run --out` folder (which draws
    its own figures), Morris and Sobol sensitivity studies and a calibration.  Returns folders and the
    warnings raised while drawing the experiment's figures."""
    import logging
    import warnings

    from sim.outputs.cli import main
    from sim.outputs.figures import make_figures
    from sim.studies.executors import InProcess
    from sim.studies.experiment import run_experiment

    folder = tmp_path_factory.mktemp("figures")
    exp_small = CONFIGS / "exp_small.yaml"
    study = {"name": "figs", "question": "Does a higher township outpatient rate move first contacts to primary care?",
             "description": "Reimbursement levers on the small test county.", "base": str(exp_small), "seed": 5,
             "replications": 2, "reference": "baseline",
             "scenarios": {"baseline": {"description": "as configured"},
                           "lever": {"description": "township outpatient rate 0.85",
                                     "set": {"reimbursement.township.outpatient_rate": 0.85}}},
             "sweep": {"method": "grid", "parameters": {"reimbursement.county.outpatient_rate": {"values": [0.2, 0.45]}}}}
    out = {"experiment": folder / "experiment", "run": folder / "run", "morris": folder / "morris",
           "sobol": folder / "sobol", "calibration": folder / "calibration"}
    run_experiment(write_yaml(folder / "figs.yaml", study), InProcess(), out=out["experiment"], progress=False)
    logged: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = logged.append  # matplotlib reports missing fonts and weights by logging, not warnings
    font_log = logging.getLogger("matplotlib.font_manager")
    font_log.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            figures = make_figures(out["experiment"])
    finally:
        font_log.removeHandler(handler)
    assert main(["run", str(exp_small), "--replications", "2", "--workers", "1", "--quiet",
                 "--out", str(out["run"])]) == 0
    sens = {"base": str(exp_small), "seed": 3, "replications": 1, "samples": 2,
            "kpis": ["primary_care_share", "county_visit_rate"],
            "parameters": {"reimbursement.township.outpatient_rate": {"low": 0.4, "high": 0.9},
                           "reimbursement.county.outpatient_rate": {"low": 0.1, "high": 0.5}}}
    for method in ("morris", "sobol"):
        path = write_yaml(folder / f"{method}.yaml", {"name": method, "method": method, **sens,
                                                     **({"num_resamples": 20} if method == "sobol" else {})})
        assert main(["sensitivity", str(path), "--workers", "1", "--quiet", "--no-figures", "--out",
                     str(out[method])]) == 0
    (folder / "targets.csv").write_text("kpi,value,sd,source\nvisits_per_resident,5.6,0.4,test\n"
                                        "primary_care_share,0.6,0.05,test\n", encoding="utf-8")
    cal = {"name": "cal", "base": str(exp_small), "targets": "targets.csv", "seed": 3, "replications": 1,
           "final_replications": 2, "max_evaluations": 2,
           "parameters": {"incidence_scale": {"keys": ["conditions.*.incidence"], "mode": "scale", "low": 0.8,
                                              "high": 1.2, "start": 1.0}}}
    assert main(["calibrate", str(write_yaml(folder / "cal.yaml", cal)), "--workers", "1", "--quiet",
                 "--no-figures", "--out", str(out["calibration"])]) == 0
    return {"folders": out, "figures": figures,
            "warnings": [str(w.message) for w in caught] + [r.getMessage() for r in logged if r.levelno >= logging.WARNING]}
