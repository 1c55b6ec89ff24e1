"""Comparing scenarios: means with 95 % CIs, paired differences, and replication advice.

Because replication r of every scenario uses the same random streams (common random numbers),
the difference scenario − reference is computed replication by replication (a paired t
interval).  Positive correlation between paired runs makes that interval much narrower than
the unpaired (Welch) one, which is also reported so the gain is visible.

Replication advice: the half-width of a t interval is t(n-1) · s / √n; for a target half-width
h the smallest n with t(n-1) · s / √n ≤ h is reported, for the mean and for the paired difference.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from models.kpis import KPI_INFO
from sim.core.config_files import ConfigError
from sim.core.stats import replications_needed, t_halfwidth, welch_halfwidth


def summarise(runs: pd.DataFrame, order: list[str], reference: str, kpis: list[str] | None = None,
              targets: dict[str, float] | None = None) -> pd.DataFrame:
    """One row per scenario × KPI: mean and CI, paired difference against ``reference`` and advice."""
    kpis = [k for k in (kpis or KPI_INFO) if k in runs.columns]
    targets = targets or {}
    rows = []
    by = {name: g.set_index("replication") for name, g in runs.groupby("scenario", sort=False)}
    ref = by.get(reference)
    for name in [n for n in order if n in by]:
        g = by[name]
        for kpi in kpis:
            x = g[kpi].astype(float).dropna()
            n, sd = len(x), float(x.std(ddof=1)) if len(x) > 1 else float("nan")
            h = t_halfwidth(sd, n)
            row = {"scenario": name, "kpi": kpi, "n": n, "mean": float(x.mean()) if n else float("nan"),
                   "sd": sd, "ci_low": float(x.mean()) - h, "ci_high": float(x.mean()) + h, "halfwidth": h}
            row.update(_paired(x, ref[kpi].astype(float).dropna() if ref is not None else None, name == reference))
            target = targets.get(kpi)
            row["target_halfwidth"] = target if target is not None else float("nan")
            row["replications_needed"] = replications_needed(sd, n, target)
            row["replications_needed_diff"] = replications_needed(row["diff_sd"], row["n_pairs"], target)
            rows.append(row)
    return pd.DataFrame(rows)


def _paired(x: pd.Series, ref: pd.Series | None, is_reference: bool) -> dict:
    nan = float("nan")
    out = {"diff_mean": nan, "diff_sd": nan, "diff_ci_low": nan, "diff_ci_high": nan, "diff_halfwidth": nan,
           "n_pairs": 0, "unpaired_halfwidth": nan}
    if ref is None or is_reference:
        return out
    common = x.index.intersection(ref.index)
    d = (x.loc[common] - ref.loc[common]).to_numpy()
    n = len(d)
    if n:
        sd = float(d.std(ddof=1)) if n > 1 else nan
        h = t_halfwidth(sd, n)
        m = float(d.mean())
        out.update(diff_mean=m, diff_sd=sd, diff_ci_low=m - h, diff_ci_high=m + h, diff_halfwidth=h, n_pairs=n)
    out["unpaired_halfwidth"] = welch_halfwidth(x.to_numpy(), ref.to_numpy())
    return out


def targets_for(kpis: list[str], spec_value: float | dict | None, cli: list[str] | None = None) -> dict[str, float]:
    """Target half-widths per KPI from the study file, then ``--target-halfwidth`` items.

    A bare number (``0.005``) applies to the shown KPIs measured as shares, where one absolute
    half-width makes sense; ``kpi=value`` sets one KPI in its own unit (``oop_per_episode=5``).
    """
    out: dict[str, float] = {}
    for item in ([spec_value] if not isinstance(spec_value, dict) else [f"{k}={v}" for k, v in spec_value.items()]) \
            + list(cli or []):
        if item is None:
            continue
        key, _, value = str(item).rpartition("=")
        try:
            h = float(value)
        except ValueError:
            raise ConfigError(f"--target-halfwidth {item!r}: expected H or kpi=H with a number H") from None
        if not h > 0:
            raise ConfigError(f"--target-halfwidth {item!r}: the half-width must be > 0")
        if key and key not in KPI_INFO:
            raise ConfigError(f"--target-halfwidth {item!r}: unknown KPI {key!r}; allowed: {list(KPI_INFO)}")
        out.update({key: h} if key else {k: h for k in kpis if KPI_INFO[k][1] == "share"})
    return out


def summarise_by_year(yearly: pd.DataFrame, order: list[str], reference: str,
                      kpis: list[str] | None = None) -> pd.DataFrame:
    """:func:`summarise` calendar year by calendar year: a plan's effect year by year, paired by
    replication (common random numbers hold within each year)."""
    frames = []
    for year, g in yearly.groupby("year", sort=True):
        df = summarise(g, order, reference, kpis)
        df.insert(0, "year", int(year))
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def format_by_year(by_year: pd.DataFrame, kpis: list[str], reference: str) -> str:
    """Plain-text table: per KPI and scenario, the paired difference against the reference in
    each calendar year (Δ ± 95 % half-width)."""
    years = sorted(by_year["year"].unique())
    lines = [f"\nPaired differences against {reference} by calendar year (Δ ± 95 % CI half-width)"]
    for kpi in kpis:
        part = by_year[(by_year["kpi"] == kpi) & (by_year["scenario"] != reference)]
        if part.empty:
            continue
        lines.append(f"{kpi:30s}" + "".join(f"{y:>20d}" for y in years))
        for scen, g in part.groupby("scenario", sort=False):
            cells = {int(r.year): f"{r.diff_mean:+.4g} ±{r.diff_halfwidth:.2g}" for r in g.itertuples()}
            lines.append(f"  {scen:28s}" + "".join(f"{cells.get(y, ''):>20s}" for y in years))
    return "\n".join(lines)


def format_summary(summary: pd.DataFrame, kpis: list[str], reference: str) -> str:
    """Plain-text table: per KPI, each scenario's mean [CI] and paired difference [CI]."""
    lines = []
    for kpi in kpis:
        part = summary[summary["kpi"] == kpi]
        if part.empty:
            continue
        zh, unit = KPI_INFO.get(kpi, ("", ""))
        lines.append(f"\n{kpi}  {zh} ({unit})")
        lines.append(f"  {'scenario':24s} {'n':>4s} {'mean':>11s} {'95% CI':>25s}   "
                     f"{'Δ vs ' + reference:>14s} {'95% CI (paired)':>25s}")
        for r in part.itertuples():
            diff = "" if np.isnan(r.diff_mean) else (f"{r.diff_mean:+14.4g} "
                                                      f"[{r.diff_ci_low:+11.4g}, {r.diff_ci_high:+11.4g}]")
            lines.append(f"  {r.scenario:24s} {r.n:4d} {r.mean:11.4g} [{r.ci_low:11.4g}, {r.ci_high:11.4g}]   {diff}")
    return "\n".join(lines)


def format_advice(summary: pd.DataFrame, kpis: list[str]) -> str:
    """Per KPI: the widest current half-width and the replications needed for the target."""
    part = summary[summary["kpi"].isin(kpis)]
    if part.empty:
        return ""
    lines = ["\nreplication advice (95 % CI half-widths; the widest over scenarios)",
             f"  {'kpi':30s} {'n':>5s} {'half-width':>11s} {'Δ half-width':>13s} {'target':>9s} "
             f"{'n for mean':>10s} {'n for Δ':>8s}"]
    for kpi in kpis:
        g = part[part["kpi"] == kpi]
        if g.empty:
            continue
        lines.append(f"  {kpi:30s} {int(g['n'].max()):5d} {g['halfwidth'].max():11.4g} "
                     f"{g['diff_halfwidth'].max():13.4g} {g['target_halfwidth'].max():9.4g} "
                     f"{_int(g['replications_needed'].max()):>10s} {_int(g['replications_needed_diff'].max()):>8s}")
    return "\n".join(lines)


def _int(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{int(x)}"
