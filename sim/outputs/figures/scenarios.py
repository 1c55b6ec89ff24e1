"""Figures 1 and 2: KPIs by scenario (point-range) and paired differences (forest plot)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.outputs.figures import style
from sim.outputs.figures.style import FigureResult


def grid(fig, n: int, ncols: int, sharey: bool = False):
    """``n`` panels in rows of ``ncols``; ``sharey``: panels with the same rows (scenarios) label them
    once, on the left, leaving the width to the data."""
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=sharey)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return flat[:n]


def _err(mean: pd.Series, lo: pd.Series, hi: pd.Series) -> np.ndarray:
    """Error-bar lengths; an undefined CI (one replication) draws no bar."""
    return np.nan_to_num(np.vstack([mean - lo, hi - mean]), nan=0.0)


MIN_SHARE_SPAN = 0.02  # a share axis spans at least 2 percentage points


def _extent(d: pd.DataFrame, lo: str, hi: str, mid: str, extra: tuple[float, ...] = ()) -> tuple[float, float]:
    values = pd.concat([d[lo], d[hi], d[mid]]).dropna().tolist() + [x for x in extra if np.isfinite(x)]
    return (min(values), max(values)) if values else (0.0, 1.0)


def shared_limits(data: pd.DataFrame, kpis: list[str], lo: str, hi: str, mid: str, zero: bool = False,
                  bounded: bool = True) -> dict[str, tuple[float, float]]:
    """Axis limits per KPI panel: every share panel spans the same number of percentage points (the
    widest needed), so equal distances mean equal differences and a tiny interval looks tiny; other
    panels start at zero when all their values are positive.  ``zero``: every panel includes 0
    (differences); ``bounded``: shares stay within 0–100 %."""
    ext = {}
    for kpi in kpis:
        extra = ((style.TARGETS[kpi][0],) if kpi in style.TARGETS and not zero else ()) + ((0.0,) if zero else ())
        ext[kpi] = _extent(data[data["kpi"] == kpi], lo, hi, mid, extra)
    shares = [k for k in kpis if style.is_share(k)]
    span = max([MIN_SHARE_SPAN] + [(ext[k][1] - ext[k][0]) * 1.15 for k in shares])
    out = {}
    for kpi, (a, b) in ext.items():
        if kpi in shares:
            c = (a + b) / 2
            left = c - span / 2
            if bounded:
                left = min(max(left, 0.0), 1.0 - span) if span <= 1 else 0.0
            out[kpi] = (left, left + span)
        else:
            pad = 0.06 * ((b - a) or abs(b) or 1.0)
            out[kpi] = (0.0 if a >= 0 and not zero else a - pad, b + pad)
    return out


def kpi_by_scenario(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    """One panel per KPI: each scenario's mean with its 95 % CI; policy targets as dashed lines."""
    kpis = list(dict.fromkeys(data["kpi"]))
    scenarios = list(dict.fromkeys(data["scenario"]))
    reference = data.attrs.get("reference")
    ncols = 2 if len(kpis) > 1 else 1
    nrows = math.ceil(len(kpis) / ncols)
    height = nrows * (0.25 * len(scenarios) + 1.2) + 0.8
    with style.theme():
        fig = style.new_figure(style.width(ncols), min(height, 24))
        # rows are labelled, so colour only marks the reference
        colour, ref_colour = style.palette(1)[0], "0.15"
        limits = shared_limits(data, kpis, "ci_low", "ci_high", "mean")
        labels = data.attrs.get("labels") or {}
        for ax, kpi in zip(grid(fig, len(kpis), ncols, sharey=True), kpis):
            d = data[data["kpi"] == kpi].set_index("scenario").reindex(scenarios)
            for i, (name, r) in enumerate(d.iterrows()):
                ax.errorbar(r["mean"], i, xerr=_err(pd.Series([r["mean"]]), pd.Series([r["ci_low"]]),
                                                    pd.Series([r["ci_high"]])),
                            fmt="D" if name == reference else "o", color=ref_colour if name == reference else colour,
                            capsize=3, ms=5, lw=1.5)
            ax.set_yticks(range(len(scenarios)),
                          [style.wrap(f"{labels.get(s, s)} (reference)" if s == reference and len(scenarios) > 1
                                      else labels.get(s, s)) for s in scenarios])
            ax.set_ylim(len(scenarios) - 0.5, -0.5)
            if kpi in style.TARGETS:
                value, label = style.TARGETS[kpi]
                ax.axvline(value, color="0.2", ls="--", lw=1.2, label="policy target")
                ax.annotate(label.removeprefix("target "), (value, 1.0), xycoords=("data", "axes fraction"),
                            xytext=(-3, -3), textcoords="offset points", ha="right", va="top", fontsize=7,
                            color="0.2")
            ax.set_xlim(*limits[kpi])
            ax.set_title(style.kpi_title(kpi))
            ax.set_xlabel(style.unit_label(kpi))
            style.format_axis(ax, kpi, "x")
        style.figure_legend(fig)
        n = int(data["n"].max()) if len(data) else 0
        title = "KPIs by scenario"
        style.title(fig, title, f"{study}: mean and 95 % CI over {n} replication(s) per scenario"
                    + (f"; {data.attrs['omitted']} more scenarios in the sweep figure" if data.attrs.get("omitted") else ""))
        caption = (f"Mean of each KPI over {n} replication(s) with its 95 % t confidence interval; dashed lines are "
                   "the policy targets (county visit rate ≥ 90 %, primary-care share 65 %). Every share panel spans "
                   "the same number of percentage points; other axes start at zero.")
        return style.save(fig, out_dir, "01_kpi_by_scenario", title, caption, data)


def paired_differences(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    """Forest plot: scenario − reference per KPI, paired by replication (common random numbers)."""
    kpis = list(dict.fromkeys(data["kpi"]))
    scenarios = list(dict.fromkeys(data["scenario"]))
    reference = data.attrs.get("reference", "reference")
    ncols = 2 if len(kpis) > 1 else 1
    nrows = math.ceil(len(kpis) / ncols)
    height = nrows * (0.25 * len(scenarios) + 1.2) + 1.0
    pal = style.palette(3)
    kinds = {"up": (pal[0], "increase (95 % CI excludes 0)"), "down": (pal[1], "decrease (95 % CI excludes 0)"),
             "ns": ("0.55", "95 % CI includes 0")}
    used = set()
    with style.theme():
        fig = style.new_figure(style.width(ncols), min(height, 24))
        limits = shared_limits(data, kpis, "diff_ci_low", "diff_ci_high", "diff_mean", zero=True, bounded=False)
        labels = data.attrs.get("labels") or {}
        for ax, kpi in zip(grid(fig, len(kpis), ncols, sharey=True), kpis):
            d = data[data["kpi"] == kpi].set_index("scenario").reindex(scenarios)
            for i, (_name, r) in enumerate(d.iterrows()):
                kind = "up" if r["diff_ci_low"] > 0 else "down" if r["diff_ci_high"] < 0 else "ns"
                used.add(kind)
                ax.errorbar(r["diff_mean"], i, xerr=_err(pd.Series([r["diff_mean"]]), pd.Series([r["diff_ci_low"]]),
                                                         pd.Series([r["diff_ci_high"]])),
                            fmt="s" if kind != "ns" else "o", color=kinds[kind][0], capsize=3, ms=5, lw=1.5)
            ax.axvline(0, color="0.2", lw=1)
            ax.set_yticks(range(len(scenarios)), [style.wrap(labels.get(s, s)) for s in scenarios])
            ax.set_xlim(*limits[kpi])
            ax.set_ylim(len(scenarios) - 0.5, -0.5)  # first scenario on top (the panels share this axis)
            ax.set_title(style.kpi_title(kpi))
            ax.set_xlabel(f"Δ ({style.unit_label(kpi).replace('%', 'percentage points')})"
                          if style.is_share(kpi) else f"Δ ({style.unit_label(kpi)})")  # the title names the reference
            style.format_axis(ax, kpi, "x")
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], color=kinds[k][0], marker="s" if k != "ns" else "o", ls="-", label=kinds[k][1])
                   for k in ("up", "down", "ns") if k in used]
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
        n = int(data["n_pairs"].max()) if len(data) else 0
        title = f"Difference from {reference}"
        style.title(fig, title, f"{study}: paired by replication (common random numbers), mean and 95 % CI, "
                                f"{n} pair(s)")
        caption = (f"Scenario minus {reference}, computed replication by replication (same random numbers), "
                   f"with paired 95 % t confidence intervals; intervals clear of zero are coloured.")
        return style.save(fig, out_dir, "02_paired_differences", title, caption, data)
