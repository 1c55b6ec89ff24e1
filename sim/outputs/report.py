"""A self-contained HTML report of a results folder (``countysim report DIR``).

One file, ``report.html``, that a planner can hand to a committee: the question, the scenarios
and what each changes (from the resolved configs), the KPI table with 95 % confidence
intervals, every figure (embedded as PNG) with a one-line caption, the replication and seed
details, and the model description following the STRESS-DES checklist (``docs/model.md`` plus
this study's values).  No external file, script or font is referenced: the Chinese glyphs the page
uses are embedded as a font subset, so it reads the same on a machine without Chinese fonts.
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

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
TEMPLATES = Path(__file__).resolve().parent / "templates"  # the page and its stylesheet
IGNORED_KEYS = ("name", "description", "simulation.seed", "simulation.replications")
MAX_CHANGES = 60
SCREEN_WIDTH = 1500  # px of an embedded figure: sharp at the page width, small enough to mail


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


# ---------------------------------------------------------------------- formatting
def esc(x: Any) -> str:
    return html.escape("" if x is None else str(x))


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


def kpi_name(kpi: str) -> str:
    zh, unit = ALL_KPI_INFO.get(kpi, ("", ""))
    return f"{esc(fstyle.english(kpi))} <span class=zh>{esc(zh)}</span> <span class=unit>({esc(unit)})</span>"


def table(headers: list[str], rows: list[list[str]], cls: str = "") -> str:
    """Cells are HTML already (escape values before)."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


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


# ---------------------------------------------------------------------- sections
def _header(res: Results) -> str:
    kind = {"run": "single scenario run", "experiment": "scenario experiment", "sensitivity": "sensitivity analysis",
            "calibration": "calibration"}.get(res.kind, res.kind)
    nrep = _replications(res)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"<header><h1>{esc(res.name)}</h1><p class=meta>countysim {esc(kind)} · {len(res.scenarios)} "
            f"scenario(s) × {nrep} replication(s) · report written {when} · countysim "
            f"{esc(_version(res))}{' · git ' + esc(str(_commit(res))[:10]) if _commit(res) else ''}</p></header>")


def _replications(res: Results) -> int:
    if res.is_batch:
        return int(res.manifest.get("seeds", {}).get("replications") or res.study.get("replications") or 0)
    return len(res.manifest.get("replication_seeds", []))


def _version(res: Results) -> str:
    return (res.manifest.get("versions") or {}).get("countysim") or res.manifest.get("package_version") or "?"


def _commit(res: Results) -> str | None:
    return res.manifest.get("git_commit")


def _question(res: Results) -> str:
    q = res.question or "(no question or description given in the study file: add `question:`)"
    extra = ""
    if res.kind == "experiment":
        extra = (f"<p>Scenarios are compared with <strong>{esc(res.reference)}</strong> as the reference: every "
                 f"difference is paired replication by replication (common random numbers).</p>")
    desc = res.study.get("description")
    more = f"<p>{esc(desc)}</p>" if desc and desc.strip() != q else ""
    return f"<section id=question><h2>Question</h2><p class=question>{esc(q)}</p>{more}{extra}</section>"


def _scenarios(res: Results) -> str:
    configs = res.configs
    ref_cfg = configs.get(res.reference, {})
    descs = res.descriptions
    entries = {s["name"]: s for s in res.manifest.get("scenarios", [])}
    names = res.scenarios
    shown = names if len(names) <= 60 else names[:60]
    rows = []
    for name in shown:
        cfg = configs.get(name, {})
        if name == res.reference and len(names) > 1:
            change = "<em>reference</em>"
        elif len(names) == 1:
            src = res.manifest.get("source") or res.manifest.get("base_config") or ""
            change = f"configuration {esc(src)}" if src else "as configured"
        else:
            diffs = config_changes(ref_cfg, cfg)
            items = "".join(f"<li><code>{esc(k)}</code>: {esc(_short(a))} → <strong>{esc(_short(b))}</strong></li>"
                            for k, a, b in diffs[:MAX_CHANGES])
            if len(diffs) > MAX_CHANGES:
                items += f"<li>… and {len(diffs) - MAX_CHANGES} more keys</li>"
            body = f"<ul class=changes>{items}</ul>" if diffs else "no difference in the resolved configuration"
            change = body if len(diffs) <= 8 else f"<details><summary>{len(diffs)} keys differ</summary>{body}</details>"
        e = entries.get(name, {})
        cfg_file = Path(e.get("config_file") or "").name
        over = "; ".join(e.get("overrides") or [])
        how = esc(cfg_file) + (f"<br><code class=small>{esc(_short(over, 200))}</code>" if over else "")
        rows.append([f"<strong>{esc(name)}</strong>", esc(descs.get(name, "")), how or "–", change])
    note = f"<p>First 60 of {len(names)} scenarios shown.</p>" if len(names) > 60 else ""
    heads = ["scenario", "description", "config file and overrides", f"what it changes (vs {esc(res.reference)})"]
    return f"<section id=scenarios><h2>Scenarios</h2>{table(heads, rows, 'scenarios')}{note}</section>"


def _kpi_table(res: Results, summary: pd.DataFrame, kpis: list[str], scenarios: list[str]) -> str:
    paired = len(scenarios) > 1 and "diff_mean" in summary.columns
    rows = []
    for kpi in kpis:
        part = summary[summary["kpi"] == kpi].set_index("scenario")
        first = True
        for scen in scenarios:
            if scen not in part.index:
                continue
            r = part.loc[scen]
            row = [kpi_name(kpi) if first else "", esc(scen), fmt_value(kpi, r["mean"]),
                   fmt_ci(kpi, r["ci_low"], r["ci_high"], r["mean"]), str(int(r["n"]))]
            if paired:
                row.append("<em>reference</em>" if scen == res.reference else
                           fmt_diff(kpi, r["diff_mean"], r["diff_ci_low"], r["diff_ci_high"], r["mean"]))
            rows.append(row)
            first = False
    heads = ["KPI", "scenario", "mean", "95 % CI", "n"] + ([f"Δ vs {esc(res.reference)} [95 % CI, paired]"]
                                                          if paired else [])
    return table(heads, rows, "kpis")


def _results_section(res: Results) -> str:
    parts = ["<section id=results><h2>Results</h2>"]
    if res.kind == "sensitivity":
        parts.append(_sensitivity_tables(res))
    else:
        try:
            summary = res.summary()
        except MissingResultsError as e:
            return f"<section id=results><h2>Results</h2><p class=warn>{esc(e)}</p></section>"
        scenarios = [s for s in res.scenarios if s in set(summary["scenario"])]
        if res.kind == "calibration":
            parts.append(_calibration_tables(res))
        parts.append("<h3>Key performance indicators</h3><p>Mean over replications with 95 % t confidence "
                     "intervals" + ("; Δ is the paired difference from the reference (pp = percentage points)."
                                    if len(scenarios) > 1 else ".") + "</p>")
        shown = res.shown_kpis()
        parts.append(_kpi_table(res, summary, shown, scenarios[:40]))
        rest = [k for k in ALL_KPI_INFO if k in set(summary["kpi"]) and k not in shown]
        if rest:
            parts.append(f"<details><summary>All {len(rest) + len(shown)} KPIs</summary>"
                         f"{_kpi_table(res, summary, rest, scenarios[:40])}</details>")
        if len(scenarios) > 40:
            parts.append(f"<p>The tables show the first 40 of {len(scenarios)} scenarios; "
                         f"<code>summary.csv</code> has all.</p>")
        parts.append(_targets_table(res, scenarios[:40]))
    parts.append("</section>")
    return "".join(parts)


def _targets_table(res: Results, scenarios: list[str]) -> str:
    """Each plan's targets: the year first met (by the mean over replications) and the share of
    replications meeting it in its year."""
    from sim.studies.runner import target_status

    wanted = [(s, k, int(y), float(v)) for s in scenarios
              for k, row in (res.configs.get(s, {}).get("targets") or {}).items() for y, v in row.items()]
    if not wanted:
        return ""
    try:
        yearly = res.table("yearly", "plan targets")
    except MissingResultsError as e:
        return f"<p class=warn>{esc(e)}</p>"
    rows = []
    for scen, kpi, year, value in wanted:
        st = target_status(yearly[yearly["scenario"] == scen], kpi, year, value)
        last = int(yearly["year"].max())
        first = str(st["first_met"]) if st["first_met"] is not None else f"not met by {last}"
        rows.append([esc(scen), kpi_name(kpi), f"≥ {fmt_value(kpi, value)} by {year}", esc(first),
                     f"{100 * st['probability']:.0f} %"])
    return ("<h3>Plan targets</h3><p>A target is met in a year when the KPI is at least its value; the first "
            "year is judged by the mean over replications, the probability is the share of replications "
            "meeting the target in its year.</p>"
            + table(["scenario", "KPI", "target", "first met", "met in its year"], rows, "targets"))


def _sensitivity_tables(res: Results) -> str:
    path = res.root / "sensitivity.csv"
    settings = res.manifest.get("sensitivity", {})
    intro = (f"<p>{esc(settings.get('method', '?'))} analysis with {esc(settings.get('samples', '?'))} "
             f"{'trajectories' if settings.get('method') == 'morris' else 'base samples'} "
             f"({len(res.scenarios)} sample points × {_replications(res)} replication(s)).</p>")
    if not path.exists():
        return intro + "<p class=warn>sensitivity.csv is missing: the analysis did not finish.</p>"
    df = pd.read_csv(path)
    cols = [c for c in df.columns if c not in ("kpi", "method")]
    rows = [[kpi_name(r["kpi"]), esc(r["parameter"])] + [f"{r[c]:.4g}" for c in cols if c != "parameter"]
            for _, r in df.iterrows()]
    return intro + table(["KPI", "parameter"] + [esc(c) for c in cols if c != "parameter"], rows, "kpis")


def _calibration_tables(res: Results) -> str:
    cal = res.manifest.get("calibration", {})
    params = cal.get("parameters", {})
    out = [f"<h3>Calibration</h3><p>{esc(cal.get('method', ''))} search, {esc(cal.get('evaluations', '?'))} "
           f"evaluations, χ² = {cal.get('chi2', float('nan')):.4g} at the optimum.</p>"]
    if params:
        out.append(table(["fitted parameter", "value"], [[f"<code>{esc(k)}</code>", esc(v)] for k, v in params.items()]))
    path = res.root / "fit.csv"
    if path.exists():
        fit = pd.read_csv(path)
        rows = [[kpi_name(r.kpi), fmt_value(r.kpi, r.observed), fmt_value(r.kpi, r.sd),
                 fmt_value(r.kpi, r.simulated_mean), fmt_ci(r.kpi, r.ci_low, r.ci_high), f"{r.z:+.2f}",
                 esc(getattr(r, "source", "") if isinstance(getattr(r, "source", ""), str) else "")]
                for r in fit.itertuples()]
        out.append(table(["target", "observed", "sd", "simulated", "95 % CI", "z", "source"], rows, "kpis"))
    return "".join(out)


def _figures(res: Results, index: dict) -> str:
    folder = res.root / "figures"
    out = ["<section id=figures><h2>Figures</h2>",
           f"<p class=small>Also in <code>{esc(folder)}</code> as PNG (300 dpi) and SVG. "
           f"{esc(index.get('font', ''))}.</p>"]
    for i, fig in enumerate(index.get("figures", []), start=1):
        png = next((f for f in fig["files"] if f.endswith(".png")), None)
        if png is None:
            continue
        data = base64.b64encode(_screen_png(folder / png)).decode("ascii")
        out.append(f"<figure id='{esc(fig['name'])}'><img alt='{esc(fig['title'])}' "
                   f"src='data:image/png;base64,{data}'><figcaption><strong>Figure {i}. {esc(fig['title'])}.</strong> "
                   f"{esc(fig['caption'])}</figcaption></figure>")
    skipped = index.get("skipped", {})
    if skipped:
        items = "".join(f"<li><code>{esc(k)}</code>: {esc(str(v).replace(str(res.root) + ': ', ''))}</li>"
                        for k, v in skipped.items())
        out.append(f"<details><summary>{len(skipped)} figure(s) not drawn for this folder</summary>"
                   f"<ul class=small>{items}</ul></details>")
    out.append("</section>")
    return "".join(out)


def _screen_png(path: Path) -> bytes:
    """The figure for the page: at most SCREEN_WIDTH px wide (sharp on a high-density screen and in
    print at the page's width), 256 colours, optimised; the 300-dpi original stays in figures/."""
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        if im.width > SCREEN_WIDTH:
            im = im.resize((SCREEN_WIDTH, round(im.height * SCREEN_WIDTH / im.width)), Image.Resampling.LANCZOS)
        im = im.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        out = io.BytesIO()
        im.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _replication(res: Results) -> str:
    m = res.manifest
    sim_cfg = res.simulation()
    rows = [["simulated period", f"{sim_cfg.get('years', '?')} year(s) of {sim_cfg.get('days_per_year', 365)} days "
             f"after a warm-up of {sim_cfg.get('warmup_days', '?')} days (excluded from every KPI)"],
            ["outpatient hours", _hours(sim_cfg)]]
    if res.is_batch:
        seeds = m.get("seeds", {})
        runs = m.get("runs", {})
        timings = m.get("timings", {})
        rows += [["master seed", esc(seeds.get("master_seed"))],
                 ["replications per scenario", esc(seeds.get("replications"))],
                 ["seed scheme", esc(seeds.get("scheme"))],
                 ["runs", f"{runs.get('finished', '?')} of {runs.get('planned', '?')} finished, "
                          f"{runs.get('failed', 0)} failed"],
                 ["executor", esc(m.get("executor"))],
                 ["computing time", f"{timings.get('run_seconds_total', 0):.1f} s in runs; "
                                    f"started {esc(timings.get('started_utc'))}"],
                 ["study file", f"<code>{esc(m.get('study_file'))}</code>"]]
    else:
        reps = m.get("replication_seeds", [])
        rows += [["master seed", esc(m.get("master_seed"))],
                 ["replications", str(len(reps))],
                 ["seed scheme", "replication r: numpy SeedSequence(master seed, spawn_key=(r,)); streams "
                                 f"{esc(', '.join(m.get('streams', [])))} spawn (r, i)"],
                 ["computing time", f"{m.get('wall_seconds', 0):.1f} s"],
                 ["scenario file", f"<code>{esc(m.get('source'))}</code>"]]
    versions = m.get("versions") or {"countysim": m.get("package_version")}
    rows += [["software", esc(", ".join(f"{k} {v}" for k, v in versions.items() if v))],
             ["git commit", f"<code>{esc(_commit(res) or 'unknown')}</code>"]]
    study_text = m.get("study_text")
    extra = (f"<details><summary>Study file as run</summary><pre>{esc(study_text)}</pre></details>"
             if study_text else "")
    return (f"<section id=replication><h2>Replications and seeds</h2>{table(['', ''], rows, 'facts')}{extra}"
            "</section>")


def _hours(sim_cfg: dict) -> str:
    try:
        start, length = float(sim_cfg["open_start_hour"]), float(sim_cfg["open_hours"])
    except (KeyError, TypeError, ValueError):
        return "–"

    def clock(h: float) -> str:
        return f"{int(h):02d}:{int(round((h % 1) * 60)):02d}"

    return f"{length:g} h a day, {clock(start)}–{clock(start + length)}"


def _stress(res: Results) -> str:
    sim_cfg = res.simulation()
    ref_cfg = res.configs.get(res.reference, {})
    m = res.manifest
    seeds = m.get("seeds", {}) if res.is_batch else {"master_seed": m.get("master_seed"),
                                                     "replications": len(m.get("replication_seeds", []))}
    versions = m.get("versions") or {"countysim": m.get("package_version")}
    rows = [
        ["1.1 Objective", esc(res.question or "–")],
        ["1.2 Outputs shown", ", ".join(f"<code>{esc(k)}</code>" for k in res.shown_kpis())
         + " (all KPIs in the tables)"],
        ["1.3 Experimentation", esc({"run": "one scenario", "experiment": "scenario comparison, paired by replication",
                                     "sensitivity": "global sensitivity analysis",
                                     "calibration": "calibration to observed targets"}.get(res.kind, res.kind))
         + (f"; sweep over {', '.join(res.sweep_params)}" if res.sweep_params else "")],
        ["2.3 Scenario logic", f"{len(res.scenarios)} scenario(s); see <a href='#scenarios'>Scenarios</a>"],
        ["3.1 Base configuration", esc(ref_cfg.get("name", "")) + ": " + esc((ref_cfg.get("description") or "").strip())],
        ["3.3 County", _county_text(ref_cfg)],
        ["4.1 Warm-up", f"{esc(sim_cfg.get('warmup_days'))} days, excluded from every KPI"],
        ["4.2 Run length", f"{esc(sim_cfg.get('years'))} year(s) after the warm-up"],
        ["4.3 Replications", f"{esc(seeds.get('replications'))} per scenario; 95 % t intervals; paired differences "
                             "with common random numbers"],
        ["5.2 Random numbers", f"master seed {esc(seeds.get('master_seed'))}; streams arrivals, choice, service, "
                               "referral per replication"],
        ["5.3 Execution", esc(m.get("executor") or "process pool (countysim run)")],
        ["5.4 Software", esc(", ".join(f"{k} {v}" for k, v in versions.items() if v))],
        ["6 Code access", f"countysim {esc(_version(res))}, git commit <code>{esc(_commit(res) or 'unknown')}</code>"],
    ]
    if MODEL_DOC.exists():
        text = MODEL_DOC.read_text(encoding="utf-8")
        text = re.sub(r"^# .*\n", "", text, count=1)
        doc = markdown_html(text, shift=1)
    else:
        doc = "<p class=warn>docs/model.md was not found next to the installed package.</p>"
    return ("<section id=model><h2>Model description (STRESS-DES)</h2>"
            "<h3>This study</h3>" + table(["STRESS-DES item", "value"], [[r[0], r[1]] for r in rows], "facts")
            + "<details open><summary>Model documentation (docs/model.md)</summary>" + doc + "</details></section>")


def _county_text(cfg: dict) -> str:
    geo = cfg.get("geography", {})
    kind = geo.get("kind")
    if kind == "synthetic" and geo.get("synthetic"):
        s = geo["synthetic"]
        return esc(f"synthetic: {s.get('population'):,} residents, {s.get('townships')} townships × "
                   f"{s.get('villages_per_township')} villages, {len(s.get('county_hospitals', []))} county hospital(s)")
    if kind == "roster" and geo.get("roster"):
        return esc(f"facility roster {Path(geo['roster'].get('facilities_csv', '')).name}")
    return esc(kind or "")


SECTIONS = (("question", "Question"), ("scenarios", "Scenarios"), ("results", "Results"), ("figures", "Figures"),
            ("replication", "Replications and seeds"), ("model", "Model description (STRESS-DES)"))


def build_report(res: Results, figure_index: dict) -> str:
    body = "".join([_header(res), _question(res), _scenarios(res), _results_section(res),
                    _figures(res, figure_index), _replication(res), _stress(res)])
    title = f"{res.name} — countysim report"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, keep_trailing_newline=True)
    css = env.get_template("report.css").render(cjk_family=cjk_font.FAMILY)
    # the embedded font holds exactly the Chinese characters of this page (the reader needs no CJK font)
    faces = cjk_font.font_face_css(title + body)
    return env.get_template("report.html.j2").render(title=title, sections=SECTIONS, css=markupsafe.Markup(css),
                                                     font_faces=markupsafe.Markup(faces),
                                                     body=markupsafe.Markup(body))


__all__ = ["build_report", "config_changes", "markdown_html", "write_report"]
