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
from sim.studies import kpi_text


def summarise(runs: pd.DataFrame, order: list[str], reference: str, kpis: list[str] | None = None,
              targets: dict[str, float] | None = None) -> pd.DataFrame:
    """One row per scenario × KPI: mean and CI, paired difference against ``reference`` and advice.
    Replications where a KPI is missing (NaN) are left out of that KPI's figures."""
    kpis = [k for k in (kpis or KPI_INFO) if k in runs.columns]
    targets = targets or {}
    rows = []
    by = {name: _columns(g, kpis) for name, g in runs.groupby("scenario", sort=False)}
    ref = [_kept(by[reference], j) for j in range(len(kpis))] if reference in by else None
    for name in [n for n in order if n in by]:
        for j, kpi in enumerate(kpis):
            x, xr = _kept(by[name], j)
            n, sd = len(x), float(x.std(ddof=1)) if len(x) > 1 else float("nan")
            h = t_halfwidth(sd, n)
            mean = float(x.mean()) if n else float("nan")
            row = {"scenario": name, "kpi": kpi, "n": n, "mean": mean, "sd": sd, "ci_low": mean - h,
                   "ci_high": mean + h, "halfwidth": h}
            row.update(_paired(x, xr, None if ref is None else ref[j], name == reference))
            target = targets.get(kpi)
            row["target_halfwidth"] = target if target is not None else float("nan")
            row["replications_needed"] = replications_needed(sd, n, target)
            row["replications_needed_diff"] = replications_needed(row["diff_sd"], row["n_pairs"], target)
            rows.append(row)
    return pd.DataFrame(rows)


def _columns(g: pd.DataFrame, kpis: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """A scenario's replication numbers and its KPIs as float rows (one per KPI), taken at once:
    pandas' cost per column and call would outweigh the arithmetic."""
    return g["replication"].to_numpy(), g[kpis].to_numpy(dtype=float).T.copy()


def _kept(columns: tuple[np.ndarray, np.ndarray], j: int) -> tuple[np.ndarray, np.ndarray]:
    """KPI ``j``'s values and their replications, where it has a value."""
    reps, values = columns
    keep = ~np.isnan(values[j])
    return values[j][keep], reps[keep]


def _paired(x: np.ndarray, reps: np.ndarray, ref: tuple[np.ndarray, np.ndarray] | None, is_reference: bool) -> dict:
    """Paired difference of ``x`` (replications ``reps``) against the reference's values, matched
    by replication number (in increasing order when the two do not list the same ones alike)."""
    nan = float("nan")
    out = {"diff_mean": nan, "diff_sd": nan, "diff_ci_low": nan, "diff_ci_high": nan, "diff_halfwidth": nan,
           "n_pairs": 0, "unpaired_halfwidth": nan}
    if ref is None or is_reference:
        return out
    r, ref_reps = ref
    if np.array_equal(reps, ref_reps) and len(np.unique(reps)) == len(reps):  # the usual case: the same replications
        d = x - r
    else:
        mine, theirs = dict(zip(reps.tolist(), x.tolist())), dict(zip(ref_reps.tolist(), r.tolist()))
        d = np.array([mine[k] - theirs[k] for k in sorted(mine.keys() & theirs.keys())], dtype=float)
    n = len(d)
    if n:
        sd = float(d.std(ddof=1)) if n > 1 else nan
        h = t_halfwidth(sd, n)
        m = float(d.mean())
        out.update(diff_mean=m, diff_sd=sd, diff_ci_low=m - h, diff_ci_high=m + h, diff_halfwidth=h, n_pairs=n)
    out["unpaired_halfwidth"] = welch_halfwidth(x, r)
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
    """Plain-text table in 80 columns: per KPI, each scenario's mean [CI] and paired difference [CI].
    KPIs with no value in any scenario (their lever is off) are named on one line."""
    if summary.empty:
        return "No run finished: nothing to summarise."
    lines, missing = [], []
    for kpi in kpis:
        part = summary[summary["kpi"] == kpi]
        if part.empty:
            continue
        if not np.isfinite(part["mean"].to_numpy(dtype=float)).any():
            missing.append(kpi)
            continue
        zh, _ = KPI_INFO.get(kpi, ("", ""))
        unit = kpi_text.short_unit(kpi)
        lines.append(f"\n{kpi}  {zh}  ({unit})" if unit else f"\n{kpi}  {zh}")
        rows = [["  scenario", "n", "mean", "95 % CI", f"Δ vs {reference}", "95 % CI (paired)"]]
        for r in part.itertuples():
            places = kpi_text.decimals(kpi, r.mean)
            diff = kpi_text.number(kpi, r.diff_mean, places, sign=True) if np.isfinite(r.diff_mean) else ""
            if diff and kpi_text.is_share(kpi):
                diff += " pp"
            rows.append([f"  {r.scenario}", str(r.n), kpi_text.number(kpi, r.mean, places),
                         kpi_text.interval(kpi, r.ci_low, r.ci_high, places), diff,
                         kpi_text.interval(kpi, r.diff_ci_low, r.diff_ci_high, places, sign=True)])
        lines.extend(kpi_text.columns(rows, "<>>>>>"))
    if missing:
        lines.append("\n" + kpi_text.all_missing_line(missing))
    return "\n".join(lines)


def format_advice(summary: pd.DataFrame, kpis: list[str]) -> str:
    """Per KPI: the widest current half-width and the replications needed for the target."""
    part = summary[summary["kpi"].isin(kpis)] if "kpi" in summary else summary
    if part.empty:
        return ""
    rows = [["  KPI", "n", "half-width", "Δ half-width", "target", "n for mean", "n for Δ"]]
    for kpi in kpis:
        g = part[part["kpi"] == kpi]
        if g.empty or not np.isfinite(g["halfwidth"].to_numpy(dtype=float)).any():
            continue
        h, dh, target = (float(g[c].max()) for c in ("halfwidth", "diff_halfwidth", "target_halfwidth"))
        rows.append([f"  {kpi}", str(int(g["n"].max())), kpi_text.number(kpi, h), kpi_text.number(kpi, dh),
                     kpi_text.number(kpi, target), _int(g["replications_needed"].max()),
                     _int(g["replications_needed_diff"].max())])
    if len(rows) == 1:  # no half-width yet (one replication a scenario)
        return ""
    return "\n".join(["\nreplication advice (95 % CI half-widths, the widest over scenarios; shares in pp)",
                      *kpi_text.columns(rows, "<>>>>>>")])


def _int(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{int(x)}"
