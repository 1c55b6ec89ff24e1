"""The policy lab (政策实验室): a Streamlit page over the Python API — pick a county, compose a phased
plan, run it against the baseline with common random numbers, read and download the results.

Started by ``countysim lab``.  The page holds no simulation logic: counties and plans are loaded
and validated by ``sim.outputs.api`` (the same code as ``countysim validate``), runs are experiment
batches in a process of their own (``sim.outputs.lab.jobs``), and every table and figure comes from
the results folder (``sim.outputs.lab.views``).  The lab writes only under its results folder
(``COUNTYSIM_LAB_RESULTS``, default ``results/lab``).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import streamlit as st

from models.loading import resolved_dict
from sim.outputs import api as cs
from sim.outputs.figures.data import MissingResultsError
from sim.outputs.lab import catalogue, jobs, plans, views
from sim.studies.pools import default_workers

LAB = Path(os.environ.get("COUNTYSIM_LAB_RESULTS", "results/lab")).resolve()
TARGET_KPIS = list(plans.DEFAULT_TARGETS)
ACTIVE = ("queued", "running")
S = st.session_state


# --------------------------------------------------------------------------- cached look-ups
@st.cache_data(show_spinner="Checking the county…")
def county_info(path: str) -> tuple[dict, list, str, str]:
    """(schedulable values, lever catalogue, name, description) of a county config; ConfigError if invalid."""
    sc = cs.load(path)
    resolved = resolved_dict(sc)
    values = catalogue.county_values(resolved)
    return values, catalogue.catalogue(resolved), sc.name, (sc.description or "").strip()


@st.cache_resource
def children() -> list:
    return []


def reap() -> None:
    """Collect finished job processes started by this server."""
    for p in list(children()):
        if p.poll() is not None:
            children().remove(p)


# --------------------------------------------------------------------------- plan state
def wkey(key: str, year: int) -> str:
    return f"v:{key}:{year}"


def calendar() -> list[int]:
    return list(range(int(S.start_year), int(S.start_year) + int(S.years)))


def fill_forward(key: str, year: int) -> None:
    """A value set for one year holds in the later years that still had the old value."""
    new, old = S[wkey(key, year)], S.shadow.get((key, year))
    for y in calendar():
        if y > year and wkey(key, y) in S and S[wkey(key, y)] == old:
            S[wkey(key, y)] = new
            S.shadow[(key, y)] = new
    S.shadow[(key, year)] = new


def ensure_value(key: str, year: int, county_value) -> None:
    """A year's widget starts at the year before's value, else the county's."""
    if wkey(key, year) not in S:
        before = S.get(wkey(key, year - 1))
        S[wkey(key, year)] = before if before is not None else county_value
    S.shadow.setdefault((key, year), S[wkey(key, year)])


def current_plan(county: Path, levers: list) -> plans.LabPlan:
    values = {}
    for lever in levers:
        if S.get(f"on:{lever.ident}"):
            for s in lever.settings:
                values[s.key] = {y: S.get(wkey(s.key, y)) for y in calendar()}
    targets = {k: {int(S[f"t_year:{k}"]): float(S[f"t_val:{k}"])} for k in TARGET_KPIS if S.get(f"t_on:{k}")}
    targets.update({k: v for k, v in S.get("extra_targets", {}).items() if k not in TARGET_KPIS})
    return plans.LabPlan(county=county, name=S.plan_name.strip(), description=S.plan_desc.strip(),
                         start_year=int(S.start_year), years=int(S.years), ramp=S.ramp, values=values,
                         targets=targets, extra=S.get("extra", {}), extra_schedule=S.get("extra_schedule", {}))


def open_plan(path: Path) -> None:
    """Load a plan file into the page (a button callback: runs before the widgets are drawn)."""
    try:
        def county_values(p: Path) -> dict:
            return county_info(str(p))[0]

        known = set()
        plan = plans.from_file(path, county_values, known=set())
        levers = county_info(str(plan.county))[1]
        known = {s.key for lever in levers for s in lever.settings}
        plan = plans.from_file(path, county_values, known=known)
    except cs.ConfigError as e:
        S.open_error = str(e)
        return
    for k in [k for k in S.keys() if str(k).startswith(("v:", "on:"))]:
        del S[k]
    S.shadow = {}
    label = plans.county_label(plan.county)
    S.county_choice = label if label in plans.COUNTIES else "upload" if label.startswith("upload") else "other"
    S.county_path = str(plan.county)
    S.plan_name, S.plan_desc, S.start_year, S.years, S.ramp = (plan.name, plan.description, plan.start_year,
                                                               plan.years, plan.ramp)
    on = {lever.ident for lever in levers for s in lever.settings if s.key in plan.values}
    county_vals = county_info(str(plan.county))[0]
    for lever in levers:
        S[f"on:{lever.ident}"] = lever.ident in on
        if lever.ident in on:
            for s in lever.settings:
                for y in plan.calendar:
                    S[wkey(s.key, y)] = plan.values.get(s.key, {}).get(y, county_vals.get(s.key))
    for k in TARGET_KPIS:
        row = plan.targets.get(k, {})
        S[f"t_on:{k}"] = bool(row)
        if row:
            y, v = sorted(row.items())[-1]
            S[f"t_year:{k}"], S[f"t_val:{k}"] = int(y), float(v)
    S.extra, S.extra_schedule = plan.extra, plan.extra_schedule
    S.extra_targets = {k: v for k, v in plan.targets.items() if k not in TARGET_KPIS}
    S.open_error = None


def defaults() -> None:
    for k, v in {"plan_name": "my_plan", "plan_desc": "", "start_year": 2024, "years": 4, "ramp": "step",
                 "county_choice": "baseline", "shadow": {}, "mode": "quick", "replications": 10,
                 "workers": default_workers(), "scheduler": ""}.items():
        S.setdefault(k, v)
    for k, v in plans.DEFAULT_TARGETS.items():
        S.setdefault(f"t_on:{k}", True)
        S.setdefault(f"t_val:{k}", v)


# --------------------------------------------------------------------------- page parts
def choose_county() -> Path | None:
    st.sidebar.header("1 · County")
    options = {"baseline": "Baseline county (synthetic, 500,000 residents)",
               "huairou": "Huairou roster (configs/huairou.yaml)", "upload": "Upload a roster CSV"}
    if S.get("county_choice") == "other":
        options["other"] = f"From the opened plan: {S.get('county_path')}"
    st.sidebar.radio("County", list(options), format_func=options.get, key="county_choice")
    if S.county_choice in plans.COUNTIES:
        return plans.COUNTIES[S.county_choice]
    if S.county_choice == "other":
        return Path(S.county_path)
    st.sidebar.caption(f"Facilities CSV with columns {', '.join(_roster_columns())}; townships CSV optional "
                       f"(Huairou's otherwise). At most {plans.MAX_UPLOAD_BYTES // 1000:,} kB each; read as data only.")
    fac = st.sidebar.file_uploader("Facilities CSV", type=["csv"], key="up_fac")
    town = st.sidebar.file_uploader("Townships CSV (optional)", type=["csv"], key="up_town")
    if fac is None:
        if S.get("county_path") and "uploads" in S.county_path:
            return Path(S.county_path)
        st.sidebar.info("Upload a facilities CSV to use your own roster.")
        return None
    try:
        path = plans.save_upload(LAB, (fac.name, fac.getvalue()), (town.name, town.getvalue()) if town else None)
    except cs.ConfigError as e:
        st.sidebar.error(str(e))
        return None
    S.county_path = str(path)
    return path


def _roster_columns() -> list[str]:
    from models.geography import FACILITY_COLUMNS

    return list(FACILITY_COLUMNS)


def open_section() -> None:
    st.sidebar.header("Open")
    saved = sorted((LAB / "plans").glob("*.yaml")) + sorted(plans.EXAMPLE_PLANS.glob("*.yaml"))
    if saved:
        names = {str(p): (f"saved: {p.stem}" if p.parent == LAB / "plans" else f"example: {p.stem}") for p in saved}
        choice = st.sidebar.selectbox("A saved or example plan", list(names), format_func=names.get, key="open_choice")
        st.sidebar.button("Open plan", on_click=open_plan, args=(Path(choice),), key="open_btn")
    if S.get("open_error"):
        st.sidebar.error(S.open_error)


def compose(county: Path, values: dict, levers: list) -> None:
    st.header("2 · Plan")
    c = st.columns([2, 3, 1, 1, 1])
    c[0].text_input("Plan name", key="plan_name", help="letters, digits, _ - . (names the results folder)")
    c[1].text_input("Description", key="plan_desc")
    c[2].number_input("First year", min_value=1949, max_value=2200, step=1, key="start_year")
    c[3].number_input("Years", min_value=1, max_value=15, step=1, key="years")
    c[4].radio("Between years", ["step", "linear"], key="ramp",
               help="step: a value holds from 1 January of its year; linear: moves month by month to the next")
    years = calendar()
    st.subheader("Targets")
    tc = st.columns(len(TARGET_KPIS))
    for col, k in zip(tc, TARGET_KPIS):
        col.checkbox(f"{views.label(k)} ≥", key=f"t_on:{k}")
        S.setdefault(f"t_year:{k}", years[-1])
        if S[f"t_year:{k}"] not in years:
            S[f"t_year:{k}"] = years[-1]
        a, b = col.columns(2)
        a.number_input("value", 0.0, 1.0, step=0.01, format="%.2f", key=f"t_val:{k}", label_visibility="collapsed")
        b.selectbox("by year", years, key=f"t_year:{k}", label_visibility="collapsed")
    st.subheader("Levers")
    st.caption(f"Switch a lever on, then set its value in each calendar year. A value you change holds in the "
               f"later years until you change it again. Values start at the county's "
               f"({plans.county_label(county)}).")
    for lever in levers:
        st.toggle(lever.title, key=f"on:{lever.ident}", help=lever.explanation)
        if not S.get(f"on:{lever.ident}"):
            continue
        with st.container(border=True):
            st.caption(lever.explanation)
            head = st.columns([3] + [1] * len(years))
            head[0].markdown("**setting** (allowed values)")
            for h, y in zip(head[1:], years):
                h.markdown(f"**{y}**")
            for s in lever.settings:
                row = st.columns([3] + [1] * len(years))
                row[0].markdown(f"`{s.key}`  \n{s.description} ({s.allowed()})")
                for cell, y in zip(row[1:], years):
                    ensure_value(s.key, y, values.get(s.key))
                    _value_widget(cell, s, y)
    if S.get("extra_schedule"):
        st.info("Also scheduled by the opened plan (kept as written): " +
                "; ".join(f"{y}: {k} = {v}" for y, row in S.extra_schedule.items() for k, v in row.items()))


def _value_widget(cell, s: catalogue.Setting, year: int) -> None:
    label = f"{s.key} {year}"
    kw = {"key": wkey(s.key, year), "on_change": fill_forward, "args": (s.key, year), "label_visibility": "collapsed"}
    if s.kind == "bool":
        cell.checkbox(label, **kw)
        return
    if s.kind == "int":
        S[wkey(s.key, year)] = int(S[wkey(s.key, year)])
        cell.number_input(label, min_value=None if s.low is None else int(s.low),
                          max_value=None if s.high is None else int(s.high), step=1, **kw)
        return
    S[wkey(s.key, year)] = float(S[wkey(s.key, year)])
    step = s.step(S[wkey(s.key, year)])
    cell.number_input(label, min_value=s.low, max_value=s.high, step=float(step),
                      format="%.2f" if step < 1 else "%.0f", **kw)


def plan_files(plan: plans.LabPlan, values: dict) -> None:
    c = st.columns(3)
    try:
        plan.check_name()
        text = plans.to_yaml(plan, values)
    except cs.ConfigError as e:
        st.error(str(e))
        return
    c[0].download_button("Download plan (YAML)", text, file_name=f"{plan.name}.yaml", mime="application/x-yaml",
                         key="dl_plan")
    if c[1].button("Save plan in the lab", key="save_plan"):
        (LAB / "plans").mkdir(parents=True, exist_ok=True)
        (LAB / "plans" / f"{plan.name}.yaml").write_text(text, encoding="utf-8")
        c[1].success(f"saved as {plan.name}")
    with st.expander("The plan as YAML (what `countysim run` reads)"):
        st.code(text, language="yaml")


def run_section(plan: plans.LabPlan, values: dict) -> None:
    st.header("3 · Run against the baseline")
    modes = {"quick": f"Quick: a {jobs.QUICK_SHARE:.0%} county sample (residents, doctors and beds), "
                      f"{jobs.QUICK_REPLICATIONS} replications — for direction, in seconds",
             "full": "Full: the whole county, in the background (leave the page and come back)"}
    st.radio("Mode", list(modes), format_func=modes.get, key="mode")
    c = st.columns(3)
    if S.mode == "full":
        c[0].number_input("Replications", min_value=2, max_value=1000, step=1, key="replications")
    c[1].number_input("Local worker processes", min_value=1, max_value=256, step=1, key="workers")
    c[2].text_input("Dask scheduler (optional)", key="scheduler", placeholder="tcp://10.0.0.5:8786",
                    help="runs go to this Dask cluster instead of local processes, as `--scheduler`")
    st.caption("Baseline and plan share random numbers replication by replication (common random numbers), "
               "so their difference is measured tightly.")
    if st.button("Run", type="primary", key="run_btn"):
        scheduler = S.scheduler.strip() or None
        try:
            folder = jobs.prepare_run(LAB, plan, values, S.mode, replications=S.replications,
                                      workers=None if scheduler else int(S.workers), scheduler=scheduler)
        except cs.ConfigError as e:
            st.error(plans.readable_error(str(e), plan.county))
            return
        reap()
        children().append(jobs.start(folder))
        S.selected_run = str(folder)
        if S.mode == "quick":
            wait_for(folder)


def wait_for(folder: Path) -> None:
    bar = st.progress(0.0, text="starting…")
    while True:
        stat = jobs.status(folder)
        if stat["state"] not in ACTIVE:
            bar.progress(1.0, text=f"{stat['state']} in {stat.get('elapsed', 0):.0f} s")
            return
        bar.progress(*_progress(stat))
        time.sleep(0.5)


def _progress(stat: dict) -> tuple[float, str]:
    done, total = stat.get("done", 0), max(1, stat.get("total", 1))
    eta = stat.get("eta")
    left = f", about {eta:.0f} s left" if eta is not None else ", estimating time left…"
    return done / total, f"{done}/{total} runs, {stat.get('elapsed', 0):.0f} s{left}"


def results_section() -> None:
    st.header("4 · Results")
    runs = jobs.list_runs(LAB)
    if not runs:
        st.caption("No runs yet: runs of this lab are listed here, newest first.")
        return
    labels = {str(r["folder"]): f"{r['folder'].name} · {r['county']} · {r['state']}" for r in runs}
    if S.get("selected_run") not in labels:
        S.selected_run = next(iter(labels))
    st.selectbox("Run", list(labels), format_func=labels.get, key="selected_run")
    folder = Path(S.selected_run)
    c = st.columns(2)
    c[0].button("Open this run's plan in the editor", on_click=open_plan, args=(folder / "plan.yaml",),
                key="reopen")
    run_status(folder)


@st.fragment(run_every=2.0)
def run_status(folder: Path) -> None:
    stat = jobs.status(folder)
    if stat["state"] in ACTIVE:
        st.progress(*_progress(stat))
        st.info("This run goes on in the background: you can leave the page and pick it from the list later.")
        return
    if stat["state"] in ("failed", "interrupted", "unknown"):
        st.error(f"Run {stat['state']}: {stat.get('error') or 'see job.log in the run folder'}")
        return
    if S.get("shown_run") != str(folder):  # first time this run is seen finished: draw it in the whole page
        S.shown_run = str(folder)
        st.rerun()
    show_results(folder, stat)


def show_results(folder: Path, stat: dict) -> None:
    job = jobs.read_job(folder)
    res = views.results(folder / "results")
    if job.get("mode") == "quick":
        st.warning(f"Quick run: a {job['sample_share']:.0%} sample of the county (residents, doctors and beds) and "
                   f"{job['replications']} replications. Use it for direction; run Full mode for figures to cite.")
    st.caption(f"{job['replications']} replications each, master seed {job['seed']}; finished in "
               f"{stat.get('elapsed', 0):.0f} s.")
    targets = views.targets_table(res)
    if not targets.empty:
        st.subheader("Targets")
        st.dataframe(targets, hide_index=True, key="targets_table")
    st.subheader("Trajectory of the headline KPIs")
    try:
        figure, table = views.trajectory_figure(res), views.trajectory_table(res)
    except MissingResultsError as e:  # e.g. a one-year plan: the other results stand
        st.info(f"No trajectory: {str(e).split(': ', 1)[-1]}. Plan two or more years to see one.")
    else:
        st.plotly_chart(figure, key="traj_fig")
        st.dataframe(table, key="traj_table")
    st.subheader("Paired differences, plan − baseline")
    st.dataframe(views.paired_table(folder / "results"), hide_index=True, key="paired_table")
    st.subheader("Fund by year")
    st.plotly_chart(views.fund_figure(res), key="fund_fig")
    left, right = st.columns(2)
    with left:
        st.subheader("Referral flows")
        scen = st.radio("Scenario", [views.PLAN, views.BASELINE], horizontal=True, key="sankey_scen")
        st.plotly_chart(views.sankey_figure(res, scen), key="sankey_fig")
    with right:
        st.subheader("Village equity map")
        kpi = st.selectbox("Colour by", ["primary_care_share", "oop_per_episode", "county_visit_rate"],
                           format_func=views.label, key="map_kpi")
        st.plotly_chart(views.village_map(res, views.PLAN, kpi), key="map_fig")
    st.subheader("Downloads")
    c = st.columns(3)
    c[0].download_button("Plan (YAML)", (folder / "plan.yaml").read_bytes(), file_name=f"{job['name']}.yaml",
                         key="dl_run_plan")
    c[1].download_button("Results folder (zip)", jobs.zip_results(folder), file_name=f"{folder.name}.zip",
                         mime="application/zip", key="dl_zip")
    report = folder / "results" / "report.html"
    if report.exists():
        c[2].download_button("Report (report.html)", report.read_bytes(), file_name=f"{job['name']}_report.html",
                             mime="text/html", key="dl_report")
    else:
        c[2].caption(stat.get("report_error") or "The report is being drawn…")


def main() -> None:
    st.set_page_config(page_title="countysim policy lab", page_icon="🏥", layout="wide")
    defaults()
    st.title("countysim policy lab · 政策实验室")
    st.caption("Compose a county's phased reform plan, run it against doing nothing, and see whether and when it "
               "reaches a county visit rate of 90 % and a primary-care share of 65 %.")
    open_section()
    county = choose_county()
    if county is None:
        return
    try:
        values, levers, name, description = county_info(str(county))
    except cs.ConfigError as e:
        st.error("This county cannot be used:\n\n" + plans.readable_error(str(e), county))
        return
    st.sidebar.success(f"County {name}: valid")
    if description:
        st.sidebar.caption(description)
    compose(county, values, levers)
    plan = current_plan(county, levers)
    plan_files(plan, values)
    run_section(plan, values)
    results_section()


main()
