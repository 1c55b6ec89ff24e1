"""Figures 1 and 2: KPIs by scenario (point-range) and paired differences (forest plot)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.outputs.figures import style
from sim.outputs.figures.style import FigureResult


def grid(fig, n: int, ncols: int):
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return flat[:n]


def _err(mean: pd.Series, lo: pd.Series, hi: pd.Series) -> np.ndarray:
    """Error-bar lengths; an undefined CI (one replication) draws no bar."""
    return np.nan_to_num(np.vstack([mean - lo, hi - mean]), nan=0.0)


def kpi_by_scenario(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    """One panel per KPI: each scenario's mean with its 95 % CI; policy targets as dashed lines."""
    kpis = list(dict.fromkeys(data["kpi"]))
    scenarios = list(dict.fromkeys(data["scenario"]))
    reference = data.attrs.get("reference")
    ncols = 2 if len(kpis) > 1 else 1
    nrows = math.ceil(len(kpis) / ncols)
    height = nrows * (0.32 * len(scenarios) + 1.5) + 1.0
    with style.theme():
        fig = style.new_figure(5.2 * ncols, min(height, 24))
        # rows are labelled, so colour only marks the reference
        colour, ref_colour = style.palette(1)[0], "0.15"
        for ax, kpi in zip(grid(fig, len(kpis), ncols), kpis):
            d = data[data["kpi"] == kpi].set_index("scenario").reindex(scenarios)
            for i, (name, r) in enumerate(d.iterrows()):
                ax.errorbar(r["mean"], i, xerr=_err(pd.Series([r["mean"]]), pd.Series([r["ci_low"]]),
                                                    pd.Series([r["ci_high"]])),
                            fmt="D" if name == reference else "o", color=ref_colour if name == reference else colour,
                            capsize=3, ms=5, lw=1.5)
            ax.set_yticks(range(len(scenarios)),
                          [f"{s} (reference)" if s == reference and len(scenarios) > 1 else s for s in scenarios])
            ax.set_ylim(len(scenarios) - 0.5, -0.5)
            if kpi in style.TARGETS:
                value, label = style.TARGETS[kpi]
                ax.axvline(value, color="0.2", ls="--", lw=1.2, label=label)
            ax.set_title(style.kpi_title(kpi))
            ax.set_xlabel(style.unit_label(kpi))
            style.format_axis(ax, kpi, "x")
        style.figure_legend(fig)
        n = int(data["n"].max()) if len(data) else 0
        title = "KPIs by scenario"
        style.title(fig, title, f"{study}: mean and 95 % CI over {n} replication(s) per scenario"
                    + (f"; {data.attrs['omitted']} more scenarios in the sweep figure" if data.attrs.get("omitted") else ""))
        caption = (f"Mean of each KPI over {n} replication(s) with its 95 % t confidence interval; dashed lines are "
                   "the policy targets (county visit rate ≥ 90 %, primary-care share 65 %).")
        return style.save(fig, out_dir, "01_kpi_by_scenario", title, caption, data)


def paired_differences(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    """Forest plot: scenario − reference per KPI, paired by replication (common random numbers)."""
    kpis = list(dict.fromkeys(data["kpi"]))
    scenarios = list(dict.fromkeys(data["scenario"]))
    reference = data.attrs.get("reference", "reference")
    ncols = 2 if len(kpis) > 1 else 1
    nrows = math.ceil(len(kpis) / ncols)
    height = nrows * (0.32 * len(scenarios) + 1.5) + 1.2
    pal = style.palette(3)
    kinds = {"up": (pal[0], "increase (95 % CI excludes 0)"), "down": (pal[1], "decrease (95 % CI excludes 0)"),
             "ns": ("0.55", "95 % CI includes 0")}
    used = set()
    with style.theme():
        fig = style.new_figure(5.2 * ncols, min(height, 24))
        for ax, kpi in zip(grid(fig, len(kpis), ncols), kpis):
            d = data[data["kpi"] == kpi].set_index("scenario").reindex(scenarios)
            for i, (_name, r) in enumerate(d.iterrows()):
                kind = "up" if r["diff_ci_low"] > 0 else "down" if r["diff_ci_high"] < 0 else "ns"
                used.add(kind)
                ax.errorbar(r["diff_mean"], i, xerr=_err(pd.Series([r["diff_mean"]]), pd.Series([r["diff_ci_low"]]),
                                                         pd.Series([r["diff_ci_high"]])),
                            fmt="s" if kind != "ns" else "o", color=kinds[kind][0], capsize=3, ms=5, lw=1.5)
            ax.axvline(0, color="0.2", lw=1)
            ax.set_yticks(range(len(scenarios)), scenarios)
            ax.invert_yaxis()
            ax.set_title(style.kpi_title(kpi))
            ax.set_xlabel(f"Δ vs {reference} ({style.unit_label(kpi).replace('%', 'percentage points')})"
                          if style.is_share(kpi) else f"Δ vs {reference} ({style.unit_label(kpi)})")
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
