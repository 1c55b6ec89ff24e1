"""Figure 11: a province's counties against the two national targets, one panel per year.

Each county is a point at (county visit rate, primary-care share), its area proportional to
its population; dashed lines are the 90 % and 65 % targets, so the upper-right quadrant holds
the counties meeting both; the star is the province total (from summed visits).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.outputs.figures import style
from sim.outputs.figures.style import FigureResult

MAX_PANELS = 4  # the last four years of a longer plan
MAX_LABELS = 25  # names on the points up to this many counties


def province_targets(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    x, y = "county_visit_rate", "primary_care_share"
    years = sorted(data["year"].unique())[-MAX_PANELS:]
    counties = data[data["county"] != "province"]
    lo_x = min(float(np.nanmin(data[x])), style.TARGETS[x][0]) - 0.03
    lo_y = min(float(np.nanmin(data[y])), style.TARGETS[y][0]) - 0.03
    hi_x = max(float(np.nanmax(data[x])), style.TARGETS[x][0]) + 0.02
    hi_y = max(float(np.nanmax(data[y])), style.TARGETS[y][0]) + 0.03
    size = 600.0 / max(float(counties["population"].max()), 1.0)
    with style.theme():
        fig = style.new_figure(style.width(len(years)), 3.6 if len(years) > 1 else 3.4)
        axes = fig.subplots(1, len(years), squeeze=False)[0]
        colours = dict(zip((0, 1, 2), style.palette(3)))
        for ax, year in zip(axes, years):
            d = counties[counties["year"] == year]
            for met, g in d.groupby("targets_met"):
                ax.scatter(g[x], g[y], s=20 + g["population"] * size, color=colours[int(met)], alpha=0.75,
                           edgecolor="white", lw=0.6, label=f"{int(met)} of 2 targets met")
            if len(d) <= MAX_LABELS:
                for r in d.itertuples():
                    ax.annotate(r.county, (getattr(r, x), getattr(r, y)), fontsize=6.5, xytext=(3, 3),
                                textcoords="offset points")
            p = data[(data["county"] == "province") & (data["year"] == year)]
            ax.scatter(p[x], p[y], marker="*", s=220, color="0.1", label="province total",
                       zorder=3)
            ax.axvline(style.TARGETS[x][0], color="0.3", ls="--", lw=1.0)
            ax.axhline(style.TARGETS[y][0], color="0.3", ls="--", lw=1.0)
            ax.set_xlim(lo_x, hi_x)
            ax.set_ylim(lo_y, hi_y)
            ax.set_title(str(year))
            ax.set_xlabel(style.kpi_title(x))
            ax.set_ylabel(style.kpi_title(y))
            style.format_axis(ax, x, "x")
            style.format_axis(ax, y, "y")
        style.figure_legend(fig, max_cols=4)
        for legend in fig.legends:  # one marker size in the legend, whatever the first county's size
            for handle in legend.legend_handles:
                handle.set_sizes([60])
        title = "Counties against the two national targets"
        style.title(fig, title, f"{study}: {len(counties['county'].unique())} counties, mean over replications")
        caption = ("Each county at its county visit rate and primary-care share (area ∝ population), by year; "
                   "dashed lines: targets 90 % and 65 %; star: the province total from summed visits.")
        return style.save(fig, out_dir, "11_province_targets", title, caption, data)
