"""Global sensitivity analysis with SALib: Morris screening and Sobol indices.

```yaml
name: sobol_primary_share
base: ../configs/baseline.yaml
method: sobol              # or morris
samples: 64                # Sobol: base samples N (N·(D+2) points); Morris: trajectories (N·(D+1) points)
replications: 3            # per point, common random numbers; the point's value is the mean
kpis: [primary_care_share]
parameters:
  reimbursement.township.outpatient_rate: {low: 0.3, high: 0.9}
  incidence_scale: {keys: ["conditions.*.incidence"], mode: scale, low: 0.8, high: 1.2}
```

The analysis is separate from the model: ``indices(...)`` takes any function from sample
points to KPI values, so the same pipeline is checked on a test function with known indices
(Ishigami) and then run on the model, where every sample point is a scenario of an ordinary
batch (validated up front, resumable with ``--resume``).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from models.kpi_registry import check_kpis
from models.kpis import KPI_INFO
from sim.core.collector import existing_objects_frozen
from sim.core.config_files import ConfigError
from sim.studies.parameters import ParameterSpec, overrides_for
from sim.studies.study import Resolver, ScenarioDef, StudySpec, build_plan, check_size, load_spec

Evaluate = Callable[[np.ndarray], pd.DataFrame]  # points (n × D) → KPI values (n rows)


class SensitivitySpec(StudySpec):
    method: Literal["sobol", "morris"] = "sobol"
    samples: int = Field(ge=1, le=1_000_000, description="Sobol base samples N / Morris trajectories")
    sample_seed: int = Field(0, ge=0)
    kpis: list[str] = Field(min_length=1)
    parameters: dict[str, ParameterSpec] = Field(min_length=1)
    num_levels: int = Field(4, ge=2, description="Morris grid levels")
    num_resamples: int = Field(100, ge=10, description="bootstrap resamples for the confidence intervals")
    replications: int = Field(1, ge=1, le=100_000)

    @field_validator("kpis")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        check_kpis(v or [], KPI_INFO)
        return v

    @field_validator("parameters")
    @classmethod
    def _ranges(cls, v: dict[str, ParameterSpec]) -> dict[str, ParameterSpec]:
        return ParameterSpec.require_ranges(v, "sensitivity")


# --------------------------------------------------------------------------- SALib pipeline
def problem(params: dict[str, ParameterSpec]) -> dict:
    return {"num_vars": len(params), "names": list(params), "bounds": [list(p.bounds) for p in params.values()]}


def sample(method: str, prob: dict, n: int, seed: int, num_levels: int = 4) -> np.ndarray:
    if method == "sobol":
        from SALib.sample import sobol
        return sobol.sample(prob, n, calc_second_order=False, seed=seed)
    from SALib.sample import morris
    return morris.sample(prob, n, num_levels=num_levels, seed=seed)


def analyse(method: str, prob: dict, X: np.ndarray, y: np.ndarray, seed: int, num_resamples: int = 100,
            num_levels: int = 4) -> pd.DataFrame:
    """One row per parameter: Sobol S1, ST (with 95 % CI half-widths) or Morris mu*, mu, sigma."""
    if method == "sobol":
        from SALib.analyze import sobol
        res = sobol.analyze(prob, y, calc_second_order=False, num_resamples=num_resamples, seed=seed)
        cols = ("S1", "S1_conf", "ST", "ST_conf")
    else:
        from SALib.analyze import morris
        res = morris.analyze(prob, X, y, num_resamples=num_resamples, num_levels=num_levels, seed=seed)
        cols = ("mu_star", "mu_star_conf", "mu", "sigma")
    return pd.DataFrame({"parameter": prob["names"], **{c: np.asarray(res[c], dtype=float) for c in cols}})


def indices(params: dict[str, ParameterSpec], method: str, n: int, seed: int, evaluate: Evaluate,
            kpis: list[str], num_resamples: int = 100, num_levels: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sample, evaluate, analyse each KPI; return (indices, points with their KPI values)."""
    prob = problem(params)
    X = sample(method, prob, n, seed, num_levels)
    Y = evaluate(X)
    return analyse_kpis(method, prob, X, Y, kpis, seed, num_resamples, num_levels), _points(prob, X, Y)


def analyse_kpis(method: str, prob: dict, X: np.ndarray, Y: pd.DataFrame, kpis: list[str], seed: int,
                 num_resamples: int = 100, num_levels: int = 4) -> pd.DataFrame:
    rows = []
    for kpi in kpis:
        y = Y[kpi].to_numpy(dtype=float)
        if not np.isfinite(y).all():
            raise ValueError(f"KPI {kpi} is undefined (NaN) at {int((~np.isfinite(y)).sum())} sample point(s) "
                             f"(failed runs, or a KPI without events); pick another KPI or widen the model")
        table = analyse(method, prob, X, y, seed, num_resamples, num_levels)
        table.insert(0, "kpi", kpi)
        table.insert(1, "method", method)
        rows.append(table)
    return pd.concat(rows, ignore_index=True)


def _points(prob: dict, X: np.ndarray, Y: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([pd.DataFrame(X, columns=prob["names"]), Y.reset_index(drop=True)], axis=1)


# --------------------------------------------------------------------------- on the model
def plan_sensitivity(path: str | Path, extra_overrides: list[str] | None = None):
    """Validate the file, draw the sample, and resolve every point as a scenario (nothing runs)."""
    path = Path(path)
    spec = load_spec(path, SensitivitySpec)
    resolver = Resolver(path, spec, extra_overrides)
    prob = problem(spec.parameters)
    d = len(spec.parameters)
    check_size(path, spec.samples * (d + 2 if spec.method == "sobol" else d + 1), spec.replications,
               f"sample points ({spec.method}: samples × {'(parameters + 2)' if spec.method == 'sobol' else '(parameters + 1)'})")
    X = sample(spec.method, prob, spec.samples, spec.sample_seed, spec.num_levels)
    defs = point_defs(spec.parameters, X, resolver.reference_dict(), path)
    return spec, X, build_plan("sensitivity", path, spec, defs, resolver)


@existing_objects_frozen()
def run_sensitivity(path: str | Path, executor, out: str | Path | None = None, resume: bool = False,
                    progress: bool = True, extra_overrides: list[str] | None = None,
                    overwrite: bool = False):
    """Every sample point is a scenario of one batch; then SALib on the per-point KPI means."""
    from sim.studies.store import ResultsStore

    spec, X, plan = plan_sensitivity(path, extra_overrides)
    store = ResultsStore(out or Path("results") / spec.name, overwrite)
    with store.claimed(plan.kind, plan.name, plan.source):
        return _run_and_analyse(spec, X, plan, store, executor, resume, progress)


def _run_and_analyse(spec: SensitivitySpec, X: np.ndarray, plan, store, executor, resume: bool, progress: bool):
    from sim.studies.batch import run_batch

    result = run_batch(plan, store, executor, resume=resume, progress=progress,
                       extra_manifest={"sensitivity": _settings(spec)})
    names = [s.name for s in plan.scenarios]
    Y = result.tables["runs"].groupby("scenario", sort=False)[spec.kpis].mean().reindex(names).reset_index(drop=True)
    prob = problem(spec.parameters)
    points = _points(prob, X, Y)
    points.insert(0, "scenario", names)
    store.write_csv("points.csv", points)
    try:
        table = analyse_kpis(spec.method, prob, X, Y, spec.kpis, spec.sample_seed, spec.num_resamples,
                             spec.num_levels)
    except ValueError as e:
        print(f"countysim: no sensitivity indices: {e}", file=sys.stderr)
        return spec, result, None
    store.write_csv("sensitivity.csv", table)
    store.write_manifest({**result.manifest, "outputs": ["points.csv", "sensitivity.csv"]})
    return spec, result, table


def point_defs(params: dict[str, ParameterSpec], X: np.ndarray, reference: dict, origin: Path) -> list[ScenarioDef]:
    width = max(5, len(str(len(X) - 1)))
    defs = []
    for i, row in enumerate(X):
        values = {name: params[name].cast(x) for name, x in zip(params, row)}
        overrides: list[str] = []
        for name, value in values.items():
            try:
                overrides += overrides_for(name, params[name], value, reference)
            except ValueError as e:
                raise ConfigError(f"{origin}: parameters.{name}: {e}") from None
        defs.append(ScenarioDef(name=f"pt{i:0{width}d}", overrides=tuple(overrides), params=values,
                                where=f"sample point {i} ({', '.join(f'{k}={v:.6g}' for k, v in values.items())})"))
    return defs


def _settings(spec: SensitivitySpec) -> dict:
    return {"method": spec.method, "samples": spec.samples, "sample_seed": spec.sample_seed,
            "num_levels": spec.num_levels, "num_resamples": spec.num_resamples, "kpis": spec.kpis}


def format_indices(table: pd.DataFrame) -> str:
    lines = []
    for kpi, g in table.groupby("kpi", sort=False):
        method = g["method"].iloc[0]
        lines.append(f"\n{kpi}  {KPI_INFO.get(kpi, ('', ''))[0]}  ({method})")
        if method == "sobol":
            lines.append(f"  {'parameter':45s} {'S1':>8s} {'± 95%':>8s} {'ST':>8s} {'± 95%':>8s}")
            for r in g.itertuples():
                lines.append(f"  {r.parameter:45s} {r.S1:8.3f} {r.S1_conf:8.3f} {r.ST:8.3f} {r.ST_conf:8.3f}")
        else:
            lines.append(f"  {'parameter':45s} {'mu*':>10s} {'± 95%':>10s} {'mu':>10s} {'sigma':>10s}")
            for r in g.itertuples():
                lines.append(f"  {r.parameter:45s} {r.mu_star:10.4g} {r.mu_star_conf:10.4g} {r.mu:10.4g} {r.sigma:10.4g}")
    return "\n".join(lines)
