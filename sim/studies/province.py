"""Province studies (省级规划): many counties, each with its own plan, sharing the hospitals outside them.

```yaml
name: province_example
base: ../configs/baseline.yaml          # each county's config unless it names its own
seed: 42
replications: 3
outside:                                # the prefecture and provincial hospitals (shared)
  doctors: 60                           # consulting at once, for the whole province
  beds: 2500
  max_iterations: 6                     # coupling rounds at most
  tolerance: 0.02                       # settled when every county's share moves less than this
counties:
  pingba: {set: {geography.synthetic.population: 300000}}
  hunan_like: {config: ../configs/plans/hunan_2027.yaml}
synthetic_counties:                     # generated counties county_01..: varied size and remoteness
  count: 10
  population: {low: 100000, high: 600000}
  radius_km: {low: 20, high: 60}
```

Coupling (how the province is more than independent runs): the outside hospitals have one
stock of doctors and beds.  A county's patients referred out meet the share of that stock its
own outside demand earns, as in one first-come-first-served queue where each county's share of
the servers' time is its share of the work brought.  Shares are per county and calendar year.
Round 1 splits the stock by population; each round runs every county with its shares (the
later years' by a scheduled capacity factor), measures each county's outside demand year by
year (consultation hours and bed-days asked for, queue or not), and moves the shares towards the
demand shares (``damping``); it stops when no county's demand share differs from the share it
ran with by more than ``tolerance``, or after ``max_iterations``.  The rounds are reported
(``coupling.csv``); the last round's runs are the results.  docs/province.md says more.
"""
from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.geography import MAX_STAFF
from models.loading import county_of
from models.scenario import run_years
from sim.core.collector import existing_objects_frozen
from sim.core.config_files import ConfigError
from sim.studies.experiment import ScenarioEntry
from sim.studies.province_outputs import write_outputs  # the coordinator's summaries load with the module
from sim.studies.province_tables import PROVINCE, outside_demand, pooled_waits
from sim.studies.study import (
    NAME_PATTERN,
    Resolver,
    ScenarioDef,
    StudyPlan,
    StudySpec,
    build_plan,
    load_spec,
    override_list,
    with_replications,
)

ITERATION_KIND = "province-iteration"
TIMING_KEYS = ("start_year", "years", "days_per_year", "warmup_days")


class Range(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    low: float = Field(gt=0)
    high: float = Field(gt=0)

    @model_validator(mode="after")
    def _order(self) -> "Range":
        if self.high < self.low:
            raise ValueError(f"high ({self.high:g}) must be at least low ({self.low:g})")
        return self


class SyntheticCounties(BaseModel):
    """Counties generated from a synthetic base: residents and staffed capacity scaled together
    (as the lab's county sample), a wider or narrower county, farther from the prefecture city."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    count: int = Field(ge=1, le=1000)
    prefix: str = Field("county_", pattern=NAME_PATTERN)
    population: Range = Field(description="log-uniform between low and high")
    radius_km: Range | None = Field(None, description="uniform; remoter villages in a wider county")
    outside_travel_hours: Range | None = Field(None, description="uniform; hours from the county seat to the city")
    seed: int = Field(0, ge=0)


class SharedOutsideSpec(BaseModel):
    """The prefecture and provincial hospitals every county refers out to."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field("Prefecture and provincial hospitals", min_length=1)
    doctors: int = Field(ge=1, le=MAX_STAFF * 10, description="outpatient servers for the whole province")
    beds: int = Field(ge=1, le=MAX_STAFF * 10)
    max_iterations: int = Field(5, ge=1, le=50)
    tolerance: float = Field(0.02, gt=0, lt=1, description="settled when no county's demand share differs from "
                                                           "its share by more")
    wait_tolerance_min: float = Field(2.0, ge=0, le=1440, description="or when no county's outside wait for a "
                                      "doctor moved by more minutes between two rounds (0: shares only)")
    bed_wait_tolerance_days: float = Field(0.1, ge=0, le=365, description="... and no bed wait by more days")
    damping: float = Field(0.5, gt=0, le=1, description="share of the way to the demand shares moved per round")


class ProvinceSpec(StudySpec):
    outside: SharedOutsideSpec
    counties: dict[str, ScenarioEntry] = Field(default_factory=dict)
    synthetic_counties: SyntheticCounties | None = None

    @model_validator(mode="after")
    def _counties(self) -> "ProvinceSpec":
        if not self.counties and self.synthetic_counties is None:
            raise ValueError("a province needs 'counties' or 'synthetic_counties' (or both)")
        for name in self.counties:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(f"counties.{name}: a county name must match {NAME_PATTERN} (it names result files)")
            if name.casefold() == PROVINCE:
                raise ValueError(f"counties.{name}: {PROVINCE!r} names the province's totals; rename the county")
        n = len(self.counties) + (self.synthetic_counties.count if self.synthetic_counties else 0)
        for key in ("doctors", "beds"):
            if getattr(self.outside, key) < n:
                raise ValueError(f"outside.{key}: {getattr(self.outside, key)} for {n} counties; every county "
                                 f"keeps at least one, so give at least {n}")
        return self


@dataclass
class Province:
    """A validated province: its counties (before the coupling sets their outside share)."""

    path: Path
    spec: ProvinceSpec
    resolver: Resolver
    defs: list[ScenarioDef]
    population: dict[str, int]
    days_per_year: float
    years: list[int]  # calendar years of the run (every county runs the same)

    def plan(self, doctors: np.ndarray, beds: np.ndarray) -> StudyPlan:
        """Every county with its whole doctors and beds of the outside hospitals, (county, year) arrays."""
        defs = [replace(d, overrides=d.overrides + self._outside(doc, bed))
                for d, doc, bed in zip(self.defs, doctors, beds)]
        return build_plan(ITERATION_KIND, self.path, self.spec, defs, self.resolver)

    def _outside(self, doctors: np.ndarray, beds: np.ndarray) -> tuple[str, ...]:
        """A county's outside facility by year: its largest year's doctors and beds, scaled in the
        other years by a capacity factor (≤ 1) its plan schedules on 1 January."""
        items = []
        for key, parts in (("doctors", doctors), ("beds", beds)):
            top = int(parts.max())
            items.append(f"geography.outside.{key}={top}")
            if (parts != top).any():
                items.append(f"capacity.{key}_factor.outside={float(parts[0] / top)!r}")
                items += [f"schedule.{year}.capacity.{key}_factor.outside={float(p / top)!r}"
                          for year, p in zip(self.years[1:], parts[1:])]
        return tuple(items)

    def run_cost(self, task) -> float:
        """A county run's expected cost: its residents (every county runs the same days), so the
        largest counties are submitted first and the round ends on small ones."""
        return float(self.population[task.scenario_name])

    def population_shares(self) -> np.ndarray:
        """Round 1's shares of the outside hospitals, (county, year): by population."""
        shares = _shares([self.population[d.name] for d in self.defs])
        return np.repeat(shares[:, None], len(self.years), axis=1)

    def describe(self) -> str:
        """What would run (``--dry-run``): round 1's plan, the shared hospitals and the coupling."""
        o = self.spec.outside
        first = [allocate(getattr(o, key), self.population_shares()) for key in ("doctors", "beds")]
        return (f"province {self.spec.name}: {len(self.defs)} counties, {sum(self.population.values()):,} residents; "
                f"{o.name}: {o.doctors} doctors and {o.beds} beds shared; up to {o.max_iterations} coupling "
                f"round(s) (tolerance {o.tolerance:g}, damping {o.damping:g})\n"
                f"round 1 (outside shares by population):\n" + self.plan(*first).describe())


def load_province(path: str | Path, extra_overrides: list[str] | None = None,
                  replications: int | None = None) -> Province:
    """Validate the file and resolve every county once (errors before anything runs)."""
    path = Path(path)
    spec = with_replications(load_spec(path, ProvinceSpec), replications)
    resolver = Resolver(path, spec, extra_overrides)
    defs = [ScenarioDef(name=name, description=e.description, config=resolver.path(e.config) if e.config else None,
                        overrides=tuple(override_list(e.set)), where=f"counties.{name}")
            for name, e in spec.counties.items()]
    if spec.synthetic_counties is not None:
        defs += synthetic_defs(path, spec.synthetic_counties, resolver)
    defs = [_referring_out(d, spec.outside.name) for d in defs]
    plan = build_plan(ITERATION_KIND, path, spec, defs, resolver)  # every county valid, names distinct
    first = plan.scenarios[0]
    for s in plan.scenarios:
        if s.scenario.geography.outside is None:
            raise ConfigError(f"{path}: counties.{s.name}: geography.outside is null; a province's counties refer "
                              f"out to its shared outside hospitals (give the county a geography.outside block)")
        timing, ref = (_timing(s.scenario), _timing(first.scenario))
        if timing != ref:
            raise ConfigError(f"{path}: counties.{s.name}: simulation {timing} differs from county {first.name}'s "
                              f"{ref}; a province's counties run the same calendar years")
    population = {s.name: county_of(s.scenario).population for s in plan.scenarios}
    start, last = run_years(first.scenario.simulation)
    return Province(path, spec, resolver, defs, population, float(first.scenario.simulation.days_per_year),
                    list(range(start, last + 1)))


def _referring_out(d: ScenarioDef, outside: str) -> ScenarioDef:
    """A county referring out to the shared hospitals, under their name; the coupling rounds then
    set only their doctors and beds, and reuse the counties built here (``build_key``)."""
    from sim.studies.parameters import format_value

    return replace(d, overrides=d.overrides + (f"geography.outside.name={format_value(outside)}",))


def _timing(scenario) -> dict:
    return {k: getattr(scenario.simulation, k) for k in TIMING_KEYS}


def synthetic_defs(path: Path, gen: SyntheticCounties, resolver: Resolver) -> list[ScenarioDef]:
    """``count`` counties scaled from the synthetic base: population log-uniform, radius and
    distance to the city uniform, each with its own village layout (seed)."""
    from sim.studies.county_sample import scale_geography
    from sim.studies.parameters import format_value

    geo = resolver.reference_dict()["geography"]
    if geo.get("kind") != "synthetic":
        raise ConfigError(f"{path}: synthetic_counties: the base config's geography is {geo.get('kind')!r}; "
                          f"generated counties scale a synthetic base (kind: synthetic)")
    rng = np.random.default_rng(gen.seed)
    width = max(2, len(str(gen.count)))
    out = []
    for i in range(gen.count):
        pop = float(np.exp(rng.uniform(np.log(gen.population.low), np.log(gen.population.high))))
        s = scale_geography(geo, pop / geo["synthetic"]["population"])["synthetic"]
        values = {"population": s["population"], "township_doctors": s["township_doctors"],
                  "township_beds": s["township_beds"], "county_hospitals": s["county_hospitals"],
                  "seed": s["seed"] + i}
        if gen.radius_km is not None:
            values["radius_km"] = round(float(rng.uniform(gen.radius_km.low, gen.radius_km.high)), 1)
        items = [f"geography.synthetic.{k}={format_value(v)}" for k, v in values.items()]
        if gen.outside_travel_hours is not None:
            hours = rng.uniform(gen.outside_travel_hours.low, gen.outside_travel_hours.high)
            items.append(f"geography.outside.travel_hours={round(float(hours), 2)}")
        name = f"{gen.prefix}{i + 1:0{width}d}"
        out.append(ScenarioDef(name=name, description=", ".join(items), overrides=tuple(items),
                               where=f"synthetic_counties ({name})"))
    return out


def apportion(total: int, shares: np.ndarray) -> np.ndarray:
    """Whole doctors or beds summing to ``total``: one each, the rest by ``shares`` (largest remainders)."""
    spare = total - len(shares)
    raw = spare * np.asarray(shares, dtype=float)
    parts = np.floor(raw).astype(np.int64)
    parts[np.argsort(-(raw - parts), kind="stable")[: spare - int(parts.sum())]] += 1
    return parts + 1


def allocate(total: int, shares: np.ndarray) -> np.ndarray:
    """:func:`apportion` year by year: (county, year) shares → whole doctors or beds."""
    return np.column_stack([apportion(total, shares[:, y]) for y in range(shares.shape[1])])


def _shares(x) -> np.ndarray:
    """Each column (year) as shares of its total; equal shares where a year has none."""
    x = np.asarray(x, dtype=float)
    total = x.sum(axis=0)
    return np.divide(x, total, out=np.full_like(x, 1.0 / len(x)), where=total > 0)


# --------------------------------------------------------------------------- run
@dataclass
class ProvinceResult:
    province: Province
    batch: object  # the last round's BatchResult
    coupling: pd.DataFrame
    iterations: int
    converged: str | None  # "shares" or "waits" (what settled), None: max_iterations reached
    summary: pd.DataFrame
    ranking: pd.DataFrame


@existing_objects_frozen()
def run_province(path: str | Path, executor, out: str | Path | None = None, resume: bool = False,
                 progress: bool = True, extra_overrides: list[str] | None = None, replications: int | None = None,
                 overwrite: bool = False) -> ProvinceResult:
    """Run the coupling rounds (each a batch under ``OUT/iterations/NN``, resumable), then write the
    province's tables, summary and ranking from the last round."""
    from sim.studies.batch import run_batch
    from sim.studies.store import ResultsStore

    prepare = getattr(executor, "prepare_workers", None)
    if prepare is not None:  # workers load the run code while the counties are read and resolved
        prepare()
    province = load_province(path, extra_overrides, replications)
    spec = province.spec
    store = ResultsStore(out or Path("results") / spec.name, overwrite)
    names = [d.name for d in province.defs]
    with store.claimed("province", spec.name, province.path.resolve()):
        if not resume:
            store.reset()
            shutil.rmtree(store.root / "iterations", ignore_errors=True)
        shares = {"doctors": province.population_shares(), "beds": province.population_shares()}
        rounds, converged, previous, waits_before = [], None, None, None
        for k in range(1, spec.outside.max_iterations + 1):
            alloc = {key: allocate(getattr(spec.outside, key), shares[key]) for key in shares}
            ran = previous is None or any((alloc[key] != previous[key]).any() for key in alloc)
            if ran:
                # the same whole doctors and beds give the same runs (common random numbers): no rerun
                plan = province.plan(alloc["doctors"], alloc["beds"])
                sub = ResultsStore(store.root / "iterations" / f"{k:02d}")
                with sub.claimed(plan.kind, plan.name, plan.source):
                    batch = run_batch(plan, sub, executor, resume=resume, progress=progress,
                                      cost=province.run_cost)
                last_round, previous = sub.root, alloc
                if batch.failures or batch.tables["year_sums"].empty:
                    break
                demand = outside_demand(batch.tables["year_sums"], province.days_per_year)
            target = {"doctors": _shares(_by_county_year(demand, "consult_hours_per_year", names, province.years)),
                      "beds": _shares(_by_county_year(demand, "bed_days_per_year", names, province.years))}
            gap = max(float(np.abs(target[key] - shares[key]).max()) for key in shares)
            rounds.append(_round_table(k, last_round.name, province, shares, alloc, target, demand, gap))
            wait, bed_wait = pooled_waits(demand)
            if progress:
                print(f"province {spec.name}: round {k}: largest share gap {gap:.3f}; outside waits "
                      f"{wait:.1f} min for a doctor, {bed_wait:.2f} days for a bed", flush=True,
                      file=sys.stderr)
            if gap <= spec.outside.tolerance:
                converged = "shares"
                break
            waits = _by_county_year(demand, "wait_outside_min", names, province.years), \
                _by_county_year(demand, "bed_wait_outside_days", names, province.years)
            if ran and waits_before is not None and _settled(waits, waits_before, spec.outside):
                converged = "waits"
                break
            waits_before = waits
            d = spec.outside.damping
            shares = {key: (1 - d) * shares[key] + d * target[key] for key in shares}
        coupling = pd.concat(rounds, ignore_index=True) if rounds else pd.DataFrame()
        summary, rank = write_outputs(store, province, batch, last_round, coupling, converged)
    return ProvinceResult(province, batch, coupling, len(rounds), converged, summary, rank)


def _settled(waits: tuple, before: tuple, o: SharedOutsideSpec) -> bool:
    """Whether no county-year's outside waits moved by more than the tolerances (no visits: no wait)."""
    if o.wait_tolerance_min <= 0:
        return False
    moved = [np.nan_to_num(np.abs(a - b), nan=0.0).max() for a, b in zip(waits, before)]
    return bool(moved[0] <= o.wait_tolerance_min and moved[1] <= o.bed_wait_tolerance_days)


def _by_county_year(demand: pd.DataFrame, column: str, names: list[str], years: list[int]) -> np.ndarray:
    return demand.pivot(index="county", columns="year", values=column).loc[names, years].to_numpy(dtype=float)


def _round_table(k: int, runs_in: str, province: Province, shares: dict, alloc: dict, target: dict,
                 demand: pd.DataFrame, gap: float) -> pd.DataFrame:
    """One coupling round: per county and year, the share it ran with, what it got, what it asked
    for; per year a ``province`` row with the totals and pooled waits.  ``bed_load``: bed-days asked
    for over bed-days there are (the beds' offered load ρ; at 1 or more the queue never clears)."""
    from sim.studies.province_tables import PROVINCE, pooled_waits

    names, years = [d.name for d in province.defs], province.years
    cells = lambda a: a.reshape(-1)  # noqa: E731 - (county, year) row-major: county by county
    df = pd.DataFrame({"iteration": k, "runs_in": runs_in, "county": np.repeat(names, len(years)),
                       "year": np.tile(years, len(names)),
                       "population": np.repeat([province.population[n] for n in names], len(years)),
                       "doctor_share": cells(shares["doctors"]), "doctors": cells(alloc["doctors"]),
                       "bed_share": cells(shares["beds"]), "beds": cells(alloc["beds"]),
                       "doctor_demand_share": cells(target["doctors"]), "bed_demand_share": cells(target["beds"])})
    df = df.merge(demand, on=["county", "year"], how="left")
    totals = []
    for year, g in df.groupby("year", sort=True):
        wait, bed_wait = pooled_waits(g)
        totals.append({"iteration": k, "runs_in": runs_in, "county": PROVINCE, "year": year,
                       "population": int(g["population"].sum()), "doctor_share": 1.0,
                       "doctors": int(g["doctors"].sum()), "bed_share": 1.0, "beds": int(g["beds"].sum()),
                       "doctor_demand_share": 1.0, "bed_demand_share": 1.0,
                       "consult_hours_per_year": g["consult_hours_per_year"].sum(),
                       "bed_days_per_year": g["bed_days_per_year"].sum(), "wait_outside_min": wait,
                       "bed_wait_outside_days": bed_wait, "visits_outside": g["visits_outside"].sum(),
                       "admissions_outside": g["admissions_outside"].sum(), "largest_share_gap": gap})
    out = pd.concat([df, pd.DataFrame(totals)], ignore_index=True)
    out["bed_load"] = out["bed_days_per_year"] / (out["beds"] * province.days_per_year)  # province rows: summed
    return out
