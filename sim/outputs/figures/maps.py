"""Figure 9: village maps — villages at their coordinates, coloured by primary-care share and
out-of-pocket cost, one row per scenario (small multiples on one colour scale per measure)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from sim.outputs.figures import style
from sim.outputs.figures.style import FigureResult

MEASURES = (("primary_care_share", "Primary-care share of visits (%)", "cividis", True),
            ("oop_per_episode", "Out-of-pocket per episode (CNY)", "viridis", False))


def village_map(villages: pd.DataFrame, sites: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    scenarios = villages.attrs.get("scenarios") or list(dict.fromkeys(villages["scenario"]))
    labels = villages.attrs.get("labels") or {}
    pop = villages["population"].astype(float)
    n = len(scenarios)
    with style.theme():
        fig = style.new_figure(style.DOUBLE_COLUMN, 3.0 * n + 2.0)
        axes = fig.subplots(n, 2, squeeze=False)
        xlim, ylim = _square(pd.concat([villages[["x_km", "y_km"]], sites[["x_km", "y_km"]]]))
        for col_i, (col, label, cmap, share) in enumerate(MEASURES):
            norm = Normalize(float(villages[col].min()), float(villages[col].max()))
            for i, scen in enumerate(scenarios):
                ax = axes[i, col_i]
                v = villages[villages["scenario"] == scen]
                sizes = 8 + 70 * np.sqrt(v["population"].astype(float) / max(pop.max(), 1.0))
                sc = ax.scatter(v["x_km"], v["y_km"], c=v[col], s=sizes, cmap=cmap, norm=norm, edgecolors="0.25",
                                linewidths=0.3, zorder=2)
                _sites(ax, sites)
                ax.set(xlim=xlim, ylim=ylim, aspect="equal")  # one square extent: panels compare place by place
                ax.set_xlabel("east–west (km)" if i == n - 1 else "")
                ax.set_ylabel(f"{labels.get(scen, scen)}\nnorth–south (km)" if col_i == 0 and n > 1
                              else "north–south (km)" if col_i == 0 else "")
                if i == 0:
                    ax.set_title(style.kpi_title(col))
            cb = fig.colorbar(sc, ax=list(axes[:, col_i]), shrink=0.85, location="bottom", pad=0.02, aspect=30)
            cb.set_label(label)
            if share:
                cb.formatter = PercentFormatter(xmax=1, decimals=0)
                cb.update_ticks()
        handles = [Line2D([], [], ls="", marker="o", mfc="0.7", mec="0.25", ms=7, label="village (size ∝ population)"),
                   Line2D([], [], ls="", marker="^", mfc="white", mec="black", ms=8,
                          label=style.tier_label("township") + (" (approx.)" if sites.attrs.get("approximate") else "")),
                   Line2D([], [], ls="", marker="*", mfc="black", mec="white", ms=13, label=style.tier_label("county"))]
        fig.legend(handles=handles, loc="outside lower center", ncols=3 if n > 1 else 2)
        title = "Equity across villages"
        omitted = villages.attrs.get("omitted") or 0
        style.title(fig, title, (f"{study}: " if n > 1 else f"{style.which(study, scenarios[0])}: ")
                    + "mean over replications; one colour scale per column"
                    + (f"; {omitted} more scenarios not shown" if omitted else ""))
        caption = ("Villages at their coordinates, one row per scenario, coloured by the share of their residents' "
                   "visits made in primary care (left) and by out-of-pocket cost per episode (right), on one colour "
                   "scale per column; triangles mark township centres, stars county hospitals.")
        data = villages.copy()
        data.attrs = dict(villages.attrs)
        return style.save(fig, out_dir, "09_village_map", title, caption, data, sites=sites)


def _square(xy: pd.DataFrame, pad: float = 0.06) -> tuple[tuple[float, float], tuple[float, float]]:
    """x and y limits of one square holding every point (km)."""
    lo, hi = xy.min(), xy.max()
    half = max(float((hi - lo).max()) / 2, 1.0) * (1 + pad)
    cx, cy = float(lo["x_km"] + hi["x_km"]) / 2, float(lo["y_km"] + hi["y_km"]) / 2
    return (cx - half, cx + half), (cy - half, cy + half)


def _sites(ax, sites: pd.DataFrame) -> None:
    town = sites[sites["tier"] == "township"]
    county = sites[sites["tier"] == "county"]
    ax.scatter(town["x_km"], town["y_km"], marker="^", s=50, facecolors="white", edgecolors="black",
               linewidths=1.0, zorder=3)
    ax.scatter(county["x_km"], county["y_km"], marker="*", s=200, facecolors="black", edgecolors="white",
               linewidths=0.8, zorder=4)
