"""Figure 3b: headline KPIs by calendar year — plan variants overlaid with 95 % CI bands, the
plans' targets marked in their target years, and scheduled lever changes on the time axis."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.outputs.figures import style
from sim.outputs.figures.scenarios import grid
from sim.outputs.figures.style import FigureResult


def trajectory(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    kpis, scenarios = data.attrs["kpis"], data.attrs["scenarios"]
    targets, changes = data.attrs["targets"], data.attrs["changes"]
    ncols = 2 if len(kpis) > 1 else 1
    nrows = -(-len(kpis) // ncols)
    years = sorted(data["year"].unique())
    with style.theme():
        fig = style.new_figure(style.width(ncols), 2.5 * nrows + 1.4)
        colours = dict(zip(scenarios, style.palette(len(scenarios))))
        change_years = sorted({y for _, y, _, _ in changes})
        for i, (ax, kpi) in enumerate(zip(grid(fig, len(kpis), ncols), kpis)):
            for y in change_years:
                ax.axvline(y - 0.5, color="0.55", ls=":", lw=1.0)
                if i == 0:  # the first panel names what changes on the time axis
                    keys = sorted({".".join(key.split(".")[-2:]) for _, yy, key, _ in changes if yy == y})
                    ax.annotate(", ".join(keys[:2]) + (" …" if len(keys) > 2 else ""), (y - 0.5, 1.0),
                                xycoords=("data", "axes fraction"), xytext=(3, -3), textcoords="offset points",
                                ha="left", va="top", fontsize=7.5, color="0.35", rotation=90)
            for scen in scenarios:
                d = data[(data["kpi"] == kpi) & (data["scenario"] == scen)].sort_values("year")
                style.line_with_band(ax, d, "year", colours[scen], scen)
            if kpi in style.TARGETS:
                ax.axhline(style.TARGETS[kpi][0], color="0.2", ls="--", lw=1.0, label="national target")
            for scen, k, y, v in targets:
                if k == kpi:
                    ax.plot([y], [v], marker="*", ms=13, color=colours.get(scen, "0.2"), mec="0.1", mew=0.6,
                            ls="none", label="plan target (year, value)")
            ax.set_xticks(years)
            ax.set_xticklabels([str(y) for y in years])
            ax.set_title(style.kpi_title(kpi))
            ax.set_xlabel("calendar year")
            ax.set_ylabel(style.unit_label(kpi))
            style.format_axis(ax, kpi, "y")
        style.figure_legend(fig, max_cols=4)
        n = int(data["n"].max()) if len(data) else 0
        title = "KPI trajectories by calendar year"
        style.title(fig, title, f"{study}: yearly mean and 95 % CI band over {n} replication(s)")
        caption = ("Each headline KPI year by year, mean over replications with a 95 % CI band; stars mark each "
                   "plan's targets in their target years, the dashed line the national target; dotted lines "
                   "mark 1 January of years in which the plan changes a lever. " + _change_text(changes))
        return style.save(fig, out_dir, "03b_trajectory", title, caption, data)


def _change_text(changes: list[tuple[str, int, str, object]]) -> str:
    if not changes:
        return "No lever is scheduled."
    by_year: dict[int, list[str]] = {}
    for scen, year, key, value in changes:
        by_year.setdefault(year, []).append(f"{key} = {value} ({scen})")
    return "Scheduled changes: " + "; ".join(f"{y}: " + ", ".join(v) for y, v in sorted(by_year.items())) + "."
