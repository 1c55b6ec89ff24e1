"""Issue 14: no input a planner can type, paste or upload ends in a traceback, a hang, or a silently
wrong or mixed results folder.

Every case of ``tests/hostile_cases.py`` runs through the CLI's ``main()``: it must return exit
status 2, print one message naming the file (or flag) and the key, row or column, and raise nothing;
a harness alarm turns a hang into a failure.  Hypothesis then fuzzes the config loader, the ``--set``
parser, the study-file loader and the roster CSV reader with the same contract.  The lock test starts
two real processes.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hostile_cases import CASES, CLASSES, EXP_SMALL, FACS, SMALL, TOWNS, exp, roster, study, text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.outputs.cli import main

ROOT = Path(__file__).resolve().parent.parent
BOUND_SECONDS = 60  # generous: every case takes well under a second; a hang is caught, not timed


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_bound(seconds: int = BOUND_SECONDS):
    """Harness bound (SIGALRM): an input that hangs fails the test instead of stalling the suite."""
    def alarm(*_):
        raise Hang(f"no answer within {seconds} s")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def cli(argv: list[str]) -> tuple[int, str]:
    """Exit status and stderr of ``countysim argv``; an exception escaping main() fails the test."""
    err = io.StringIO()
    with time_bound(), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = main(argv)
        except SystemExit as e:  # argparse: a malformed command line (usage and message, status 2)
            status = e.code
    return status, err.getvalue()


def assert_refused(status: int, message: str, words: list[str]) -> None:
    assert status == 2, message
    assert "Traceback" not in message, message
    assert message.startswith("countysim: error: "), message
    for word in words:
        assert word in message, f"{word!r} not in:\n{message}"


@pytest.mark.parametrize("case", CASES, ids=[f"{c.cls}-{c.name}" for c in CASES])
def test_hostile_input_is_refused_clearly(case, tmp_path):
    argv, words = case.build(tmp_path)
    status, message = cli(argv)
    assert_refused(status, message, words)
    assert len(message) < 4000, "a message must stay readable, never render an unbounded value"


def test_every_class_of_the_issue_has_cases():
    counts = {cls: sum(c.cls == cls for c in CASES) for cls in CLASSES}
    assert all(n >= 4 for n in counts.values()), counts


# ----------------------------------------------------------------------------- accepted inputs
def test_csv_with_byte_order_mark_is_accepted(tmp_path):
    """Excel's 'CSV UTF-8' starts with a byte-order mark: the first column is still 'name'."""
    path = roster(tmp_path, "\ufeff" + TOWNS, "\ufeff" + FACS)
    status, message = cli(["validate", str(path)])
    assert status == 0, message


def test_gbk_csv_is_read_as_chinese(tmp_path):
    """Excel on Chinese Windows saves 'CSV' in GBK: names come through as written."""
    towns = TOWNS.replace("Quanhe", "泉河街道")
    facs = FACS.replace("Quanhe", "泉河街道")
    (tmp_path / "t.csv").write_bytes(towns.encode("gbk"))
    (tmp_path / "f.csv").write_bytes(facs.encode("gbk"))
    from models.geography import build_county
    from models.loading import load_scenario

    s = load_scenario(roster(tmp_path, None, None), [f"geography.roster.townships_csv={tmp_path / 't.csv'}",
                                                     f"geography.roster.facilities_csv={tmp_path / 'f.csv'}"])
    assert "泉河街道" in build_county(s.geography).township_names


def test_yaml_merge_keys_are_not_duplicates(tmp_path):
    """``<<: *anchor`` then an explicit key is YAML's override idiom, not a repeated key."""
    body = "tiers:\n  village: &t {service_minutes: 8}\n  township:\n    <<: *t\n    service_minutes: 12\n"
    path = text(tmp_path / "s.yaml", f"extends: {SMALL}\n{body}")
    status, message = cli(["validate", str(path)])
    assert status == 0, message


# ----------------------------------------------------------------------------- results folders
def _run(out: Path, *extra: str) -> tuple[int, str]:
    return cli(["run", str(EXP_SMALL), "--replications", "1", "--workers", "1", "--quiet", "--no-figures",
                "--out", str(out), *extra])


def test_overwrite_replaces_an_experiment_folder_whole(tmp_path):
    """Refused without --overwrite (nothing touched); with it, the old study's files are gone."""
    out = tmp_path / "out"
    text(out / "manifest.json", json.dumps({"kind": "experiment", "study": "x", "scenarios": []}))
    text(out / "summary.csv", "old\n")
    text(out / "parts" / "runs" / "a__r00000.parquet", "old")
    status, message = _run(out)
    assert status == 2 and (out / "summary.csv").read_text() == "old\n", message
    status, message = _run(out, "--overwrite")
    assert status == 0, message
    assert (out / "summary.csv").read_text() != "old\n" and not (out / "parts").exists()  # the run's own summary
    assert json.loads((out / "manifest.json").read_text())["scenario"] == "exp_small"
    assert not list(tmp_path.glob(".out.new*")) and not list(tmp_path.glob(".out.old*"))


def test_rerun_of_the_same_scenario_needs_no_overwrite(tmp_path):
    out = tmp_path / "out"
    assert _run(out)[0] == 0
    (out / "report.html").write_text("stale", encoding="utf-8")
    status, message = _run(out)
    assert status == 0, message
    assert not (out / "report.html").exists(), "a report of the earlier run must not sit beside new tables"


def test_resume_with_fewer_replications_reuses_finished_runs(tmp_path):
    from sim.studies.executors import InProcess
    from sim.studies.experiment import run_experiment

    path = study(tmp_path, exp(tmp_path, replications=3))
    run_experiment(path, InProcess(), out=tmp_path / "out", progress=False)
    _, _, result, _ = run_experiment(path, InProcess(), out=tmp_path / "out", resume=True, progress=False,
                                     replications=2)
    assert (result.skipped, result.finished, result.planned) == (2, 2, 2)


HOLDER = textwrap.dedent("""
    import sys
    from sim.core.files import OutputFolder
    folder = OutputFolder(sys.argv[1])
    folder.open({"kind": "experiment", "name": "hostile", "source": "holder"})
    print("locked", flush=True)
    sys.stdin.readline()
""")


def test_second_process_is_refused_while_the_first_writes(tmp_path):
    """Process 1 holds the results folder; process 2 (a real CLI run) is refused with exit 2 and
    leaves the folder as it was; once process 1 is done, the same command succeeds."""
    out = tmp_path / "out"
    path = study(tmp_path, exp(tmp_path))
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = sorted(p.name for p in out.iterdir())
        second = subprocess.run([sys.executable, "-m", "sim.outputs.cli", "experiment", str(path), "--quiet",
                                 "--no-figures", "--workers", "1", "--out", str(out)],
                                capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert second.returncode == 2, second.stderr
        assert "another countysim process" in second.stderr and "Traceback" not in second.stderr
        assert sorted(p.name for p in out.iterdir()) == before
    finally:
        holder.communicate("done\n", timeout=60)
    status, message = cli(["experiment", str(path), "--quiet", "--no-figures", "--workers", "1", "--out", str(out)])
    assert status == 0, message
    assert len(pd.read_parquet(out / "runs.parquet")) == 1


# ----------------------------------------------------------------------------- fuzzing
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
keys = st.sampled_from(["simulation.years", "simulation.replications", "geography.synthetic.population",
                        "reimbursement.township.outpatient_rate", "choice.tier_constant.county", "name",
                        "conditions.minor_acute.incidence", "tiers.county.outpatient_cost", "bogus.key",
                        "geography.synthetic.county_hospitals.0.doctors", "geography.outside"])
yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


def _contract(status: int, message: str, *origins: str) -> None:
    """Valid, or exit 2 naming one of ``origins`` (the file given, or the file that set the broken key)."""
    assert status in (0, 2), message
    assert "Traceback" not in message, message
    if status == 2:
        assert any(o in message for o in origins), message


@FUZZ
@given(key=keys, value=yaml_values)
def test_fuzz_config_file_values(tmp_path_factory, key, value):
    """Any value at a real or misspelt key of a scenario file: valid, or refused naming the file and key."""
    folder = tmp_path_factory.mktemp("fuzz")
    data: dict = {}
    node = data
    for part in key.split(".")[:-1]:
        node = node.setdefault(part, {})
    node[key.split(".")[-1]] = value
    path = text(folder / "s.yaml", f"extends: {SMALL}\n" + yaml.safe_dump(data, allow_unicode=True))
    status, message = cli(["validate", str(path)])
    _contract(status, message, "s.yaml", SMALL.name)
    if status == 2:
        assert key.split(".")[0] in message or "geography" in message, message


@FUZZ
@given(item=st.text(max_size=60))
def test_fuzz_set_items(item):
    """Any ``--set`` text at all: valid, or refused naming --set."""
    status, message = cli(["validate", str(SMALL), "--set", item])
    _contract(status, message, "--set", SMALL.name, "argument --set")


@FUZZ
@given(key=keys, value=yaml_values)
def test_fuzz_set_values(key, value):
    status, message = cli(["validate", str(SMALL), "--set", f"{key}={yaml.safe_dump(value, default_flow_style=True)}"])
    _contract(status, message, "--set", SMALL.name)


@FUZZ
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(lambda s: s.encode("utf-8")))
def test_fuzz_raw_scenario_bytes(tmp_path_factory, raw):
    """Arbitrary bytes as a scenario file: refused naming the file (never a traceback or a hang)."""
    path = tmp_path_factory.mktemp("fuzz") / "raw.yaml"
    path.write_bytes(raw)
    status, message = cli(["validate", str(path)])
    _contract(status, message, "raw.yaml")


study_keys = st.sampled_from(["name", "base", "seed", "replications", "set", "scenarios", "sweep", "reference",
                              "kpis", "target_halfwidth", "bogus"])


@FUZZ
@given(key=study_keys, value=yaml_values)
def test_fuzz_study_file(tmp_path_factory, key, value):
    """Any value at a study-file key: a plan, or refused naming the study file."""
    folder = tmp_path_factory.mktemp("fuzz")
    path = text(folder / "st.yaml", yaml.safe_dump({**exp(folder), key: value}, allow_unicode=True))
    status, message = cli(["experiment", str(path), "--dry-run"])
    _contract(status, message, "st.yaml")


cells = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8) | \
    st.sampled_from(["nan", "inf", "-1", "1e400", "0", "40.3", "116.6", "3", "Quanhe", "county", ""])


@FUZZ
@given(row=st.lists(cells, min_size=0, max_size=8), which=st.sampled_from(["towns", "facilities"]))
def test_fuzz_roster_rows(tmp_path_factory, row, which):
    """Any extra row in a roster CSV: a county, or refused naming the CSV (and row where one is at fault)."""
    folder = tmp_path_factory.mktemp("fuzz")
    line = ",".join('"' + c.replace('"', '""') + '"' for c in row) + "\n"
    towns, facs = (TOWNS + line, FACS) if which == "towns" else (TOWNS, FACS + line)
    status, message = cli(["validate", str(roster(folder, towns, facs))])
    _contract(status, message, "towns.csv" if which == "towns" else "facilities.csv")


# ----------------------------------------------------------------------------- docs/errors.md
def write_errors_doc(path: Path) -> Path:
    """docs/errors.md: every class with every case and the message it gives (temporary paths shortened)."""
    import tempfile

    lines = ["# Error messages", "",
             "Generated by `python tests/hostile_cases.py` from the cases `tests/test_hostile_inputs.py` runs: "
             "every one exits with status 2 and one message naming the file (or flag), the key, row or column, "
             "and what would be accepted.  Paths are shortened to `<dir>/` and `<repo>/`.", ""]
    for cls, title in CLASSES.items():
        lines += [f"## {title}", ""]
        for case in (c for c in CASES if c.cls == cls):
            with tempfile.TemporaryDirectory() as tmp:
                argv, _ = case.build(Path(tmp))
                status, message = cli(argv)
                shown = message.replace(str(Path(tmp).resolve()), "<dir>").replace(tmp, "<dir>")
                shown = shown.replace(str(ROOT), "<repo>").strip()
                command = " ".join(a if len(a) < 60 else a[:57] + "..." for a in argv)
                command = command.replace(str(Path(tmp).resolve()), "<dir>").replace(tmp, "<dir>")
                command = command.replace(str(ROOT), "<repo>")
            lines += [f"### `{case.name}`: {case.what}", "", f"`countysim {command}` → exit {status}", "",
                      "```", re.sub(r"\n{2,}", "\n", shown), "```", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_errors_doc_lists_every_case():
    doc = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    missing = [c.name for c in CASES if f"`{c.name}`" not in doc]
    assert not missing, f"regenerate with `python tests/hostile_cases.py`; missing {missing}"
