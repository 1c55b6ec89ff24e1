"""Shared helpers for tests/test_experiment*.py: tiny study files on the small test county."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

SMALL = Path(__file__).resolve().parent / "configs" / "exp_small.yaml"
TABLES = ("runs", "monthly", "yearly", "facilities", "facility_monthly", "villages", "flows")


def write_study(folder: Path, name: str, **body) -> Path:
    """A study file named ``name`` on the small county (``base`` may be overridden)."""
    data = {"name": name, "base": str(SMALL), **body}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def small_experiment(folder: Path, name: str = "small", replications: int = 2, **extra) -> Path:
    """Two scenarios (baseline and a reimbursement lever) × ``replications``."""
    body = {"seed": 5, "replications": replications,
            "scenarios": {"baseline": {}, "lever": {"set": {"reimbursement.township.outpatient_rate": 0.85}}}}
    body.update(extra)
    return write_study(folder, name, **body)


def assert_same_tables(a: Path, b: Path, tables=TABLES) -> None:
    for t in tables:
        pd.testing.assert_frame_equal(pd.read_parquet(a / f"{t}.parquet"), pd.read_parquet(b / f"{t}.parquet"),
                                      check_exact=True, obj=t)
