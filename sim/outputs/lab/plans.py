"""A plan as the lab holds it, and its YAML: exactly the phased-plan file ``countysim run`` accepts.

The planner sets, for each switched-on lever setting, its value in every calendar year of the run.
The schedule written to YAML holds only the changes: a key enters year Y when its value in Y
differs from its value the year before (for the first year: from the county's own value).
Uploaded rosters are stored, size-checked and parsed as CSV (never executed), in the lab's folder.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from sim.core.config_files import ConfigError

ROOT = Path(__file__).resolve().parents[3]
COUNTIES = {"baseline": ROOT / "configs" / "baseline.yaml", "huairou": ROOT / "configs" / "huairou.yaml"}
EXAMPLE_PLANS = ROOT / "configs" / "plans"
HUAIROU_TOWNSHIPS = ROOT / "configs" / "data" / "huairou_townships.csv"
MAX_UPLOAD_BYTES = 1_000_000  # a roster of a thousand facilities is about 200 kB
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
DEFAULT_TARGETS = {"county_visit_rate": 0.90, "primary_care_share": 0.65}  # seed 000 (县域就诊率), seed 001 (65 % by 2027)
KNOWN_KEYS = ("extends", "name", "description", "simulation", "schedule", "ramp", "targets")


@dataclass
class LabPlan:
    """``values``: key → {calendar year: value} for the settings of switched-on levers."""

    county: Path
    name: str = "my_plan"
    description: str = ""
    start_year: int = 2024
    years: int = 4
    ramp: str = "step"
    values: dict[str, dict[int, Any]] = field(default_factory=dict)
    targets: dict[str, dict[int, float]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # other settings of an opened plan file, kept as they are
    extra_schedule: dict[int, dict[str, Any]] = field(default_factory=dict)  # scheduled keys the lab has no control for

    @property
    def calendar(self) -> list[int]:
        return list(range(self.start_year, self.start_year + self.years))

    def check_name(self) -> None:
        if not re.match(NAME_PATTERN, self.name or ""):
            raise ConfigError(f"plan name {self.name!r}: use letters, digits, '_', '-' or '.', starting with a letter "
                              "or digit (it names the results folder)")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)


def schedule(plan: LabPlan, county: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The changes year by year: ``{year: {key: value}}`` (what the YAML's ``schedule`` holds)."""
    out: dict[int, dict[str, Any]] = {}
    for key, by_year in plan.values.items():
        previous = county.get(key)
        for year in plan.calendar:
            value = by_year.get(year, previous)
            if not _same(value, previous):
                out.setdefault(year, {})[key] = value
            previous = value
    for year, row in plan.extra_schedule.items():
        if plan.start_year <= year < plan.start_year + plan.years:
            out.setdefault(year, {}).update(row)
    return {y: out[y] for y in sorted(out)}



def to_data(plan: LabPlan, county: dict[str, Any], extends: Path | None = None) -> dict:
    """The plan file's content (``extends`` an absolute path, so the file works wherever it is saved)."""
    data: dict[str, Any] = {"extends": str((extends or plan.county).resolve()), "name": plan.name}
    if plan.description:
        data["description"] = plan.description
    data.update({k: v for k, v in plan.extra.items() if k not in KNOWN_KEYS})
    data["simulation"] = {**(plan.extra.get("simulation") or {}), "start_year": plan.start_year, "years": plan.years}
    data["schedule"] = schedule(plan, county)
    data["ramp"] = plan.ramp
    if plan.targets:
        data["targets"] = {k: dict(sorted(v.items())) for k, v in plan.targets.items()}
    return data


def to_yaml(plan: LabPlan, county: dict[str, Any], extends: Path | None = None) -> str:
    when = datetime.now().strftime("%Y-%m-%d %H:%M")
    head = (f"# {plan.name}: a phased plan composed in the countysim policy lab ({when}).\n"
            f"# Check it:  countysim validate {plan.name}.yaml\n"
            f"# Run it:    countysim run {plan.name}.yaml --replications 10 --out results/{plan.name}\n")
    return head + yaml.safe_dump(to_data(plan, county, extends), sort_keys=False, allow_unicode=True)


def from_file(path: str | Path, county_of: callable, known: set[str]) -> LabPlan:
    """A plan file (one the lab saved, or any plan that ``extends`` a county config) as a LabPlan.

    ``county_of(path)`` gives the county's values (to carry scheduled values forward);
    scheduled keys not in ``known`` are kept as they are, in ``extra_schedule``."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("extends"), str):
        raise ConfigError(f"{path}: the lab opens plans that extend a county config (no 'extends:' found)")
    county_path = (path.parent / data["extends"]).resolve()
    sim = data.get("simulation") or {}
    plan = LabPlan(county=county_path, name=str(data.get("name") or path.stem),
                   description=str(data.get("description") or "").strip(),
                   start_year=int(sim.get("start_year", 2024)), years=int(math.ceil(float(sim.get("years", 4)))),
                   ramp=str(data.get("ramp") or "step"),
                   targets={k: {int(y): float(v) for y, v in (row or {}).items()}
                            for k, row in (data.get("targets") or {}).items()},
                   extra={k: v for k, v in data.items() if k not in KNOWN_KEYS or k == "simulation"})
    plan.extra["simulation"] = {k: v for k, v in sim.items() if k not in ("start_year", "years")}
    county = county_of(county_path)
    from models.plan import flatten

    rows = {int(y): flatten(row or {}) for y, row in (data.get("schedule") or {}).items()}
    for year, row in sorted(rows.items()):
        for key, value in row.items():
            if key in known:
                plan.values.setdefault(key, {})
            else:
                plan.extra_schedule.setdefault(year, {})[key] = value
    for key, by_year in plan.values.items():
        value = county.get(key)
        for year in plan.calendar:
            value = rows.get(year, {}).get(key, value)
            by_year[year] = value
    return plan


# --------------------------------------------------------------------------- uploaded rosters
def save_upload(lab_root: Path, facilities: tuple[str, bytes], townships: tuple[str, bytes] | None = None) -> Path:
    """Store an uploaded roster (facilities CSV, optionally its townships CSV; Huairou's townships
    otherwise) and return a county config that uses it.  Files are size-checked and kept as data."""
    for name, content in [facilities] + ([townships] if townships else []):
        if len(content) > MAX_UPLOAD_BYTES:
            raise ConfigError(f"{name}: {len(content):,} bytes; an uploaded roster may have at most "
                              f"{MAX_UPLOAD_BYTES:,} bytes")
        try:
            content.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ConfigError(f"{name}: not UTF-8 text (byte {e.start}); save the roster as CSV UTF-8") from None
    digest = hashlib.sha256(facilities[1] + b"\0" + (townships[1] if townships else b"")).hexdigest()[:12]
    folder = lab_root / "uploads" / digest
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "facilities.csv").write_bytes(facilities[1])
    town = folder / "townships.csv"
    if townships:
        town.write_bytes(townships[1])
    county = {"extends": str(COUNTIES["huairou"]), "name": f"upload_{digest}",
              "description": f"uploaded roster {facilities[0]}" + (f" with {townships[0]}" if townships else
                                                                    " with Huairou's townships"),
              "geography": {"roster": {"facilities_csv": "facilities.csv",
                                       "townships_csv": "townships.csv" if townships else str(HUAIROU_TOWNSHIPS)}}}
    (folder / "names.yaml").write_text(yaml.safe_dump({"facilities": facilities[0],
                                                      "townships": townships[0] if townships else None}),
                                       encoding="utf-8")
    path = folder / "county.yaml"
    path.write_text(yaml.safe_dump(county, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def readable_error(message: str, county: Path) -> str:
    """An error about an uploaded roster, naming the files as the planner uploaded them."""
    names_file = county.parent / "names.yaml"
    if not names_file.exists():
        return message
    names = yaml.safe_load(names_file.read_text(encoding="utf-8")) or {}
    for stored, label in (("facilities.csv", names.get("facilities")), ("townships.csv", names.get("townships"))):
        if label:
            message = message.replace(str(county.parent / stored), f"uploaded {label}")
    return message.replace(str(county), "uploaded roster")


def county_label(path: Path) -> str:
    path = Path(path).resolve()
    for label, p in COUNTIES.items():
        if p.resolve() == path:
            return label
    if path.parent.parent.name == "uploads":
        return f"upload {path.parent.name}"
    return str(path)
