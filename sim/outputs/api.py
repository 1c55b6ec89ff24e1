"""The Python API for notebooks, re-exported as ``import countysim as cs`` (docs/api.md).

A stable surface over the implementation in ``sim/`` and ``models/``::

    sc = cs.load("configs/baseline.yaml", set={"reimbursement.township.outpatient_rate": 0.8})
    res = cs.run(sc, replications=10, seed=42)      # Results: .summary .yearly .monthly .runs
    base = cs.run(cs.load("configs/baseline.yaml"), replications=10, seed=42)
    cs.compare(base, res)                           # paired differences (common random numbers)
    cs.experiment("experiments/plan_variants.yaml") # a batch, as `countysim experiment`
    cs.figures(res)                                 # the publication figures

Every function raises :class:`ConfigError` for bad input, with the message the CLI prints.
"""
from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from models.kpi_registry import HEADLINE
from models.loading import load_scenario
from models.scenario import Scenario
from sim.core.config_files import ConfigError
from sim.studies.parameters import format_value

__all__ = ["ConfigError", "HEADLINE", "Results", "compare", "experiment", "figures", "load", "open_results", "run"]

Progress = Callable[[int, int], None]  # (runs finished, runs planned)


def _set_list(set: dict[str, Any] | list[str] | None) -> list[str]:  # noqa: A002 - the CLI's word
    if set is None:
        return []
    if isinstance(set, dict):
        return [f"{k}={format_value(v)}" for k, v in set.items()]
    return list(set)


def load(path: str | Path, set: dict[str, Any] | list[str] | None = None) -> Scenario:  # noqa: A002
    """A validated scenario from a YAML file, with overrides as ``{dotted.key: value}`` (like ``--set``)."""
    return load_scenario(path, _set_list(set))


@dataclass
class Results:
    """Results of a run or an experiment, as DataFrames.

    ``summary``: one row per scenario × KPI (mean, ci_low, ci_high, n; for an experiment also the
    paired difference against its reference, ``diff_mean``, ``diff_ci_low``, ``diff_ci_high``).
    ``yearly`` / ``monthly`` / ``runs``: one row per replication × calendar year / month / run.
    ``by_year``: :attr:`summary` calendar year by calendar year.  ``folder``: where the results
    files are (None for a run kept in memory until :meth:`save`).
    """

    name: str
    summary: pd.DataFrame
    yearly: pd.DataFrame
    monthly: pd.DataFrame
    runs: pd.DataFrame
    folder: Path | None = None
    seed: int | None = None
    scenario: Scenario | None = field(default=None, repr=False)
    _results: list | None = field(default=None, repr=False)

    @property
    def by_year(self) -> pd.DataFrame:
        from sim.studies.compare import summarise_by_year

        if "scenario" not in self.yearly.columns or self.yearly.empty:
            return pd.DataFrame()
        names = list(dict.fromkeys(self.yearly["scenario"]))
        return summarise_by_year(self.yearly, names, names[0])

    def kpi(self, name: str, scenario: str | None = None) -> pd.Series:
        """One KPI's row of :attr:`summary` (mean, ci_low, ci_high, ...)."""
        rows = self.summary[(self.summary["kpi"] == name)
                            & ((self.summary["scenario"] == scenario) if scenario else True)]
        if rows.empty:
            raise KeyError(f"no KPI {name!r}" + (f" for scenario {scenario!r}" if scenario else ""))
        return rows.iloc[0]

    def save(self, folder: str | Path, overwrite: bool = False) -> Path:
        """Write the results folder (as ``countysim run --out``) and return it."""
        from sim.core.files import OutputFolder
        from sim.studies.runner import write_outputs

        if self._results is None:
            raise ValueError(f"{self.name}: these results were read from {self.folder}; they are saved there")
        with OutputFolder(folder, overwrite).claimed({"kind": "run", "name": self.name, "source": "countysim API"}) \
                as root:
            write_outputs(root, self.scenario, self._results, float(self.runs.get("wall_seconds", pd.Series()).sum()))
        self.folder = Path(folder)
        return self.folder


def run(scenario: Scenario | str | Path, replications: int = 10, seed: int = 42, workers: int = 1,
        progress: bool = False) -> Results:
    """Replications 0..R-1 of a scenario (a path is loaded first); ``workers`` > 1 uses a process pool.

    Results do not depend on ``workers``; replication r uses the streams of (seed, r), so two runs
    with the same seed share their random numbers and :func:`compare` pairs them."""
    from sim.studies.runner import multiple_replications, runs_frame, yearly_frame

    if not isinstance(scenario, Scenario):
        scenario = load(scenario)
    if replications < 1:
        raise ConfigError(f"replications: must be >= 1 (got {replications})")
    scenario = _with_seed(scenario, seed, replications)
    t0 = time.perf_counter()
    results = multiple_replications(scenario, replications, workers=workers, progress=progress)
    wall = time.perf_counter() - t0
    name = scenario.name
    runs = runs_frame(results)
    runs.insert(0, "scenario", name)
    runs["wall_seconds"] = [r.wall_seconds for r in results]
    yearly = yearly_frame(results)
    yearly.insert(0, "scenario", name)
    monthly = pd.concat([r.monthly.assign(replication=r.replication) for r in results], ignore_index=True)
    monthly.insert(0, "scenario", name)
    res = Results(name, _summary(runs, [name]), yearly, monthly, runs, seed=seed, scenario=scenario,
                  _results=results)
    res.runs.attrs["wall_seconds"] = wall
    return res


def _with_seed(scenario: Scenario, seed: int, replications: int) -> Scenario:
    """The scenario with this master seed; its resolved plan and county travel with it."""
    if seed < 0:
        raise ConfigError(f"seed: must be >= 0 (got {seed})")
    sim = scenario.simulation.model_copy(update={"seed": seed, "replications": replications})
    return scenario.model_copy(update={"simulation": sim})


def _summary(runs: pd.DataFrame, order: list[str], reference: str | None = None) -> pd.DataFrame:
    from models.kpis import KPI_INFO
    from sim.studies.compare import summarise

    kpis = [k for k in KPI_INFO if k in runs.columns]
    df = summarise(runs, order, reference or order[0], kpis)
    return df.drop(columns=["target_halfwidth", "replications_needed", "replications_needed_diff"], errors="ignore")


def compare(a: Results, b: Results, kpis: list[str] | None = None) -> pd.DataFrame:
    """Paired differences ``b − a`` per KPI (and per calendar year for multi-year runs), replication
    by replication: both must come from the same seed (common random numbers)."""
    from sim.studies.compare import summarise, summarise_by_year

    if a.seed is not None and b.seed is not None and a.seed != b.seed:
        raise ConfigError(f"compare: {a.name} has seed {a.seed} and {b.name} seed {b.seed}; paired differences "
                          "need the same seed (common random numbers)")
    na, nb = a.name, b.name if b.name != a.name else f"{b.name} (b)"
    runs = pd.concat([a.runs.assign(scenario=na), b.runs.assign(scenario=nb)], ignore_index=True)
    cols = ["scenario", "kpi", "mean", "ci_low", "ci_high", "diff_mean", "diff_ci_low", "diff_ci_high", "n_pairs"]
    out = summarise(runs, [na, nb], na, kpis)
    out = out[out["scenario"] == nb][cols[1:]].assign(a=na, b=nb).reset_index(drop=True)
    if a.yearly["year"].nunique() > 1:
        yearly = pd.concat([a.yearly.assign(scenario=na), b.yearly.assign(scenario=nb)], ignore_index=True)
        by_year = summarise_by_year(yearly, [na, nb], na, kpis)
        out.attrs["by_year"] = by_year[by_year["scenario"] == nb].reset_index(drop=True)
    return out


def experiment(path: str | Path, replications: int | None = None, out: str | Path | None = None,
               workers: int | None = None, scheduler: str | None = None, resume: bool = False,
               overwrite: bool = False, progress: bool | Progress = False, set: list[str] | None = None) -> Results:  # noqa: A002
    """Run an experiment file as ``countysim experiment`` does (same executors: a local process pool,
    or the Dask scheduler at ``scheduler``) and return its results.  ``progress``: True for a progress
    bar, or a function called with (runs finished, runs planned) after each run."""
    from sim.studies.executors import make_executor
    from sim.studies.experiment import run_experiment

    executor = make_executor(workers, scheduler)
    if callable(progress):
        executor = _Reporting(executor, progress)
    try:
        spec, _, _, _ = run_experiment(path, executor, out=out, resume=resume, progress=progress is True,
                                       extra_overrides=set, replications=replications, overwrite=overwrite)
    finally:
        executor.close()
    return open_results(out or Path("results") / spec.name)


def province(path: str | Path, replications: int | None = None, out: str | Path | None = None,
             workers: int | None = None, scheduler: str | None = None, resume: bool = False,
             overwrite: bool = False, progress: bool = False, set: list[str] | None = None) -> Results:  # noqa: A002
    """Run a province file as ``countysim province`` does (docs/province.md) and return its results:
    ``summary`` holds every county and the province (totals from summed visits); the folder also
    holds ``ranking.csv`` and ``coupling.csv``."""
    from sim.studies.executors import make_executor
    from sim.studies.province import run_province

    executor = make_executor(workers, scheduler)
    try:
        result = run_province(path, executor, out=out, resume=resume, progress=progress, extra_overrides=set,
                              replications=replications, overwrite=overwrite)
    finally:
        executor.close()
    return open_results(out or Path("results") / result.province.spec.name)


class _Reporting:
    """An executor that reports each finished run (for progress bars outside a terminal)."""

    def __init__(self, inner, callback: Progress):
        self.inner, self.callback = inner, callback
        self.description = getattr(inner, "description", type(inner).__name__)

    def imap(self, fn, items):
        items = list(items)
        total = len(items)
        self.callback(0, total)
        for done, outcome in enumerate(self.inner.imap(fn, items), start=1):
            yield outcome
            self.callback(done, total)

    def close(self) -> None:
        self.inner.close()


def open_results(folder: str | Path) -> Results:
    """Results of an earlier run or experiment, read from its folder."""
    from sim.outputs.figures import DamagedResultsError, MissingResultsError
    from sim.outputs.figures import Results as Folder

    try:
        res = Folder(folder)
        runs = res.table("runs", "results")
        yearly = res.table("yearly", "results")
        monthly = res.table("monthly", "results")
    except (MissingResultsError, DamagedResultsError) as e:
        raise ConfigError(str(e)) from None
    folder = Path(folder)
    if (folder / "summary.csv").exists():
        summary = pd.read_csv(folder / "summary.csv")
    else:
        summary = _summary(runs, list(dict.fromkeys(runs["scenario"])))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8")) \
        if (folder / "manifest.json").exists() else {}
    seed = manifest.get("master_seed", manifest.get("seeds", {}).get("master_seed"))
    return Results(res.name, summary, yearly, monthly, runs, folder=folder, seed=seed)


def figures(results: Results | str | Path, out: str | Path | None = None, only: list[str] | None = None):
    """Draw the publication figures (PNG and SVG) of results (a folder or :class:`Results`; results
    kept in memory are saved to a temporary folder first).  Returns the figure set: ``.figures``
    (name, title, files) and ``.skipped`` (name → why)."""
    from sim.outputs.figures import make_figures

    if isinstance(results, Results):
        if results.folder is None:
            results.save(Path(tempfile.mkdtemp(prefix=f"countysim-{results.name}-")) / "results")
        folder = results.folder
    else:
        folder = Path(results)
    return make_figures(folder, out, only=only)
