"""Figure 4: patient flows between tiers — a first-contact × final-tier matrix and a Sankey diagram."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.ticker import PercentFormatter

from sim.outputs.figures import style
from sim.outputs.figures.data import PATHS, TIERS
from sim.outputs.figures.scenarios import grid
from sim.outputs.figures.style import FigureResult


def flow_matrix(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    scenarios = list(dict.fromkeys(data["scenario"]))
    ncols = min(len(scenarios), 2)
    nrows = -(-len(scenarios) // ncols)
    vmax = float(data["share"].max()) if len(data) else 1.0
    with style.theme():
        fig = style.new_figure(style.width(ncols), 3.3 * nrows + 0.9)
        axes = grid(fig, len(scenarios), ncols)
        for ax, scen in zip(axes, scenarios):
            m = data[data["scenario"] == scen].pivot(index="first_tier", columns="final_tier", values="share") \
                .reindex(index=list(TIERS), columns=list(TIERS))
            sns.heatmap(m, ax=ax, annot=True, fmt=".1%", cmap=style.SEQUENTIAL, vmin=0, vmax=vmax, cbar=False,
                        linewidths=0.5, linecolor="white", annot_kws={"fontsize": 7}, square=True)
            ax.set_xticks(np.arange(len(TIERS)) + 0.5, [style.tier_label(t, True, short=True) for t in TIERS],
                          rotation=0, fontsize=7)
            ax.set_yticks(np.arange(len(TIERS)) + 0.5, [style.tier_label(t, True, short=True) for t in TIERS],
                          rotation=0, fontsize=7)
            ax.set_xlabel("final tier (where the episode ended)")
            ax.set_ylabel("first-contact tier")
            if len(scenarios) > 1:  # a single run's one panel: its name is in the note below already
                ax.set_title(scen)
        mappable = axes[0].collections[0]
        # one column: the colour bar below leaves the cells the full width for their bilingual labels
        cb = fig.colorbar(mappable, ax=axes, shrink=0.6, location="right" if ncols > 1 else "bottom", aspect=25)
        cb.set_label("share of completed episodes (%)")
        cb.formatter = PercentFormatter(xmax=1, decimals=0)
        cb.update_ticks()
        title = "Patient flows: first contact → final tier"
        style.title(fig, title, f"{study}: share of completed episodes, per replication on average")
        caption = ("Share of completed episodes by the tier of first contact (rows) and the tier where care ended "
                   "(columns); off-diagonal cells are referrals up or down.")
        return style.save(fig, out_dir, "04a_flow_matrix", title, caption, data)


def _colours() -> dict[str, object]:
    pal = style.palette(5)
    return {PATHS[0]: "0.78", PATHS[1]: pal[1], PATHS[2]: pal[0], PATHS[3]: pal[4]}


def _ribbon(x0: float, x1: float, y0a: float, y0b: float, y1a: float, y1b: float) -> MplPath:
    """A band from [y0a, y0b] at x0 to [y1a, y1b] at x1 with cubic Bezier edges."""
    xm = (x0 + x1) / 2
    verts = [(x0, y0a), (xm, y0a), (xm, y1a), (x1, y1a), (x1, y1b), (xm, y1b), (xm, y0b), (x0, y0b), (x0, y0a)]
    codes = [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4, MplPath.LINETO,
             MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4, MplPath.CLOSEPOLY]
    return MplPath(verts, codes)


def _sankey(ax, d: pd.DataFrame, colours: dict, two_lines: bool = False) -> None:
    gap, width, x0, x1 = 0.03, 0.05, 0.0, 1.0
    left = d.groupby("first_tier")["share"].sum().reindex(TIERS, fill_value=0.0)
    right = d.groupby("final_tier")["share"].sum().reindex(TIERS, fill_value=0.0)

    def tops(sizes: pd.Series) -> dict[str, float]:
        out, y = {}, 1.0 + gap * (len(TIERS) - 1)
        for t, s in sizes.items():
            out[t] = y
            y -= s + (gap if s > 0 else 0)
        return out

    ltop, rtop = tops(left), tops(right)
    lcur, rcur = dict(ltop), dict(rtop)
    rank = {t: i for i, t in enumerate(TIERS)}
    # ribbons leave each left node in (path, final tier) order and enter each right node by first tier
    for r in d.sort_values(["first_tier", "path", "final_tier"], key=lambda c: c.map(
            {p: i for i, p in enumerate(PATHS)}) if c.name == "path" else c.map(rank)).itertuples():
        if r.share <= 0:
            continue
        la = lcur[r.first_tier]
        lcur[r.first_tier] -= r.share
        ra = rcur[r.final_tier]
        rcur[r.final_tier] -= r.share
        ax.add_patch(PathPatch(_ribbon(x0 + width, x1, la, la - r.share, ra, ra - r.share),
                               facecolor=colours[r.path], edgecolor="none", alpha=0.75))
    for sizes, top, x, ha, dx in ((left, ltop, x0, "right", -0.02), (right, rtop, x1, "left", width + 0.02)):
        for t, s in sizes.items():
            if s <= 0:
                continue
            ax.add_patch(Rectangle((x, top[t] - s), width, s, facecolor="0.25", edgecolor="none"))
            ax.text(x + dx, top[t] - s / 2, f"{style.tier_label(t, two_lines)}\n{s:.1%}", ha=ha, va="center",
                    fontsize=7)
    ax.set_xlim(-0.55, 1.6)
    top = 1.0 + gap * (len(TIERS) - 1)
    ax.set_ylim(-0.02, top + 0.1)  # the column headings inside the axes, clear of the panel title
    ax.axis("off")
    for x, heading in ((x0, "first contact"), (x1, "final tier")):
        ax.text(x + width / 2, top + 0.03, heading, ha="center", va="bottom", fontsize=8, fontweight="bold")


def referral_sankey(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    scenarios = list(dict.fromkeys(data["scenario"]))
    ncols = min(len(scenarios), 2)
    nrows = -(-len(scenarios) // ncols)
    colours = _colours()
    with style.theme():
        fig = style.new_figure(style.DOUBLE_COLUMN, (3.2 if ncols > 1 else 3.8) * nrows + 1.0)
        for ax, scen in zip(grid(fig, len(scenarios), ncols), scenarios):
            _sankey(ax, data[data["scenario"] == scen], colours, two_lines=ncols > 1)
            if len(scenarios) > 1:
                ax.set_title(scen)
        from matplotlib.patches import Patch

        present = [p for p in PATHS if (data["path"] == p).any()]
        fig.legend(handles=[Patch(color=colours[p], label=p) for p in present], loc="outside lower center",
                   ncols=len(present) if ncols > 1 else 2)  # one panel: two columns fit its width
        title = "Referral pathways between tiers"
        style.title(fig, title, f"{study}: completed episodes from first-contact tier to final tier, "
                                "coloured by referral path")
        caption = ("Sankey diagram: ribbon widths are shares of completed episodes; grey = treated at the tier of "
                   "first contact, coloured = referred up, referred down, or up then down.")
        return style.save(fig, out_dir, "04b_referral_sankey", title, caption, data)
