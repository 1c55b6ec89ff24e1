"""Load a scenario file: YAML with ``extends`` and ``--set``, schema validation, then the checks
that need the built county.  The county built here travels with the scenario and is the one
that runs."""
from __future__ import annotations

from pathlib import Path

from models.geography import County, GeographyError, build_county, build_key, with_outside_capacity
from models.levers import levers_with
from models.plan import Plan, check_schedule, month_table, run_months, with_calendars
from models.scenario import Scenario
from models.validation import check_scenario_against_county
from sim.core.config_files import (
    ConfigError,
    apply_overrides,
    apply_values,
    first_lines,
    load_raw,
    source_for,
    validate_model,
)

PATH_KEYS = ("geography.roster.facilities_csv", "geography.roster.townships_csv", "adaptation.starts_from")


def load_scenario_data(path: str | Path) -> tuple[dict, dict[str, str]]:
    """Merged data and key provenance of a scenario file (paths resolved against their file)."""
    return load_raw(path, PATH_KEYS)


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    data, src = load_scenario_data(path)
    return resolve(data, src, str(Path(path).resolve()), overrides, source=f"{Path(path).name} (--set)")


def validate(data: dict, src: dict[str, str] | None = None, origin: str = "<config>") -> Scenario:
    """Schema validation only (no county): a ConfigError names file, key, value and range."""
    return validate_model(Scenario, data, src, origin)


def resolve(data: dict, src: dict[str, str], origin: str, overrides: list[str] | None = None,
            source: str = "--set", counties: dict | None = None) -> Scenario:
    """Overrides, validation and the geography checks on already loaded data.

    Batches resolve many variants of one base file: they load it once and pass ``counties``
    (a dict used as a cache keyed by ``build_key``), so each variant costs a validation, not a
    file read and a county build.
    """
    src = dict(src)
    data = apply_overrides(data, src, overrides or [], source)
    scenario = validate(data, src, origin)
    built = build_key(scenario.geography)
    county = counties.get(built) if counties is not None else None
    if county is None:
        try:
            county = build_county(scenario.geography)
        except GeographyError as e:
            raise ConfigError(f"{source_for(e.key, src, origin)}: {e.key}: {e}") from None
        if counties is not None:
            counties[built] = county
    county = with_outside_capacity(county, scenario.geography.outside)
    key = scenario.geography.model_dump_json()
    _check_against_county(scenario, county, src, origin)
    scenario._county, scenario._county_key = county, key
    scenario._start = _start_scenario(scenario, county, src, origin)
    scenario._plan = _resolve_plan(scenario, data, src, origin, county)
    for variant in scenario._plan.variants:  # residents' starting habits do not change with the plan
        variant._start = scenario._start
    return scenario


def _check_against_county(scenario: Scenario, county: County, src: dict[str, str], origin: str) -> None:
    problems = check_scenario_against_county(scenario, county)
    if problems:
        lines = dict.fromkeys(f"{source_for(p, src, origin)}: {p}: {m}" for p, m in problems)
        raise ConfigError("invalid scenario:\n  " + "\n  ".join(first_lines(list(lines))))


def _resolve_plan(scenario: Scenario, data: dict, src: dict[str, str], origin: str, county: County) -> Plan:
    """The schedule as a monthly parameter table and one validated scenario per distinct month.

    Each scheduled value is first checked on its own, so an error names its year and key."""
    sim = scenario.simulation
    plan = Plan(sim.start_year)
    n_months = run_months(sim.years)
    if not scenario.schedule:
        return _with_calendars(plan, scenario, county, n_months)

    def where(year: int, key: str | None) -> str:
        return source_for(f"schedule.{year}" + (f".{key}" if key else ""), src, origin)

    resolved = resolved_dict(scenario)
    check_schedule(scenario.schedule, resolved, sim.start_year, sim.years, where)
    for year, row in sorted(scenario.schedule.items()):
        for key, value in row.items():
            _variant(data, src, where(year, key), {key: value}, county, f"schedule.{year}")
    plan.rows, plan.keys = month_table(resolved, scenario.schedule, scenario.ramp, sim.start_year, n_months)
    seen: dict[tuple, int] = {}
    for m, row in enumerate(plan.rows):
        values = tuple(repr(row[k]) for k in plan.keys)
        if values not in seen:
            seen[values] = len(plan.variants)
            label = f"schedule ({sim.start_year + m // 12}-{m % 12 + 1:02d})"
            plan.variants.append(_variant(data, src, origin, row, county, label))
        plan.variant_of_month.append(seen[values])
    return _with_calendars(plan, scenario, county, n_months)


def _with_calendars(plan: Plan, scenario: Scenario, county: County, n_months: int) -> Plan:
    """The plan split by the months of levers' calendars (rotations of county doctors)."""
    calendars = [(lever, lever.calendar(scenario, n_months)) for lever in levers_with("calendar")]
    calendars = [(lever, months) for lever, months in calendars if months is not None]
    for lever, months in calendars:
        plan.columns.update(lever.calendar_columns(scenario, county, months))
    return with_calendars(plan, scenario, calendars, n_months)


def _variant(data: dict, src: dict[str, str], origin: str, values: dict, county: County, label: str) -> Scenario:
    """The scenario with ``values`` set (None: left as the file has it), validated like the file."""
    src = dict(src)
    items = [(k, v) for k, v in values.items() if v is not None]
    variant = validate(apply_values(data, src, items, f"{origin} ({label})", label), src, origin)
    _check_against_county(variant, county, src, origin)
    return variant


def plan_of(scenario: Scenario) -> Plan:
    """The resolved plan of a scenario; one made in code has no schedule, only levers' calendars."""
    if scenario._plan is not None:
        return scenario._plan
    sim = scenario.simulation
    n_months = run_months(sim.years)
    return _with_calendars(Plan(sim.start_year), scenario, county_of(scenario), n_months)


def _start_scenario(scenario: Scenario, county: County, src: dict[str, str], origin: str) -> Scenario | None:
    """The scenario residents' habits and perceptions were formed under (``adaptation.starts_from``):
    its reimbursement, catalogue and levers on this scenario's own county (geography as here, so
    ``--set geography...`` moves both)."""
    path = scenario.adaptation.starts_from
    if path is None:
        return None
    where = source_for("adaptation.starts_from", src, origin)
    try:
        data, start_src = load_scenario_data(path)
        data["geography"] = scenario.model_dump(mode="json")["geography"]
        data.setdefault("adaptation", {})["starts_from"] = None
        start = resolve(data, start_src, str(Path(path).resolve()), counties={build_key(scenario.geography): county})
    except ConfigError as e:
        raise ConfigError(f"{where}: adaptation.starts_from: {path}: {e}") from None
    except FileNotFoundError:
        raise ConfigError(f"{where}: adaptation.starts_from: {path}: file not found") from None
    return start


def county_of(scenario: Scenario) -> County:
    """The county validated with this scenario, or a fresh build for one made in code."""
    key = scenario.geography.model_dump_json()
    if scenario._county is None or scenario._county_key != key:
        scenario._county, scenario._county_key = build_county(scenario.geography), key
    return scenario._county


def resolved_dict(scenario: Scenario) -> dict:
    """JSON-safe dump of the fully resolved scenario (for manifests and `validate`)."""
    return scenario.model_dump(mode="json")
