"""`countysim lab` in a real browser: Debian's chromium driven by Playwright (make test-browser).

A planner's path through the page: it loads without console errors, a lever is switched on and
given a 2026 value through the page's own controls, the plan downloads as YAML that `countysim
validate` accepts, a quick run completes and its KPI figure is visible.  Screenshots go to
results/browser/.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "results" / "browser"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
COUNTYSIM = [sys.executable, "-m", "sim.outputs.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    port = _free_port()
    log = open(tmp_path / "lab.log", "wb")
    proc = subprocess.Popen(COUNTYSIM + ["lab", "--port", str(port), "--results", str(tmp_path / "lab")],
                            stdout=log, stderr=log, start_new_session=True, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        assert proc.poll() is None, (tmp_path / "lab.log").read_text()
        assert time.time() < deadline, "countysim lab did not start in 60 s"
        time.sleep(0.5)
    yield url, tmp_path / "lab"
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
    log.close()


def test_planner_composes_runs_and_downloads_a_plan(lab, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, lab_dir = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        expect(page.get_by_text("countysim policy lab", exact=False).first).to_be_visible(timeout=60_000)
        expect(page.get_by_text("County baseline: valid")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Family-doctor contracting", exact=False).first).to_be_visible(timeout=60_000)
        page.screenshot(path=str(SHOTS / "01_loaded.png"))

        for label, value in (("First year", "2025"), ("Years", "2")):
            box = page.get_by_label(label, exact=True)
            box.fill(value)
            box.press("Enter")
            page.wait_for_timeout(800)
        page.get_by_text("Family-doctor contracting", exact=False).first.click()
        cell = page.get_by_label("family_doctor.coverage 2026", exact=True)
        expect(cell).to_be_visible(timeout=30_000)
        cell.fill("0.60")
        cell.press("Enter")
        page.wait_for_timeout(1500)
        expect(page.get_by_label("family_doctor.coverage 2026", exact=True)).to_have_value("0.60")

        with page.expect_download() as dl:
            page.get_by_role("button", name="Download plan (YAML)").click()
        plan_file = tmp_path / "downloaded_plan.yaml"
        dl.value.save_as(plan_file)
        check = subprocess.run(COUNTYSIM + ["validate", str(plan_file)], capture_output=True, text=True, cwd=ROOT)
        assert check.returncode == 0, check.stderr
        resolved = yaml.safe_load(check.stdout)
        assert {int(y): row for y, row in resolved["schedule"].items()} == {2026: {"family_doctor.coverage": 0.6}}
        assert resolved["simulation"]["start_year"] == 2025 and resolved["simulation"]["years"] == 2

        page.get_by_role("button", name="Run", exact=True).click()
        expect(page.get_by_text("Trajectory of the headline KPIs")).to_be_visible(timeout=600_000)
        figure = page.locator(".js-plotly-plot").first
        expect(figure).to_be_visible(timeout=60_000)
        figure.scroll_into_view_if_needed()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SHOTS / "02_results.png"), full_page=False)
        figure.screenshot(path=str(SHOTS / "03_trajectory.png"))
        page.screenshot(path=str(SHOTS / "04_full_page.png"), full_page=True)
        browser.close()

    run_dir = next((lab_dir / "runs").iterdir())
    ran = yaml.safe_load((run_dir / "plan.yaml").read_text(encoding="utf-8"))
    assert ran == yaml.safe_load(plan_file.read_text(encoding="utf-8"))  # the plan that ran is the one downloaded
    assert not errors, errors
