"""Figure 9: village maps — villages at their coordinates, coloured by primary-care share and
out-of-pocket cost, one row per scenario (small multiples on one colour scale per measure)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from sim.outputs.figures import fonts, style
from sim.outputs.figures.style import FigureResult

# (column, colour-bar label, its short form beside a row of small panels, colour map, a share)
MEASURES = (("primary_care_share", "Primary-care share of visits (%)", "Primary-care share (%)", "cividis", True),
            ("oop_per_episode", "Out-of-pocket per episode (CNY)", "Out-of-pocket (CNY)", "viridis", False))


def village_map(villages: pd.DataFrame, sites: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    scenarios = villages.attrs.get("scenarios") or list(dict.fromkeys(villages["scenario"]))
    labels = villages.attrs.get("labels") or {}
    pop = villages["population"].astype(float)
    n = len(scenarios)
    across = n > 1  # scenarios side by side, one row per measure: four scenarios still fit one page
    nrows, ncols = (len(MEASURES), n) if across else (1, len(MEASURES))
    with style.theme():
        # square panels, narrowed by the axis labels and colour bars
        fig = style.new_figure(style.DOUBLE_COLUMN, nrows * 0.9 * style.DOUBLE_COLUMN / ncols + 1.6)
        axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
        xlim, ylim = _square(pd.concat([villages[["x_km", "y_km"]], sites[["x_km", "y_km"]]]))
        for m, (col, label, short, cmap, share) in enumerate(MEASURES):
            norm = Normalize(float(villages[col].min()), float(villages[col].max()))
            row = list(axes[m]) if across else [axes[0, m]]
            for i, (ax, scen) in enumerate(zip(row, scenarios)):
                v = villages[villages["scenario"] == scen]
                sizes = 8 + 70 * np.sqrt(v["population"].astype(float) / max(pop.max(), 1.0))
                sc = ax.scatter(v["x_km"], v["y_km"], c=v[col], s=sizes * (2 / ncols if across else 1), cmap=cmap,
                                norm=norm, edgecolors="0.25", linewidths=0.3, zorder=2)
                _sites(ax, sites, 2 / ncols if across else 1)
                ax.set(xlim=xlim, ylim=ylim, aspect="equal")  # one square extent: panels compare place by place
                ax.set_xlabel("east–west (km)" if m == nrows - 1 or not across else "")
                ax.set_ylabel("north–south (km)" if (i == 0 if across else m == 0) else "")
                if not across:
                    ax.set_title(style.kpi_title(col))
                elif m == 0:  # column heading: the scenario, a sweep's values on a second line
                    ax.set_title(labels.get(scen, scen).replace(" (", "\n").removesuffix(")"), fontsize=7,
                                 fontweight="normal")
            cb = fig.colorbar(sc, ax=row, shrink=0.85, location="right" if across else "bottom", pad=0.02, aspect=30)
            cb.set_label(fonts.with_zh(short, style.zh(col), "\n") if across else label)
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
                    + "mean over replications; one colour scale per measure"
                    + (f"; {omitted} more scenarios not shown" if omitted else ""))
        caption = ("Villages at their coordinates, coloured by the share of their residents' visits made in primary "
                   "care and by out-of-pocket cost per episode"
                   + (" (one row per measure, one column per scenario)" if across else " (left and right)")
                   + ", on one colour scale per measure; triangles mark township centres, stars county hospitals.")
        data = villages.copy()
        data.attrs = dict(villages.attrs)
        return style.save(fig, out_dir, "09_village_map", title, caption, data, sites=sites)


def _square(xy: pd.DataFrame, pad: float = 0.06) -> tuple[tuple[float, float], tuple[float, float]]:
    """x and y limits of one square holding every point (km)."""
    lo, hi = xy.min(), xy.max()
    half = max(float((hi - lo).max()) / 2, 1.0) * (1 + pad)
    cx, cy = float(lo["x_km"] + hi["x_km"]) / 2, float(lo["y_km"] + hi["y_km"]) / 2
    return (cx - half, cx + half), (cy - half, cy + half)


def _sites(ax, sites: pd.DataFrame, scale: float = 1.0) -> None:
    """Township centres (triangles) and county hospitals (stars); ``scale`` shrinks them on small panels."""
    town = sites[sites["tier"] == "township"]
    county = sites[sites["tier"] == "county"]
    ax.scatter(town["x_km"], town["y_km"], marker="^", s=50 * scale, facecolors="white", edgecolors="black",
               linewidths=1.0, zorder=3)
    ax.scatter(county["x_km"], county["y_km"], marker="*", s=200 * scale, facecolors="black", edgecolors="white",
               linewidths=0.8, zorder=4)
