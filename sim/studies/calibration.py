"""Calibration: fit declared parameters so simulated KPIs match observed targets.

```yaml
name: calibrate_baseline
base: ../configs/baseline.yaml
targets: calibration_targets.csv   # columns kpi, value, sd (observed uncertainty), source, ...
replications: 4                    # per evaluation, common random numbers
method: nelder-mead                # or powell (scipy.optimize, bounded)
max_evaluations: 60
parameters:
  incidence_scale: {keys: ["conditions.*.incidence"], mode: scale, low: 0.7, high: 1.3, start: 1.0}
  choice.tier_constant.county: {low: -1.0, high: 1.0}
```

The objective is χ² = Σ ((simulated mean − observed) / sd)².  Every evaluation uses the same
seeds (common random numbers), so the objective is a smooth-ish deterministic function of the
parameters and a simplex search settles instead of chasing noise.  The optimiser works in the
unit cube of the declared ranges.  Outputs: ``calibrated.yaml`` (extends the base config, sets
the fitted values), ``fit.csv`` (target, observed, simulated mean and 95 % CI at the optimum),
``evaluations.csv`` and, from the final replicated run at the optimum, the usual batch files.
"""
from __future__ import annotations

import io
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import Field, field_validator

from models.kpis import KPI_INFO
from models.loading import resolved_dict
from sim.core.collector import existing_objects_frozen
from sim.core.config_files import ConfigError, read_text
from sim.core.stats import confidence_interval
from sim.studies.parameters import ParameterSpec, get_path, overrides_for
from sim.studies.study import Resolver, ScenarioDef, StudySpec, build_plan, load_spec

TARGET_COLUMNS = ("kpi", "value", "sd")


class CalibrationSpec(StudySpec):
    targets: str = Field(min_length=1, description="CSV of observed KPI values (relative to this file)")
    parameters: dict[str, ParameterSpec] = Field(min_length=1)
    method: Literal["nelder-mead", "powell"] = "nelder-mead"
    max_evaluations: int = Field(60, ge=1, le=100_000)
    final_replications: int | None = Field(None, ge=1, le=100_000, description="replications at the optimum; default: replications")
    xtol: float = Field(0.01, gt=0, le=1, description="stop when the simplex is this small (share of each range)")
    replications: int = Field(5, ge=1, le=100_000)

    @field_validator("parameters")
    @classmethod
    def _ranges(cls, v: dict[str, ParameterSpec]) -> dict[str, ParameterSpec]:
        return ParameterSpec.require_ranges(v, "calibration")


def load_targets(path: Path) -> pd.DataFrame:
    """Observed targets; errors name the file, row and column."""
    text = read_text(path, "CSV file", fallback_encodings=("gb18030",))
    try:
        df = pd.read_csv(io.StringIO(text), comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise ConfigError(f"{path}: not a readable CSV file ({str(e).strip()})") from None
    missing = [c for c in TARGET_COLUMNS if c not in df.columns]
    if missing:
        raise ConfigError(f"{path}: missing column(s) {missing}; need {list(TARGET_COLUMNS)} (+ source, ...)")
    if df.empty:
        raise ConfigError(f"{path}: no target rows")
    for i, row in df.iterrows():
        where = f"{path}: row {i + 2}"
        if row["kpi"] not in KPI_INFO:
            raise ConfigError(f"{where}: kpi: unknown KPI {row['kpi']!r}; allowed: {list(KPI_INFO)}")
        for col in ("value", "sd"):
            x = pd.to_numeric(row[col], errors="coerce")
            if not np.isfinite(x) or (col == "sd" and x <= 0):
                raise ConfigError(f"{where}: {col}: must be a finite number{' > 0' if col == 'sd' else ''} "
                                  f"(got {row[col]!r})")
    if df["kpi"].duplicated().any():
        raise ConfigError(f"{path}: kpi: each KPI may be a target once (duplicates: "
                          f"{sorted(df.loc[df['kpi'].duplicated(), 'kpi'])})")
    return df.assign(value=df["value"].astype(float), sd=df["sd"].astype(float))


class Calibration:
    """The objective over the unit cube, with every evaluation logged and cached."""

    def __init__(self, path: Path, spec: CalibrationSpec, resolver: Resolver, targets: pd.DataFrame):
        self.path, self.spec, self.resolver, self.targets = path, spec, resolver, targets
        self.executor, self.progress = None, False
        self.reference = resolver.reference_dict()
        self.names = list(spec.parameters)
        self.log: list[dict] = []
        self._cache: dict[tuple, float] = {}

    def values(self, u: np.ndarray) -> dict[str, Any]:
        """Parameter values at a point of the unit cube, to 6 significant digits (as written out)."""
        return {n: self.spec.parameters[n].cast(float(f"{self.spec.parameters[n].from_unit(min(max(x, 0.0), 1.0)):.6g}"))
                for n, x in zip(self.names, u)}

    def scenario_def(self, name: str, values: dict[str, Any]) -> ScenarioDef:
        overrides: list[str] = []
        for n, v in values.items():
            try:
                overrides += overrides_for(n, self.spec.parameters[n], v, self.reference)
            except ValueError as e:
                raise ConfigError(f"{self.path}: parameters.{n}: {e}") from None
        return ScenarioDef(name=name, overrides=tuple(overrides), params=values,
                           where=f"{name} ({', '.join(f'{k}={v:.6g}' for k, v in values.items())})")

    def check_corners(self) -> None:
        """Validate the all-low and all-high corners before any run starts."""
        defs = [self.scenario_def(name, {n: self.spec.parameters[n].from_unit(u) for n in self.names})
                for name, u in (("low_corner", 0.0), ("high_corner", 1.0))]
        build_plan("calibration", self.path, self.spec, defs, self.resolver)

    def kpis(self, values: dict[str, Any], replications: int) -> tuple[pd.DataFrame, list]:
        from sim.studies.batch import run_unstored

        spec = self.spec.model_copy(update={"replications": replications})
        plan = build_plan("calibration", self.path, spec, [self.scenario_def("eval", values)], self.resolver)
        return run_unstored(plan, self.executor)

    def objective(self, u: np.ndarray) -> float:
        key = tuple(np.round(np.clip(u, 0, 1), 12))
        if key in self._cache:
            return self._cache[key]
        values = self.values(np.asarray(key))
        t0 = time.perf_counter()
        runs, failures = self.kpis(values, self.spec.replications)
        chi2, means = np.inf, {}
        if not failures and len(runs):
            means = {k: float(runs[k].mean()) for k in self.targets["kpi"]}
            chi2 = float(sum(((means[r.kpi] - r.value) / r.sd) ** 2 for r in self.targets.itertuples()))
            chi2 = chi2 if np.isfinite(chi2) else np.inf
        self._cache[key] = chi2
        self.log.append({"evaluation": len(self.log), **values, "chi2": chi2, **means,
                         "failed_runs": len(failures), "seconds": time.perf_counter() - t0})
        if self.progress:
            shown = ", ".join(f"{k}={v:.4g}" for k, v in values.items())
            print(f"  eval {len(self.log):3d}: χ²={chi2:10.4g}  {shown}", file=sys.stderr)
        return chi2

    def search(self, executor, progress: bool = True) -> np.ndarray:
        """Minimise χ² over the unit cube; return the best point evaluated."""
        from scipy.optimize import minimize

        self.executor, self.progress = executor, progress

        d = len(self.names)
        x0 = np.array([p.to_unit(p.start) if p.start is not None else 0.5 for p in self.spec.parameters.values()])
        opts: dict[str, Any] = {"maxfev": self.spec.max_evaluations, "xtol": self.spec.xtol}
        if self.spec.method == "nelder-mead":
            step = 0.25
            simplex = [x0] + [x0 + np.where(np.arange(d) == i, step if x0[i] + step <= 1 else -step, 0.0)
                              for i in range(d)]
            opts = {"maxfev": self.spec.max_evaluations, "xatol": self.spec.xtol, "fatol": 1e-3,
                    "initial_simplex": np.array(simplex)}
        res = minimize(self.objective, x0, method="Nelder-Mead" if self.spec.method == "nelder-mead" else "Powell",
                       bounds=[(0.0, 1.0)] * d, options=opts)
        best = min(self._cache.items(), key=lambda kv: kv[1])[0]  # never worse than any evaluated point
        return np.asarray(best) if self._cache[best] <= res.fun else np.clip(res.x, 0, 1)


def prepare_calibration(path: str | Path, extra_overrides: list[str] | None = None) -> Calibration:
    """Validate the file, the targets and the corners of the parameter box (nothing runs)."""
    path = Path(path)
    spec = load_spec(path, CalibrationSpec)
    targets = load_targets((path.resolve().parent / spec.targets).resolve())
    cal = Calibration(path, spec, Resolver(path, spec, extra_overrides), targets)
    cal.check_corners()
    return cal


@existing_objects_frozen()
def run_calibration(path: str | Path, executor, out: str | Path | None = None, progress: bool = True,
                    extra_overrides: list[str] | None = None, overwrite: bool = False):
    """Search, then a final replicated batch at the optimum; write calibrated.yaml and fit.csv."""
    from sim.studies.store import ResultsStore

    path = Path(path)
    cal = prepare_calibration(path, extra_overrides)
    store = ResultsStore(out or Path("results") / cal.spec.name, overwrite)
    with store.claimed("calibration", cal.spec.name, path.resolve()):  # before the search: no compute is lost
        fit = _search_and_fit(path, cal, store, executor, progress)
    return cal.spec, fit, store.root


def _search_and_fit(path: Path, cal: Calibration, store, executor, progress: bool) -> pd.DataFrame:
    from sim.studies.batch import run_batch

    spec, targets, resolver = cal.spec, cal.targets, cal.resolver
    started = datetime.now(timezone.utc)
    best = cal.search(executor, progress)
    values = cal.values(best)

    final_spec = spec.model_copy(update={"replications": spec.final_replications or spec.replications})
    plan = build_plan("calibration", path, final_spec, [cal.scenario_def("calibrated", values)], resolver)
    result = run_batch(plan, store, executor, progress=progress)
    fit = fit_table(targets, result.tables["runs"])
    store.write_csv("fit.csv", fit)
    store.write_csv("evaluations.csv", pd.DataFrame(cal.log))
    config_path = store.root / "calibrated.yaml"
    write_calibrated_config(config_path, resolver.base, plan.scenarios[0].overrides,
                            resolved_dict(plan.scenarios[0].scenario), values, float(fit["chi2_term"].sum()), path)
    store.write_manifest({**result.manifest, "calibration": {
        "started_utc": started.isoformat(timespec="seconds"), "method": spec.method,
        "evaluations": len(cal.log), "parameters": values, "chi2": float(fit["chi2_term"].sum()),
        "targets_file": spec.targets, "outputs": ["calibrated.yaml", "fit.csv", "evaluations.csv"]}})
    return fit


def fit_table(targets: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for t in targets.to_dict(orient="records"):
        mean, lo, hi, n = confidence_interval(runs[t["kpi"]].to_numpy() if len(runs) else np.array([]))
        z = (mean - t["value"]) / t["sd"]
        rows.append({"kpi": t["kpi"], "observed": t["value"], "sd": t["sd"], "simulated_mean": mean,
                     "ci_low": lo, "ci_high": hi, "n": n, "z": z, "chi2_term": z * z,
                     "within_1sd": bool(abs(z) <= 1), "source": t.get("source", "")})
    return pd.DataFrame(rows)


def write_calibrated_config(path: Path, base: str, overrides: tuple[str, ...], resolved: dict,
                            values: dict[str, Any], chi2: float, study: Path) -> None:
    """A scenario file that extends the base config and sets only the fitted keys."""
    from sim.core.files import atomic_write

    tree: dict = {}
    for item in overrides:
        key = item.partition("=")[0]
        parts = key.split(".")
        # a key inside a list: write the whole list (extends replaces lists wholesale)
        stop = next((i + 1 for i in range(len(parts)) if isinstance(get_path(resolved, ".".join(parts[:i + 1])), list)),
                    len(parts))
        node = tree
        for p in parts[:stop - 1]:
            node = node.setdefault(p, {})
        node[parts[stop - 1]] = get_path(resolved, ".".join(parts[:stop]))
    header = (f"# Calibrated by `countysim calibrate {study}` on {datetime.now(timezone.utc):%Y-%m-%d}.\n"
              f"# Fitted: {', '.join(f'{k}={v:.6g}' for k, v in values.items())}; chi2 = {chi2:.4g}. See fit.csv.\n")
    body = yaml.safe_dump({"extends": os.path.relpath(base, path.parent), "name": f"{Path(base).stem}_calibrated",
                           **tree}, sort_keys=False, allow_unicode=True)
    atomic_write(path, lambda tmp: tmp.write_text(header + body, encoding="utf-8"))


def format_fit(fit: pd.DataFrame) -> str:
    lines = [f"{'kpi':28s} {'observed':>10s} {'± sd':>8s} {'simulated':>10s} {'95% CI':>23s} {'z':>6s}"]
    for r in fit.itertuples():
        lines.append(f"{r.kpi:28s} {r.observed:10.4g} {r.sd:8.3g} {r.simulated_mean:10.4g} "
                     f"[{r.ci_low:10.4g}, {r.ci_high:10.4g}] {r.z:+6.2f}")
    lines.append(f"χ² = {fit['chi2_term'].sum():.4g} over {len(fit)} targets")
    return "\n".join(lines)
