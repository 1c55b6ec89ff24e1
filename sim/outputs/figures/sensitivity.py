"""Figure 7: global sensitivity — Morris μ*–σ plot and Sobol first-order / total indices with 95 % CIs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.outputs.figures import style
from sim.outputs.figures.scenarios import grid
from sim.outputs.figures.style import FigureResult


def morris(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    kpis = list(dict.fromkeys(data["kpi"]))
    params = list(dict.fromkeys(data["parameter"]))
    colours = dict(zip(params, style.palette(len(params))))
    markers = "osD^vP*Xph"
    ncols = 2 if len(kpis) > 1 else 1
    nrows = -(-len(kpis) // ncols)
    with style.theme():
        fig = style.new_figure(style.width(ncols), 3.0 * nrows + 1.6)
        for ax, kpi in zip(grid(fig, len(kpis), ncols), kpis):
            d = data[data["kpi"] == kpi]
            for r in d.itertuples():
                ax.errorbar(r.mu_star, r.sigma, xerr=np.nan_to_num(r.mu_star_conf), fmt=markers[params.index(
                    r.parameter) % len(markers)], color=colours[r.parameter], ms=6, capsize=2, label=r.parameter)
            top = float(np.nanmax([d["mu_star"].max() + d["mu_star_conf"].fillna(0).max(), d["sigma"].max(), 1e-12]))
            xs = np.linspace(0, top * 1.05, 50)
            for ratio, ls in ((1.0, "--"), (0.5, ":")):
                ax.plot(xs, ratio * xs, color="0.5", ls=ls, lw=0.9, label=f"σ/μ* = {ratio:g}")
            ax.set_xlim(0, top * 1.08)
            ax.set_ylim(0, top * 1.08)
            ax.set_title(style.kpi_title(kpi))
            ax.set_xlabel(f"μ*: mean |elementary effect|\n({style.delta_unit(kpi)})")
            ax.set_ylabel(f"σ of elementary effects\n({style.delta_unit(kpi)})")
            style.format_axis(ax, kpi, "x")
            style.format_axis(ax, kpi, "y")
        style.figure_legend(fig, max_cols=2, rename=lambda x: style.short_param(x, 40), fontsize="small")
        title = "Morris screening"
        style.title(fig, title, f"{study}: μ* (importance, with 95 % bootstrap CI) against σ "
                                "(interactions and non-linearity)")
        caption = ("Morris elementary effects (change in the KPI when a parameter moves across its range): "
                   "parameters to the right matter more; above the dashed line σ > μ*, the effect depends "
                   f"strongly on the other parameters or is non-linear. Parameters: {', '.join(params)}.")
        return style.save(fig, out_dir, "07a_morris", title, caption, data)


def sobol(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    kpis = list(dict.fromkeys(data["kpi"]))
    params = list(dict.fromkeys(data["parameter"]))
    pal = style.palette(2)
    ncols = 2 if len(kpis) > 1 else 1
    nrows = -(-len(kpis) // ncols)
    with style.theme():
        fig = style.new_figure(style.width(ncols), (0.45 * len(params) + 1.3) * nrows + 1.2)
        for ax, kpi in zip(grid(fig, len(kpis), ncols), kpis):
            d = data[data["kpi"] == kpi].set_index("parameter").reindex(params)
            y = np.arange(len(params))
            h = 0.38
            ax.barh(y - h / 2, d["S1"], height=h, xerr=np.nan_to_num(d["S1_conf"]), color=pal[0], capsize=2,
                    label="first order S1")
            ax.barh(y + h / 2, d["ST"], height=h, xerr=np.nan_to_num(d["ST_conf"]), color=pal[1], capsize=2,
                    label="total ST")
            ax.axvline(0, color="0.2", lw=0.8)
            # the axis follows the indices, not their intervals: a few samples give very wide bootstrap CIs
            vals = np.concatenate([d["S1"].to_numpy(dtype=float), d["ST"].to_numpy(dtype=float)])
            vals = vals[np.isfinite(vals)]
            ax.set_xlim(min(-0.05, vals.min() - 0.05) if vals.size else -0.05,
                        max(1.05, vals.max() + 0.05) if vals.size else 1.05)
            ax.set_yticks(y, [style.wrap(style.short_param(p), 16, at_dots=True) for p in params], fontsize=8)
            ax.invert_yaxis()
            ax.set_title(style.kpi_title(kpi))
            ax.set_xlabel("Sobol index (share of output variance)")
        handles, labels = fig.axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=2)
        title = "Sobol sensitivity indices"
        style.title(fig, title, f"{study}: first-order and total indices with 95 % bootstrap CIs")
        caption = ("Sobol indices: S1 is the share of the KPI's variance due to a parameter alone, ST includes its "
                   "interactions; error bars are 95 % bootstrap confidence intervals (the axis follows the indices, "
                   f"so very wide intervals run off it). Parameters: {', '.join(params)}.")
        return style.save(fig, out_dir, "07b_sobol", title, caption, data)
