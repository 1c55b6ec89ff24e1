"""`countysim report`: one self-contained HTML file; docs/model.md kept in step with the code."""
from __future__ import annotations

import base64
import io
import json
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

import pandas as pd
from PIL import Image

from models.kpis import ALL_KPI_INFO
from models.scenario import Scenario
from sim.core.streams import PURPOSES
from sim.outputs.cli import main
from sim.outputs.report import SCREEN_DPI, config_changes, markdown_html, write_report

ROOT = Path(__file__).resolve().parents[1]
STRESS_SECTIONS = ("1. Objectives", "2. Logic", "3. Data", "4. Experimentation", "5. Implementation", "6. Code access")


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.external: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src", ""))
        for key in ("src", "href"):
            v = a.get(key)
            if v and not v.startswith(("#", "data:")):
                self.external.append(v)
        if tag in ("link", "script", "iframe"):
            self.external.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.text = " ".join(page.text)
    return page


def test_experiment_report_is_self_contained_with_every_section(figure_studies):
    exp = figure_studies["folders"]["experiment"]
    assert main(["report", str(exp)]) == 0
    path = exp / "report.html"
    page = parse(path)
    assert not page.external, page.external  # nothing outside the file
    text = page.text
    assert "Does a higher township outpatient rate move first contacts to primary care?" in text
    for name in ("baseline", "lever", "sweep_000", "sweep_001"):
        assert name in text
    assert "reimbursement.township.outpatient_rate" in text and "0.85" in text  # what the lever changes
    summary = pd.read_csv(exp / "summary.csv")
    row = summary[(summary.scenario == "lever") & (summary.kpi == "primary_care_share")].iloc[0]
    assert f"{100 * row['mean']:.1f} %" in text and f"[{100 * row.ci_low:.1f}, {100 * row.ci_high:.1f}]" in text
    assert f"{100 * row.diff_mean:+.1f} pp" in text
    index = json.loads((exp / "figures" / "figures.json").read_text())
    assert len(page.images) == len(index["figures"]) == 10
    for src, fig in zip(page.images, index["figures"]):
        assert src.startswith("data:image/png;base64,")
        with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as im:
            w, h = fig["size_px"]
            assert abs(im.width - w * SCREEN_DPI / 300) <= 1 and abs(im.height - h * im.width / w) <= 1  # screen size
        assert fig["caption"] in text
    for heading in ("Replications and seeds", "master seed", "Model description (STRESS-DES)", *STRESS_SECTIONS):
        assert heading in text, heading
    assert "5 days, excluded from every KPI" in text or "5.0 days, excluded from every KPI" in text


def test_experiment_report_stays_small_enough_to_mail(figure_studies):
    """The report of an experiment with every figure stays within 2 MB (the worked example's budget)."""
    path = write_report(figure_studies["folders"]["experiment"])
    assert path.stat().st_size <= 2_000_000


def test_report_templates_are_package_data():
    """A non-editable install carries every template the report renders (pyproject package-data)."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["sim.outputs"]
    folder = ROOT / "sim" / "outputs"
    templates = [p.relative_to(folder).as_posix() for p in (folder / "templates").rglob("*") if p.is_file()]
    assert "templates/sections.html.j2" in templates
    assert not [t for t in templates if not any(PurePosixPath(t).match(g) for g in globs)]


def test_run_and_calibration_reports(figure_studies, tmp_path):
    run = figure_studies["folders"]["run"]
    page = parse(write_report(run, tmp_path / "run.html"))
    assert not page.external and len(page.images) == 8
    assert "Primary-care share of visits" in page.text and "paired" in page.text
    cal = figure_studies["folders"]["calibration"]
    page = parse(write_report(cal, tmp_path / "cal.html"))
    assert "Calibration" in page.text and "incidence_scale" in page.text and "visits_per_resident" not in page.external


def test_config_changes_and_markdown():
    a = {"name": "a", "simulation": {"seed": 1, "years": 1}, "x": {"y": [1, 2], "z": [{"n": 1}]}}
    b = {"name": "b", "simulation": {"seed": 2, "years": 2}, "x": {"y": [1, 3], "z": [{"n": 5}]}}
    assert config_changes(a, b) == [("simulation.years", 1, 2), ("x.y", [1, 2], [1, 3]), ("x.z.0.n", 1, 5)]
    html = markdown_html("# T\n\n**1.1 Purpose.** Some `code` <b>.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n* one\n  more\n* two")
    assert "<h2>T</h2>" in html and "<strong>1.1 Purpose.</strong>" in html and "<code>code</code>" in html
    assert "&lt;b&gt;" in html and "<td>1</td>" in html and "<li>one\nmore</li>" in html


def test_model_doc_is_in_step_with_the_code():
    doc = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    for heading in STRESS_SECTIONS:
        assert f"## {heading}" in doc, heading
    missing = [k for k in ALL_KPI_INFO if f"`{k}`" not in doc]
    assert not missing, f"docs/model.md does not describe KPIs {missing}"
    assert all(f"`{p}`" in doc for p in PURPOSES), "random streams"
    modules = [p.name for p in (ROOT / "models").glob("*.py") if p.name != "__init__.py"]
    assert not [m for m in modules if f"models/{m}" not in doc], "every model module"
    sections = [k for k in Scenario.model_fields if k not in ("name", "description")]
    assert not [s for s in sections if f"`{s}`" not in doc], "every configuration section"
    assert re.search(r"warmup_days", doc) and "Kiefer" in doc


def test_report_embeds_a_font_with_every_chinese_character_it_shows(figure_studies):
    """Chinese reads on a machine without CJK fonts: an @font-face holds a glyph for every CJK
    character of the page, in regular and bold (checked by opening the embedded fonts)."""
    from fontTools.ttLib import TTFont

    from sim.outputs.cjk_font import FAMILY, cjk_chars

    exp = figure_studies["folders"]["experiment"]
    path = write_report(exp)
    text = path.read_text(encoding="utf-8")
    page = parse(path)
    shown = cjk_chars(page.text)
    assert "县域就诊率" in page.text and "基层诊疗人次占比" in page.text and len(shown) > 20
    faces = re.findall(r"@font-face\{font-family:'([^']+)';font-weight:(\d+);.*?base64,([A-Za-z0-9+/=]+)\)", text)
    assert {(f, w) for f, w, _ in faces} == {(FAMILY, "400"), (FAMILY, "700")}
    for _, _, data in faces:
        cmap = TTFont(io.BytesIO(base64.b64decode(data))).getBestCmap()
        assert not [c for c in shown if ord(c) not in cmap]
        assert len(cmap) <= len(shown) + 5  # a subset of the page's characters, not the whole font
    assert FAMILY in text.split("body{font-family:", 1)[1].split(";", 1)[0]
