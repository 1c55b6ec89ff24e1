"""Figure: the plan search's trials — cost against the probability of meeting every target,
with the Pareto set joined and the required probability marked."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.outputs.figures import style
from sim.outputs.figures.style import FigureResult


def pareto_figure(search_dir: str | Path, cost_kpi: str, probability: float) -> FigureResult:
    folder = Path(search_dir)
    trials = pd.read_csv(folder / "trials.csv")
    front = pd.read_csv(folder / "pareto.csv").sort_values("cost")
    with style.theme():
        fig = style.new_figure(style.DOUBLE_COLUMN, 3.8)
        ax = fig.add_subplot(111)
        ax.scatter(trials["cost"], 100 * trials["probability"], s=22, color="0.6", label="timetable tried")
        ax.plot(front["cost"], 100 * front["probability"], marker="o", ms=6, color=style.palette(1)[0],
                label="Pareto set")
        ax.axhline(100 * probability, color="0.2", ls="--", lw=1.0, label=f"required {100 * probability:.0f} %")
        ax.set_xlabel(f"{style.english(cost_kpi)} ({style.unit(cost_kpi)})")
        ax.set_ylabel("replications meeting every target (%)")
        ax.set_ylim(-3, 103)
        style.figure_legend(fig, max_cols=3)
        title = "Plan search: cost against the chance of meeting the targets"
        style.title(fig, title, f"{len(trials)} timetables, each run on the same replications")
        caption = ("Each grey point is one timetable the search tried (mean cost over replications; share of "
                   "replications meeting every target in its year). The line joins the timetables no other beats "
                   "on both; the cheapest one above the dashed line is written to best_plan.yaml.")
        return style.save(fig, folder / "figures", "10_plan_search", title, caption, trials)
