"""Goal-seeking for phased plans: the cheapest timetable that meets the targets (``countysim
plan-search``).

A search file names the targets by year, the probability with which they must be met (share
of replications meeting every target), the schedulable levers with their bounds and the cost
KPI to minimise.  Optuna's multi-objective TPE sampler proposes timetables; each is run with
the same replications 0..R-1 (common random numbers), so two timetables are compared on the
same simulated residents.  The outputs are every trial, the Pareto set of cost against the
probability of meeting the targets, the cheapest timetable meeting the stated probability as
a plan file ``countysim run`` accepts, and a figure.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.kpi_registry import check_kpis
from sim.core.files import write_json
from sim.studies.study import Resolver, ScenarioDef, StudySpec, load_spec, override_list


class LeverBounds(BaseModel):
    """Bounds of one schedulable value; ``step`` makes the search discrete (e.g. 0.05)."""

    model_config = ConfigDict(extra="forbid")
    low: float
    high: float
    step: float | None = Field(None, gt=0)


class PlanSearchSpec(StudySpec):
    targets: dict[str, dict[int, float]] = Field(min_length=1, description="{kpi: {year: value}}, met when at least")
    probability: float = Field(0.8, gt=0, le=1, description="share of replications that must meet every target")
    cost: str = Field("fund_per_resident", description="KPI to minimise (mean over the run)")
    levers: dict[str, LeverBounds] = Field(min_length=1, description="schedule.<year>.<key>: bounds")
    trials: int = Field(30, ge=2, le=10_000)
    workers: int = Field(1, ge=1, le=256)

    @field_validator("cost")
    @classmethod
    def _cost_kpi(cls, v: str) -> str:
        check_kpis([v])
        return v

    @field_validator("targets")
    @classmethod
    def _target_kpis(cls, v: dict) -> dict:
        check_kpis(v)
        return v

    @field_validator("levers")
    @classmethod
    def _schedule_keys(cls, v: dict[str, LeverBounds]) -> dict[str, LeverBounds]:
        for key, b in v.items():
            parts = key.split(".")
            if parts[0] != "schedule" or len(parts) < 3 or not parts[1].isdigit():
                raise ValueError(f"{key}: a lever to search is a schedule value, schedule.<year>.<dotted.key>")
            if not b.low < b.high:
                raise ValueError(f"{key}: low must be below high (got {b.low}, {b.high})")
        return v


@dataclass
class Trial:
    number: int
    values: dict[str, float]
    cost: float
    probability: float
    met: dict[str, float]  # per target: share of replications meeting it


def load_search(path: str | Path) -> tuple[PlanSearchSpec, Resolver]:
    path = Path(path)
    spec = load_spec(path, PlanSearchSpec)
    resolver = Resolver(path, spec)
    resolver.resolve(ScenarioDef(name="base", where="base", overrides=tuple(_target_overrides(spec))))
    for key, b in spec.levers.items():  # both bounds must be valid values of the plan
        for edge in (b.low, b.high):
            resolver.resolve(ScenarioDef(name="bounds", where=f"levers.{key}",
                                         overrides=tuple([f"{key}={edge!r}", *_target_overrides(spec)])))
    return spec, resolver


def _target_overrides(spec: PlanSearchSpec) -> list[str]:
    return [f"targets.{k}.{y}={v!r}" for k, row in spec.targets.items() for y, v in row.items()]


def evaluate(spec: PlanSearchSpec, resolver: Resolver, values: dict[str, float], number: int = 0) -> Trial:
    """Run one timetable on replications 0..R-1 (the same for every timetable)."""
    from sim.studies.runner import multiple_replications, yearly_frame

    overrides = tuple([*override_list({k: v for k, v in values.items()}), *_target_overrides(spec)])
    scenario = resolver.resolve(ScenarioDef(name=f"trial_{number:04d}", overrides=overrides, where=f"trial {number}"))
    results = multiple_replications(scenario, spec.replications, workers=spec.workers)
    yearly = yearly_frame(results)
    met_all = np.ones(spec.replications, dtype=bool)
    met: dict[str, float] = {}
    for kpi, row in spec.targets.items():
        for year, value in row.items():
            by_rep = yearly[yearly["year"] == year].set_index("replication")[kpi].reindex(range(spec.replications))
            ok = (by_rep >= value).to_numpy()
            met[f"{kpi}>={value:g}@{year}"] = float(ok.mean())
            met_all &= ok
    cost = float(np.mean([r.kpis[spec.cost] for r in results]))
    return Trial(number, dict(values), cost, float(met_all.mean()), met)


def search(spec: PlanSearchSpec, resolver: Resolver, trials: int | None = None, progress: bool = False) -> list[Trial]:
    """Optuna multi-objective search: minimise cost, maximise the probability of meeting the targets."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    n = trials or spec.trials
    sampler = optuna.samplers.TPESampler(seed=spec.seed, n_startup_trials=max(2, min(10, n // 3)))
    study = optuna.create_study(directions=["minimize", "maximize"], sampler=sampler)
    done: list[Trial] = []
    seen: dict[tuple, Trial] = {}  # a timetable proposed again gives the same result (same replications)

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        values = {key: trial.suggest_float(key, b.low, b.high, step=b.step) for key, b in spec.levers.items()}
        key = tuple(values.values())
        if key not in seen:
            seen[key] = evaluate(spec, resolver, values, trial.number)
        result = seen[key]
        done.append(Trial(trial.number, values, result.cost, result.probability, result.met))
        return result.cost, result.probability

    study.optimize(objective, n_trials=n, show_progress_bar=progress)
    return done


def pareto(trials: list[Trial]) -> list[Trial]:
    """Trials no other trial beats on both cost (lower) and probability (higher), cheapest first."""
    front = [t for t in trials if not any(
        (o.cost <= t.cost and o.probability >= t.probability) and (o.cost < t.cost or o.probability > t.probability)
        for o in trials)]
    return sorted(front, key=lambda t: (t.cost, -t.probability))


def cheapest(trials: list[Trial], probability: float) -> Trial | None:
    ok = [t for t in trials if t.probability >= probability]
    return min(ok, key=lambda t: t.cost) if ok else None


def write_results(out: str | Path, spec: PlanSearchSpec, source: Path, trials: list[Trial]) -> dict[str, Any]:
    """trials.csv, pareto.csv, best_plan.yaml (if any trial meets the probability), search.json."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = [{"trial": t.number, **t.values, "cost": t.cost, "probability": t.probability,
             **{f"met:{k}": v for k, v in t.met.items()}} for t in trials]
    table = pd.DataFrame(rows)
    table.to_csv(out / "trials.csv", index=False)
    front = pareto(trials)
    table[table["trial"].isin([t.number for t in front])].sort_values("cost").to_csv(out / "pareto.csv", index=False)
    best = cheapest(trials, spec.probability)
    if best is not None:
        plan = {"extends": str((source.parent / spec.base).resolve()), "name": f"{spec.name}_best",
                "description": f"Cheapest timetable found by countysim plan-search {source.name}: {spec.cost} "
                               f"{best.cost:.4g}, targets met in {100 * best.probability:.0f} % of replications.",
                "schedule": _nested_schedule(best.values),
                "targets": {k: dict(row) for k, row in spec.targets.items()}}
        for item in [*override_list(spec.set), f"simulation.seed={spec.seed}",
                     f"simulation.replications={spec.replications}"]:
            key, _, value = item.partition("=")
            _put(plan, key, yaml.safe_load(value))
        (out / "best_plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True), encoding="utf-8")
    summary = {"search": spec.name, "source": str(source), "cost_kpi": spec.cost, "probability": spec.probability,
               "trials": len(trials), "replications": spec.replications, "seed": spec.seed,
               "best": None if best is None else {"trial": best.number, "values": best.values, "cost": best.cost,
                                                   "probability": best.probability},
               "pareto": [{"trial": t.number, "cost": t.cost, "probability": t.probability} for t in front]}
    write_json(out / "search.json", summary)
    return summary


def _nested_schedule(values: dict[str, float]) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    for key, v in values.items():
        _, year, rest = key.split(".", 2)
        out.setdefault(int(year), {})[rest] = float(v)
    return out


def _put(data: dict, key: str, value: Any) -> None:
    *head, last = key.split(".")
    for part in head:
        data = data.setdefault(part, {})
    data[last] = value


def format_search(summary: dict[str, Any]) -> str:
    lines = [f"plan-search {summary['search']}: {summary['trials']} timetables × {summary['replications']} "
             f"replication(s), cost = {summary['cost_kpi']}",
             f"{'trial':>6s} {'cost':>12s} {'P(targets met)':>15s}   (Pareto set, cheapest first)"]
    for p in summary["pareto"]:
        lines.append(f"{p['trial']:6d} {p['cost']:12.4g} {100 * p['probability']:14.0f}%")
    best = summary["best"]
    if best:
        lines.append(f"cheapest meeting the targets in ≥ {100 * summary['probability']:.0f} % of replications: "
                     f"trial {best['trial']}, {summary['cost_kpi']} {best['cost']:.4g}")
        lines += [f"  {k} = {v:.4g}" for k, v in best["values"].items()]
    else:
        lines.append(f"no timetable met the targets in ≥ {100 * summary['probability']:.0f} % of replications; "
                     "widen the bounds or add levers")
    return "\n".join(lines)
