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

from sim.config import load_scenario  # noqa: E402


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
