"""Figure 5: facility load (utilisation and bed occupancy heatmaps) and waiting-time distributions by tier.

The results hold per-facility load over the whole run and per-tier load by month, not
per-facility load by month, so the load figures are (a) facility × scenario and (b) tier
measure × month.  A facility × month heatmap would need a per-run table ``facility_monthly``
with columns replication, month, facility, tier, township, visits, admissions, utilisation,
bed_occupancy, mean_wait_min, mean_bed_wait_days (``KpiCalculator.facilities`` grouped by month).

Waiting times are shown as the distribution over a tier's facilities of each facility's mean
wait (the facilities table holds means, not individual waits).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim.figures import style
from sim.figures.data import WAIT_TIERS
from sim.figures.scenarios import grid
from sim.figures.style import FigureResult


def _heat(ax, m: pd.DataFrame, vmax: float, annotate: bool) -> None:
    sns.heatmap(m, ax=ax, cmap=style.SEQUENTIAL, vmin=0, vmax=vmax, annot=annotate, fmt=".0%", cbar=False,
                linewidths=0.4, linecolor="white", annot_kws={"fontsize": 7}, mask=m.isna())


def facility_load(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    """Rows: township centres and county hospitals; columns: scenarios; mean over replications."""
    scenarios = list(dict.fromkeys(data["scenario"]))
    facilities = data.attrs.get("facilities") or list(dict.fromkeys(data["facility"]))
    annotate = len(facilities) * len(scenarios) <= 120
    width = max(9.0, 2.6 + 2 * (0.6 * len(scenarios) + 1.0))
    with style.theme():
        fig = style.new_figure(width, 0.28 * len(facilities) + 2.6)
        axes = fig.subplots(1, 2, sharey=True)
        vmax = float(np.nanmax([data["utilisation"].max(), data["bed_occupancy"].max(), 1.0]))
        for ax, col, label in ((axes[0], "utilisation", "Doctor utilisation"),
                               (axes[1], "bed_occupancy", "Bed occupancy")):
            m = data.pivot(index="facility", columns="scenario", values=col).reindex(index=facilities,
                                                                                     columns=scenarios)
            _heat(ax, m, vmax, annotate)
            ax.set_title(label)
            ax.set_xlabel("scenario")
            ax.set_ylabel("facility" if col == "utilisation" else "")
            ax.tick_params(axis="x", rotation=45 if len(scenarios) > 2 else 0)
            ax.tick_params(axis="y", labelsize=8)
        cb = fig.colorbar(axes[0].collections[0], ax=axes, shrink=0.7)
        cb.set_label("share of capacity in use (%)")
        cb.formatter = PercentFormatter(xmax=1)
        cb.update_ticks()
        title = "Facility load"
        style.title(fig, title, f"{study}: township centres and county hospitals, whole run after warm-up, "
                                "mean over replications")
        caption = ("Doctor utilisation (busy consulting time ÷ doctors × opening hours) and bed occupancy (bed-days "
                   "÷ beds × days) per facility and scenario; village clinics (no beds) and outside hospitals "
                   "(unlimited capacity) are left out.")
        return style.save(fig, out_dir, "05a_facility_load", title, caption, data)


MEASURE_LABELS = {"utilisation_township": "Doctors, township", "utilisation_county": "Doctors, county",
                  "bed_occupancy_township": "Beds, township", "bed_occupancy_county": "Beds, county"}


def load_by_month(data: pd.DataFrame, out_dir: str | Path, study: str = "") -> FigureResult:
    """Per scenario: tier utilisation and bed occupancy (rows) by month (columns)."""
    scenarios = list(dict.fromkeys(data["scenario"]))
    measures = data.attrs.get("measures") or list(dict.fromkeys(data["measure"]))
    months = sorted(data["month"].unique())
    vmax = float(np.nanmax([data["value"].max(), 1.0]))
    with style.theme():
        fig = style.new_figure(max(8.0, 2.6 + 0.5 * len(months)), 1.9 * len(scenarios) + 2.0)
        axes = grid(fig, len(scenarios), 1)
        for ax, scen in zip(axes, scenarios):
            m = data[data["scenario"] == scen].pivot(index="measure", columns="month", values="value") \
                .reindex(index=measures, columns=months)
            m.index = [MEASURE_LABELS.get(x, x) for x in m.index]
            m.columns = [int(c) + 1 for c in m.columns]
            _heat(ax, m, vmax, len(months) <= 24)
            ax.set_title(scen)
            ax.set_xlabel("month after warm-up")
            ax.set_ylabel("")
            ax.tick_params(axis="y", rotation=0)
        cb = fig.colorbar(axes[0].collections[0], ax=axes, shrink=0.8)
        cb.set_label("share of capacity in use (%)")
        cb.formatter = PercentFormatter(xmax=1)
        cb.update_ticks()
        title = "Load by tier and month"
        style.title(fig, title, f"{study}: doctor utilisation and bed occupancy per tier, mean over replications")
        caption = ("Monthly doctor utilisation and bed occupancy of township centres and county hospitals (tier "
                   "totals; the results hold no per-facility monthly table).")
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
        fig = style.new_figure(10.5, 4.8)
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
