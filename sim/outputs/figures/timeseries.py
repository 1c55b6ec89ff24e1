"""Figure 3: monthly KPI time series per scenario with 95 % CI bands; the warm-up is shaded."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.outputs.figures import style
from sim.outputs.figures.scenarios import grid
from sim.outputs.figures.style import FigureResult


def monthly_kpis(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    kpis = list(dict.fromkeys(data["kpi"]))
    scenarios = list(dict.fromkeys(data["scenario"]))
    warmup = float(data.attrs.get("warmup_months", 0.0))
    ncols = 2 if len(kpis) > 1 else 1
    nrows = -(-len(kpis) // ncols)
    with style.theme():
        fig = style.new_figure(style.width(ncols), 2.3 * nrows + 1.2)
        colours = dict(zip(scenarios, style.palette(len(scenarios))))
        for ax, kpi in zip(grid(fig, len(kpis), ncols), kpis):
            if warmup > 0:
                ax.axvspan(0, warmup, color="0.88", lw=0, label="warm-up (excluded)")
            for scen in scenarios:
                d = data[(data["kpi"] == kpi) & (data["scenario"] == scen)].sort_values("t_month")
                style.line_with_band(ax, d, "t_month", colours[scen], scen, ms=3.5)
            if kpi in style.TARGETS:
                ax.axhline(style.TARGETS[kpi][0], color="0.2", ls="--", lw=1.1, label="target")
            ax.set_xlim(left=0)
            ax.set_title(style.kpi_title(kpi))
            ax.set_xlabel("simulated time (months since start)")
            ax.set_ylabel(style.unit_label(kpi))
            style.format_axis(ax, kpi, "y")
        style.figure_legend(fig, max_cols=4)
        n = int(data["n"].max()) if len(data) else 0
        title = "Monthly KPIs"
        style.title(fig, title, f"{study}: monthly mean and 95 % CI band over {n} replication(s)"
                    + (f" ({data.attrs['omitted']} scenarios not shown)" if data.attrs.get("omitted") else ""))
        caption = ("Each KPI month by month (points at mid-month; the last month may be partial), mean over "
                   "replications with a 95 % CI band; the grey band is the warm-up, excluded from every KPI.")
        return style.save(fig, out_dir, "03_monthly_kpis", title, caption, data)
