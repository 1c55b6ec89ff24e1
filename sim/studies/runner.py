"""Single replications, many replications, summaries with 95 % CIs, and result files.

In the treat-sim style: a Scenario object, ``single_run`` for one replication and
``multiple_replications`` for many (optionally over a process pool; results do not depend
on the number of workers because each replication owns its seed).
"""
from __future__ import annotations

import gc
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import sim
from models.communities import community_indicators
from models.geography import County
from models.kpis import ALL_KPI_INFO, BUDGET_KPIS, GROWTH_KPI, IN_COUNTY, PRIMARY, KpiCalculator
from models.levers import chronic_centres, medicines, workforce
from models.loading import county_of, plan_of, resolved_dict
from models.scenario import Scenario
from sim.core.files import write_json, write_parquet
from sim.core.streams import make_streams, replication_seed
from sim.pathway import CountyModel
from sim.studies import kpi_text
from sim.studies.pools import ProcessPool
from sim.studies.run_failures import WORKER_DIED, WorkerDied


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
    year_sums: pd.DataFrame = field(default_factory=pd.DataFrame)  # the additive sums behind every KPI, by year
    communities: pd.DataFrame = field(default_factory=pd.DataFrame)  # indicators by medical community
    community_budget: pd.DataFrame = field(default_factory=pd.DataFrame)  # fund by (budget year, community)
    logs: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)


YOUNG_COLLECTION_EVERY = 10_000  # net new objects between young-generation collections in a run (CPython: 700)


@contextmanager
def _fewer_collections():
    """Collect the young generation less often while the model runs.  A run makes almost no
    reference cycles (a quarter-year of a 2M-resident county leaves 20 objects to the collector),
    but its bursts of new objects set off a collection every 700, each walking what is young: in
    that run 463 collections cost 0.49 µs per episode (0.17 at 50k and 500k), against 0.02 with
    collections every 10,000.  Objects are still freed by their reference counts as before, and
    results cannot change."""
    threshold = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


def single_run(scenario: Scenario, replication: int = 0, county: County | None = None,
               keep_logs: bool = False, event_log: str | Path | None = None) -> RunResult:
    """Run one replication; its streams come from (master seed, replication).  ``event_log``
    names a folder for the per-event Parquet log (off by default)."""
    t0 = time.perf_counter()
    county = county if county is not None else county_of(scenario)
    streams = make_streams(replication_seed(scenario.simulation.seed, replication))
    with _fewer_collections():
        model = CountyModel(scenario, county, streams)
        mon = model.run(str(event_log) if event_log else None)
    visits, stays, episodes = mon.visits.arrays(), mon.stays.arrays(), mon.episodes.arrays()
    transfers, outside = mon.transfers.arrays(), mon.outside.arrays()
    sim_spec = scenario.simulation
    calc = KpiCalculator(model.county, model.warmup, model.end, sim_spec.days_per_year, sim_spec.open_hours)
    calc.capacity_log = mon.capacity_log
    calc.rotations = workforce.rotation_months(model.plan)
    calc.pool_moves = model.care.pool.log
    variants = (scenario, *model.plan.variants)
    moved = calc.rotations is not None or any(s.salary.tiers or s.workforce.pooling.enabled for s in variants)
    calc.groups = {"workforce"} if moved else set()
    if any(medicines.stock_outs(s.medicines) for s in variants):
        calc.groups.add("medicines")
    if any(chronic_centres.active(s) for s in variants):
        calc.groups.add("chronic")
        calc.chronic = chronic_centres.monthly(model.plan, scenario, model.county, mon.missed.arrays()["time"])
    if scenario.workforce.cadres.report:
        calc.groups.add("cadres")
        calc.cadres = scenario.workforce.cadres
    logs = (visits, stays, episodes, transfers, mon.arrivals())
    sums = calc.sums(*logs, outside)  # monthly; years and the whole run add these up
    annual = calc.kpis(calc.aggregate(sums, "all"))
    yearly = calc.kpis(calc.aggregate(sums, "year"))
    yearly[GROWTH_KPI[0]] = yearly["cost_per_resident"].pct_change()
    budget = pd.DataFrame(mon.budget)
    by_year = pd.DataFrame({key: budget[key].to_numpy()[:len(yearly)] if key in budget else np.nan
                            for key in BUDGET_KPIS}, index=yearly.index)  # by budget year
    annual = pd.concat([annual, pd.DataFrame([by_year.mean()], index=annual.index)], axis=1)  # mean over years
    yearly = pd.concat([yearly, by_year], axis=1)
    annual[GROWTH_KPI[0]] = yearly[GROWTH_KPI[0]].mean()
    start = sim_spec.start_year
    yearly.insert(0, "year", start + np.arange(len(yearly)))
    monthly = calc.kpis(sums)
    monthly.insert(0, "year", start + np.arange(len(monthly)) // 12)
    monthly.insert(1, "month_of_year", np.arange(len(monthly)) % 12 + 1)
    year_sums = calc.aggregate(sums, "year")
    year_sums.insert(0, "year", start + np.arange(len(year_sums)))
    year_sums["resident_years"] = float(model.county.population) * year_sums["days"] / sim_spec.days_per_year
    year_sums["open_share"] = calc.open_share
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
        monthly=monthly,
        yearly=yearly,
        facilities=calc.facilities(visits, stays, mon.samples, mon.in_system_doctors, mon.in_system_beds),
        facility_monthly=calc.facility_monthly(visits, stays),
        villages=calc.villages(visits, episodes),
        flows=calc.flows(episodes),
        accounting=accounting,
        waits_by_hour=calc.waits_by_hour(visits),
        wall_seconds=time.perf_counter() - t0,
        year_sums=year_sums,
        communities=community_indicators(model.county, visits, episodes, model.warmup, model.end,
                                         sim_spec.days_per_year, IN_COUNTY, PRIMARY),
        community_budget=mon.community_budget,
        logs={"visits": visits, "stays": stays, "episodes": episodes, "transfers": transfers} if keep_logs else {},
    )


def _run_one(args: tuple[Scenario, int, str | None]) -> RunResult:
    scenario, rep, event_log = args
    return single_run(scenario, rep, event_log=f"{event_log}/rep{rep:03d}" if event_log else None)


def multiple_replications(scenario: Scenario, replications: int | None = None, workers: int = 1,
                          progress: bool = False, event_log: str | Path | None = None) -> list[RunResult]:
    """The replications in order.  On a process pool, replications a dead worker took down are
    rerun alone (``ProcessPool``); one that kills its worker even then raises ``WorkerDied``."""
    n = replications or scenario.simulation.replications
    jobs = [(scenario, r, str(event_log) if event_log else None) for r in range(n)]
    if workers <= 1 or n == 1:
        return list(_progress(map(_run_one, jobs), n, progress))
    pool, done = ProcessPool(min(workers, n)), {}
    try:
        for (_, rep, _), out in _progress(pool.imap(_run_one, jobs), n, progress):
            if isinstance(out, WorkerDied):
                raise WorkerDied(f"replication {rep} failed: {WORKER_DIED}")
            if isinstance(out, BaseException):
                raise out
            done[rep] = out
    finally:
        pool.close()
    return [done[r] for r in range(n)]


def _progress(it, total: int, show: bool):
    if not show:
        return it
    from tqdm import tqdm
    return tqdm(it, total=total, desc="replications", unit="run")


# ---------------------------------------------------------------------- summaries
def runs_frame(results: list[RunResult]) -> pd.DataFrame:
    rows = [{"replication": r.replication, **r.kpis} for r in results]
    return pd.DataFrame(rows)


def summarise(runs: pd.DataFrame, yearly: pd.DataFrame | None = None,
              targets: dict[str, dict[int, float]] | None = None) -> dict[str, dict]:
    """Mean and 95 % CI of every KPI over replications; with ``yearly``, the same per calendar
    year (``by_year``); with ``targets``, whether and when each is met (``targets``)."""
    from sim.core.stats import confidence_interval  # here, not at the top: workers import this module
    # for single_run and need not load scipy.stats (a third of a second per worker process)

    out = {}
    for col in [c for c in runs.columns if c != "replication"]:
        mean, lo, hi, n = confidence_interval(runs[col].to_numpy())
        out[col] = {"mean": mean, "ci_low": lo, "ci_high": hi, "n": n}
    if yearly is not None and len(yearly):
        for col in [c for c in yearly.columns if c in out]:
            out[col]["by_year"] = {}
            for year, g in yearly.groupby("year"):
                mean, lo, hi, n = confidence_interval(g[col].to_numpy())
                out[col]["by_year"][int(year)] = {"mean": mean, "ci_low": lo, "ci_high": hi, "n": n}
    for kpi, row in (targets or {}).items():
        out.setdefault(kpi, {})["targets"] = {int(y): target_status(yearly, kpi, y, v) for y, v in sorted(row.items())}
    return out


def target_status(yearly: pd.DataFrame | None, kpi: str, year: int, value: float) -> dict:
    """A target "at least ``value`` in ``year``": the share of replications meeting it that year,
    and the first year whose mean over replications meets it (None: not met in the run)."""
    status = {"value": value, "probability": float("nan"), "first_met": None}
    if yearly is None or kpi not in yearly.columns:
        return status
    in_year = yearly.loc[yearly["year"] == year, kpi].dropna()
    if len(in_year):
        status["probability"] = float((in_year >= value).mean())
    means = yearly.groupby("year")[kpi].mean()
    met = [int(y) for y, m in means.items() if m >= value]
    status["first_met"] = met[0] if met else None
    return status


def format_table(summary: dict[str, dict[str, float]], wide: bool = False) -> str:
    """KPI, mean, 95 % CI and unit in 80 columns (``wide``: also the Chinese name and the full unit).
    KPIs without a value (their lever is off) are named on one line instead of rows of ``nan``."""
    shown = {k: s for k, s in summary.items() if np.isfinite(s["mean"])}
    head = ["KPI", "mean", "95 % CI", "unit"] + (["指标", "unit (full)"] if wide else [])
    rows = [head]
    for key, s in shown.items():
        scale, prefix = (kpi_text.MILLION, "M ") if kpi_text.in_millions(key, s["mean"]) else (1.0, "")
        mean, lo, hi = (s[c] / scale for c in ("mean", "ci_low", "ci_high"))
        places = kpi_text.decimals(key, mean)
        row = [key, kpi_text.number(key, mean, places), kpi_text.interval(key, lo, hi, places),
               prefix + kpi_text.short_unit(key)]
        if wide:
            zh, unit = ALL_KPI_INFO.get(key, ("", ""))
            row += [zh, unit]
        rows.append(row)
    lines = kpi_text.columns(rows, "<>><" + ("<<" if wide else ""))
    lines.insert(1, "-" * min(kpi_text.WIDTH, max(map(len, lines))))
    n = sorted({int(s["n"]) for s in shown.values()})
    lines.append(f"mean of {'/'.join(map(str, n))} replication(s) with its 95 % t confidence interval; shares in %")
    missing = kpi_text.all_missing_line([k for k in summary if k not in shown])
    return "\n".join(lines + ([missing] if missing else []))


def format_trajectory(summary: dict[str, dict], kpis: list[str] | None = None, last_year: int | None = None) -> str:
    """KPIs by calendar year (mean ± 95 % half-width), then each target: the year first met and
    the probability of meeting it in its year across replications."""
    rows = [k for k in (kpis or summary) if "by_year" in summary.get(k, {})]
    if not rows:
        return ""
    years = sorted({y for k in rows for y in summary[k]["by_year"]})
    last_year = last_year or years[-1]
    lines = ["KPI by calendar year (mean ± 95 % CI half-width)",
             f"{'KPI':32s}" + "".join(f"{y:>17d}" for y in years), "-" * (32 + 17 * len(years))]
    for k in rows:
        cells = []
        for y in years:
            c = summary[k]["by_year"].get(y)
            half = (c["ci_high"] - c["mean"]) if c and np.isfinite(c["ci_high"]) else float("nan")
            cells.append(f"{c['mean']:9.4g} ±{half:<7.2g}" if c else "")
        lines.append(f"{k:32s}" + "".join(f"{cell:>17s}" for cell in cells))
    targets = [(k, y, t) for k, s in summary.items() for y, t in s.get("targets", {}).items()]
    if targets:
        lines += ["", "Targets (met when the KPI is at least the value)"]
        for k, y, t in targets:
            first = f"first met {t['first_met']}" if t["first_met"] is not None else f"not met by {last_year}"
            lines.append(f"  {k} ≥ {t['value']:g} by {y}: {first}; met in {y} in {100 * t['probability']:.0f} % "
                         "of replications")
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


def yearly_frame(results: list[RunResult]) -> pd.DataFrame:
    """Every replication's KPIs by calendar year, one row per (replication, year)."""
    return _tagged(results, "yearly")


def write_outputs(out: str | Path, scenario: Scenario, results: list[RunResult], wall_seconds: float,
                  source: str | None = None) -> dict:
    """Write summary.csv and summary.json (the format of an experiment's), the runs/monthly/yearly/
    facilities/facility_monthly/villages/flows tables (Parquet) and manifest.json atomically."""
    from sim.studies.summaries import run_summary, write_summaries  # not for workers: see summarise

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs = runs_frame(results)
    monthly = _tagged(results, "monthly").rename_axis("month").reset_index()
    monthly["month"] = monthly.groupby("replication").cumcount()
    yearly = yearly_frame(results)
    summary = summarise(runs, yearly, scenario.targets)
    files = {
        "runs.parquet": runs,
        "monthly.parquet": monthly,
        "yearly.parquet": yearly,
        "facilities.parquet": _tagged(results, "facilities"),
        "facility_monthly.parquet": _tagged(results, "facility_monthly"),
        "villages.parquet": _tagged(results, "villages"),
        "flows.parquet": _tagged(results, "flows"),
        "waits_by_hour.parquet": _tagged(results, "waits_by_hour"),
        "communities.parquet": _tagged(results, "communities"),
        "community_budget.parquet": _tagged(results, "community_budget"),
    }
    plan = plan_of(scenario)
    if not plan.empty:
        files["plan.parquet"] = plan.months()
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
    write_summaries(out, run_summary(runs, scenario.name), scenario.name, summary)
    write_json(out / "manifest.json", manifest)
    return summary
