"""Figure 8: calibration — simulated against observed targets with error bars."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.outputs.figures import style
from sim.outputs.figures.scenarios import grid
from sim.outputs.figures.style import FigureResult


def calibration_fit(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    """One small panel per target (each KPI in its own unit): observed ± sd and simulated mean with 95 % CI."""
    kpis = list(data["kpi"])
    pal = style.palette(2)
    ncols = min(3, len(kpis))
    nrows = -(-len(kpis) // ncols)
    with style.theme():
        fig = style.new_figure(style.width(ncols), 2.3 * nrows + 1.3)
        for ax, r in zip(grid(fig, len(kpis), ncols), data.itertuples()):
            ax.errorbar([0], [r.observed], yerr=[[r.sd], [r.sd]], fmt="s", color=pal[0], capsize=4, ms=6,
                        label="observed ± 1 sd")
            err = np.nan_to_num([[r.simulated_mean - r.ci_low], [r.ci_high - r.simulated_mean]])
            ax.errorbar([1], [r.simulated_mean], yerr=err, fmt="o", color=pal[1], capsize=4, ms=6,
                        label="simulated, 95 % CI")
            ax.set_xticks([0, 1], ["observed", "simulated"])
            ax.set_xlim(-0.6, 1.6)
            ax.set_title(style.kpi_title(r.kpi), fontsize=10)
            ax.set_ylabel(style.unit_label(r.kpi))
            style.format_axis(ax, r.kpi, "y")
            if np.isfinite(r.z):
                ax.text(0.03, 0.97, f"z = {r.z:+.2f}", transform=ax.transAxes, ha="left", va="top", fontsize=9,
                        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})
        handles, labels = fig.axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=2)
        title = "Calibration fit"
        chi2 = float(np.nansum(np.asarray(data["z"], dtype=float) ** 2))
        style.title(fig, title, f"{study}: simulated KPIs at the optimum against observed targets (χ² = {chi2:.3g})")
        caption = ("Each calibration target: the observed value with its stated uncertainty (± 1 sd) and the "
                   "simulated mean at the fitted parameters with its 95 % CI; z = (simulated − observed) / sd.")
        return style.save(fig, out_dir, "08_calibration_fit", title, caption, data)
