"""Figure 5: facility load (utilisation and bed occupancy heatmaps) and waiting-time distributions by tier.

(a) facility × scenario over the whole run (``facilities``); (b) facility × month for the reference
scenario (``facility_monthly``), with village clinics — hundreds in a county — and touring mobile
clinics pooled per township, and township centres, county hospitals (and outside hospitals if
their capacity is finite) one row each.

Waiting times are shown as the distribution over a tier's facilities of each facility's mean
wait (the facilities table holds means, not individual waits).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim.outputs.figures import style
from sim.outputs.figures.data import WAIT_TIERS
from sim.outputs.figures.style import FigureResult


def _heat(ax, m: pd.DataFrame, vmax: float, annotate: bool) -> None:
    sns.heatmap(m, ax=ax, cmap=style.SEQUENTIAL, vmin=0, vmax=vmax, annot=annotate, fmt=".0%", cbar=False,
                linewidths=0.4, linecolor="white", annot_kws={"fontsize": 7}, mask=m.isna())


def facility_load(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    """Rows: each tier's total, then the busiest facilities; columns: scenarios; mean over replications.
    Cells above 100 % are queues carried past closing time (overtime), as the caption says."""
    scenarios = data.attrs.get("scenarios") or list(dict.fromkeys(data["scenario"]))
    rows = data.attrs.get("rows") or list(dict.fromkeys(data["row"]))
    annotate = len(rows) * len(scenarios) <= 120
    over = float(np.nanmax([data["utilisation"].max(), data["bed_occupancy"].max(), 0.0]))
    labels = data.attrs.get("labels") or {}
    with style.theme():
        fig = style.new_figure(style.DOUBLE_COLUMN, 0.25 * len(rows) + 2.3)
        axes = fig.subplots(1, 2, sharey=True)
        vmax = max(over, 1.0)
        for ax, col, label in ((axes[0], "utilisation", "Doctor utilisation"),
                               (axes[1], "bed_occupancy", "Bed occupancy")):
            m = data.pivot(index="row", columns="scenario", values=col).reindex(index=rows, columns=scenarios)
            m.columns = [labels.get(c, c) for c in m.columns]
            _heat(ax, m, vmax, annotate)
            ax.set_title(label)
            ax.set_xlabel("scenario")
            ax.set_ylabel("")
            ax.tick_params(axis="x", rotation=30 if len(scenarios) > 2 else 0)
            ax.tick_params(axis="y", labelsize=8)
            n_tiers = int((data.drop_duplicates("row")["kind"] == "tier").sum())
            if 0 < n_tiers < len(rows):
                ax.axhline(n_tiers, color="white", lw=3)  # tier totals above, single facilities below
        cb = fig.colorbar(axes[0].collections[0], ax=axes, shrink=0.7)
        cb.set_label("share of capacity in use (%)")
        cb.formatter = PercentFormatter(xmax=1, decimals=0)
        cb.update_ticks()
        if over > 1:
            cb.ax.axhline(1.0, color="white", lw=1.5)
        top, fixed = data.attrs.get("top", 0), data.attrs.get("fixed", 0)
        title = "Facility load"
        style.title(fig, title, f"{study}: tier totals and the {top} busiest of {fixed} township centres and "
                                "county hospitals, whole run after warm-up, mean over replications")
        caption = ("Doctor utilisation (consulting time ÷ doctors × opening hours) and bed occupancy (bed-days ÷ "
                   "beds × days) per scenario: first each tier's total (busy time ÷ capacity of all its "
                   "facilities; touring mobile clinics apart), then the busiest single facilities. Village clinics "
                   "(no beds) and outside hospitals (unlimited capacity) are left out."
                   + (" Utilisation above 100 % means patients who queued before closing were seen after it: "
                      "doctors worked overtime." if over > 1 else ""))
        return style.save(fig, out_dir, "05a_facility_load", title, caption, data)


MEASURE_TITLES = {"utilisation": "Doctor utilisation", "bed_occupancy": "Bed occupancy"}
MAX_ANNOTATED_CELLS = 160  # per panel; more and the percentages would not fit in the cells


def load_by_month(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    """One scenario: doctor utilisation (top) and bed occupancy (bottom), facility rows × month columns;
    village and mobile clinics pooled per township (rows and pooling as ``prepare_load_by_month``)."""
    scenario = data.attrs.get("scenario") or (data["scenario"].iloc[0] if len(data) else "")
    rows = data.attrs.get("rows") or {m: list(dict.fromkeys(data.loc[data["measure"] == m, "row"]))
                                      for m in MEASURE_TITLES}
    panels = [m for m in MEASURE_TITLES if rows.get(m)]
    months = data.attrs.get("months") or sorted(data["month"].unique())
    n_rows = sum(len(rows[m]) for m in panels)
    vmax = float(np.nanmax([data["value"].max(), 1.0]))
    with style.theme():
        fig = style.new_figure(style.DOUBLE_COLUMN, min(24.0, 0.13 * n_rows + 0.9 * len(panels) + 1.3))
        axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False,
                            height_ratios=[max(len(rows[m]), 1) for m in panels])[:, 0]
        for ax, measure in zip(axes, panels):
            sub = data[data["measure"] == measure]
            m = sub.pivot(index="row", columns="month", values="value").reindex(index=rows[measure], columns=months)
            m.columns = [int(c) + 1 for c in m.columns]
            counts = sub.drop_duplicates("row").set_index("row")["facilities"]
            m.index = [f"{r} ({int(counts[r])})" if counts.get(r, 1) > 1 else r for r in m.index]
            _heat(ax, m, vmax, m.size <= MAX_ANNOTATED_CELLS)
            ax.set_title(MEASURE_TITLES[measure])
            ax.set_xlabel("month after warm-up" if ax is axes[-1] else "")
            ax.set_ylabel("")
            ax.tick_params(axis="y", rotation=0, labelsize=7 if len(rows[measure]) > 20 else 8)
            ax.tick_params(axis="x", rotation=0)
        cb = fig.colorbar(axes[0].collections[0], ax=list(axes), shrink=0.6, aspect=30)
        cb.set_label("share of capacity in use (%)")
        cb.formatter = PercentFormatter(xmax=1, decimals=0)
        cb.update_ticks()
        pooled = data.attrs.get("pooled") or {}
        pooled_text = " and ".join(k for k, v in pooled.items() if v)
        reps = data.attrs.get("replications")
        title = "Facility load by month"
        style.title(fig, title, f"{style.which(study, scenario)}, each facility by month after warm-up, mean over "
                                f"{reps} replications" + (f"; {pooled_text} pooled per township" if pooled_text
                                                          else ""))
        left_out = [style.tier_label(t) for t in data.attrs.get("left_out", [])]
        caption = (f"Doctor utilisation (consulting time of visits started in the month ÷ doctors × opening hours) "
                   f"and bed occupancy (bed-days in the month ÷ beds × days) per facility and month, scenario "
                   f"{scenario}; rows ordered by tier."
                   + (f" {pooled_text.capitalize()} are pooled per township (number pooled in brackets): busy time "
                      "÷ their doctors' (or beds') capacity." if pooled_text else "")
                   + " Each panel shows the facilities with that capacity"
                   + (f"; {', '.join(left_out)} (unlimited capacity) in neither." if left_out else "."))
        return style.save(fig, out_dir, "05b_load_by_month", title, caption, data)


def waiting_times(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    """Distribution over facilities of each facility's mean wait, by tier (box plus one dot per facility)."""
    scenarios = list(dict.fromkeys(data["scenario"]))
    d = data.copy()
    d["tier_label"] = d["tier"].map(lambda t: style.tier_label(t, True))
    order = [style.tier_label(t, True) for t in WAIT_TIERS if (data["tier"] == t).any()]
    bed_order = [style.tier_label(t, True) for t in ("township", "county") if (data["tier"] == t).any()]
    pal = dict(zip(scenarios, style.palette(len(scenarios))))
    with style.theme():
        fig = style.new_figure(style.DOUBLE_COLUMN, 3.9)
        axes = fig.subplots(1, 2, width_ratios=[3, 2])
        for ax, col, tiers, ylabel, ttl in (
                (axes[0], "mean_wait_min", order, "mean wait for a doctor (minutes)", "Outpatient waits"),
                (axes[1], "mean_bed_wait_days", bed_order, "mean wait for a bed (days)", "Waits for a bed")):
            sub = d[d["tier_label"].isin(tiers)]
            kw = dict(data=sub, x="tier_label", y=col, hue="scenario", order=tiers, hue_order=scenarios, ax=ax)
            sns.boxplot(**kw, palette=pal, showfliers=False, boxprops={"alpha": 0.45}, legend=False)
            sns.stripplot(**kw, palette=pal, dodge=True, size=3.5, alpha=0.9, edgecolor="0.2", linewidth=0.4,
                          legend=col == "mean_wait_min")
            ax.set_xlabel("tier")
            ax.set_ylabel(ylabel)
            ax.set_title(ttl)
            ax.set_ylim(bottom=0)
            medians = sub.groupby("tier_label")[col].median()
            top = float(sub[col].max()) if len(sub) else 0.0
            if col == "mean_wait_min" and top > 10 and (medians < top / 20).any():
                ax.set_yscale("symlog", linthresh=1.0)  # tiers minutes apart and an hour apart, both legible
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
                ax.set_ylabel("mean wait for a doctor (minutes, log scale above 1)")
        if axes[0].get_legend():
            axes[0].get_legend().remove()
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles[:len(scenarios)], labels[:len(scenarios)], loc="outside lower center",
                   ncols=min(len(scenarios), 5), title="scenario")
        title = "Waiting times by tier"
        style.title(fig, title, f"{study}: each dot is one facility's mean wait after warm-up, averaged over "
                                "replications")
        caption = ("Distribution over facilities of the mean outpatient wait (minutes) and the mean wait for a bed "
                   "(days), by tier; boxes show quartiles across facilities, not across patients.")
        return style.save(fig, out_dir, "05c_waiting_times", title, caption, data)
