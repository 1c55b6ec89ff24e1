"""Figures from small real studies: files exist, are valid images of the expected size, and each plotted
value is the value of the results table it came from (the data each plot function draws, not pixels)."""
from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import stats

from sim.outputs.cli import main
from sim.outputs.figures import (
    FIGURES,
    MissingResultsError,
    Results,
    draw,
    fonts,
    make_figures,
)
from sim.outputs.figures import data as fdata
from sim.studies.experiment import load_experiment
from sim.studies.runner import single_run

EXPERIMENT_FIGURES = ["01_kpi_by_scenario", "02_paired_differences", "03_monthly_kpis", "04a_flow_matrix",
                      "04b_referral_sankey", "05a_facility_load", "05b_load_by_month", "05c_waiting_times",
                      "06_sweep_response", "09_village_map"]
RUN_FIGURES = [n for n in EXPERIMENT_FIGURES if n not in ("02_paired_differences", "06_sweep_response")]
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff]")
JOURNAL_WIDTHS_PX = (1051, 2125)  # 89 mm and 180 mm at 300 dpi


@pytest.fixture(scope="module")
def exp(figure_studies):
    return figure_studies["folders"]["experiment"]


@pytest.fixture(scope="module")
def figs(figure_studies):
    return figure_studies["figures"].by_name()


def assert_image(fig, folder) -> None:
    png, svg = folder / f"{fig.name}.png", folder / f"{fig.name}.svg"
    assert [p.name for p in fig.files] == [png.name, svg.name]
    with Image.open(png) as im:
        im.verify()
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size == fig.size_px
        assert im.info.get("dpi", (300, 300))[0] == pytest.approx(300, abs=1)
    w, h = fig.size_px
    assert w in JOURNAL_WIDTHS_PX and 600 <= h <= 7500  # one or two journal columns at 300 dpi
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert float(root.get("width").removesuffix("pt")) == pytest.approx(w / 300 * 72, rel=1e-3)


# ----------------------------------------------------------------------------- files
def test_experiment_draws_every_scenario_figure_as_png_and_svg(figure_studies, exp, figs):
    assert sorted(figs) == sorted(EXPERIMENT_FIGURES)
    for fig in figs.values():
        assert_image(fig, exp / "figures")
        assert fig.title and fig.caption and not fig.data.empty
    index = json.loads((exp / "figures" / "figures.json").read_text())
    assert [f["name"] for f in index["figures"]] == [n for n in FIGURES if n in figs]
    assert set(index["skipped"]) == {"03b_trajectory", "07a_morris", "07b_sobol", "08_calibration_fit",
                                     "11_province_targets"}  # one year, not a province
    assert not [w for w in figure_studies["warnings"] if "missing from font" in w], "a glyph drawn as a box"


def test_every_figure_fits_a_journal_page_with_nothing_clipped(figure_studies):
    """Each PNG is one column (89 mm) or the page width (180 mm) at 300 dpi at most, no taller than a page
    (240 mm), and nothing is drawn into its outermost pixels: no legend, label or title cut off at an edge."""
    pngs = [p for kind in ("experiment", "run") for p in (figure_studies["folders"][kind] / "figures").glob("*.png")]
    assert len(pngs) == len(EXPERIMENT_FIGURES) + len(RUN_FIGURES)
    for png in pngs:
        assert_fits_a_journal(png)


def assert_fits_a_journal(png) -> None:
    from sim.outputs.figures.style import DOUBLE_COLUMN

    with Image.open(png) as im:
        dpi = im.info["dpi"][0]
        grey = np.asarray(im.convert("L"))
    assert dpi <= 300.5 and grey.shape[1] <= DOUBLE_COLUMN * dpi, png.name
    assert grey.shape[1] in JOURNAL_WIDTHS_PX, png.name
    assert grey.shape[0] <= 240 / 25.4 * dpi, f"{png.name}: taller than a journal page (240 mm)"
    edges = np.concatenate([grey[:4].ravel(), grey[-4:].ravel(), grey[:, :4].ravel(), grey[:, -4:].ravel()])
    assert edges.min() > 200, f"{png.name}: something drawn into the edge"


def test_run_out_folder_gets_figures_and_skips_comparisons_with_a_note(figure_studies):
    run = figure_studies["folders"]["run"]
    index = json.loads((run / "figures" / "figures.json").read_text())
    assert [f["name"] for f in index["figures"]] == RUN_FIGURES
    assert "one scenario" in index["skipped"]["02_paired_differences"]
    assert "sweep" in index["skipped"]["06_sweep_response"]
    for f in index["figures"]:
        with Image.open(run / "figures" / f["files"][0]) as im:
            assert im.size == tuple(f["size_px"])
    with pytest.raises(MissingResultsError, match="one scenario"):
        draw("02_paired_differences", run)


def test_sensitivity_and_calibration_figures(figure_studies, tmp_path):
    folders = figure_studies["folders"]
    morris = draw("07a_morris", folders["morris"], tmp_path)
    sobol = draw("07b_sobol", folders["sobol"], tmp_path)
    cal = draw("08_calibration_fit", folders["calibration"], tmp_path)
    for fig in (morris, sobol, cal):
        assert_image(fig, tmp_path)
        assert_fits_a_journal(fig.files[0])
    cols = ["kpi", "parameter", "mu_star", "mu_star_conf", "sigma"]
    pd.testing.assert_frame_equal(morris.data[cols], pd.read_csv(folders["morris"] / "sensitivity.csv")[cols])
    cols = ["kpi", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    pd.testing.assert_frame_equal(sobol.data[cols], pd.read_csv(folders["sobol"] / "sensitivity.csv")[cols])
    cols = ["kpi", "observed", "sd", "simulated_mean", "ci_low", "ci_high", "z"]
    pd.testing.assert_frame_equal(cal.data[cols], pd.read_csv(folders["calibration"] / "fit.csv")[cols])
    with pytest.raises(MissingResultsError, match="no sobol indices"):
        draw("07b_sobol", folders["morris"], tmp_path)
    with pytest.raises(MissingResultsError, match="fit.csv"):
        draw("08_calibration_fit", folders["experiment"], tmp_path)


# ----------------------------------------------------------------------------- plotted values
def test_kpi_points_and_paired_differences_are_the_summary_rows(exp, figs):
    summary = pd.read_csv(exp / "summary.csv").set_index(["scenario", "kpi"])
    data = figs["01_kpi_by_scenario"].data
    assert list(dict.fromkeys(data["kpi"]))[:2] == ["county_visit_rate", "primary_care_share"]
    assert set(data["scenario"]) == {"baseline", "lever", "sweep_000", "sweep_001"}
    for r in data.itertuples():
        for col in ("mean", "ci_low", "ci_high", "n"):
            assert getattr(r, col) == summary.loc[(r.scenario, r.kpi), col]
    diff = figs["02_paired_differences"].data
    assert "baseline" not in set(diff["scenario"]) and len(diff) == 3 * diff["kpi"].nunique()
    for r in diff.itertuples():
        for col in ("diff_mean", "diff_ci_low", "diff_ci_high"):
            assert getattr(r, col) == summary.loc[(r.scenario, r.kpi), col]


def test_monthly_series_are_means_and_t_intervals_of_monthly_table(exp, figs):
    monthly = pd.read_parquet(exp / "monthly.parquet")
    data = figs["03_monthly_kpis"].data
    assert data.attrs["warmup_months"] == pytest.approx(5 / (365 / 12))
    for r in data.sample(12, random_state=1).itertuples():
        x = monthly[(monthly.scenario == r.scenario) & (monthly.month == r.month)][r.kpi].to_numpy()
        half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
        assert r.mean == pytest.approx(x.mean()) and r.n == len(x)
        assert (r.ci_low, r.ci_high) == pytest.approx((x.mean() - half, x.mean() + half))
        assert r.t_month > data.attrs["warmup_months"]


def test_flow_matrix_and_sankey_are_the_flows_table(exp, figs):
    flows = pd.read_parquet(exp / "flows.parquet")
    reps = flows.groupby("scenario")["replication"].nunique()
    matrix = figs["04a_flow_matrix"].data
    assert len(matrix) == matrix["scenario"].nunique() * 16  # every tier pair, zeros included
    for r in matrix.itertuples():
        f = flows[(flows.scenario == r.scenario) & (flows.first_tier == r.first_tier) & (flows.final_tier == r.final_tier)]
        assert r.episodes == pytest.approx(f["episodes"].sum() / reps[r.scenario])
        assert r.share == pytest.approx(f["episodes"].sum() / flows[flows.scenario == r.scenario]["episodes"].sum())
    sankey = figs["04b_referral_sankey"].data
    for scen, g in sankey.groupby("scenario"):
        assert g["share"].sum() == pytest.approx(1.0)
        f = flows[flows.scenario == scen]
        up = f[f.referred_up & ~f.referred_down]["episodes"].sum() / reps[scen]
        assert g[g.path == "referred up"]["episodes"].sum() == pytest.approx(up)
        same = f[~f.referred_up & ~f.referred_down]
        assert (same.first_tier == same.final_tier).all()  # treated at first contact ends where it began


def test_facility_load_waits_and_monthly_load_are_table_means(exp, figs):
    fac = pd.read_parquet(exp / "facilities.parquet")
    load = figs["05a_facility_load"].data
    assert set(load["tier"]) == {"township", "county"}
    waits = figs["05c_waiting_times"].data
    assert set(waits["tier"]) == {"village", "township", "county"}
    single = load[load.kind == "facility"].rename(columns={"row": "facility"})
    for frame, cols in ((single, ["utilisation", "bed_occupancy"]), (waits, ["mean_wait_min", "mean_bed_wait_days"])):
        for r in frame.itertuples():
            f = fac[(fac.scenario == r.scenario) & (fac.facility == r.facility)]
            for col in cols:
                assert getattr(r, col) == pytest.approx(f[col].mean(), nan_ok=True)
    # a tier's total is busy time ÷ capacity over its facilities (doctor- or bed-weighted), mean over replications
    totals = load[load.kind == "tier"]
    assert list(dict.fromkeys(totals.row)) == ["all township centres (3)", "all county hospitals (1)"]
    for r in totals.itertuples():
        f = fac[(fac.scenario == r.scenario) & (fac.tier == r.tier)]
        for col, cap in (("utilisation", "doctors"), ("bed_occupancy", "beds")):
            per_rep = f.assign(u=f[col] * f[cap]).groupby("replication").apply(lambda g: g.u.sum() / g[cap].sum(),
                                                                               include_groups=False)
            assert getattr(r, col) == pytest.approx(per_rep.mean())


def test_facility_load_stays_one_page_with_hundreds_of_facilities(exp, tmp_path):
    """Tier totals plus the busiest facilities: rows do not grow with the county (the mobile-clinic case)."""
    folder = tmp_path / "many"
    shutil.copytree(exp, folder, ignore=shutil.ignore_patterns("parts", "figures"))
    fac = pd.read_parquet(folder / "facilities.parquet")
    clinics = fac[fac.tier == "village"]
    extra = pd.concat([clinics.assign(facility=clinics.facility + f" mobile {i}") for i in range(25)])
    extra = extra.assign(tier="township", mobile=True, beds=0, bed_occupancy=np.nan)
    pd.concat([fac.assign(mobile=False), extra], ignore_index=True).to_parquet(folder / "facilities.parquet")
    fig = draw("05a_facility_load", folder, tmp_path / "figs")
    rows = fig.data.attrs["rows"]
    assert rows[:3] == ["all township centres (3)", "all mobile clinics (300)", "all county hospitals (1)"]
    assert len(rows) == 3 + 4 and not any("mobile" in r for r in rows[3:])  # 3 centres + 1 hospital, one by one
    assert fig.size_px[1] <= 2400  # at 300 dpi: 8 inches, one page


def test_utilisation_above_capacity_is_explained(exp, tmp_path):
    folder = tmp_path / "busy"
    shutil.copytree(exp, folder, ignore=shutil.ignore_patterns("parts", "figures"))
    fac = pd.read_parquet(folder / "facilities.parquet")
    fac.loc[fac.tier == "county", "utilisation"] = 1.15
    fac.to_parquet(folder / "facilities.parquet")
    assert "overtime" in draw("05a_facility_load", folder, tmp_path / "f").caption
    assert "overtime" not in draw("05a_facility_load", exp, tmp_path / "g").caption or \
        pd.read_parquet(exp / "facilities.parquet").utilisation.max() > 1


def test_share_panels_span_equal_percentage_points_with_clean_ticks(exp, figs):
    from sim.outputs.figures import scenarios as sc

    data = figs["01_kpi_by_scenario"].data
    kpis = list(dict.fromkeys(data.kpi))
    limits = sc.shared_limits(data, kpis, "ci_low", "ci_high", "mean")
    spans = {round(b - a, 12) for k, (a, b) in limits.items() if fonts_share(k)}
    assert len(spans) == 1 and spans.pop() >= sc.MIN_SHARE_SPAN
    for k, (a, b) in limits.items():
        d = data[data.kpi == k]
        assert a <= d.ci_low.min() and b >= d.ci_high.max()  # every interval visible
        if fonts_share(k):
            assert 0 <= a and b <= 1
        elif (d[["ci_low", "mean"]] >= 0).all().all():
            assert a == 0  # amounts start at zero
    ticks = _svg_text(exp / "figures" / "01_kpi_by_scenario.svg")
    assert re.search(r"\b\d+%", ticks) and not re.search(r"\d\.\d{2,}\s*%", ticks)  # no "54.5900 %"


def fonts_share(kpi: str) -> bool:
    from sim.outputs.figures import style

    return style.is_share(kpi)


def test_sweep_scenarios_are_labelled_with_their_parameter_values(exp, figs):
    labels = figs["01_kpi_by_scenario"].data.attrs["labels"]
    assert labels["sweep_000"] == "sweep_000 (county.outpatient_rate=0.2)"
    assert labels["sweep_001"] == "sweep_001 (county.outpatient_rate=0.45)" and labels["lever"] == "lever"
    assert "county.outpatient_rate=0.45" in _svg_text(exp / "figures" / "01_kpi_by_scenario.svg")


def test_single_run_figures_have_no_repeated_titles_and_legends_inside(figure_studies):
    """A run's study and scenario share one name: it appears in no figure's text; the Sankey legend fits."""
    run = figure_studies["folders"]["run"]
    name = Results(run).name
    for svg in ("04a_flow_matrix", "04b_referral_sankey", "09_village_map"):
        assert name not in _svg_text(run / "figures" / f"{svg}.svg"), svg
    index = json.loads((run / "figures" / "figures.json").read_text())
    assert not [f["caption"] for f in index["figures"] if f"{name}: scenario {name}" in f["caption"]]
    fig = draw("04b_referral_sankey", run, run / "redraw")
    with Image.open(fig.files[0]) as im:
        right = np.asarray(im.convert("L"))[:, -6:]
        left = np.asarray(im.convert("L"))[:, :6]
    assert right.min() > 200 and left.min() > 200  # nothing drawn into the edges: no clipped legend


def _expected_load(fm: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """Per (measure, row, month): the facility's own value, or for a township's pooled village clinics
    busy time ÷ capacity (doctor- or bed-weighted by the month's own capacity), then the mean over
    replications; computed here from the monthly table without the figure code."""
    f = fm[fm.scenario == scenario].copy()
    f["row"] = np.where(f.tier == "village", f.township + " village clinics", f.facility)
    out = []
    for measure, cap in (("utilisation", "doctors"), ("bed_occupancy", "beds")):
        g = f[f[cap] > 0].assign(used=lambda d: d[measure] * d[cap])
        rep = g.groupby(["row", "replication", "month"]).agg(used=("used", "sum"), cap=(cap, "sum"), n=("facility", "size"))
        rep["value"] = rep.used / rep.cap
        mean = rep.groupby(["row", "month"]).agg(value=("value", "mean"), n=("n", "max")).reset_index()
        out.append(mean.assign(measure=measure))
    return pd.concat(out).set_index(["measure", "row", "month"])


def test_facility_by_month_heatmap_is_the_facility_monthly_table(exp, figs):
    fm = pd.read_parquet(exp / "facility_monthly.parquet")
    fac = pd.read_parquet(exp / "facilities.parquet")
    data = figs["05b_load_by_month"].data
    assert data.attrs["scenario"] == "baseline" and set(data["scenario"]) == {"baseline"}  # the reference
    assert data.attrs["months"] == sorted(fm["month"].unique()) == [0, 1]  # 36.5 days: a month and a part
    assert data.attrs["replications"] == 2 and data.attrs["left_out"] == ["outside"]
    base = fac[(fac.scenario == "baseline") & (fac.replication == 0)]
    centres = list(base[base.tier == "township"].facility)
    hospitals = list(base[base.tier == "county"].facility)
    townships = list(dict.fromkeys(base[base.tier == "village"].township))
    pooled = [f"{t} village clinics" for t in townships]
    # rows by tier (village clinics pooled per township, then township centres, then county hospitals)
    assert data.attrs["rows"] == {"utilisation": pooled + centres + hospitals, "bed_occupancy": centres + hospitals}
    for measure, rows in data.attrs["rows"].items():
        sub = data[data.measure == measure]
        assert list(dict.fromkeys(sub["row"])) == rows
        assert len(sub) == len(rows) * 2
    assert (data[data.row.isin(pooled)]["facilities"] == 4).all()  # 4 village clinics per township
    assert (data[~data.row.isin(pooled)]["facilities"] == 1).all()
    expected = _expected_load(fm, "baseline")
    assert len(expected) == len(data)
    for r in data.itertuples():
        e = expected.loc[(r.measure, r.row, r.month)]
        assert r.value == pytest.approx(e["value"], rel=1e-12) and r.facilities == e["n"]
    # a facility's own row is its mean over replications in facility_monthly, value for value
    one = data[(data.row == hospitals[0]) & (data.measure == "bed_occupancy")]
    f = fm[(fm.scenario == "baseline") & (fm.facility == hospitals[0])]
    np.testing.assert_allclose(one["value"], f.groupby("month")["bed_occupancy"].mean().to_numpy(), rtol=1e-12)


def test_sweep_curves_are_summary_rows_at_the_swept_values(exp, figs):
    data = figs["06_sweep_response"].data
    summary = pd.read_csv(exp / "summary.csv").set_index(["scenario", "kpi"])
    param = "reimbursement.county.outpatient_rate"
    assert data.attrs["params"] == [param]
    assert dict(zip(data["scenario"], data[param])) == {"sweep_000": 0.2, "sweep_001": 0.45}
    for r in data.itertuples():
        assert r.mean == summary.loc[(r.scenario, r.kpi), "mean"]
    assert data.attrs["reference_means"]["primary_care_share"] == summary.loc[("baseline", "primary_care_share"), "mean"]


def test_village_map_is_the_reference_villages_and_the_county_sites(exp, figs):
    fig = figs["09_village_map"]
    villages = pd.read_parquet(exp / "villages.parquet")
    assert fig.data.attrs["scenarios"][0] == "baseline"  # the reference first, then the others: small multiples
    assert set(fig.data.scenario) == {"baseline", "lever", "sweep_000", "sweep_001"}
    for scen, g in fig.data.groupby("scenario"):
        ref = villages[villages.scenario == scen]
        assert len(g) == ref["village"].nunique() == 12
        for r in g.itertuples():
            v = ref[ref.village == r.village]
            assert (r.x_km, r.y_km) == (v["x_km"].iloc[0], v["y_km"].iloc[0])
            assert r.primary_care_share == pytest.approx(v["primary_care_share"].mean())
            assert r.oop_per_episode == pytest.approx(v["oop_per_episode"].mean())
    sites = fig.extra["sites"]
    assert sorted(sites["tier"]) == ["county"] + ["township"] * 3 and not sites.attrs["approximate"]
    assert tuple(sites[sites.tier == "county"][["x_km", "y_km"]].iloc[0]) == (0.0, 0.0)  # the county seat
    fac = pd.read_parquet(exp / "facilities.parquet")
    fac = fac[(fac.scenario == "baseline") & (fac.replication == 0)].set_index("facility")
    for r in sites.itertuples():  # positions come from the facilities table, not a rebuilt county
        assert (r.tier, r.x_km, r.y_km) == (fac.loc[r.facility, "tier"], fac.loc[r.facility, "x_km"],
                                            fac.loc[r.facility, "y_km"])


def test_mobile_clinics_are_pooled_in_the_heatmap_and_left_off_the_map(exp, tmp_path):
    """A scenario whose facilities include touring mobile clinics (a lever adds them at villages)."""
    folder = tmp_path / "mobile"
    shutil.copytree(exp, folder, ignore=shutil.ignore_patterns("parts", "figures"))
    fac = pd.read_parquet(folder / "facilities.parquet")
    fm = pd.read_parquet(folder / "facility_monthly.parquet")
    extra = fac[(fac.scenario == "baseline") & (fac.tier == "village")].groupby("replication").head(2).copy()
    extra["facility"] = extra["facility"] + " mobile clinic"
    extra["tier"], extra["mobile"], extra["beds"] = "township", True, 0
    pd.concat([fac, extra], ignore_index=True).to_parquet(folder / "facilities.parquet")
    months = fm[fm.facility.isin(set(extra.facility.str.removesuffix(" mobile clinic")))].copy()
    months["facility"] = months["facility"] + " mobile clinic"
    months["tier"] = "township"
    pd.concat([fm, months], ignore_index=True).to_parquet(folder / "facility_monthly.parquet")
    data = fdata.prepare_load_by_month(Results(folder))
    rows = data.attrs["rows"]["utilisation"]
    mobile = [r for r in rows if "mobile" in r]
    assert mobile == ["T01 mobile clinics"] and rows.index(mobile[0]) > rows.index("T03 health centre")
    assert data.attrs["pooled"] == {"village clinics": 12, "mobile clinics": 2}
    assert (data[data.row == mobile[0]]["facilities"] == 2).all()
    assert not any("mobile" in r for r in data.attrs["rows"]["bed_occupancy"])
    assert not fdata.prepare_sites(Results(folder))["facility"].str.contains("mobile").any()


# ----------------------------------------------------------------------------- store plumbing
def test_batch_stores_detail_tables_like_single_run(exp):
    _, plan = load_experiment(Results(exp).manifest["study_file"])
    one = single_run(plan.scenario("lever").scenario, 1)
    for table, expected in (("villages", one.villages), ("flows", one.flows), ("facilities", one.facilities),
                            ("facility_monthly", one.facility_monthly)):
        stored = pd.read_parquet(exp / f"{table}.parquet")
        got = stored[(stored.scenario == "lever") & (stored.replication == 1)].drop(columns=["scenario", "replication"])
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)
        assert (exp / "parts" / table / "lever__r00001.parquet").exists()


# ----------------------------------------------------------------------------- errors and fonts
def test_missing_tables_and_folders_are_named(exp, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(exp, broken, ignore=shutil.ignore_patterns("parts", "figures"))
    (broken / "flows.parquet").unlink()
    (broken / "monthly.parquet").unlink()
    with pytest.raises(MissingResultsError, match=r"flows\.parquet"):
        draw("04a_flow_matrix", broken)
    with pytest.raises(MissingResultsError, match=r"monthly\.parquet"):
        draw("03_monthly_kpis", broken)
    with pytest.raises(MissingResultsError, match=r"manifest\.json"):
        draw("01_kpi_by_scenario", tmp_path)
    with pytest.raises(MissingResultsError, match="sweep"):
        fdata.prepare_sweep(Results(exp.parent / "run"))
    assert main(["figures", str(tmp_path / "nowhere")]) == 2


def test_folder_from_before_facility_monthly_skips_only_that_figure(exp, tmp_path):
    """An older results folder: no facility_monthly.parquet, no coordinates in facilities.parquet."""
    old = tmp_path / "old"
    shutil.copytree(exp, old, ignore=shutil.ignore_patterns("parts", "figures"))
    (old / "facility_monthly.parquet").unlink()
    fac = pd.read_parquet(old / "facilities.parquet")
    fac.drop(columns=["x_km", "y_km", "mobile"]).to_parquet(old / "facilities.parquet")
    with pytest.raises(MissingResultsError, match=r"facility_monthly\.parquet.*rerun the study"):
        draw("05b_load_by_month", old, tmp_path / "one")
    load = ["05a_facility_load", "05b_load_by_month", "05c_waiting_times", "09_village_map"]
    fs = make_figures(old, tmp_path / "figs", only=load)
    assert sorted(fs.by_name()) == ["05a_facility_load", "05c_waiting_times", "09_village_map"]
    assert list(fs.skipped) == ["05b_load_by_month"] and "facility_monthly.parquet" in fs.skipped["05b_load_by_month"]
    sites = fs.by_name()["09_village_map"].extra["sites"]
    assert sites.attrs["approximate"] and list(sites.tier) == ["township"] * 3  # village centroids


def test_figures_command_redraws_one_figure(exp, tmp_path, capsys):
    assert main(["figures", str(exp), "--out", str(tmp_path), "--only", "04a_flow_matrix"]) == 0
    assert (tmp_path / "04a_flow_matrix.png").exists() and not (tmp_path / "01_kpi_by_scenario.png").exists()
    assert "04a_flow_matrix" in capsys.readouterr().out
    assert main(["figures", str(exp), "--only", "nope"]) == 2


def _svg_text(path) -> str:
    return " ".join(re.findall(r"<!-- (.*?) -->", path.read_text(encoding="utf-8")))


def test_chinese_names_drawn_with_the_shipped_font_in_both_weights(figure_studies, exp, figs, tmp_path, monkeypatch):
    """No system CJK font needed: the shipped font draws every Chinese label, regular and bold (titles),
    and matplotlib never falls back or warns about a missing weight."""
    from matplotlib import font_manager

    from sim.outputs import cjk_font

    assert fonts.cjk_font() == cjk_font.FAMILY
    for weight, path in cjk_font.FILES.items():
        found = font_manager.findfont(font_manager.FontProperties(family=cjk_font.FAMILY, weight=weight),
                                      fallback_to_default=False)
        assert found == str(path)
        assert fonts._covers(found, fonts.chinese_text())
    assert "县域就诊率" in _svg_text(exp / "figures" / "01_kpi_by_scenario.svg")
    assert not [w for w in figure_studies["warnings"] if "font" in w.lower()], figure_studies["warnings"]
    monkeypatch.setenv("COUNTYSIM_CJK_FONT", "none")
    fonts.cjk_font.cache_clear()
    try:
        fig = draw("01_kpi_by_scenario", exp, tmp_path)
        english = _svg_text(fig.files[1])
        assert "County visit rate" in english and not CJK.search(english)
    finally:
        fonts.cjk_font.cache_clear()
