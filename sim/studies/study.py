"""From a study file (experiment, sensitivity, calibration) to a validated plan of runs.

All three kinds of study share a header (base config, master seed, replications, common
overrides) and end in the same thing: named scenarios, each a resolved ``Scenario``, times
replications 0..R-1.  Every scenario is resolved and validated here, before any run starts,
so a typo in scenario 40 of 40 fails in a second rather than after an hour.

Replication r of every scenario uses seed streams from (master seed, r): common random numbers.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from models.loading import load_scenario_data as load_raw
from models.loading import resolve, resolved_dict
from models.scenario import Scenario
from sim.core.config_files import ConfigError, apply_overrides, first_lines, read_yaml, short_repr

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
MAX_SCENARIOS = 10_000  # scenarios (explicit, sweep or sample points) in one study
MAX_RUNS = 1_000_000  # scenarios × replications
SEED_KEYS = ("simulation.seed", "simulation.replications")


Overrides = dict[str, Any] | list[str]


def override_list(overrides: Overrides) -> list[str]:
    """``{key: value}`` or ``["key=value"]`` → ``["key=value"]`` (``--set`` syntax)."""
    from sim.studies.parameters import format_value

    if isinstance(overrides, dict):
        return [f"{k}={format_value(v)}" for k, v in overrides.items()]
    return list(overrides)


class StudySpec(BaseModel):
    """Header shared by experiment, sensitivity and calibration files."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field(pattern=NAME_PATTERN, description="also the results folder name")
    description: str = ""
    question: str = Field("", description="the question the study answers; leads its report (countysim report)")
    base: str = Field(min_length=1, description="scenario YAML, relative to this file")
    seed: int = Field(42, ge=0, description="master seed: replication r of every scenario uses (seed, r)")
    replications: int = Field(10, ge=1, le=100_000)
    set: Overrides = Field(default_factory=dict, description="overrides applied to the base config")

    @field_validator("set")
    @classmethod
    def _no_seed(cls, v: Overrides) -> Overrides:
        check_not_seed(override_list(v))
        return v


def check_not_seed(overrides: list[str]) -> None:
    for item in overrides:
        key = item.partition("=")[0].strip()
        if key in SEED_KEYS:
            raise ValueError(f"{key} is set by the study's 'seed' and 'replications', not per scenario")


S = TypeVar("S", bound=BaseModel)


def load_spec(path: str | Path, model: type[S]) -> S:
    """Read and validate a study file; errors name the file, key path and bad value."""
    path = Path(path)
    data = read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_errors(path, e)) from None


def format_errors(path: Path, e: ValidationError) -> str:
    lines = []
    for err in e.errors():
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith(("function-", "union[")))
        loc = re.sub(r"\.(dict\[str,any\]|list\[str\])", "", loc)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check spelling)"
        # a whole block as "input" says nothing the message does not: show values only
        got = "" if err["type"] == "missing" or isinstance(err.get("input"), dict) and err["type"] == "value_error" \
            else f" (got {_short(err.get('input'))})"
        lines.append(f"{path}: {loc + ': ' if loc else ''}{msg}{got}")
    return "invalid study file:\n  " + "\n  ".join(first_lines(list(dict.fromkeys(lines))))


_short = short_repr


def with_replications(spec: S, replications: int | None) -> S:
    """The study with ``--replications`` applied, validated like the file's own value."""
    if replications is None:
        return spec
    try:
        return type(spec).model_validate({**spec.model_dump(), "replications": replications})
    except ValidationError as e:
        raise ConfigError(f"--replications: {e.errors()[0]['msg']} (got {replications})") from None


# --------------------------------------------------------------------------- plan
@dataclass(frozen=True)
class ScenarioDef:
    """A scenario before resolution: optional own config file, overrides, parameter values."""

    name: str
    description: str = ""
    config: str | None = None  # absolute path; None = the study's base
    overrides: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    where: str = ""  # key path in the study file, for error messages


@dataclass(frozen=True)
class PlannedScenario:
    name: str
    description: str
    config_file: str
    overrides: tuple[str, ...]
    params: dict[str, Any]
    scenario: Scenario
    config_id: str  # hash of the resolved config: a finished run counts only for the same config


@dataclass(frozen=True)
class RunTask:
    """One replication of one scenario: what an executor ships to a worker."""

    scenario_name: str
    replication: int
    config_id: str
    scenario: Scenario

    @property
    def key(self) -> str:
        return f"{self.scenario_name}__r{self.replication:05d}"


@dataclass
class StudyPlan:
    kind: str
    name: str
    source: Path
    seed: int
    replications: int
    scenarios: list[PlannedScenario]
    base_config: str
    study: dict  # the study file as validated (for the manifest)
    common_overrides: tuple[str, ...] = ()  # the study's set: then --set, applied to every scenario

    def tasks(self) -> list[RunTask]:
        return [RunTask(s.name, r, s.config_id, s.scenario)
                for s in self.scenarios for r in range(self.replications)]

    def scenario(self, name: str) -> PlannedScenario:
        return next(s for s in self.scenarios if s.name == name)

    def describe(self, limit: int = 20) -> str:
        """What would run: for ``--dry-run`` and logs."""
        lines = [f"{self.kind} {self.name}: {len(self.scenarios)} scenario(s) × {self.replications} replication(s) "
                 f"= {len(self.scenarios) * self.replications} runs, master seed {self.seed}",
                 f"  base config: {self.base_config}"]
        if self.common_overrides:
            lines.append(f"  every scenario (set: and --set): {'; '.join(self.common_overrides)}")
        for s in self.scenarios[:limit]:
            what = "; ".join(s.overrides) or ("(no overrides of its own)" if self.common_overrides else "(no overrides)")
            own = f" [{Path(s.config_file).name}]" if s.config_file != self.base_config else ""
            lines.append(f"  {s.name}{own}: {what if len(what) < 110 else what[:107] + '...'}")
        if len(self.scenarios) > limit:
            lines.append(f"  ... and {len(self.scenarios) - limit} more")
        return "\n".join(lines)


class Resolver:
    """Resolves scenario variants of one study, reading each config file once."""

    def __init__(self, study_file: Path, spec: StudySpec, extra: list[str] | None = None):
        self.study_file = study_file
        self.folder = study_file.resolve().parent
        self.base = str((self.folder / spec.base).resolve())
        self.common = override_list(spec.set)
        self.extra = list(extra or [])  # --set: applied after the study's own set:, named --set in errors
        try:
            check_not_seed(list(extra or []))
        except ValueError as e:
            raise ConfigError(f"--set: {e}") from None
        self.seed_overrides = [f"simulation.seed={spec.seed}", f"simulation.replications={spec.replications}"]
        self._raw: dict[str, tuple[dict, dict]] = {}
        self._counties: dict = {}

    def path(self, relative: str) -> str:
        return str((self.folder / relative).resolve())

    def resolve(self, d: ScenarioDef) -> Scenario:
        where = d.where or d.name
        try:
            data, src = self._loaded(d.config or self.base)
            check_not_seed(list(d.overrides))
            overrides = list(d.overrides) + self.seed_overrides + [f"name={d.name}"]
            return resolve(data, src, d.config or self.base, overrides, source=f"{self.study_file}: {where}",
                           counties=self._counties)
        except (ConfigError, ValueError) as e:
            raise ConfigError(f"{self.study_file}: {where}: {e}") from None

    def _loaded(self, config: str) -> tuple[dict, dict]:
        """A config file read once, with the study's common overrides (``set:``, ``--set``) applied."""
        if config not in self._raw:
            data, src = load_raw(config)
            data = apply_overrides(data, src, self.common, source=f"{self.study_file}: set")
            self._raw[config] = (apply_overrides(data, src, self.extra, source="--set"), src)
        return self._raw[config]

    def reference_dict(self, d: ScenarioDef | None = None) -> dict:
        """The resolved config a parameter acts on (for wildcards and ``scale``)."""
        return resolved_dict(self.resolve(d or ScenarioDef(name="base", where="base")))


def config_id(scenario: Scenario) -> str:
    """Hash of everything that shapes one run: the number of replications does not (replication r
    always uses seed (master seed, r)), so ``--resume`` with fewer or more replications keeps runs."""
    config = resolved_dict(scenario)
    config["simulation"].pop("replications", None)
    text = json.dumps(config, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_size(path: Path, scenarios: int, replications: int, what: str = "scenarios") -> None:
    """Refuse a study too large to plan in memory, before anything is resolved or run."""
    if scenarios > MAX_SCENARIOS:
        raise ConfigError(f"{path}: {scenarios:,} {what}; a study may have at most {MAX_SCENARIOS:,} "
                          f"(split it into several studies, or use fewer sweep values or samples)")
    if scenarios * replications > MAX_RUNS:
        raise ConfigError(f"{path}: replications: {scenarios:,} scenarios × {replications:,} replications = "
                          f"{scenarios * replications:,} runs; a study may have at most {MAX_RUNS:,}")


def build_plan(kind: str, path: Path, spec: StudySpec, defs: list[ScenarioDef], resolver: Resolver) -> StudyPlan:
    """Resolve and validate every scenario; raise ConfigError before anything runs."""
    seen: dict[str, ScenarioDef] = {}
    for d in defs:  # result files are named after scenarios: 'A' and 'a' collide on Windows and macOS
        first = seen.setdefault(d.name.casefold(), d)
        if first is not d:
            same = "the same name" if first.name == d.name else "names differing only in upper/lower case"
            raise ConfigError(f"{path}: {d.where or 'scenarios'}: scenarios {first.name!r} and {d.name!r} have {same}; "
                              f"scenario names must differ in more than case (they name result files)")
    if not defs:
        raise ConfigError(f"{path}: the study defines no scenario to run")
    check_size(path, len(defs), spec.replications)
    planned, errors = [], []
    for d in defs:
        if not re.match(NAME_PATTERN, d.name):
            errors.append(f"{path}: {d.where or d.name}: scenario name {d.name!r} must match {NAME_PATTERN} "
                          f"(it names result files)")
            continue
        try:
            sc = resolver.resolve(d)
        except ConfigError as e:
            errors.append(str(e))
            continue
        planned.append(PlannedScenario(d.name, d.description, d.config or resolver.base, d.overrides,
                                       dict(d.params), sc, config_id(sc)))
    if errors:
        shown = errors[:10] + ([f"... and {len(errors) - 10} more invalid scenarios"] if len(errors) > 10 else [])
        raise ConfigError("\n".join(shown))
    return StudyPlan(kind=kind, name=spec.name, source=path.resolve(), seed=spec.seed, replications=spec.replications,
                scenarios=planned, base_config=resolver.base, study=spec.model_dump(mode="json"),
                common_overrides=tuple(resolver.common + resolver.extra))
