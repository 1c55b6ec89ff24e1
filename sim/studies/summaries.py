"""One results format for ``run`` and ``experiment``: ``summary.csv`` and ``summary.json``.

Both folders hold the same two files with the same columns and keys: one row (CSV) or entry
(JSON) per scenario × KPI with its mean, 95 % t confidence interval and number of
replications, and, for scenarios other than the reference, the paired difference from it.
A single run is an experiment of one scenario that is its own reference.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from models.kpi_registry import REGISTRY
from sim.core.files import _finite, _json_default, write_csv, write_json
from sim.studies.compare import summarise

JSON_FIELDS = ("n", "mean", "sd", "ci_low", "ci_high")
PAIRED_FIELDS = ("n_pairs", "diff_mean", "diff_ci_low", "diff_ci_high")


def run_summary(runs: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """The summary frame of a single run (every KPI column of ``runs``), as an experiment has it."""
    kpis = [c for c in runs.columns if c not in ("replication", "scenario")]
    return summarise(runs.assign(scenario=scenario), [scenario], scenario, kpis=kpis)


def summary_dict(summary: pd.DataFrame, reference: str, years: dict | None = None) -> dict:
    """``{"reference", "scenarios": {scenario: {kpi: {n, mean, sd, ci_low, ci_high, unit[, paired]
    [, by_year, targets]}}}}``; ``years`` (a run's :func:`runner.summarise`) adds each KPI's values
    by calendar year and the plan's targets to the reference scenario."""
    scenarios: dict[str, dict] = {}
    for r in summary.to_dict("records"):
        entry = {f: r[f] for f in JSON_FIELDS}
        entry["unit"] = REGISTRY[r["kpi"]].unit if r["kpi"] in REGISTRY else "count"
        if r["scenario"] != reference and np.isfinite(r.get("diff_mean", np.nan)):
            entry.update({f: r[f] for f in PAIRED_FIELDS})
        if r["scenario"] == reference and years:
            entry.update({k: v for k, v in years.get(r["kpi"], {}).items() if k in ("by_year", "targets")})
        scenarios.setdefault(r["scenario"], {})[r["kpi"]] = entry
    return {"reference": reference, "confidence": 0.95, "scenarios": scenarios}


def summary_json_text(summary: pd.DataFrame, reference: str, years: dict | None = None) -> str:
    return json.dumps(_finite(summary_dict(summary, reference, years)), indent=2, ensure_ascii=False,
                      allow_nan=False, default=_json_default)


def write_summaries(folder: str | Path, summary: pd.DataFrame, reference: str, years: dict | None = None) -> None:
    folder = Path(folder)
    write_csv(folder / "summary.csv", summary)
    write_json(folder / "summary.json", summary_dict(summary, reference, years))
