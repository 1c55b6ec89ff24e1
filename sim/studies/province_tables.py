"""Province tables from county runs: pooled totals, outside demand, and the ranking against targets.

Every province figure is a ratio of sums added up over counties (visits, admissions, fund,
resident-years, ...), read from the runs' ``year_sums`` table: a province's county visit rate
is its counties' in-county visits over all their visits, never a mean of county shares.
"""
from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd

from models.kpi_registry import MINUTES_PER_DAY, REGISTRY
from models.kpis import kpi_table

PROVINCE = "province"  # the name of the pooled rows (a county may not take it)
TARGET_KPIS = ("county_visit_rate", "primary_care_share")  # 县域就诊率 ≥ 90 %, 基层诊疗占比 ≥ 65 %
ID = ("scenario", "replication", "year")
UTILISED = ("township", "county")  # tiers whose doctor utilisation divides by open hours
BED_OCCUPANCY = 0.85  # beds a warning suggests: this mean occupancy (Bagust, Place and Posnett, BMJ 1999;319:155:
# above ~85 % periodic bed shortages set in)


def pooled_sums(year_sums: pd.DataFrame, by: tuple[str, ...] = ("replication", "year")) -> pd.DataFrame:
    """County sums added up per ``by`` group.  Doctor-days are weighted by each county's open
    hours first, so doctor utilisation stays exact when counties open for different hours."""
    s = year_sums.copy()
    for tier in UTILISED:
        s[f"doctor_days_{tier}"] = s[f"doctor_days_{tier}"] * s["open_share"]
    cols = [c for c in s.columns if c not in ID + ("open_share",)]
    out = s.groupby(list(by), sort=True)[cols].sum().reset_index()
    out["open_share"] = 1.0
    return out


def kpis_of_sums(sums: pd.DataFrame, keep: tuple[str, ...]) -> pd.DataFrame:
    """The core KPIs of rows of sums, with the ``keep`` columns in front."""
    kpis = kpi_table(sums, sums["resident_years"].to_numpy(), sums["open_share"].to_numpy())
    return pd.concat([sums[list(keep)].reset_index(drop=True), kpis], axis=1)


def province_yearly(year_sums: pd.DataFrame) -> pd.DataFrame:
    """Province KPIs per (replication, year), from the counties' summed sums; ``scenario`` = province."""
    out = kpis_of_sums(pooled_sums(year_sums), ("replication", "year"))
    out.insert(0, "scenario", PROVINCE)
    return out


def province_runs(year_sums: pd.DataFrame) -> pd.DataFrame:
    """Province KPIs per replication over the whole run (every county and year summed)."""
    out = kpis_of_sums(pooled_sums(year_sums, ("replication",)), ("replication",))
    out.insert(0, "scenario", PROVINCE)
    return out


def outside_demand(year_sums: pd.DataFrame, days_per_year: float) -> pd.DataFrame:
    """Per county and calendar year (mean over replications, per year): what it asks of the outside
    hospitals — consultation hours and bed-days asked for (queue or not) — and the waits there."""
    mean = year_sums.groupby(["scenario", "year"], sort=False)[
        ["days", "service_outside", "los_outside", "wait_outside", "visits_outside", "bed_wait_outside",
         "admissions_outside"]].mean()
    years = mean["days"] / days_per_year
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame({
            "county": mean.index.get_level_values("scenario"),
            "year": mean.index.get_level_values("year").astype(int),
            "consult_hours_per_year": (mean["service_outside"] * 24.0 / years).to_numpy(),
            "bed_days_per_year": (mean["los_outside"] / years).to_numpy(),
            "wait_outside_min": (mean["wait_outside"] / mean["visits_outside"] * MINUTES_PER_DAY).to_numpy(),
            "bed_wait_outside_days": (mean["bed_wait_outside"] / mean["admissions_outside"]).to_numpy(),
            "visits_outside": mean["visits_outside"].to_numpy(),
            "admissions_outside": mean["admissions_outside"].to_numpy(),
        })


def pooled_waits(demand: pd.DataFrame) -> tuple[float, float]:
    """The province's mean outside waits: minutes for a doctor, days for a bed (visit- and
    admission-weighted over counties)."""
    v, a = demand["visits_outside"].sum(), demand["admissions_outside"].sum()
    wait = float((demand["wait_outside_min"] * demand["visits_outside"]).sum() / v) if v else float("nan")
    bed = float((demand["bed_wait_outside_days"] * demand["admissions_outside"]).sum() / a) if a else float("nan")
    return wait, bed


def ranking(yearly: pd.DataFrame, population: dict[str, int]) -> pd.DataFrame:
    """Counties by year against the 90 % county-visit-rate and 65 % primary-share targets.

    Per county and year: the two KPIs (mean over replications), whether each mean meets its
    target, the share of replications meeting it, and the shortfall (target − value, 0 when met).
    Rank 1: most targets met, then the smallest total shortfall, then the higher county visit rate.
    """
    if yearly.empty:  # no run finished: nothing to rank (the failures are reported)
        return pd.DataFrame()
    targets = {k: REGISTRY[k].target.value for k in TARGET_KPIS}
    rows = []
    for (county, year), g in yearly[yearly["scenario"] != PROVINCE].groupby(["scenario", "year"], sort=False):
        row = {"year": int(year), "county": county, "population": population.get(county, 0)}
        for kpi, target in targets.items():
            x = g[kpi].astype(float).dropna()
            mean = float(x.mean()) if len(x) else float("nan")
            row[kpi] = mean
            row[f"{kpi}_met"] = bool(mean >= target)
            row[f"{kpi}_probability"] = float((x >= target).mean()) if len(x) else float("nan")
            row[f"{kpi}_shortfall"] = max(0.0, target - mean) if np.isfinite(mean) else float("nan")
        rows.append(row)
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df["targets_met"] = sum(df[f"{k}_met"].astype(int) for k in TARGET_KPIS)
    df["shortfall"] = sum(df[f"{k}_shortfall"] for k in TARGET_KPIS)
    df = df.sort_values(["year", "targets_met", "shortfall", TARGET_KPIS[0]], ascending=[True, False, True, False],
                        kind="stable")
    df.insert(1, "rank", df.groupby("year").cumcount() + 1)
    return df.reset_index(drop=True)


def overloaded_beds(coupling: pd.DataFrame, occupancy: float = BED_OCCUPANCY) -> list[str]:
    """A warning when the last round's counties asked the outside hospitals for at least as many
    bed-days as their beds have in a year: the bed queue then grows all run (offered load ρ ≥ 1),
    and outside bed waits, and what patients do about them, depend on how long the run is."""
    rows = coupling[(coupling["county"] == PROVINCE) & (coupling["iteration"] == coupling["iteration"].max())]
    worst = rows.loc[rows["bed_load"].idxmax()] if rows["bed_load"].notna().any() else None
    if worst is None or worst["bed_load"] < 1:
        return []
    occupied = worst["bed_load"] * worst["beds"]  # beds the bed-days asked for would keep full
    return textwrap.wrap(
        f"WARNING: the outside beds are overloaded: in {int(worst['year'])} the counties asked for "
        f"{100 * worst['bed_load']:.0f} % of the bed-days their {int(worst['beds']):,} beds have, so the queue "
        f"for them grows all run (mean bed wait {worst['bed_wait_outside_days']:.0f} days) and results depend "
        f"on the run's length; give outside.beds about {math.ceil(occupied / occupancy):,} "
        f"({100 * occupancy:.0f} % occupied)", width=80, subsequent_indent="  ", break_on_hyphens=False)


def format_province(summary: pd.DataFrame, rank: pd.DataFrame, coupling: pd.DataFrame,
                    converged: str | None) -> str:
    """Plain text in 80 columns: the coupling, province totals of the two targets, and each year's ranking."""
    lines = []
    if len(coupling):
        counties = coupling[coupling["county"] != PROVINCE]
        gaps = coupling[coupling["county"] == PROVINCE].groupby("iteration")["largest_share_gap"].first()
        lines.append(f"Outside hospitals shared: {len(gaps)} coupling round(s), "
                     + (f"settled ({'shares match demand' if converged == 'shares' else 'outside waits steady'})"
                        if converged else "NOT settled (raise outside.max_iterations)")
                     + f"; largest share gap {gaps.iloc[-1]:.3f}")
        loads = coupling[coupling["county"] == PROVINCE].groupby("iteration")["bed_load"].max()
        for k, g in counties.groupby("iteration", sort=True):
            wait, bed_wait = pooled_waits(g)
            lines.append(f"  round {k}: outside wait {wait:6.1f} min, bed wait {bed_wait:6.2f} d "
                         f"(beds {100 * loads[k]:3.0f} % asked), gap {gaps[k]:.3f}")
        lines += overloaded_beds(coupling)
    prov = summary[summary["scenario"] == PROVINCE].set_index("kpi") if "scenario" in summary else summary
    if prov.empty:
        lines.append("\nProvince totals: none (they need every run of every county, and some failed)")
    else:
        lines.append("\nProvince totals (from summed county visits; mean [95 % CI] over replications)")
    for kpi in TARGET_KPIS:
        if kpi in prov.index:
            r = prov.loc[kpi]
            ci = f"[{100 * r['ci_low']:5.1f}, {100 * r['ci_high']:5.1f}]" if np.isfinite(r["ci_low"]) \
                else "(no CI from one replication)"
            lines.append(f"  {kpi:24s} {100 * r['mean']:5.1f} % {ci}   target {100 * REGISTRY[kpi].target.value:.0f} %")
    if rank.empty:
        lines.append("\nCounty ranking: none (no county run finished)")
        return "\n".join(lines)
    for year, g in rank.groupby("year", sort=True):
        lines.append(f"\nCounty ranking {year} (visit rate ≥ 90 %, primary share ≥ 65 %)")
        lines.append(f"  {'rank':>4s}  {'county':20s} {'population':>10s} {'visit rate':>11s} {'primary':>8s} "
                     f"{'met':>4s}")
        for r in g.itertuples():
            lines.append(f"  {r.rank:4d}  {r.county[:20]:20s} {r.population:10,d} {100 * r.county_visit_rate:10.1f}% "
                         f"{100 * r.primary_care_share:7.1f}% {r.targets_met:3d}/2")
    return "\n".join(lines)
