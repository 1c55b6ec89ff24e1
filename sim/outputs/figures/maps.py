"""Figure 9: village map — villages at their coordinates, coloured by primary-care share and out-of-pocket cost."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from sim.outputs.figures import style
from sim.outputs.figures.style import FigureResult


def village_map(villages: pd.DataFrame, sites: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    scenario = villages.attrs.get("scenario", "")
    pop = villages["population"].astype(float)
    sizes = 12 + 110 * np.sqrt(pop / max(pop.max(), 1.0))
    with style.theme():
        fig = style.new_figure(11.0, 5.6)
        axes = fig.subplots(1, 2)
        for ax, col, label, cmap, share in (
                (axes[0], "primary_care_share", "Primary-care share of visits (%)", "cividis", True),
                (axes[1], "oop_per_episode", "Out-of-pocket per episode (CNY)", "viridis", False)):
            sc = ax.scatter(villages["x_km"], villages["y_km"], c=villages[col], s=sizes, cmap=cmap,
                            edgecolors="0.25", linewidths=0.3, zorder=2)
            cb = fig.colorbar(sc, ax=ax, shrink=0.85, location="bottom", pad=0.02)
            cb.set_label(label)
            if share:
                cb.formatter = PercentFormatter(xmax=1)
                cb.update_ticks()
            town = sites[sites["tier"] == "township"]
            county = sites[sites["tier"] == "county"]
            ax.scatter(town["x_km"], town["y_km"], marker="^", s=70, facecolors="white", edgecolors="black",
                       linewidths=1.2, zorder=3)
            ax.scatter(county["x_km"], county["y_km"], marker="*", s=260, facecolors="black", edgecolors="white",
                       linewidths=0.8, zorder=4)
            ax.set_aspect("equal", adjustable="datalim")
            ax.set_xlabel("east–west (km)")
            ax.set_ylabel("north–south (km)")
            ax.set_title(style.kpi_title(col))
        handles = [Line2D([], [], ls="", marker="o", mfc="0.7", mec="0.25", ms=7, label="village (size ∝ population)"),
                   Line2D([], [], ls="", marker="^", mfc="white", mec="black", ms=8,
                          label=style.tier_label("township") + (" (approx.)" if sites.attrs.get("approximate") else "")),
                   Line2D([], [], ls="", marker="*", mfc="black", mec="white", ms=13, label=style.tier_label("county"))]
        fig.legend(handles=handles, loc="outside lower center", ncols=3)
        title = "Equity across villages"
        style.title(fig, title, f"{study}: scenario {scenario}, mean over replications")
        caption = (f"Villages at their coordinates (scenario {scenario}), coloured by the share of their residents' "
                   "visits made in primary care and by out-of-pocket cost per episode; triangles mark township "
                   "centres, stars county hospitals.")
        data = villages.copy()
        data.attrs = dict(villages.attrs)
        return style.save(fig, out_dir, "09_village_map", title, caption, data, sites=sites)
