"""Every source the project cites ships with it: a clone can check each one."""
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# where a source is cited: configs and their comments, study files, docs, the README, model docstrings
CITING = ("configs/", "experiments/", "docs/", "models/", "sim/", "README.md")
SOURCE = re.compile(r"(?<![\w/.-])((?:\.\./|[\w-]+/)+[\w.-]+\.(?:csv|md|txt))\b")
OUTSIDE = re.compile(r"(?<![\w-])shared/(?:data|seeds|domain\.md)|\.\./shared\b")


def _tracked() -> list[Path]:
    try:
        names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        names = "\n".join(str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if ".venv" not in p.parts)
    return [ROOT / n for n in names.split() if n.startswith(CITING) and n.endswith((".py", ".md", ".yaml", ".csv"))
            and (ROOT / n).is_file()]


def test_no_file_cites_a_path_outside_the_repository():
    bad = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in _tracked()
           for m in OUTSIDE.finditer(p.read_text(encoding="utf-8"))]
    assert not bad, "cites files a clone does not have:\n" + "\n".join(bad)


def test_every_cited_data_or_document_file_exists():
    missing = []
    for p in _tracked():
        for m in SOURCE.finditer(p.read_text(encoding="utf-8")):
            cited = m.group(1)
            if cited.startswith(("results/", "configs/my_county/")):  # outputs and the README's example
                continue
            if not ((ROOT / cited).exists() or (p.parent / cited).exists()):
                missing.append(f"{p.relative_to(ROOT)}: {cited}")
    assert not missing, "cited but not in the repository:\n" + "\n".join(missing)


def test_the_baseline_cites_shipped_data_rows():
    """A row cited in configs/baseline.yaml (file + indicator) is a row of that shipped file."""
    text = (ROOT / "configs" / "baseline.yaml").read_text(encoding="utf-8")
    cites = re.findall(r"(docs/sources/data/[\w.]+\.csv) (\w+)", text)
    assert cites, "the baseline cites no shipped data file"
    for path, indicator in cites:
        rows = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^{indicator},", rows, re.M), f"{path} has no row {indicator}"
