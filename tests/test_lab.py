"""The policy lab, headless (Streamlit AppTest): the page as a planner drives it, plus its plan files,
uploads and county samples.  The real-browser test is tests_browser/ (make test-browser)."""
from __future__ import annotations

import csv
import io
import json

import pytest
import yaml
from conftest import BASELINE, ROOT, read_yaml

from models.loading import load_scenario, resolved_dict
from sim.core.config_files import ConfigError
from sim.outputs.lab import catalogue, plans
from sim.studies.county_sample import sample_geography

APP = str(ROOT / "sim" / "outputs" / "lab" / "app.py")
HUAIROU = ROOT / "configs" / "huairou.yaml"


@pytest.fixture
def lab(tmp_path, monkeypatch):
    return _session(tmp_path, monkeypatch)


def _session(tmp_path, monkeypatch):
    """A fresh browser session on the lab (also what a planner gets on coming back to the page)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("COUNTYSIM_LAB_RESULTS", str(tmp_path / "lab"))
    at = AppTest.from_file(APP, default_timeout=600)
    at.run()
    assert not at.exception
    return at


def _row(table, label: str) -> dict:
    return table.loc[label].to_dict()


def _table(at, has: str):
    """The page's table with a row or column named ``has``."""
    return next(df.value for df in at.dataframe if has in df.value.index or has in df.value.columns)


def test_quick_run_shows_the_scheduled_change_from_2026(lab, tmp_path):
    at = lab
    at.number_input(key="start_year").set_value(2025).run()
    at.number_input(key="years").set_value(2).run()  # 2025-2026 keeps the test short
    at.number_input(key="workers").set_value(2).run()
    at.toggle(key="on:family_doctor_contracting").set_value(True).run()  # 家庭医生签约 Family-doctor contracting
    at.number_input(key="v:family_doctor.coverage:2026").set_value(0.6).run()
    at.button(key="run_btn").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    traj = _table(at, "scheduled: family_doctor.coverage")
    scheduled = _row(traj, "scheduled: family_doctor.coverage")
    assert [float(scheduled[y]) for y in ("2025", "2026")] == [0.0, 0.6]
    assert any("Primary-care share" in i and "plan" in i for i in traj.index)
    paired = _table(at, "Δ excludes 0")
    share = paired[paired["KPI"].str.contains("Primary-care share")].set_index("year")
    # common random numbers: nothing changes before 2026, so the paired difference is exactly zero
    for year in (2025,):
        assert share.loc[year, "Δ plan − baseline (95 % CI, paired)"] == "+0.00 pp [+0.00 pp, +0.00 pp]"
    assert share.loc[2026, "Δ excludes 0"]
    assert "Quick run" in at.warning[0].value
    run_dir = next((tmp_path / "lab" / "runs").iterdir())
    saved = load_scenario(run_dir / "plan.yaml")  # the downloadable plan is what `countysim run` accepts
    assert saved.schedule == {2026: {"family_doctor.coverage": 0.6}}
    assert saved.simulation.start_year == 2025 and saved.simulation.years == 2
    assert {b.key for b in at.get("download_button")} >= {"dl_run_plan", "dl_zip"}


def _facilities_with(tier: str) -> bytes:
    text = (ROOT / "configs" / "data" / "huairou_facilities.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    rows[3][2] = tier
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def test_an_invalid_roster_shows_an_error_not_a_traceback(lab):
    at = lab
    at.radio(key="county_choice").set_value("upload").run()
    at.file_uploader(key="up_fac").upload("my_roster.csv", _facilities_with("hospital"), "text/csv")
    at.run()
    assert not at.exception
    message = " ".join(e.value for e in at.error)
    assert "uploaded my_roster.csv" in message and "row 4, column tier" in message  # line 4 of the file
    assert "Traceback" not in message


def test_an_oversized_upload_is_refused(lab):
    at = lab
    at.radio(key="county_choice").set_value("upload").run()
    at.file_uploader(key="up_fac").upload("big.csv", b"name,tier\n" + b"x" * (plans.MAX_UPLOAD_BYTES + 1), "text/csv")
    at.run()
    assert not at.exception
    assert any("at most 1,000,000 bytes" in e.value for e in at.error)


def test_a_valid_uploaded_roster_is_used(lab):
    at = lab
    at.radio(key="county_choice").set_value("upload").run()
    at.file_uploader(key="up_fac").upload("mine.csv", _facilities_with("township"), "text/csv")
    at.run()
    assert not at.exception and not at.error
    assert any("valid" in s.value for s in at.success)


def test_opening_an_example_plan_fills_the_year_tables(lab):
    at = lab
    at.selectbox(key="open_choice").set_value(str(ROOT / "configs" / "plans" / "hunan_2027.yaml")).run()
    at.button(key="open_btn").click().run()
    assert not at.exception and not at.error
    ss = at.session_state
    assert ss["on:family_doctor_contracting"] and ss["plan_name"] == "hunan_2027"
    assert [ss[f"v:family_doctor.coverage:{y}"] for y in range(2024, 2028)] == [0.0, 0.35, 0.55, 0.70]
    assert ss["v:payment.global_budget.enabled:2025"] is False and ss["v:payment.global_budget.enabled:2026"]


# --------------------------------------------------------------------------- plan files
def _county_values(path=BASELINE) -> dict:
    return catalogue.county_values(resolved_dict(load_scenario(path)))


def test_plan_yaml_holds_only_the_changes_and_reads_back(tmp_path):
    values = _county_values()
    plan = plans.LabPlan(county=BASELINE, name="p", start_year=2024, years=4, ramp="linear",
                         values={"family_doctor.coverage": {2024: 0.0, 2025: 0.3, 2026: 0.3, 2027: 0.6},
                                 "payment.drg.enabled": {2024: False, 2025: False, 2026: True, 2027: True}},
                         targets={"primary_care_share": {2027: 0.65}})
    data = plans.to_data(plan, values)
    assert data["schedule"] == {2025: {"family_doctor.coverage": 0.3}, 2026: {"payment.drg.enabled": True},
                                2027: {"family_doctor.coverage": 0.6}}
    path = tmp_path / "elsewhere" / "p.yaml"
    path.parent.mkdir()
    path.write_text(plans.to_yaml(plan, values), encoding="utf-8")
    scenario = load_scenario(path)  # valid wherever it is saved: extends is absolute
    assert scenario.ramp == "linear" and scenario.targets == {"primary_care_share": {2027: 0.65}}
    known = {s.key for lever in catalogue.catalogue(resolved_dict(scenario)) for s in lever.settings}
    back = plans.from_file(path, lambda p: _county_values(p), known)
    assert back.values["family_doctor.coverage"] == plan.values["family_doctor.coverage"]
    assert back.values["payment.drg.enabled"] == plan.values["payment.drg.enabled"]


def test_bad_plan_names_are_refused():
    with pytest.raises(ConfigError, match="plan name"):
        plans.LabPlan(county=BASELINE, name="../x").check_name()


def test_every_lever_setting_has_a_name_range_and_explanation():
    levers = catalogue.catalogue(resolved_dict(load_scenario(BASELINE)))
    keys = [s.key for lever in levers for s in lever.settings]
    assert len(keys) == len(set(keys))
    assert "family_doctor.coverage" in keys and "reimbursement.township.outpatient_rate" in keys
    for lever in levers:
        assert lever.name_en and lever.name_zh and lever.explanation
        for s in lever.settings:
            assert s.kind in ("float", "int", "bool")
    cov = next(s for lever in levers for s in lever.settings if s.key == "family_doctor.coverage")
    assert (cov.low, cov.high) == (0.0, 1.0)


# --------------------------------------------------------------------------- county samples
def test_county_sample_scales_residents_and_capacity():
    g = resolved_dict(load_scenario(BASELINE))["geography"]
    s = sample_geography(g, 0.1)
    assert s["synthetic"]["population"] == g["synthetic"]["population"] // 10
    assert [h["doctors"] for h in s["synthetic"]["county_hospitals"]] == \
        [max(1, round(h["doctors"] / 10)) for h in g["synthetic"]["county_hospitals"]]
    assert s["synthetic"]["townships"] == g["synthetic"]["townships"]
    assert g["synthetic"]["population"] == 500_000  # the original is left alone


def test_roster_sample_rewrites_scaled_csvs(tmp_path):
    g = resolved_dict(load_scenario(HUAIROU))["geography"]
    s = sample_geography(g, 0.5, tmp_path)
    full = list(csv.DictReader(open(g["roster"]["townships_csv"], encoding="utf-8-sig")))
    half = list(csv.DictReader(open(s["roster"]["townships_csv"], encoding="utf-8")))
    assert [int(h["population"]) for h in half] == [round(int(f["population"]) / 2) for f in full]
    fac = {r["name"]: r for r in csv.DictReader(open(s["roster"]["facilities_csv"], encoding="utf-8"))}
    orig = {r["name"]: r for r in csv.DictReader(open(g["roster"]["facilities_csv"], encoding="utf-8-sig"))}
    for name, r in orig.items():
        if r["tier"] == "village":
            assert fac[name]["doctors"] == r["doctors"]
    with pytest.raises(ValueError, match="share"):
        sample_geography(g, 0.0, tmp_path)


def test_lab_binds_to_loopback_with_an_upload_cap():
    from sim.outputs.cli import build_parser
    from sim.outputs.lab import streamlit_command

    args = build_parser().parse_args(["lab"])
    assert (args.host, args.port) == ("127.0.0.1", 8501)
    cmd = streamlit_command()
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--server.maxUploadSize") + 1] == "1"


def test_example_plans_are_known_to_the_lab():
    assert {p.stem for p in plans.EXAMPLE_PLANS.glob("*.yaml")} >= {"hunan_2027"}
    assert yaml.safe_load((plans.EXAMPLE_PLANS / "hunan_2027.yaml").read_text(encoding="utf-8"))["extends"]
    assert read_yaml(plans.COUNTIES["huairou"])["geography"]["kind"] == "roster"


# --------------------------------------------------------------------------- full runs in the background
def _tiny_plan(tmp_path) -> None:
    """A plan in the lab's plan folder whose county is a 4,000-resident slice of the test county
    (so a full run stays small); it schedules family-doctor contracting from its first year."""
    county = tmp_path / "tiny_county.yaml"
    county.write_text(yaml.safe_dump({"extends": str(ROOT / "tests" / "configs" / "small_county.yaml"),
                                      "name": "tiny_county", "simulation": {"warmup_days": 10},
                                      "geography": {"synthetic": {"population": 4000}}}), encoding="utf-8")
    (tmp_path / "lab" / "plans").mkdir(parents=True)
    (tmp_path / "lab" / "plans" / "tiny.yaml").write_text(yaml.safe_dump({
        "extends": str(county), "name": "tiny", "simulation": {"start_year": 2025, "years": 1},
        "schedule": {2025: {"family_doctor.coverage": 0.6}}}), encoding="utf-8")


def _open_tiny(tmp_path, monkeypatch):
    _tiny_plan(tmp_path)
    at = _session(tmp_path, monkeypatch)
    at.selectbox(key="open_choice").set_value(str(tmp_path / "lab" / "plans" / "tiny.yaml")).run()
    at.button(key="open_btn").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["county_choice"] == "other"
    return at


def _wait_until_finished(folder, limit_s: float = 900) -> dict:
    """Poll the run's status file as the page does (a guard against a hung job, not a speed check)."""
    import time

    from sim.outputs.lab import jobs

    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        stat = jobs.status(folder)
        if stat["state"] not in ("queued", "running", "reporting"):
            return stat
        time.sleep(1.0)
    raise AssertionError(f"the lab run in {folder} did not finish within {limit_s} s: {jobs.status(folder)}")


def test_a_full_run_goes_on_in_the_background_and_can_be_returned_to(tmp_path, monkeypatch):
    at = _open_tiny(tmp_path, monkeypatch)
    at.radio(key="mode").set_value("full").run()
    at.number_input(key="replications").set_value(2).run()
    at.number_input(key="workers").set_value(1).run()
    at.button(key="run_btn").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    folder = next((tmp_path / "lab" / "runs").iterdir())
    assert folder.name.endswith("-tiny-full")
    # the page returned at once, with the run still going and a word that it can be left
    assert any("in the background" in i.value for i in at.info), [i.value for i in at.info]
    del at  # the planner leaves the page

    stat = _wait_until_finished(folder)
    assert stat["state"] == "done", stat
    back = _session(tmp_path, monkeypatch)  # comes back later, in a new session
    assert back.session_state["selected_run"] == str(folder)  # the newest run of this lab is listed and shown
    assert not back.exception and not back.error, [e.value for e in back.error]
    # a one-year plan has no trajectory; the page says so and shows the rest
    assert any("two or more years" in i.value for i in back.info), [i.value for i in back.info]
    paired = _table(back, "Δ excludes 0")
    assert set(paired["year"]) == {2025} and paired["KPI"].str.contains("Primary-care share").any()
    assert not any("Quick run" in w.value for w in back.warning)
    assert {b.key for b in back.get("download_button")} >= {"dl_run_plan", "dl_zip", "dl_report"}
    job = json.loads((folder / "job.json").read_text())
    assert (job["mode"], job["replications"], job["sample_share"]) == ("full", 2, 1.0)


def test_a_dask_scheduler_address_runs_the_batch_there(tmp_path, monkeypatch):
    """The page's scheduler field sends the runs to that Dask cluster (a small LocalCluster on loopback)."""
    from distributed import Client, LocalCluster

    at = _open_tiny(tmp_path, monkeypatch)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        address = cluster.scheduler_address
        at.text_input(key="scheduler").input(address).run()
        at.button(key="run_btn").click().run()  # quick mode: the page waits for the run
        assert not at.exception and not at.error, [e.value for e in at.error]
        folder = next((tmp_path / "lab" / "runs").iterdir())
        assert _wait_until_finished(folder)["state"] == "done"
        tasks = sum(client.run(lambda dask_worker: dask_worker.state.executed_count).values())
    job = json.loads((folder / "job.json").read_text())
    assert job["scheduler"] == address and job["workers"] is None
    manifest = json.loads((folder / "results" / "manifest.json").read_text())
    assert manifest["executor"] == f"dask cluster at {address}"
    assert tasks >= 2 * job["replications"]  # baseline and plan, each replication, ran on the cluster
    assert _table(at, "Δ excludes 0")["year"].tolist()[0] == 2025
