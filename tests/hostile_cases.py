"""Hostile inputs, one builder per case: what a planner might type, paste or upload (issue 14).

Each case writes its files into a fresh folder and returns the command line and the words the
error must contain (the file or flag, and the key, row or column).  ``tests/test_hostile_inputs.py``
runs every case through the CLI and asserts exit status 2, those words and no traceback;
``python tests/hostile_cases.py`` regenerates docs/errors.md from the same cases.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = Path(__file__).resolve().parent / "configs"
SMALL = CONFIGS / "small_county.yaml"
EXP_SMALL = CONFIGS / "exp_small.yaml"
MMC = CONFIGS / "mmc.yaml"
HUAIROU = ROOT / "configs" / "huairou.yaml"
BASELINE = ROOT / "configs" / "baseline.yaml"
DATA = ROOT / "configs" / "data"

CLASSES = {
    "hang": "Hangs and memory: size limits, never an unbounded value in a message",
    "traceback": "Files, folders and text that used to end in a traceback",
    "silent": "Inputs that used to be accepted and give silently wrong results",
    "unclear": "Inputs that used to give an unclear message",
    "folder": "Results folders: mixing studies, damaged or incomplete folders",
}


@dataclass(frozen=True)
class Case:
    cls: str
    name: str
    what: str
    build: Callable[[Path], tuple[list[str], list[str]]]  # folder → (argv, words the message must contain)


CASES: list[Case] = []


def case(cls: str, what: str):
    def register(build):
        CASES.append(Case(cls, build.__name__, what, build))
        return build
    return register


# ----------------------------------------------------------------------------- helpers
def text(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def scenario(folder: Path, extra: str, name: str = "scenario.yaml", base: Path = SMALL) -> Path:
    return text(folder / name, f"extends: {base}\n{extra}")


def bomb(anchor: str = "l0", levels: int = 9, width: int = 9) -> str:
    """A "billion laughs" block: ``width ** levels`` values from a few hundred bytes."""
    lines = [f"{anchor}_defs:", f"  - &{anchor}0 [1, 2, 3, 4, 5, 6, 7, 8, 9]"]
    for i in range(1, levels):
        lines.append(f"  - &{anchor}{i} [" + ", ".join([f"*{anchor}{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def roster(folder: Path, townships: str | bytes | None = None, facilities: str | bytes | None = None) -> Path:
    """A roster scenario (the Huairou CSVs) whose CSVs are replaced where given.  It extends the
    baseline, not configs/huairou.yaml, whose communities and facility catalogues name Huairou's
    own townships and facilities."""
    t = text(folder / "towns.csv", townships) if townships is not None else DATA / "huairou_townships.csv"
    f = text(folder / "facilities.csv", facilities) if facilities is not None else DATA / "huairou_facilities.csv"
    return text(folder / "roster.yaml", f"extends: {BASELINE}\ngeography:\n  kind: roster\n  synthetic: null\n"
                                        f"  roster:\n    townships_csv: {t}\n    facilities_csv: {f}\n")


TOWNS_HEAD = "name,population,lat,lon,n_villages\n"
TOWNS = TOWNS_HEAD + "Quanhe,70000,40.323,116.628,3\nLongshan,65010,40.31,116.64,3\n"
FACS_HEAD = "name,tier,township,beds,doctors,lat,lon\n"
FACS = FACS_HEAD + ("County Hospital,county,Quanhe,300,80,40.318,116.634\n"
                    "Quanhe centre,township,Quanhe,20,10,40.323,116.628\n"
                    "Longshan centre,township,Longshan,20,10,40.31,116.64\n"
                    "Quanhe clinic,village,Quanhe,0,2,40.33,116.62\n")


def study(folder: Path, body: dict | str, name: str = "study.yaml") -> Path:
    content = body if isinstance(body, str) else yaml.safe_dump(body, sort_keys=False)
    return text(folder / name, content)


def exp(folder: Path, **extra) -> dict:
    return {"name": "hostile", "base": str(EXP_SMALL), "replications": 1, **extra}


def results_folder(folder: Path, manifest: str | bytes | None, runs: bytes | None = None) -> Path:
    out = folder / "results"
    out.mkdir()
    if manifest is not None:
        text(out / "manifest.json", manifest)
    if runs is not None:
        text(out / "runs.parquet", runs)
    return out


RUN_MANIFEST = json.dumps({"scenario": "s", "config": {"simulation": {}}})
BATCH_MANIFEST = json.dumps({"kind": "experiment", "study": "x", "scenarios": [{"name": "a"}]})


# ----------------------------------------------------------------------------- hangs and memory
@case("hang", "a 'billion laughs' YAML alias bomb under an unknown key")
def alias_bomb_unknown_key(d):
    return ["validate", str(scenario(d, bomb()))], ["scenario.yaml", "l0_defs", "aliases"]


@case("hang", "an alias bomb as the value of a text key")
def alias_bomb_in_description(d):
    body = bomb() + "description: *l08\n"
    return ["validate", str(scenario(d, body))], ["scenario.yaml", "aliases"]


@case("hang", "an alias bomb of mappings under conditions")
def alias_bomb_mappings(d):
    lines = ["conditions:", "  a: &m0 {x: 1, y: 2, z: 3, w: 4, v: 5, u: 6, t: 7, s: 8}"]
    for i in range(1, 8):
        lines.append(f"  b{i}: &m{i} {{" + ", ".join(f"k{j}: *m{i - 1}" for j in range(8)) + "}")
    return ["validate", str(scenario(d, "\n".join(lines) + "\n"))], ["scenario.yaml", "conditions", "aliases"]


@case("hang", "an alias bomb in a study file")
def alias_bomb_study(d):
    return ["experiment", str(study(d, yaml.safe_dump(exp(d)) + bomb("s"))), "--dry-run"], \
        ["study.yaml", "s_defs", "aliases"]


@case("hang", "a townships CSV asking for 50 million villages")
def roster_fifty_million_villages(d):
    towns = TOWNS_HEAD + "Quanhe,70000,40.323,116.628,50000000\nLongshan,65010,40.31,116.64,3\n"
    return ["validate", str(roster(d, towns, FACS))], ["towns.csv", "row 2", "n_villages", "5,000"]


@case("hang", "a townships CSV whose rows add up to too many villages")
def roster_too_many_villages_in_all(d):
    rows = "".join(f"T{i},1000,40.3,116.6,4000\n" for i in range(3))
    return ["validate", str(roster(d, TOWNS_HEAD + rows, FACS.replace("Quanhe", "T0").replace("Longshan", "T1")))], \
        ["towns.csv", "n_villages", "12,000"]


@case("hang", "a synthetic county of 200 × 200 villages")
def synthetic_too_many_villages(d):
    return ["validate", str(SMALL), "--set", "geography.synthetic.townships=200", "--set",
            "geography.synthetic.villages_per_township=200"], \
        ["--set", "geography.synthetic.villages_per_township", "5,000"]


@case("hang", "an explicit county listing 5,001 villages")
def explicit_too_many_villages(d):
    data = yaml.safe_load(MMC.read_text(encoding="utf-8"))
    data["geography"]["villages"] = [{"name": f"v{i}", "township": "T", "population": 10} for i in range(5001)]
    path = study(d, data, "explicit.yaml")
    return ["validate", str(path)], ["explicit.yaml", "geography.villages", "5000"]


@case("hang", "a 100000 × 100000 sweep grid")
def sweep_grid_huge(d):
    sweep = {"method": "grid", "parameters": {
        "reimbursement.township.outpatient_rate": {"low": 0.1, "high": 0.9, "levels": 10000},
        "reimbursement.county.outpatient_rate": {"low": 0.1, "high": 0.9, "levels": 10000}}}
    return ["experiment", str(study(d, exp(d, sweep=sweep))), "--dry-run"], ["study.yaml", "100,000,001", "10,000"]


@case("hang", "sweep levels beyond the limit")
def sweep_levels_huge(d):
    sweep = {"parameters": {"reimbursement.township.outpatient_rate": {"low": 0.1, "high": 0.9, "levels": 10**9}}}
    return ["experiment", str(study(d, exp(d, sweep=sweep))), "--dry-run"], ["study.yaml", "levels", "10000"]


@case("hang", "a Latin hypercube of 100,000 points")
def sweep_lhs_huge(d):
    sweep = {"method": "lhs", "samples": 100000, "parameters": {
        "reimbursement.township.outpatient_rate": {"low": 0.1, "high": 0.9}}}
    return ["experiment", str(study(d, exp(d, sweep=sweep))), "--dry-run"], ["study.yaml", "100,001", "10,000"]


@case("hang", "a Sobol study of a million samples")
def sensitivity_samples_huge(d):
    body = {"name": "s", "base": str(EXP_SMALL), "samples": 1000000, "kpis": ["primary_care_share"],
            "parameters": {"reimbursement.township.outpatient_rate": {"low": 0.1, "high": 0.9}}}
    return ["sensitivity", str(study(d, body)), "--dry-run"], ["study.yaml", "sample points", "10,000"]


@case("hang", "--replications of a billion for an experiment")
def experiment_replications_huge(d):
    return ["experiment", str(study(d, exp(d))), "--replications", "1000000000", "--dry-run"], \
        ["--replications", "100000"]


@case("hang", "scenarios × replications beyond a million runs")
def experiment_runs_huge(d):
    sweep = {"method": "lhs", "samples": 5000, "parameters": {
        "reimbursement.township.outpatient_rate": {"low": 0.1, "high": 0.9}}}
    return ["experiment", str(study(d, exp(d, sweep=sweep, replications=1000))), "--dry-run"], \
        ["study.yaml", "replications", "runs"]


@case("hang", "--replications of 100 million for a run")
def run_replications_huge(d):
    return ["validate", str(SMALL), "--replications", "100000000"], ["--set", "simulation.replications", "10000"]


@case("hang", "--years of a billion")
def run_years_huge(d):
    return ["validate", str(SMALL), "--years", "1e9"], ["--set", "simulation.years", "50"]


@case("hang", "a 25 MB scenario file")
def file_too_large(d):
    path = scenario(d, "description: |\n" + ("  " + "x" * 1000 + "\n") * 25000)
    return ["validate", str(path)], ["scenario.yaml", "bytes"]


@case("hang", "a doctor count too large for the arrays")
def doctors_huge(d):
    return ["validate", str(SMALL), "--set", "geography.synthetic.township_doctors=1e30"], \
        ["--set", "geography.synthetic.township_doctors"]


# ----------------------------------------------------------------------------- tracebacks
@case("traceback", "extends: pointing at a folder")
def extends_folder(d):
    (d / "sub").mkdir()
    return ["validate", str(scenario(d, "", base=d / "sub"))], [str(d / "sub"), "folder"]


@case("traceback", "the scenario file itself is a folder")
def config_is_folder(d):
    return ["validate", str(d)], [str(d), "folder"]


@case("traceback", "a study scenario's config: pointing at a folder")
def scenario_config_folder(d):
    (d / "sub").mkdir()
    body = exp(d, scenarios={"a": {}, "b": {"config": str(d / "sub")}})
    return ["experiment", str(study(d, body)), "--dry-run"], ["study.yaml", "scenarios.b", "folder"]


@case("traceback", "a study base: pointing at a folder")
def study_base_folder(d):
    return ["experiment", str(study(d, {**exp(d), "base": str(d)})), "--dry-run"], ["study.yaml", "folder"]


@case("traceback", "a roster CSV pointing at a folder")
def roster_csv_folder(d):
    (d / "towns.csv").mkdir()
    path = text(d / "roster.yaml", f"extends: {HUAIROU}\ngeography:\n  roster:\n    townships_csv: {d / 'towns.csv'}\n")
    return ["validate", str(path)], ["towns.csv", "geography.roster.townships_csv", "folder"]


@case("traceback", "calibration targets CSV pointing at a folder")
def targets_csv_folder(d):
    (d / "targets.csv").mkdir()
    body = {"name": "c", "base": str(EXP_SMALL), "targets": "targets.csv", "replications": 1,
            "parameters": {"reimbursement.township.outpatient_rate": {"low": 0.1, "high": 0.9}}}
    return ["calibrate", str(study(d, body)), "--dry-run"], ["targets.csv", "folder"]


@case("traceback", "a Latin-1 scenario file (not UTF-8)")
def scenario_latin1(d):
    path = text(d / "scenario.yaml", f"extends: {SMALL}\ndescription: caf\xe9\n".encode("latin-1"))
    return ["validate", str(path)], ["scenario.yaml", "UTF-8"]


@case("traceback", "a GBK-encoded parent in an extends chain")
def extends_gbk(d):
    text(d / "parent.yaml", f"extends: {SMALL}\ndescription: 基线情景\n".encode("gbk"))
    return ["validate", str(scenario(d, "", base=d / "parent.yaml"))], ["parent.yaml", "UTF-8"]


@case("traceback", "a GBK-encoded study file")
def study_gbk(d):
    path = text(d / "study.yaml", (yaml.safe_dump(exp(d)) + "description: 报销比例\n").encode("gbk"))
    return ["experiment", str(path), "--dry-run"], ["study.yaml", "UTF-8"]


@case("traceback", "5,000-deep nesting in flow style")
def deep_flow(d):
    return ["validate", str(scenario(d, "description: " + "[" * 5000 + "]" * 5000 + "\n"))], \
        ["scenario.yaml", "nested too deeply"]


@case("traceback", "3,000-deep nesting in block style")
def deep_block(d):
    body = "notes:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 3000))
    return ["validate", str(scenario(d, body))], ["scenario.yaml", "nested too deeply"]


@case("traceback", "nesting 60 deep (parses, too deep to use)")
def deep_sixty(d):
    return ["validate", str(scenario(d, "description: " + "[" * 60 + "]" * 60 + "\n"))], \
        ["scenario.yaml", "description", "nested too deeply"]


@case("traceback", "5,000-deep nesting in a study file")
def deep_study(d):
    return ["experiment", str(study(d, yaml.safe_dump(exp(d)) + "set: " + "[" * 5000 + "]" * 5000)), "--dry-run"], \
        ["study.yaml", "nested too deeply"]


@case("traceback", "5,000-deep nesting in a --set value")
def deep_set(d):
    return ["validate", str(SMALL), "--set", "description=" + "[" * 5000 + "]" * 5000], \
        ["--set", "description", "nested too deeply"]


@case("traceback", "a short row in the townships CSV")
def roster_short_row(d):
    return ["validate", str(roster(d, TOWNS + "Yanqi,30000,40.4\n", FACS))], ["towns.csv", "row 4", "3 field"]


@case("traceback", "a long row in the facilities CSV")
def roster_long_row(d):
    return ["validate", str(roster(d, TOWNS, FACS + "Extra,village,Quanhe,0,1,40.3,116.6,oops\n"))], \
        ["facilities.csv", "row 6", "8 field"]


@case("traceback", "a CSV without a header")
def roster_empty_csv(d):
    return ["validate", str(roster(d, "", FACS))], ["towns.csv", "columns", "empty"]


@case("traceback", "a CSV with a header and no rows")
def roster_header_only(d):
    return ["validate", str(roster(d, TOWNS_HEAD, FACS))], ["towns.csv", "no data rows"]


@case("traceback", "--out at a file")
def out_is_file(d):
    text(d / "taken", "mine")
    return ["run", str(EXP_SMALL), "--replications", "1", "--workers", "1", "--quiet", "--out", str(d / "taken")], \
        ["--out", "taken", "is a file"]


@case("traceback", "--out under a file (its parent is a file)")
def out_under_file(d):
    text(d / "taken", "mine")
    return ["run", str(EXP_SMALL), "--replications", "1", "--quiet", "--out", str(d / "taken" / "sub")], \
        ["--out", "taken", "is a file"]


@case("traceback", "--out in a read-only place")
def out_read_only(d):
    return ["run", str(EXP_SMALL), "--replications", "1", "--quiet", "--out", "/proc/countysim-results"], \
        ["--out", "/proc/countysim-results", "cannot write"]


@case("traceback", "experiment --out at a file")
def experiment_out_is_file(d):
    text(d / "taken", "mine")
    return ["experiment", str(study(d, exp(d))), "--quiet", "--out", str(d / "taken")], ["--out", "taken", "is a file"]


@case("traceback", "calibrate --out at a file (checked before the search)")
def calibrate_out_is_file(d):
    text(d / "taken", "mine")
    text(d / "targets.csv", "kpi,value,sd\nprimary_care_share,0.6,0.05\n")
    body = {"name": "c", "base": str(EXP_SMALL), "targets": "targets.csv", "replications": 1, "max_evaluations": 1,
            "parameters": {"reimbursement.township.outpatient_rate": {"low": 0.1, "high": 0.9}}}
    return ["calibrate", str(study(d, body)), "--quiet", "--out", str(d / "taken")], ["--out", "taken", "is a file"]


@case("traceback", "figures on a corrupt manifest.json")
def figures_corrupt_manifest(d):
    return ["figures", str(results_folder(d, '{"kind": "experi'))], ["manifest.json", "not a readable manifest"]


@case("traceback", "report on a manifest.json that is not UTF-8")
def report_binary_manifest(d):
    return ["report", str(results_folder(d, b"\xff\xfe\x00garbage"))], ["manifest.json", "not a readable manifest"]


@case("traceback", "figures on a manifest.json holding a list")
def figures_manifest_list(d):
    return ["figures", str(results_folder(d, "[1, 2]"))], ["manifest.json", "JSON object"]


@case("traceback", "report on a manifest whose scenarios are not a list of names")
def report_manifest_bad_scenarios(d):
    return ["report", str(results_folder(d, json.dumps({"kind": "experiment", "scenarios": "a,b"})))], \
        ["manifest.json", "scenarios"]


@case("traceback", "figures on a runs.parquet that is not Parquet")
def figures_runs_not_parquet(d):
    return ["figures", str(results_folder(d, BATCH_MANIFEST, b"scenario,replication\na,0\n"))], \
        ["runs.parquet", "not a readable Parquet"]


@case("traceback", "report on a runs.parquet that is not Parquet")
def report_runs_not_parquet(d):
    return ["report", str(results_folder(d, RUN_MANIFEST, b"PAR1 cut short"))], ["runs.parquet", "not a readable"]


@case("traceback", "figures --out at a file")
def figures_out_is_file(d):
    import pandas as pd

    from sim.core.files import write_parquet

    text(d / "taken", "mine")
    out = results_folder(d, RUN_MANIFEST)
    write_parquet(out / "runs.parquet", pd.DataFrame({"replication": [0], "primary_care_share": [0.6]}))
    return ["figures", str(out), "--out", str(d / "taken")], ["--out", "taken", "is a file"]


@case("traceback", "report --out at a folder")
def report_out_is_folder(d):
    import pandas as pd

    from sim.core.files import write_parquet

    out = results_folder(d, RUN_MANIFEST)
    write_parquet(out / "runs.parquet", pd.DataFrame({"replication": [0], "primary_care_share": [0.6]}))
    return ["report", str(out), "--out", str(d)], ["--out", "is a folder", "report.html"]


@case("traceback", "a NUL character in an extends path")
def extends_nul(d):
    return ["validate", str(text(d / "scenario.yaml", 'extends: "bad\\0name.yaml"\n'))], ["scenario.yaml", "extends"]


# ----------------------------------------------------------------------------- silently wrong
@case("silent", "roster township latitude nan")
def roster_nan_lat(d):
    return ["validate", str(roster(d, TOWNS.replace("40.323", "nan"), FACS))], ["towns.csv", "row 2", "lat", "nan"]


@case("silent", "roster facility longitude inf")
def roster_inf_lon(d):
    return ["validate", str(roster(d, TOWNS, FACS.replace("116.634", "inf")))], \
        ["facilities.csv", "row 2", "lon", "inf"]


@case("silent", "roster latitude out of range")
def roster_lat_range(d):
    return ["validate", str(roster(d, TOWNS, FACS.replace("40.318", "4031.8")))], \
        ["facilities.csv", "row 2", "lat", "[-90, 90]"]


@case("silent", "explicit village x_km .inf")
def explicit_inf(d):
    return ["validate", str(MMC), "--set", "geography.villages.0.x_km=.inf"], \
        ["--set", "geography.villages.0.x_km", "finite"]


@case("silent", "explicit facility y_km .nan")
def explicit_nan(d):
    return ["validate", str(MMC), "--set", "geography.facilities.0.y_km=.nan"], \
        ["--set", "geography.facilities.0.y_km", "finite"]


@case("silent", "a cost of .inf in a scenario file")
def cost_inf(d):
    return ["validate", str(scenario(d, "tiers:\n  county:\n    outpatient_cost: .inf\n"))], \
        ["scenario.yaml", "tiers.county.outpatient_cost", "finite"]


@case("silent", "a tier constant of .nan")
def tier_constant_nan(d):
    return ["validate", str(SMALL), "--set", "choice.tier_constant.county=.nan"], \
        ["--set", "choice.tier_constant.county", "finite"]


@case("silent", "a study seed given twice")
def duplicate_key_study(d):
    return ["experiment", str(study(d, yaml.safe_dump(exp(d)) + "seed: 1\nseed: 2\n")), "--dry-run"], \
        ["study.yaml", "'seed'", "twice", "line"]


@case("silent", "a top-level key given twice")
def duplicate_key_top(d):
    return ["validate", str(scenario(d, "name: a\nname: b\n"))], ["scenario.yaml", "'name'", "twice"]


@case("silent", "a nested key given twice")
def duplicate_key_nested(d):
    body = "reimbursement:\n  township:\n    outpatient_rate: 0.7\n    outpatient_rate: 0.9\n"
    return ["validate", str(scenario(d, body))], ["scenario.yaml", "'outpatient_rate'", "twice", "line 5"]


@case("silent", "a key given twice in a --set value")
def duplicate_key_set(d):
    return ["validate", str(SMALL), "--set", "choice.tier_constant={county: 1, county: 2}"], ["--set", "twice"]


@case("silent", "a county hospital in an unknown township (roster)")
def roster_unknown_township(d):
    return ["validate", str(roster(d, TOWNS, FACS.replace("County Hospital,county,Quanhe", "County Hospital,county,Atlantis")))], \
        ["facilities.csv", "row 2", "township", "Atlantis"]


@case("silent", "a village clinic without a township (roster)")
def roster_clinic_no_township(d):
    return ["validate", str(roster(d, TOWNS, FACS.replace("Quanhe clinic,village,Quanhe", "Quanhe clinic,village,")))], \
        ["facilities.csv", "row 5", "township"]


@case("silent", "a county facility in an unknown township (explicit)")
def explicit_unknown_township(d):
    data = yaml.safe_load(MMC.read_text(encoding="utf-8"))
    data["geography"]["facilities"].append({"name": "H", "tier": "county", "doctors": 1, "beds": 1,
                                            "township": "Atlantis"})
    return ["validate", str(study(d, data, "explicit.yaml"))], ["explicit.yaml", "geography.facilities", "Atlantis"]


@case("silent", "two townships with the same name")
def roster_duplicate_township(d):
    return ["validate", str(roster(d, TOWNS + "Quanhe,1000,40.4,116.7,2\n", FACS))], \
        ["towns.csv", "row 4", "Quanhe", "twice"]


@case("silent", "two facilities with the same name (roster)")
def roster_duplicate_facility(d):
    return ["validate", str(roster(d, TOWNS, FACS + "Quanhe clinic,village,Longshan,0,1,40.31,116.64\n"))], \
        ["facilities.csv", "row 6", "Quanhe clinic", "twice"]


@case("silent", "two villages with the same name (explicit)")
def explicit_duplicate_village(d):
    data = yaml.safe_load(MMC.read_text(encoding="utf-8"))
    data["geography"]["villages"].append(dict(data["geography"]["villages"][0]))
    return ["validate", str(study(d, data, "explicit.yaml"))], ["explicit.yaml", "geography.villages", "unique"]


@case("silent", "scenario names differing only in case")
def scenario_names_case(d):
    body = exp(d, scenarios={"A": {}, "a": {"set": {"reimbursement.township.outpatient_rate": 0.8}}})
    return ["experiment", str(study(d, body)), "--dry-run"], ["study.yaml", "'A'", "'a'", "case"]


@case("silent", "an explicit scenario named like a sweep point")
def scenario_named_like_sweep(d):
    body = exp(d, scenarios={"sweep_000": {}}, sweep={"parameters": {
        "reimbursement.township.outpatient_rate": {"values": [0.5, 0.7]}}})
    return ["experiment", str(study(d, body)), "--dry-run"], ["study.yaml", "sweep_000", "same name"]


# ----------------------------------------------------------------------------- unclear messages
@case("unclear", "a text latitude in the townships CSV")
def roster_text_lat(d):
    return ["validate", str(roster(d, TOWNS.replace("40.323", "north"), FACS))], \
        ["towns.csv", "row 2", "lat", "'north'"]


@case("unclear", "a text bed count in the facilities CSV")
def roster_text_beds(d):
    return ["validate", str(roster(d, TOWNS, FACS.replace(",300,", ",many,")))], \
        ["facilities.csv", "row 2", "beds", "'many'"]


@case("unclear", "a CSV in neither UTF-8 nor GBK")
def roster_binary_csv(d):
    return ["validate", str(roster(d, b"\x81\x30\xff\xfe name,population\n", FACS))], ["towns.csv", "UTF-8"]


@case("unclear", "a CSV missing a column names the file that set it, not baseline.yaml")
def roster_missing_column(d):
    return ["validate", str(roster(d, TOWNS.replace("n_villages", "villages"), FACS))], \
        ["roster.yaml: geography.roster.townships_csv", "towns.csv", "n_villages"]


@case("unclear", "a --set without '='")
def set_without_equals(d):
    return ["validate", str(SMALL), "--set", "simulation.years"], ["--set", "simulation.years", "key=value"]


@case("unclear", "a --set list index in Unicode digits")
def set_unicode_index(d):
    return ["validate", str(SMALL), "--set", "geography.synthetic.county_hospitals.²=1"], \
        ["--set", "county_hospitals", "index"]


@case("unclear", "a non-text key at the top of a scenario file")
def non_text_key(d):
    return ["validate", str(scenario(d, "1: one\n"))], ["scenario.yaml", "keys must be text"]


# ----------------------------------------------------------------------------- results folders
@case("folder", "report on a folder with only a manifest")
def report_manifest_only(d):
    return ["report", str(results_folder(d, BATCH_MANIFEST))], ["runs.parquet", "missing"]


@case("folder", "figures on a folder with only a manifest")
def figures_manifest_only(d):
    return ["figures", str(results_folder(d, RUN_MANIFEST))], ["runs.parquet", "missing"]


@case("folder", "report on a runs table without any finished run")
def report_runs_empty(d):
    import pandas as pd

    from sim.core.files import write_parquet

    out = results_folder(d, BATCH_MANIFEST)
    write_parquet(out / "runs.parquet", pd.DataFrame({"scenario": [], "replication": []}))
    return ["report", str(out)], ["runs.parquet", "no finished run"]


@case("folder", "run --out into a folder holding unrelated files")
def run_into_unrelated(d):
    text(d / "out" / "summary.csv", "my own table\n")
    return ["run", str(EXP_SMALL), "--replications", "1", "--quiet", "--out", str(d / "out")], \
        ["--out", "summary.csv", "--overwrite"]


@case("folder", "run --out into an experiment's folder")
def run_into_experiment(d):
    text(d / "out" / "manifest.json", BATCH_MANIFEST)
    text(d / "out" / "summary.csv", "scenario,kpi\n")
    return ["run", str(EXP_SMALL), "--replications", "1", "--quiet", "--out", str(d / "out")], \
        ["--out", "experiment 'x'", "--overwrite"]


@case("folder", "experiment --out into a single run's folder")
def experiment_into_run(d):
    text(d / "out" / "manifest.json", RUN_MANIFEST)
    return ["experiment", str(study(d, exp(d))), "--quiet", "--out", str(d / "out")], \
        ["--out", "run 's'", "--overwrite"]


if __name__ == "__main__":  # regenerate docs/errors.md
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_hostile_inputs import write_errors_doc

    print(write_errors_doc(ROOT / "docs" / "errors.md"))
