"""Single replications, many replications, summaries with 95 % CIs, and result files.

In the treat-sim style: a Scenario object, ``single_run`` for one replication and
``multiple_replications`` for many (optionally over a process pool; results do not depend
on the number of workers because each replication owns its seed).
"""
from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import sim
from models.geography import County, build_county
from models.kpis import ALL_KPI_INFO, BUDGET_KPIS, GROWTH_KPI, KpiCalculator
from models.loading import resolved_dict
from models.scenario import Scenario
from sim.core.files import write_json, write_parquet
from sim.core.stats import confidence_interval
from sim.core.streams import make_streams, replication_seed
from sim.pathway import CountyModel


@dataclass
class RunResult:
    replication: int
    kpis: dict[str, float]
    monthly: pd.DataFrame
    yearly: pd.DataFrame
    facilities: pd.DataFrame
    facility_monthly: pd.DataFrame  # per month and facility: visits, admissions, load and waits
    villages: pd.DataFrame
    flows: pd.DataFrame
    accounting: dict[str, int]
    waits_by_hour: pd.DataFrame  # visits and mean wait by tier and hour of day
    wall_seconds: float
    logs: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)


def single_run(scenario: Scenario, replication: int = 0, county: County | None = None,
               keep_logs: bool = False, event_log: str | Path | None = None) -> RunResult:
    """Run one replication; its streams come from (master seed, replication).  ``event_log``
    names a folder for the per-event Parquet log (off by default)."""
    t0 = time.perf_counter()
    county = county if county is not None else build_county(scenario.geography)
    streams = make_streams(replication_seed(scenario.simulation.seed, replication))
    model = CountyModel(scenario, county, streams)
    mon = model.run(str(event_log) if event_log else None)
    visits, stays, episodes = mon.visits.arrays(), mon.stays.arrays(), mon.episodes.arrays()
    transfers, outside = mon.transfers.arrays(), mon.outside.arrays()
    sim_spec = scenario.simulation
    calc = KpiCalculator(model.county, model.warmup, model.end, sim_spec.days_per_year, sim_spec.open_hours)
    logs = (visits, stays, episodes, transfers, mon.arrivals())
    sums = calc.sums(*logs, outside)  # monthly; years and the whole run add these up
    annual = calc.kpis(calc.aggregate(sums, "all"))
    yearly = calc.kpis(calc.aggregate(sums, "year"))
    yearly[GROWTH_KPI[0]] = yearly["cost_per_resident"].pct_change()
    budget = pd.DataFrame(mon.budget)
    for key in BUDGET_KPIS:
        yearly[key] = budget[key if key != "budget_balance" else "balance"].to_numpy()[:len(yearly)] \
            if len(budget) else np.nan
        annual[key] = yearly[key].mean() if len(budget) else np.nan
    annual[GROWTH_KPI[0]] = yearly[GROWTH_KPI[0]].mean()
    finished = episodes["finish"] <= model.end
    accounting = {
        "arrived": mon.arrived,
        "completed": int((finished & (episodes["status"] == 0)).sum()),
        "balked": int((episodes["status"] == 1).sum()),
        "declined": int((finished & (episodes["status"] == 2)).sum()),
        "outside_options": len(outside["time"]),
        "in_system": int(mon.arrived - (finished.sum())),
    }
    return RunResult(
        replication=replication,
        kpis=annual.iloc[0].to_dict(),
        monthly=calc.kpis(sums),
        yearly=yearly,
        facilities=calc.facilities(visits, stays, mon.samples, mon.in_system_doctors, mon.in_system_beds),
        facility_monthly=calc.facility_monthly(visits, stays),
        villages=calc.villages(visits, episodes),
        flows=calc.flows(episodes),
        accounting=accounting,
        waits_by_hour=calc.waits_by_hour(visits),
        wall_seconds=time.perf_counter() - t0,
        logs={"visits": visits, "stays": stays, "episodes": episodes, "transfers": transfers} if keep_logs else {},
    )


def _run_one(args: tuple[Scenario, int, str | None]) -> RunResult:
    scenario, rep, event_log = args
    return single_run(scenario, rep, event_log=f"{event_log}/rep{rep:03d}" if event_log else None)


def multiple_replications(scenario: Scenario, replications: int | None = None, workers: int = 1,
                          progress: bool = False, event_log: str | Path | None = None) -> list[RunResult]:
    n = replications or scenario.simulation.replications
    jobs = [(scenario, r, str(event_log) if event_log else None) for r in range(n)]
    if workers <= 1 or n == 1:
        it = map(_run_one, jobs)
        return list(_progress(it, n, progress))
    with ProcessPoolExecutor(max_workers=min(workers, n)) as pool:
        return list(_progress(pool.map(_run_one, jobs), n, progress))


def _progress(it, total: int, show: bool):
    if not show:
        return it
    from tqdm import tqdm
    return tqdm(it, total=total, desc="replications", unit="run")


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


# ---------------------------------------------------------------------- summaries
def runs_frame(results: list[RunResult]) -> pd.DataFrame:
    rows = [{"replication": r.replication, **r.kpis} for r in results]
    return pd.DataFrame(rows)


def summarise(runs: pd.DataFrame) -> dict[str, dict[str, float]]:
    out = {}
    for col in [c for c in runs.columns if c != "replication"]:
        mean, lo, hi, n = confidence_interval(runs[col].to_numpy())
        out[col] = {"mean": mean, "ci_low": lo, "ci_high": hi, "n": n}
    return out


def format_table(summary: dict[str, dict[str, float]]) -> str:
    lines = [f"{'KPI':32s} {'mean':>12s} {'95% CI':>27s}  {'n':>3s}", "-" * 78]
    for key, s in summary.items():
        zh = ALL_KPI_INFO.get(key, ("", ""))[0]
        lines.append(f"{key:32s} {s['mean']:12.4g} [{s['ci_low']:11.4g}, {s['ci_high']:11.4g}]  {s['n']:3d}  {zh}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- files
def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent.parent)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _tagged(results: list[RunResult], attr: str) -> pd.DataFrame:
    frames = []
    for r in results:
        df = getattr(r, attr).copy()
        df.insert(0, "replication", r.replication)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def write_outputs(out: str | Path, scenario: Scenario, results: list[RunResult], wall_seconds: float,
                  source: str | None = None) -> dict:
    """Write summary.json, the runs/monthly/yearly/facilities/facility_monthly/villages/flows tables
    (Parquet) and manifest.json atomically."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs = runs_frame(results)
    summary = summarise(runs)
    monthly = _tagged(results, "monthly").rename_axis("month").reset_index()
    monthly["month"] = monthly.groupby("replication").cumcount()
    yearly = _tagged(results, "yearly")
    yearly.insert(1, "year", yearly.groupby("replication").cumcount())
    files = {
        "runs.parquet": runs,
        "monthly.parquet": monthly,
        "yearly.parquet": yearly,
        "facilities.parquet": _tagged(results, "facilities"),
        "facility_monthly.parquet": _tagged(results, "facility_monthly"),
        "villages.parquet": _tagged(results, "villages"),
        "flows.parquet": _tagged(results, "flows"),
        "waits_by_hour.parquet": _tagged(results, "waits_by_hour"),
    }
    for name, df in files.items():
        write_parquet(out / name, df)
    manifest = {
        "scenario": scenario.name,
        "source": source,
        "package_version": sim.__version__,
        "git_commit": git_commit(),
        "master_seed": scenario.simulation.seed,
        "replication_seeds": [{"replication": r.replication, "entropy": scenario.simulation.seed,
                               "spawn_key": [r.replication]} for r in results],
        "streams": ["arrivals", "choice", "service", "referral"],
        "wall_seconds": wall_seconds,
        "run_seconds": [r.wall_seconds for r in results],
        "accounting": [r.accounting for r in results],
        "config": resolved_dict(scenario),
    }
    write_json(out / "summary.json", summary)
    write_json(out / "manifest.json", manifest)
    return summary
