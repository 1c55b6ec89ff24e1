"""A self-contained HTML report of a results folder (``countysim report DIR``).

One file, ``report.html``, that a planner can hand to a committee: the question, the scenarios
and what each changes (from the resolved configs), the KPI table with 95 % confidence
intervals, every figure (embedded as PNG) with a one-line caption, the replication and seed
details, and the model description following the STRESS-DES checklist (``docs/model.md`` plus
this study's values).  No external file, script or font is referenced: the Chinese glyphs the page
uses are embedded as a font subset, so it reads the same on a machine without Chinese fonts.

This module gathers each section's values; the markup lives in jinja2 templates
(``sim/outputs/templates/``, one per section), which escape every value they print.
"""
from __future__ import annotations

import base64
import io
import json
import math
import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import jinja2
import markupsafe
import numpy as np
import pandas as pd

import sim
from models.kpis import ALL_KPI_INFO
from sim.core.config_files import ConfigError
from sim.core.files import writable_folder
from sim.outputs import cjk_font
from sim.outputs.figures import FigureSet, make_figures
from sim.outputs.figures import style as fstyle
from sim.outputs.figures.data import MissingResultsError, Results
from sim.studies import kpi_text

MODEL_DOC = Path(sim.__file__).resolve().parent.parent / "docs" / "model.md"
TEMPLATES = Path(__file__).resolve().parent / "templates"  # the page, its sections and its stylesheet
IGNORED_KEYS = ("name", "description", "simulation.seed", "simulation.replications")
MAX_CHANGES = 60  # keys listed per scenario
FOLDED_CHANGES = 8  # more keys than this fold into a <details>
MAX_SCENARIOS = 60  # rows of the scenario table
MAX_TABLE_SCENARIOS = 40  # scenarios in the KPI tables
SCREEN_DPI = 150  # of an embedded figure: a page-wide figure fills the page's 1100 px; 2 MB for the report
KINDS = {"run": "single scenario run", "experiment": "scenario experiment", "sensitivity": "sensitivity analysis",
         "calibration": "calibration"}
DESIGNS = {"run": "one scenario", "experiment": "scenario comparison, paired by replication",
           "sensitivity": "global sensitivity analysis", "calibration": "calibration to observed targets"}
SECTIONS = (("question", "Question"), ("scenarios", "Scenarios"), ("results", "Results"), ("figures", "Figures"),
            ("replication", "Replications and seeds"), ("model", "Model description (STRESS-DES)"))


# ---------------------------------------------------------------------- entry point
def write_report(results: str | Path, out: str | Path | None = None, refresh_figures: bool = False) -> Path:
    """Write ``report.html`` (default: into the results folder); draw the figures first if they are
    missing or older than the results."""
    res = Results(results)
    res.require_runs("the report")
    path = Path(out) if out else res.root / "report.html"
    if path.is_dir():
        raise ConfigError(f"--out {path}: is a folder; give the report's file name, e.g. {path / 'report.html'}")
    writable_folder(path.parent, f"--out {path}: folder")
    index = _figure_index(res, refresh_figures)
    text = build_report(res, index)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def _figure_index(res: Results, refresh: bool) -> dict:
    folder = res.root / "figures"
    index_path = folder / "figures.json"
    stale = (not index_path.exists() or index_path.stat().st_mtime < (res.root / "manifest.json").stat().st_mtime)
    if not refresh and not stale:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        if all((folder / f).exists() for fig in index["figures"] for f in fig["files"]):
            return index
    fs: FigureSet = make_figures(res, folder)
    return json.loads((fs.folder / "figures.json").read_text(encoding="utf-8"))


def build_report(res: Results, figure_index: dict) -> str:
    """The page: the sections (templates/sections.html.j2) inside the shell with its table of
    contents, stylesheet and the font subset covering exactly the page's Chinese characters."""
    env = _environment()
    context = {"header": _header(res), "question": _question(res), "scenarios": _scenarios(res),
               "results": _results(res), "figures": _figures(res, figure_index), "replication": _replication(res),
               "model": _stress(res)}
    body = env.get_template("sections.html.j2").render(**context)
    title = f"{res.name} — countysim report"
    css = env.get_template("report.css").render(cjk_family=cjk_font.FAMILY)
    faces = cjk_font.font_face_css(title + body)  # the reader needs no CJK font of their own
    return env.get_template("report.html.j2").render(title=title, sections=SECTIONS, css=markupsafe.Markup(css),
                                                     font_faces=markupsafe.Markup(faces),
                                                     body=markupsafe.Markup(body))


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("sim.outputs", "templates"), autoescape=True,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined, finalize=lambda x: "" if x is None else x)
    env.globals["kpi"] = kpi_label
    return env


# ---------------------------------------------------------------------- formatting
def fmt_value(kpi: str, x: float) -> str:
    if x is None or not np.isfinite(x):
        return "–"
    if fstyle.is_share(kpi):
        return f"{100 * x:.1f} %"
    return kpi_text.number(kpi, x)


def fmt_ci(kpi: str, lo: float, hi: float, mean: float = float("nan")) -> str:
    """The interval with the decimals of its mean (non-shares), so the two line up."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "–"
    if fstyle.is_share(kpi):
        return f"[{100 * lo:.1f}, {100 * hi:.1f}]"
    return kpi_text.interval(kpi, lo, hi, kpi_text.decimals(kpi, mean if np.isfinite(mean) else hi))


def fmt_diff(kpi: str, m: float, lo: float, hi: float, mean: float = float("nan")) -> str:
    if not np.isfinite(m):
        return "–"
    if fstyle.is_share(kpi):
        ci = f" [{100 * lo:+.1f}, {100 * hi:+.1f}]" if np.isfinite(lo) and np.isfinite(hi) else ""
        return f"{100 * m:+.1f} pp{ci}"
    places = kpi_text.decimals(kpi, mean if np.isfinite(mean) else m)
    ci = " " + kpi_text.interval(kpi, lo, hi, places, sign=True) if np.isfinite(lo) and np.isfinite(hi) else ""
    return f"{kpi_text.number(kpi, m, places, sign=True)}{ci}"


class KpiLabel(NamedTuple):
    """A KPI as the tables name it: English, Chinese (中文名) and unit."""

    en: str
    zh: str
    unit: str


def kpi_label(kpi: str) -> KpiLabel:
    zh, unit = ALL_KPI_INFO.get(kpi, ("", ""))
    return KpiLabel(fstyle.english(kpi), zh, unit)


# ---------------------------------------------------------------------- config differences
def flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(d, list) and any(isinstance(v, (dict, list)) for v in d):
        for i, v in enumerate(d):
            out.update(flatten(v, f"{prefix}.{i}"))
    else:
        out[prefix] = d
    return out


def config_changes(reference: dict, scenario: dict) -> list[tuple[str, Any, Any]]:
    """(key, reference value, scenario value) for every resolved key that differs."""
    a, b = flatten(reference), flatten(scenario)
    out = []
    for k in dict.fromkeys([*a, *b]):
        if k in IGNORED_KEYS:
            continue
        va, vb = a.get(k, "(absent)"), b.get(k, "(absent)")
        if not _same(va, vb):
            out.append((k, va, vb))
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _short(v: Any, limit: int = 60) -> str:
    text = json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else str(v)
    return text if len(text) <= limit else text[:limit - 1] + "…"


# ---------------------------------------------------------------------- markdown (for docs/model.md)
def markdown_html(text: str, shift: int = 1) -> str:
    """CommonMark with tables (markdown-it-py); raw HTML is escaped, headings move down ``shift`` levels
    so the document's sections sit under the report's own."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(text)
    for t in tokens:
        if t.type in ("heading_open", "heading_close"):
            t.tag = f"h{min(int(t.tag[1]) + shift, 6)}"
        if t.type == "table_open":
            t.attrSet("class", "doc")
    return md.renderer.render(tokens, md.options, {})


# ---------------------------------------------------------------------- section values
def _header(res: Results) -> dict:
    return {"name": res.name, "kind": KINDS.get(res.kind, res.kind), "scenarios": len(res.scenarios),
            "replications": _replications(res), "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "version": _version(res), "commit": (_commit(res) or "")[:10]}


def _replications(res: Results) -> int:
    if res.is_batch:
        return int(res.manifest.get("seeds", {}).get("replications") or res.study.get("replications") or 0)
    return len(res.manifest.get("replication_seeds", []))


def _version(res: Results) -> str:
    return (res.manifest.get("versions") or {}).get("countysim") or res.manifest.get("package_version") or "?"


def _commit(res: Results) -> str | None:
    return res.manifest.get("git_commit")


def _software(res: Results) -> str:
    versions = res.manifest.get("versions") or {"countysim": res.manifest.get("package_version")}
    return ", ".join(f"{k} {v}" for k, v in versions.items() if v)


def _question(res: Results) -> dict:
    q = res.question or "(no question or description given in the study file: add `question:`)"
    desc = res.study.get("description")
    return {"text": q, "description": desc if desc and desc.strip() != q else "",
            "reference": res.reference if res.kind == "experiment" else ""}


def _scenarios(res: Results) -> dict:
    names = res.scenarios
    entries = {s["name"]: s for s in res.manifest.get("scenarios", [])}
    source = res.manifest.get("source") or res.manifest.get("base_config") or ""
    rows = []
    for name in names[:MAX_SCENARIOS]:
        e = entries.get(name, {})
        rows.append({"name": name, "description": res.descriptions.get(name, ""),
                     "config_file": Path(e.get("config_file") or "").name,
                     "overrides": _short("; ".join(e.get("overrides") or []), 200),
                     "changes": _changes(res, name, len(names), source)})
    return {"rows": rows, "total": len(names), "reference": res.reference}


def _changes(res: Results, name: str, n_scenarios: int, source: str) -> dict:
    """What a scenario changes: the reference itself, a single run's configuration, or the resolved
    keys that differ from the reference's."""
    none = {"single": "", "reference": False, "keys": [], "total": 0, "folded": False}
    if n_scenarios == 1:
        return {**none, "single": f"configuration {source}" if source else "as configured"}
    if name == res.reference:
        return {**none, "reference": True}
    if res.reference not in res.configs:  # a province's totals have no configuration to differ from
        return {**none, "single": "its config file and overrides"}
    diffs = config_changes(res.configs[res.reference], res.configs.get(name, {}))
    return {**none, "keys": [(k, _short(a), _short(b)) for k, a, b in diffs[:MAX_CHANGES]], "total": len(diffs),
            "folded": len(diffs) > FOLDED_CHANGES}


def _results(res: Results) -> dict:
    out: dict[str, Any] = {"kind": res.kind, "sensitivity": None, "warn": "", "calibration": None}
    if res.kind == "sensitivity":
        out["sensitivity"] = _sensitivity(res)
        return out
    try:
        summary = res.summary()
    except MissingResultsError as e:
        out["warn"] = str(e)
        return out
    scenarios = [s for s in res.scenarios if s in set(summary["scenario"])]
    shown_scenarios = scenarios[:MAX_TABLE_SCENARIOS]
    if res.kind == "calibration":
        out["calibration"] = _calibration(res)
    shown = res.shown_kpis()
    rest = [k for k in ALL_KPI_INFO if k in set(summary["kpi"]) and k not in shown]
    paired = len(scenarios) > 1 and "diff_mean" in summary.columns
    out.update(paired=paired, reference=res.reference, scenarios=len(scenarios),
               shown=len(shown_scenarios), kpis=_kpi_rows(res, summary, shown, shown_scenarios, paired),
               more_kpis=_kpi_rows(res, summary, rest, shown_scenarios, paired), all_kpis=len(rest) + len(shown),
               targets=plan_targets(res, shown_scenarios))
    return out


def _kpi_rows(res: Results, summary: pd.DataFrame, kpis: list[str], scenarios: list[str], paired: bool) -> list[dict]:
    """One row per (KPI, scenario); the KPI is named on its first row only."""
    rows = []
    for kpi in kpis:
        part = summary[summary["kpi"] == kpi].set_index("scenario")
        first = True
        for scen in (s for s in scenarios if s in part.index):
            r = part.loc[scen]
            diff = None
            if paired and scen != res.reference:
                diff = fmt_diff(kpi, r["diff_mean"], r["diff_ci_low"], r["diff_ci_high"], r["mean"])
            rows.append({"kpi": kpi if first else "", "scenario": scen, "mean": fmt_value(kpi, r["mean"]),
                         "ci": fmt_ci(kpi, r["ci_low"], r["ci_high"], r["mean"]), "n": int(r["n"]), "diff": diff})
            first = False
    return rows


def plan_targets(res: Results, scenarios: list[str]) -> dict:
    """Each plan's targets: the year first met (by the mean over replications) and the share of
    replications meeting it in its year."""
    from sim.studies.runner import target_status

    wanted = [(s, k, int(y), float(v)) for s in scenarios
              for k, row in (res.configs.get(s, {}).get("targets") or {}).items() for y, v in row.items()]
    if not wanted:
        return {"rows": [], "warn": ""}
    try:
        yearly = res.table("yearly", "plan targets")
    except MissingResultsError as e:
        return {"rows": [], "warn": str(e)}
    last = int(yearly["year"].max())
    rows = []
    for scen, kpi, year, value in wanted:
        st = target_status(yearly[yearly["scenario"] == scen], kpi, year, value)
        rows.append({"scenario": scen, "kpi": kpi, "target": f"≥ {fmt_value(kpi, value)} by {year}",
                     "first_met": str(st["first_met"]) if st["first_met"] is not None else f"not met by {last}",
                     "probability": f"{100 * st['probability']:.0f} %"})
    return {"rows": rows, "warn": ""}


def _sensitivity(res: Results) -> dict:
    settings = res.manifest.get("sensitivity", {})
    out = {"method": settings.get("method", "?"), "samples": settings.get("samples", "?"),
           "points": len(res.scenarios), "replications": _replications(res), "columns": [], "rows": [], "missing": False}
    path = res.root / "sensitivity.csv"
    if not path.exists():
        return {**out, "missing": True}
    df = pd.read_csv(path)
    cols = [c for c in df.columns if c not in ("kpi", "method", "parameter")]
    rows = [{"kpi": r["kpi"], "parameter": r["parameter"], "values": [f"{r[c]:.4g}" for c in cols]}
            for _, r in df.iterrows()]
    return {**out, "columns": cols, "rows": rows}


def _calibration(res: Results) -> dict:
    cal = res.manifest.get("calibration", {})
    out = {"method": cal.get("method", ""), "evaluations": cal.get("evaluations", "?"),
           "chi2": f"{cal.get('chi2', float('nan')):.4g}", "parameters": list(cal.get("parameters", {}).items()),
           "fit": []}
    path = res.root / "fit.csv"
    if path.exists():
        out["fit"] = [{"kpi": r.kpi, "observed": fmt_value(r.kpi, r.observed), "sd": fmt_value(r.kpi, r.sd),
                       "simulated": fmt_value(r.kpi, r.simulated_mean), "ci": fmt_ci(r.kpi, r.ci_low, r.ci_high),
                       "z": f"{r.z:+.2f}", "source": getattr(r, "source", "")
                       if isinstance(getattr(r, "source", ""), str) else ""}
                      for r in pd.read_csv(path).itertuples()]
    return out


def _figures(res: Results, index: dict) -> dict:
    folder = res.root / "figures"
    shown = []
    for fig in index.get("figures", []):
        png = next((f for f in fig["files"] if f.endswith(".png")), None)
        if png is not None:
            data = base64.b64encode(_screen_png(folder / png)).decode("ascii")
            shown.append({"name": fig["name"], "title": fig["title"], "caption": fig["caption"],
                          "src": f"data:image/png;base64,{data}"})
    skipped = [(k, str(v).replace(str(res.root) + ": ", "")) for k, v in index.get("skipped", {}).items()]
    return {"folder": str(folder), "font": index.get("font", ""), "shown": shown, "skipped": skipped}


def _screen_png(path: Path) -> bytes:
    """The figure for the page at SCREEN_DPI (a one-column figure half the width of a page-wide one, as
    printed), 256 colours, optimised; the 300-dpi original and the SVG stay in figures/."""
    from PIL import Image

    with Image.open(path) as im:
        dpi = float(im.info.get("dpi", (SCREEN_DPI,))[0])
        im = im.convert("RGB")
        if dpi > SCREEN_DPI:
            scale = SCREEN_DPI / dpi
            im = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)
        im = im.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        out = io.BytesIO()
        im.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _replication(res: Results) -> dict:
    """(label, value, shown as code) rows: period, hours, seeds, runs, software."""
    m = res.manifest
    sim_cfg = res.simulation()
    rows = [("simulated period", f"{sim_cfg.get('years', '?')} year(s) of {sim_cfg.get('days_per_year', 365)} days "
             f"after a warm-up of {sim_cfg.get('warmup_days', '?')} days (excluded from every KPI)", False),
            ("outpatient hours", _hours(sim_cfg), False)]
    if res.is_batch:
        seeds, runs, timings = m.get("seeds", {}), m.get("runs", {}), m.get("timings", {})
        rows += [("master seed", seeds.get("master_seed"), False),
                 ("replications per scenario", seeds.get("replications"), False),
                 ("seed scheme", seeds.get("scheme"), False),
                 ("runs", f"{runs.get('finished', '?')} of {runs.get('planned', '?')} finished, "
                          f"{runs.get('failed', 0)} failed", False),
                 ("executor", m.get("executor"), False),
                 ("computing time", f"{timings.get('run_seconds_total', 0):.1f} s in runs; "
                                    f"started {timings.get('started_utc')}", False),
                 ("study file", m.get("study_file"), True)]
    else:
        rows += [("master seed", m.get("master_seed"), False),
                 ("replications", len(m.get("replication_seeds", [])), False),
                 ("seed scheme", "replication r: numpy SeedSequence(master seed, spawn_key=(r,)); streams "
                                 f"{', '.join(m.get('streams', []))} spawn (r, i)", False),
                 ("computing time", f"{m.get('wall_seconds', 0):.1f} s", False),
                 ("scenario file", m.get("source"), True)]
    rows += [("software", _software(res), False), ("git commit", _commit(res) or "unknown", True)]
    return {"rows": rows, "study_text": m.get("study_text") or ""}


def _hours(sim_cfg: dict) -> str:
    try:
        start, length = float(sim_cfg["open_start_hour"]), float(sim_cfg["open_hours"])
    except (KeyError, TypeError, ValueError):
        return "–"

    def clock(h: float) -> str:
        return f"{int(h):02d}:{int(round((h % 1) * 60)):02d}"

    return f"{length:g} h a day, {clock(start)}–{clock(start + length)}"


def _stress(res: Results) -> dict:
    """This study's STRESS-DES values and docs/model.md as HTML."""
    sim_cfg = res.simulation()
    ref_cfg = res.configs.get(res.reference, {})
    m = res.manifest
    seeds = m.get("seeds", {}) if res.is_batch else {"master_seed": m.get("master_seed"),
                                                     "replications": len(m.get("replication_seeds", []))}
    if MODEL_DOC.exists():
        text = re.sub(r"^# .*\n", "", MODEL_DOC.read_text(encoding="utf-8"), count=1)
        doc = markupsafe.Markup(markdown_html(text, shift=1))  # markdown-it escapes the document's raw HTML
    else:
        doc = None
    return {"objective": res.question or "–", "kpis": res.shown_kpis(), "design": DESIGNS.get(res.kind, res.kind),
            "sweep": ", ".join(res.sweep_params), "scenarios": len(res.scenarios),
            "base": f"{ref_cfg.get('name', '')}: {(ref_cfg.get('description') or '').strip()}",
            "county": _county_text(ref_cfg), "warmup_days": sim_cfg.get("warmup_days"),
            "years": sim_cfg.get("years"), "replications": seeds.get("replications"),
            "master_seed": seeds.get("master_seed"), "executor": m.get("executor") or "process pool (countysim run)",
            "software": _software(res), "version": _version(res), "commit": _commit(res) or "unknown", "doc": doc}


def _county_text(cfg: dict) -> str:
    geo = cfg.get("geography", {})
    kind = geo.get("kind")
    if kind == "synthetic" and geo.get("synthetic"):
        s = geo["synthetic"]
        return (f"synthetic: {s.get('population'):,} residents, {s.get('townships')} townships × "
                f"{s.get('villages_per_township')} villages, {len(s.get('county_hospitals', []))} county hospital(s)")
    if kind == "roster" and geo.get("roster"):
        return f"facility roster {Path(geo['roster'].get('facilities_csv', '')).name}"
    return kind or ""


__all__ = ["build_report", "config_changes", "markdown_html", "plan_targets", "write_report"]
