"""Figure 6: KPI response curves over the swept parameter(s), with 95 % CI bands."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.outputs.figures import style
from sim.outputs.figures.scenarios import grid
from sim.outputs.figures.style import FigureResult


def sweep_response(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    params = list(data.attrs.get("params") or [])
    kpis = list(dict.fromkeys(data["kpi"]))
    method = data.attrs.get("method") or "grid"
    ref_means = data.attrs.get("reference_means") or {}
    reference = data.attrs.get("reference", "reference")
    x = params[0]
    others = params[1:]
    with style.theme():
        if method == "grid":
            ncols = 2 if len(kpis) > 1 else 1
            nrows = -(-len(kpis) // ncols)
            fig = style.new_figure(style.width(ncols), 2.4 * nrows + 1.3)
            axes = grid(fig, len(kpis), ncols)
            groups = [()] if not others else list(dict.fromkeys(
                tuple(r) for r in data[others].itertuples(index=False, name=None)))
            colours = style.palette(len(groups))
            for ax, kpi in zip(axes, kpis):
                for colour, key in zip(colours, groups):
                    d = data[data["kpi"] == kpi]
                    for p, v in zip(others, key):
                        d = d[np.isclose(d[p], v)]
                    d = d.sort_values(x)
                    label = ", ".join(f"{style.short_param(p)} = {v:g}" for p, v in zip(others, key)) or "sweep"
                    ax.plot(d[x], d["mean"], marker="o", ms=4, color=colour, label=label)
                    ok = np.isfinite(d["ci_low"]) & np.isfinite(d["ci_high"])
                    ax.fill_between(d[x][ok], d["ci_low"][ok], d["ci_high"][ok], color=colour, alpha=0.2, lw=0)
                _decorate(ax, kpi, x, ref_means, reference)
        else:  # Latin hypercube: one panel per KPI and parameter, each point with its CI
            fig = style.new_figure(style.width(len(params)), 2.2 * len(kpis) + 1.3)
            axes = fig.subplots(len(kpis), len(params), squeeze=False)
            for i, kpi in enumerate(kpis):
                d = data[data["kpi"] == kpi]
                for j, p in enumerate(params):
                    ax = axes[i][j]
                    err = np.nan_to_num(np.vstack([d["mean"] - d["ci_low"], d["ci_high"] - d["mean"]]), nan=0.0)
                    ax.errorbar(d[p], d["mean"], yerr=err, fmt="o", ms=4, capsize=2, color=style.palette(1)[0],
                                label="sweep point (95 % CI)")
                    _decorate(ax, kpi, p, ref_means, reference)
        style.figure_legend(fig)
        n = int(data["n"].max()) if len(data) else 0
        title = "KPI response to the swept parameter" + ("s" if len(params) > 1 else "")
        style.title(fig, title, f"{study}: {method} sweep, mean and 95 % CI over {n} replication(s) per point")
        caption = (f"Each KPI against {', '.join(params)} ({method} sweep), mean with a 95 % CI band; the dotted "
                   f"line is the reference scenario {reference} and dashed lines are policy targets.")
        return style.save(fig, out_dir, "06_sweep_response", title, caption, data)


def _decorate(ax, kpi: str, param: str, ref_means: dict, reference: str) -> None:
    if kpi in ref_means and np.isfinite(ref_means[kpi]):
        ax.axhline(ref_means[kpi], color="0.35", ls=":", lw=1.3, label=f"reference: {reference}")
    if kpi in style.TARGETS:
        ax.axhline(style.TARGETS[kpi][0], color="0.2", ls="--", lw=1.1, label="policy target")
    ax.set_title(style.kpi_title(kpi))
    ax.set_xlabel(style.short_param(param))
    ax.set_ylabel(style.unit_label(kpi))
    style.format_axis(ax, kpi, "y")
