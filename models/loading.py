"""Load a scenario file: YAML with ``extends`` and ``--set``, schema validation, then the checks
that need the built county.  The county built here travels with the scenario and is the one
that runs."""
from __future__ import annotations

from pathlib import Path

from models.geography import County, build_county
from models.scenario import Scenario
from models.validation import check_scenario_against_county
from sim.core.config_files import (
    ConfigError,
    apply_overrides,
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
    (a dict used as a cache keyed by the geography block), so each variant costs a validation,
    not a file read and a county build.
    """
    src = dict(src)
    data = apply_overrides(data, src, overrides or [], source)
    scenario = validate(data, src, origin)
    key = scenario.geography.model_dump_json()
    county = counties.get(key) if counties is not None else None
    if county is None:
        try:
            county = build_county(scenario.geography)
        except (ValueError, FileNotFoundError) as e:
            raise ConfigError(f"{source_for('geography', src, origin)}: geography: {e}") from None
        if counties is not None:
            counties[key] = county
    problems = check_scenario_against_county(scenario, county)
    if problems:
        raise ConfigError("invalid scenario:\n  " + "\n  ".join(
            f"{source_for(p, src, origin)}: {p}: {m}" for p, m in problems))
    scenario._county, scenario._county_key = county, key
    scenario._start = _start_scenario(scenario, county, src, origin)
    return scenario


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
        start = resolve(data, start_src, str(Path(path).resolve()), counties={scenario._county_key: county})
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
