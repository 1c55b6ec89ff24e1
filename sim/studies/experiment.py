"""Experiment files: scenarios × replications, optionally a grid or Latin-hypercube sweep.

```yaml
name: reimbursement_gap
base: ../configs/baseline.yaml          # relative to this file
seed: 42                                # master seed (common random numbers across scenarios)
replications: 10
reference: baseline                     # paired differences are against this scenario
scenarios:
  baseline: {}
  narrow_gap: {set: {reimbursement.county.outpatient_rate: 0.45}}
  reform: {config: ../configs/policies/full_reform.yaml}
sweep:                                  # each point becomes a scenario sweep_000, sweep_001, ...
  method: grid                          # or lhs (with samples: N, seed: S)
  parameters:
    reimbursement.township.outpatient_rate: {values: [0.5, 0.7, 0.9]}
    reimbursement.county.outpatient_rate: {low: 0.2, high: 0.4, levels: 3}
```
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.kpi_registry import check_kpis
from models.kpis import KPI_INFO
from models.loading import resolved_dict
from sim.core.collector import existing_objects_frozen
from sim.core.config_files import ConfigError
from sim.studies.parameters import (
    ParameterSpec,
    grid_design,
    lhs_design,
    overrides_for,
    read_value,
)
from sim.studies.study import (
    NAME_PATTERN,
    Overrides,
    Resolver,
    ScenarioDef,
    StudyPlan,
    StudySpec,
    build_plan,
    check_size,
    override_list,
    with_replications,
)

DEFAULT_SHOWN_KPIS = ("primary_care_share", "county_visit_rate", "in_county_inpatient_share",
                      "in_county_fund_share", "reimbursement_ratio", "oop_per_episode")


class ScenarioEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    config: str | None = Field(None, description="own scenario YAML instead of the base (relative to this file)")
    set: Overrides = Field(default_factory=dict, description="overrides, as with --set")


class SweepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["grid", "lhs"] = "grid"
    parameters: dict[str, ParameterSpec] = Field(min_length=1)
    samples: int | None = Field(None, ge=1, le=100_000, description="Latin hypercube points")
    seed: int = Field(0, ge=0, description="Latin hypercube sampling seed")
    scenario: str | None = Field(None, description="scenario the sweep varies; default: the base config")
    prefix: str = Field("sweep_", pattern=NAME_PATTERN)

    @model_validator(mode="after")
    def _method(self) -> "SweepSpec":
        if self.method == "lhs":
            if self.samples is None:
                raise ValueError("method 'lhs' needs 'samples'")
            for name, p in self.parameters.items():
                if p.values is not None:
                    raise ValueError(f"parameters.{name}: method 'lhs' needs low/high, not 'values'")
        else:
            for name, p in self.parameters.items():
                if p.values is None and p.levels is None:
                    raise ValueError(f"parameters.{name}: method 'grid' needs 'values' or 'levels'")
        return self


class ExperimentSpec(StudySpec):
    scenarios: dict[str, ScenarioEntry] = Field(default_factory=dict)
    reference: str | None = Field(None, description="scenario for paired differences; default: the first")
    sweep: SweepSpec | None = None
    kpis: list[str] | None = Field(None, min_length=1, description="KPIs shown and advised on; all go to summary.csv")
    target_halfwidth: float | dict[str, float] | None = Field(
        None, description="replication advice: a number for the shown share KPIs, or {kpi: half-width}")

    @field_validator("kpis")
    @classmethod
    def _known(cls, v: list[str] | None) -> list[str] | None:
        check_kpis(v or [], KPI_INFO)
        return v

    @field_validator("target_halfwidth")
    @classmethod
    def _positive(cls, v):
        values = v.values() if isinstance(v, dict) else [] if v is None else [v]
        if any(x <= 0 for x in values):
            raise ValueError("half-widths must be > 0")
        if isinstance(v, dict):
            cls._known(list(v))
        return v

    @model_validator(mode="after")
    def _names(self) -> "ExperimentSpec":
        names = list(self.scenarios) or ["base"]
        for n in names:
            if not re.match(NAME_PATTERN, n):
                raise ValueError(f"scenarios.{n}: a scenario name must match {NAME_PATTERN} (it names result files)")
        if self.reference is not None and self.reference not in names:
            raise ValueError(f"reference {self.reference!r} is not a scenario; allowed: {names}")
        if self.sweep and self.sweep.scenario is not None and self.sweep.scenario not in self.scenarios:
            raise ValueError(f"sweep.scenario {self.sweep.scenario!r} is not a scenario; allowed: {list(self.scenarios)}")
        return self

    @property
    def reference_name(self) -> str:
        return self.reference or next(iter(self.scenarios), "base")

    def shown_kpis(self) -> list[str]:
        return list(self.kpis or DEFAULT_SHOWN_KPIS)


def scenario_defs(spec: ExperimentSpec, resolver: Resolver) -> list[ScenarioDef]:
    """Explicit scenarios (or one 'base'), then one scenario per sweep point."""
    entries = spec.scenarios or {"base": ScenarioEntry()}
    defs = {name: ScenarioDef(name=name, description=e.description,
                              config=resolver.path(e.config) if e.config else None,
                              overrides=tuple(override_list(e.set)), where=f"scenarios.{name}")
            for name, e in entries.items()}
    out = list(defs.values())
    if spec.sweep is None:
        return out
    sweep = spec.sweep
    on = defs[sweep.scenario] if sweep.scenario else ScenarioDef(name="base", where="sweep")
    reference = resolver.reference_dict(on)
    n = math.prod(len(p.values) if p.values is not None else p.levels or 1 for p in sweep.parameters.values()) \
        if sweep.method == "grid" else sweep.samples
    check_size(resolver.study_file, n + len(out), spec.replications, "scenarios (explicit ones and sweep points)")
    points = grid_design(sweep.parameters) if sweep.method == "grid" else \
        lhs_design(sweep.parameters, sweep.samples, sweep.seed)
    width = max(3, len(str(len(points) - 1)))
    for i, point in enumerate(points):
        overrides: list[str] = []
        for pname, value in point.items():
            try:
                overrides += overrides_for(pname, sweep.parameters[pname], value, reference)
            except ValueError as e:
                raise ConfigError(f"sweep.parameters.{pname}: {e}") from None
        name = f"{sweep.prefix}{i:0{width}d}"
        out.append(ScenarioDef(name=name, description=", ".join(f"{k}={v}" for k, v in point.items()),
                               config=on.config, overrides=on.overrides + tuple(overrides), params=point,
                               where=f"sweep point {name} ({', '.join(f'{k}={v}' for k, v in point.items())})"))
    return out


def load_experiment(path: str | Path, extra_overrides: list[str] | None = None,
                    replications: int | None = None) -> tuple[ExperimentSpec, StudyPlan]:
    """Validate the file and resolve every scenario; nothing runs yet."""
    from sim.studies.study import load_spec

    path = Path(path)
    spec = load_spec(path, ExperimentSpec)
    spec = with_replications(spec, replications)
    resolver = Resolver(path, spec, extra_overrides)
    try:
        defs = scenario_defs(spec, resolver)
    except ConfigError as e:
        if not str(e).startswith("sweep."):
            raise
        raise ConfigError(f"{path}: {e}") from None
    plan = build_plan("experiment", path, spec, defs, resolver)
    if spec.sweep is not None:  # sweep parameters as columns for the explicit scenarios too
        on = next((d for d in defs if d.name == spec.sweep.scenario), None)
        reference = resolver.reference_dict(on)
        for ps in plan.scenarios:
            for pname, pspec in spec.sweep.parameters.items():
                ps.params.setdefault(pname, read_value(pname, pspec, resolved_dict(ps.scenario), reference))
    return spec, plan


@existing_objects_frozen()
def run_experiment(path: str | Path, executor, out: str | Path | None = None, resume: bool = False,
                   progress: bool = True, target_halfwidth: list[str] | None = None,
                   extra_overrides: list[str] | None = None, replications: int | None = None,
                   overwrite: bool = False):
    """Validate, run every unfinished run, consolidate, and write summary.csv and summary.json (and
    summary_by_year.csv for runs over several calendar years); return the pieces."""
    from sim.studies.batch import run_batch
    from sim.studies.compare import summarise, summarise_by_year, targets_for
    from sim.studies.store import ResultsStore
    from sim.studies.summaries import write_summaries

    spec, plan = load_experiment(path, extra_overrides, replications)
    targets = targets_for(spec.shown_kpis(), spec.target_halfwidth, target_halfwidth)
    store = ResultsStore(out or Path("results") / spec.name, overwrite)
    with store.claimed(plan.kind, plan.name, plan.source):
        result = run_batch(plan, store, executor, resume=resume, progress=progress,
                           extra_manifest={"reference": spec.reference_name, "target_halfwidths": targets})
        summary = summarise(result.tables["runs"], [s.name for s in plan.scenarios], spec.reference_name,
                            targets=targets)
        write_summaries(store.root, summary, spec.reference_name)
        yearly = result.tables.get("yearly")
        if yearly is not None and "year" in yearly.columns and yearly["year"].nunique() > 1:
            store.write_csv("summary_by_year.csv", summarise_by_year(yearly, [s.name for s in plan.scenarios],
                                                                     spec.reference_name))
    return spec, plan, result, summary
