"""Publication figures from a results folder (``countysim figures DIR``).

Each figure is a pair: a ``prepare_*`` function in :mod:`sim.outputs.figures.data` that turns the
results folder into the exact frame the figure draws, and a plot function (one module per
family) that takes that frame, writes ``<name>.png`` (300 dpi) and ``<name>.svg`` and returns a
:class:`~sim.outputs.figures.style.FigureResult` holding the frame.  :func:`make_figures` draws every
figure the folder has data for and notes why it skipped the others (e.g. paired differences
for a single run); :func:`draw` draws one and raises :class:`MissingResultsError` instead.
"""
from __future__ import annotations

import json
import logging
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from sim.outputs.figures import (
    calibration,
    flows,
    load,
    maps,
    province,
    scenarios,
    sensitivity,
    sweeps,
    timeseries,
    trajectory,
)
from sim.outputs.figures import data as d
from sim.outputs.figures.data import DamagedResultsError, MissingResultsError, Results
from sim.outputs.figures.fonts import describe as font_note
from sim.outputs.figures.style import FORMATS, FigureResult

log = logging.getLogger("countysim.figures")

SCENARIO_KINDS = ("run", "experiment", "calibration")  # folders whose scenarios are worth comparing one by one
# what other folders draw instead of the scenario-by-scenario figures
SUMMARISED_BY = {"province": "its counties are compared by the province figure (11_province_targets), not one "
                             "by one", "province-iteration": "its counties are compared by the province folder's "
                             "figure, not one by one"}


def _scenario_figure(prepare, plot):
    def make(res: Results, out: Path) -> FigureResult:
        if res.kind not in SCENARIO_KINDS:
            why = SUMMARISED_BY.get(res.kind, "its sample points are summarised by its sensitivity figures, not "
                                              "scenario by scenario")
            raise MissingResultsError(f"{res.root}: a {res.kind} folder: {why}")
        return plot(prepare(res), out, study=res.name)
    return make


def _map(res: Results, out: Path) -> FigureResult:
    if res.kind not in SCENARIO_KINDS:
        raise MissingResultsError(f"{res.root}: the village map is drawn for runs, experiments and calibrations")
    return maps.village_map(d.prepare_villages(res), d.prepare_sites(res), out, study=res.name)


# name → how to draw it from a results folder; the order is the report's order
FIGURES: dict[str, Callable[[Results, Path], FigureResult]] = {
    "01_kpi_by_scenario": _scenario_figure(d.prepare_kpi_intervals, scenarios.kpi_by_scenario),
    "02_paired_differences": _scenario_figure(d.prepare_paired_differences, scenarios.paired_differences),
    "03_monthly_kpis": _scenario_figure(d.prepare_monthly, timeseries.monthly_kpis),
    "03b_trajectory": _scenario_figure(d.prepare_trajectory, trajectory.trajectory),
    "04a_flow_matrix": _scenario_figure(d.prepare_flow_matrix, flows.flow_matrix),
    "04b_referral_sankey": _scenario_figure(d.prepare_referral_paths, flows.referral_sankey),
    "05a_facility_load": _scenario_figure(d.prepare_facility_load, load.facility_load),
    "05b_load_by_month": _scenario_figure(d.prepare_load_by_month, load.load_by_month),
    "05c_waiting_times": _scenario_figure(d.prepare_waits, load.waiting_times),
    "06_sweep_response": lambda res, out: sweeps.sweep_response(d.prepare_sweep(res), out, study=res.name),
    "07a_morris": lambda res, out: sensitivity.morris(d.prepare_sensitivity(res, "morris"), out, study=res.name),
    "07b_sobol": lambda res, out: sensitivity.sobol(d.prepare_sensitivity(res, "sobol"), out, study=res.name),
    "08_calibration_fit": lambda res, out: calibration.calibration_fit(d.prepare_calibration(res), out,
                                                                        study=res.name),
    "09_village_map": _map,
    "11_province_targets": lambda res, out: province.province_targets(d.prepare_province(res), out, study=res.name),
}


@dataclass
class FigureSet:
    folder: Path
    figures: list[FigureResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    font: str = ""

    def by_name(self) -> dict[str, FigureResult]:
        return {f.name: f for f in self.figures}


def _results(results: str | Path | Results) -> Results:
    return results if isinstance(results, Results) else Results(results)


def draw(name: str, results: str | Path | Results, out_dir: str | Path | None = None) -> FigureResult:
    """One figure; raises MissingResultsError naming what the folder lacks."""
    if name not in FIGURES:
        raise KeyError(f"unknown figure {name!r}; known: {list(FIGURES)}")
    res = _results(results)
    out = Path(out_dir) if out_dir else res.root / "figures"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(tight_layout|constrained_layout).*")
        warnings.filterwarnings("ignore", message="vert: bool was deprecated")  # seaborn 0.13 on matplotlib 3.11
        return FIGURES[name](res, out)


def _draw_or_skip(name: str, res: str | Path | Results, out: Path) -> FigureResult | str:
    try:
        return draw(name, res, out)
    except MissingResultsError as e:
        return str(e)


def make_figures(results: str | Path | Results, out_dir: str | Path | None = None,
                 only: list[str] | None = None, progress: bool = False, workers: int = 1) -> FigureSet:
    """Every figure the folder has data for; the others are skipped with a logged note.
    Also writes ``figures.json`` (names, titles, captions, files, skipped figures and why).
    ``progress``: a progress bar on stderr; ``workers``: figures drawn in that many processes at once
    (the runs are done by then, so the cores are free)."""
    res = _results(results)
    out = Path(out_dir) if out_dir else res.root / "figures"
    out.mkdir(parents=True, exist_ok=True)
    fs = FigureSet(out, font=font_note())
    names = only or list(FIGURES)
    bar = tqdm(total=len(names), desc="figures", unit="fig", file=sys.stderr, disable=not progress, leave=False)
    if workers > 1 and len(names) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(min(workers, len(names))) as pool:
            drawn = list(_counted(pool.map(_draw_or_skip, names, [res.root] * len(names), [out] * len(names)), bar))
    else:
        drawn = list(_counted((_draw_or_skip(n, res, out) for n in names), bar))
    bar.close()
    for name, got in zip(names, drawn):
        if isinstance(got, str):
            fs.skipped[name] = got
            log.info("skipped %s: %s", name, got)
        else:
            fs.figures.append(got)
    index = {"results": str(res.root.resolve()), "kind": res.kind, "font": fs.font, "formats": list(FORMATS),
             "figures": [{"name": f.name, "title": f.title, "caption": f.caption,
                          "files": [p.name for p in f.files], "size_px": list(f.size_px)} for f in fs.figures],
             "skipped": fs.skipped}
    tmp = out / ".figures.json.tmp"
    tmp.write_text(json.dumps(index, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(out / "figures.json")
    return fs


def _counted(items, bar):
    for item in items:
        bar.update()
        yield item


__all__ = ["FIGURES", "FigureResult", "DamagedResultsError", "FigureSet", "MissingResultsError", "Results", "draw", "make_figures"]
