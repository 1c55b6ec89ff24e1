"""What the lab shows of a finished run: tables and interactive (plotly) figures, drawn from the
results folder with the same ``prepare_*`` frames as the publication figures.  No simulation here."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from models.kpi_registry import get as kpi_info
from models.plan import month_table
from sim.outputs.figures import data as d
from sim.studies.runner import target_status

PLAN, BASELINE = "plan", "baseline"
COLOURS = {BASELINE: "#7f7f7f", PLAN: "#1f77b4"}
PAIRED_KPIS = ("county_visit_rate", "primary_care_share", "in_county_inpatient_share", "fund_per_resident",
               "oop_per_episode", "cost_per_resident")
PATH_COLOURS = {d.PATHS[0]: "rgba(31,119,180,0.45)", d.PATHS[1]: "rgba(214,39,40,0.45)",
                d.PATHS[2]: "rgba(44,160,44,0.45)", d.PATHS[3]: "rgba(148,103,189,0.45)"}


def label(kpi: str) -> str:
    k = kpi_info(kpi)
    return f"{k.zh} {k.en}" if k else kpi


def _fmt(kpi: str, x: float) -> str:
    if x is None or not np.isfinite(x):
        return "–"
    k = kpi_info(kpi)
    return f"{100 * x:.1f} %" if k and k.is_share else f"{x:,.4g}" if abs(x) < 1000 else f"{x:,.0f}"


def results(folder: Path) -> d.Results:
    return d.Results(Path(folder))


def scheduled_values(res: d.Results) -> pd.DataFrame:
    """Each scheduled setting's value in January of every calendar year of the run, as the run used it."""
    cfg = res.configs.get(PLAN, {})
    sched = {int(y): row for y, row in (cfg.get("schedule") or {}).items()}
    if not sched:
        return pd.DataFrame()
    sim = cfg["simulation"]
    n_years = max(1, math.ceil(sim["years"] - 1e-9))
    rows, keys = month_table(cfg, sched, cfg.get("ramp", "step"), sim["start_year"], 12 * n_years)
    years = [sim["start_year"] + i for i in range(n_years)]
    return pd.DataFrame({str(y): [rows[12 * i][k] for k in keys] for i, y in enumerate(years)},
                        index=pd.Index([f"scheduled: {k}" for k in keys], name="what"))


def trajectory_table(res: d.Results) -> pd.DataFrame:
    """Rows: each trajectory KPI for the baseline and the plan (mean [95 % CI]), then each scheduled
    setting; columns: calendar years."""
    traj = d.prepare_trajectory(res)
    rows = {}
    for kpi in traj.attrs["kpis"]:
        for scen in traj.attrs["scenarios"]:
            g = traj[(traj["kpi"] == kpi) & (traj["scenario"] == scen)]
            rows[f"{label(kpi)} · {scen}"] = {str(r.year): f"{_fmt(kpi, r.mean)} [{_fmt(kpi, r.ci_low)}, "
                                                            f"{_fmt(kpi, r.ci_high)}]" for r in g.itertuples()}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "what"
    sched = scheduled_values(res)
    if not sched.empty:
        table = pd.concat([table, sched.astype(str)])
    return table


def paired_table(folder: Path, kpis=PAIRED_KPIS) -> pd.DataFrame:
    """Per KPI and calendar year: baseline and plan means and the paired difference with its 95 % CI."""
    by_year = _summary_by_year(Path(folder))
    rows = []
    for kpi in kpis:
        g = by_year[by_year["kpi"] == kpi]
        for year, gy in g.groupby("year"):
            base = gy[gy["scenario"] == BASELINE].iloc[0]
            plan = gy[gy["scenario"] == PLAN].iloc[0]
            rows.append({"KPI": label(kpi), "year": int(year), "baseline": _fmt(kpi, base["mean"]),
                         "plan": _fmt(kpi, plan["mean"]),
                         "Δ plan − baseline (95 % CI, paired)":
                             f"{_signed(kpi, plan['diff_mean'])} [{_signed(kpi, plan['diff_ci_low'])}, "
                             f"{_signed(kpi, plan['diff_ci_high'])}]",
                         "Δ excludes 0": bool(plan["diff_ci_low"] > 0 or plan["diff_ci_high"] < 0)})
    return pd.DataFrame(rows)


def _summary_by_year(folder: Path) -> pd.DataFrame:
    """summary_by_year.csv; a one-year run has none (its whole-run summary is that year's)."""
    path = folder / "summary_by_year.csv"
    if path.exists():
        return pd.read_csv(path)
    years = pd.read_parquet(folder / "yearly.parquet", columns=["year"])["year"].unique()
    summary = pd.read_csv(folder / "summary.csv")
    return summary.assign(year=int(years[0])) if len(years) == 1 else summary.iloc[0:0].assign(year=[])


def _signed(kpi: str, x: float) -> str:
    if x is None or not np.isfinite(x):
        return "–"
    k = kpi_info(kpi)
    return f"{100 * x:+.2f} pp" if k and k.is_share else f"{x:+,.4g}"


def targets_table(res: d.Results) -> pd.DataFrame:
    """For each target of the plan: the year it is first met (mean over replications) and the share of
    replications meeting it in its year, for the plan and for the baseline."""
    yearly = res.table("yearly", "targets")
    rows = []
    for kpi, row in (res.configs.get(PLAN, {}).get("targets") or {}).items():
        for year, value in row.items():
            entry = {"target": f"{label(kpi)} ≥ {_fmt(kpi, float(value))} by {year}"}
            for scen in (BASELINE, PLAN):
                st = target_status(yearly[yearly["scenario"] == scen], kpi, int(year), float(value))
                entry[f"{scen}: first met"] = st["first_met"] or "not met"
                entry[f"{scen}: met in {year}"] = "–" if not np.isfinite(st["probability"]) else \
                    f"{100 * st['probability']:.0f} % of replications"
            rows.append(entry)
    return pd.DataFrame(rows)


def trajectory_figure(res: d.Results) -> go.Figure:
    """The headline KPIs by calendar year with 95 % CI bands, targets and scheduled changes; hover for values."""
    traj = d.prepare_trajectory(res)
    kpis = traj.attrs["kpis"][:4]
    fig = make_subplots(rows=math.ceil(len(kpis) / 2), cols=2, subplot_titles=[label(k) for k in kpis],
                        vertical_spacing=0.14)
    for i, kpi in enumerate(kpis):
        r, c = i // 2 + 1, i % 2 + 1
        for scen in traj.attrs["scenarios"]:
            g = traj[(traj["kpi"] == kpi) & (traj["scenario"] == scen)].sort_values("year")
            colour = COLOURS.get(scen, "#ff7f0e")
            fig.add_trace(go.Scatter(x=list(g["year"]) + list(g["year"])[::-1],
                                     y=list(g["ci_high"]) + list(g["ci_low"])[::-1], fill="toself", mode="lines",
                                     fillcolor=colour, opacity=0.18, line={"width": 0}, hoverinfo="skip",
                                     showlegend=False, legendgroup=scen), row=r, col=c)
            fig.add_trace(go.Scatter(x=g["year"], y=g["mean"], mode="lines+markers", name=scen, legendgroup=scen,
                                     showlegend=i == 0, line={"color": colour},
                                     customdata=np.c_[g["ci_low"], g["ci_high"]],
                                     hovertemplate=f"{scen} %{{x}}: %{{y:.4g}} (95 % CI %{{customdata[0]:.4g}}–"
                                                   "%{customdata[1]:.4g})<extra></extra>"), row=r, col=c)
        for _, k, year, value in traj.attrs["targets"]:
            if k == kpi:
                fig.add_hline(y=value, line={"dash": "dash", "color": "#d62728"}, row=r, col=c,
                              annotation_text=f"target {value:g} by {year}", annotation_position="bottom right")
                fig.add_trace(go.Scatter(x=[year], y=[value], mode="markers", marker={"symbol": "star", "size": 12,
                                                                                       "color": "#d62728"},
                                         name="target", showlegend=False,
                                         hovertemplate=f"target {value:g} by {year}<extra></extra>"), row=r, col=c)
    for year in sorted({y for _, y, _, _ in traj.attrs["changes"]}):
        keys = [k for _, y, k, _ in traj.attrs["changes"] if y == year]
        fig.add_vline(x=year - 0.5, line={"dash": "dot", "color": "#999"},
                      annotation_text=f"{len(keys)} change(s) from {year}", annotation_position="bottom right",
                      annotation_font_size=10)
    fig.update_xaxes(dtick=1)
    fig.update_layout(height=330 * math.ceil(len(kpis) / 2), margin={"t": 60, "b": 30}, hovermode="closest",
                      legend={"orientation": "h", "y": 1.08})
    return fig


def fund_frame(res: d.Results) -> pd.DataFrame:
    """Fund spending per resident by year and scenario, and the global-budget balance per resident
    where the plan runs a global budget (CNY)."""
    yearly = res.table("yearly", "fund balance")
    pop = res.table("villages", "fund balance").groupby(["scenario", "replication"])["population"].sum()
    y = yearly.set_index(["scenario", "replication"])
    y = y.assign(population=pop.reindex(y.index).to_numpy()).reset_index()
    y["budget_balance_per_resident"] = y["budget_balance"] / y["population"] if "budget_balance" in y else np.nan
    cols = ["fund_per_resident", "budget_balance_per_resident"]
    return y.groupby(["scenario", "year"])[cols].mean().reset_index()


def fund_figure(res: d.Results) -> go.Figure:
    f = fund_frame(res)
    fig = go.Figure()
    for scen, g in f.groupby("scenario", sort=False):
        fig.add_trace(go.Bar(x=g["year"], y=g["fund_per_resident"], name=f"fund spending per resident · {scen}",
                             marker_color=COLOURS.get(scen)))
        if g["budget_balance_per_resident"].notna().any():
            fig.add_trace(go.Scatter(x=g["year"], y=g["budget_balance_per_resident"], mode="lines+markers",
                                     name=f"global-budget balance per resident · {scen}", yaxis="y2"))
    fig.update_layout(barmode="group", height=360, yaxis_title="CNY per resident-year", xaxis={"dtick": 1},
                      yaxis2={"overlaying": "y", "side": "right", "title": "balance, CNY per resident"},
                      legend={"orientation": "h", "y": -0.2}, margin={"t": 30})
    return fig


def sankey_figure(res: d.Results, scenario: str = PLAN) -> go.Figure:
    """First-contact tier → final tier, ribbons by referral path; hover for episodes per replication."""
    df = d.prepare_referral_paths(res)
    df = df[df["scenario"] == scenario]
    tiers = list(d.TIERS)
    nodes = [f"first contact: {t}" for t in tiers] + [f"treated at: {t}" for t in tiers]
    fig = go.Figure(go.Sankey(
        node={"label": nodes, "pad": 14},
        link={"source": [tiers.index(t) for t in df["first_tier"]],
              "target": [len(tiers) + tiers.index(t) for t in df["final_tier"]],
              "value": df["episodes"], "label": df["path"],
              "color": [PATH_COLOURS.get(p, "rgba(128,128,128,0.4)") for p in df["path"]]}))
    fig.update_layout(height=420, margin={"t": 20, "b": 20})
    return fig


def village_map(res: d.Results, scenario: str = PLAN, kpi: str = "primary_care_share") -> go.Figure:
    """Villages at their positions, coloured by an equity KPI, sized by population; hover for values."""
    v = d.prepare_villages(res, [scenario])
    sites = d.prepare_sites(res, scenario)
    fig = go.Figure(go.Scatter(
        x=v["x_km"], y=v["y_km"], mode="markers", name="villages",
        marker={"color": v[kpi], "colorscale": "Viridis", "showscale": True, "colorbar": {"title": kpi_info(kpi).en},
                "size": 5 + 14 * np.sqrt(v["population"] / max(1, v["population"].max()))},
        text=v["village"], customdata=np.c_[v["township"], v["population"], v[kpi]],
        hovertemplate="%{text} (%{customdata[0]})<br>residents %{customdata[1]:,}<br>" + kpi +
                      " %{customdata[2]:.3g}<extra></extra>"))
    for tier, symbol in (("township", "square"), ("county", "diamond")):
        s = sites[sites["tier"] == tier]
        fig.add_trace(go.Scatter(x=s["x_km"], y=s["y_km"], mode="markers", name=f"{tier} facilities",
                                 marker={"symbol": symbol, "size": 11, "color": "#d62728" if tier == "county"
                                         else "#ff7f0e", "line": {"width": 1, "color": "white"}},
                                 text=s["facility"], hovertemplate="%{text}<extra></extra>"))
    fig.update_layout(height=480, xaxis_title="km", yaxis={"title": "km", "scaleanchor": "x"},
                      legend={"orientation": "h", "y": -0.15}, margin={"t": 20})
    return fig
