"""Geography: villages (行政村), townships (乡镇), facilities and the travel-time matrix.

Three ways to get a county, all ending in the same array-based :class:`County`:
a seeded synthetic generator, a real facility roster from CSV (villages generated around
each township seat), or facilities and villages listed explicitly in the scenario.
"""
from __future__ import annotations

import copy
import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from models.tiers import TIERS, Tier
from sim.core.config_files import ConfigError, KeyPathError, Strict, read_text, short_repr

MAX_VILLAGES = 5_000  # real counties have a few hundred administrative villages (domain.md)
MAX_FACILITIES = 6_000  # a clinic per village, the township centres, county and outside hospitals
MAX_POPULATION = 20_000_000
MAX_STAFF = 100_000  # doctors or beds of one facility
MAX_KM = 10_000.0  # coordinates in km from the county seat


class GeographyError(ValueError):
    """A county that cannot be built; ``key`` is the config key whose file or value is at fault."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(message)


# --------------------------------------------------------------------------- geography
class FacilitySpec(Strict):
    name: str = Field(min_length=1)
    tier: Tier
    doctors: int | None = Field(None, ge=0, le=MAX_STAFF, description="outpatient servers; null = unlimited")
    beds: int | None = Field(0, ge=0, le=MAX_STAFF, description="inpatient servers; null = unlimited")
    x_km: float = Field(0.0, ge=-MAX_KM, le=MAX_KM)
    y_km: float = Field(0.0, ge=-MAX_KM, le=MAX_KM)
    township: str | None = None


class VillageSpec(Strict):
    name: str = Field(min_length=1)
    township: str
    population: int = Field(ge=0, le=MAX_POPULATION)
    x_km: float = Field(0.0, ge=-MAX_KM, le=MAX_KM)
    y_km: float = Field(0.0, ge=-MAX_KM, le=MAX_KM)


class CountyHospitalSpec(Strict):
    name: str = Field(min_length=1)
    doctors: int = Field(ge=0, le=MAX_STAFF)
    beds: int = Field(ge=0, le=MAX_STAFF)


class SyntheticSpec(Strict):
    """Seeded synthetic county: townships on a disc around the county seat."""

    population: int = Field(500_000, gt=0, le=20_000_000)
    townships: int = Field(15, ge=1, le=200)
    villages_per_township: int = Field(20, ge=1, le=200)
    radius_km: float = Field(40.0, gt=0, le=1000)
    remoteness_spread: float = Field(0.6, ge=0, le=3, description="lognormal sigma of village distances")
    village_radius_km: float = Field(6.0, gt=0, le=200)
    population_spread: float = Field(0.5, ge=0, le=3, description="lognormal sigma of village sizes")
    seed: int = Field(2024, ge=0)
    county_hospitals: list[CountyHospitalSpec] = Field(min_length=1, max_length=100)
    township_doctors: int = Field(12, ge=0, le=MAX_STAFF)
    township_beds: int = Field(40, ge=0, le=MAX_STAFF)
    village_doctors: int = Field(2, ge=0, le=MAX_STAFF)

    @model_validator(mode="after")
    def _size(self) -> "SyntheticSpec":
        if self.townships * self.villages_per_township > MAX_VILLAGES:
            raise KeyPathError("geography.synthetic.villages_per_township", self.villages_per_township,
                               f"townships × villages_per_township must be <= {MAX_VILLAGES:,} villages "
                               f"(townships is {self.townships})")
        return self


class RosterSpec(Strict):
    """A real facility roster (CSV) with township populations; villages are generated."""

    facilities_csv: str
    townships_csv: str
    doctor_share: float = Field(1.0, gt=0, le=1, description="share of listed doctors consulting at once")
    village_radius_km: float = Field(5.0, gt=0, le=200)
    population_spread: float = Field(0.5, ge=0, le=3)
    seed: int = Field(2024, ge=0)


class OutsideSpec(Strict):
    """Hospitals outside the county (city / provincial tertiary), one aggregate facility."""

    name: str = "Out-of-county hospitals"
    travel_hours: float = Field(2.0, ge=0, le=48)
    doctors: int | None = Field(None, ge=0)
    beds: int | None = Field(None, ge=0)


class CommunitySpec(Strict):
    """A medical community (医共体): its townships (their villages and primary facilities) and the
    county-level facilities it runs; residents belong to their township's community."""

    townships: list[str] = Field(default_factory=list)
    facilities: list[str] = Field(default_factory=list, description="county-tier (or other) member facilities")


class GeographySpec(Strict):
    kind: Literal["synthetic", "roster", "explicit"] = "synthetic"
    synthetic: SyntheticSpec | None = None
    roster: RosterSpec | None = None
    facilities: list[FacilitySpec] = Field(default_factory=list, max_length=MAX_FACILITIES - 1)
    villages: list[VillageSpec] = Field(default_factory=list, max_length=MAX_VILLAGES)
    outside: OutsideSpec | None = Field(default_factory=OutsideSpec)
    speed_kmh: float = Field(30.0, gt=0, le=200, description="road travel speed")
    access_minutes: float = Field(10.0, ge=0, le=600, description="fixed time to reach any facility")
    nearby_townships: int = Field(1, ge=0, le=20, description="other township centres in the choice set")
    county_physicians_per_room: float = Field(
        7.0, ge=1, le=100, description="physicians a county hospital has for each outpatient room it staffs at once "
                                       "(its 'doctors'): a physician stationed or posted at a township centre closes "
                                       "1/this of a room at home and staffs a whole one there (assumed: a 1,000-bed "
                                       "county hospital has ~300 physicians for its 45 rooms, the rest on wards, in "
                                       "theatres or off shift)")
    communities: dict[str, CommunitySpec] = Field(
        default_factory=dict, description="several medical communities (医共体) per county; empty = one for the "
                                          "whole county")

    @model_validator(mode="after")
    def _kind_block(self) -> "GeographySpec":
        if self.kind == "synthetic" and self.synthetic is None:
            raise KeyPathError("geography.synthetic", None, "kind 'synthetic' needs a 'synthetic' block")
        if self.kind == "roster" and self.roster is None:
            raise KeyPathError("geography.roster", None, "kind 'roster' needs a 'roster' block")
        if self.kind == "explicit" and (not self.facilities or not self.villages):
            raise KeyPathError("geography.facilities", None,
                            "kind 'explicit' needs non-empty 'facilities' and 'villages' lists")
        return self



UNLIMITED = -1
VILLAGE, TOWNSHIP, COUNTY, OUTSIDE = range(4)


def rooms_vacated(physicians: int, per_room: float) -> int:
    """Outpatient rooms a county hospital closes when ``physicians`` of its physicians work at
    township centres (下沉): its doctors count rooms staffed at once, not its physicians, so the
    rooms go in proportion, rounded to the nearest (halves up)."""
    return int(np.floor(physicians / per_room + 0.5))


@dataclass
class County:
    """Plain arrays; index v runs over villages, f over facilities."""

    village_names: list[str]
    village_township: np.ndarray  # int, township index
    village_pop: np.ndarray  # int
    village_xy: np.ndarray  # (V, 2) km
    township_names: list[str]
    fac_names: list[str]
    fac_tier: np.ndarray  # int, index into TIERS
    fac_doctors: np.ndarray  # int, UNLIMITED = -1
    fac_beds: np.ndarray  # int, UNLIMITED = -1
    fac_xy: np.ndarray  # (F, 2) km
    fac_township: np.ndarray  # int, -1 for county and outside
    community_names: list[str] = field(default_factory=lambda: ["county"])  # medical communities (医共体)
    village_community: np.ndarray = field(init=False)  # (V,) community of a village's residents
    fac_community: np.ndarray = field(init=False)  # (F,) member community, -1 for outside hospitals
    travel_hours: np.ndarray = field(init=False)  # (V, F)
    own_clinic: np.ndarray = field(init=False)  # (V,) facility or -1
    own_centre: np.ndarray = field(init=False)  # (V,) facility or -1
    choice_set: np.ndarray = field(init=False)  # (V, K) facilities, padded with -1
    fac_mobile: np.ndarray = field(init=False)  # (F,) touring teams: never referral targets

    def copy(self) -> "County":
        """A deep copy that policy levers may change without touching the original."""
        new = copy.copy(self)
        for k, v in vars(self).items():
            setattr(new, k, v.copy() if isinstance(v, (np.ndarray, list)) else v)
        return new

    @property
    def population(self) -> int:
        return int(self.village_pop.sum())

    @property
    def n_villages(self) -> int:
        return len(self.village_names)

    @property
    def n_facilities(self) -> int:
        return len(self.fac_names)

    def resident_offsets(self) -> np.ndarray:
        """First resident index of each village: residents are numbered village by village."""
        return np.concatenate([[0], np.cumsum(self.village_pop)[:-1]]).astype(np.int64)

    def remoteness_quintile(self) -> np.ndarray:
        """Quintile (0 = closest) of each village's travel time to its nearest county hospital."""
        county = np.flatnonzero(self.fac_tier == COUNTY)
        t = self.travel_hours[:, county].min(axis=1) if county.size else np.zeros(self.n_villages)
        ranks = t.argsort(kind="stable").argsort(kind="stable")
        return (ranks * 5 // max(self.n_villages, 1)).astype(np.int64)


def _finish(county: County, spec: GeographySpec, outside_hours: float | None) -> County:
    """Travel times, own facilities and choice sets, shared by every way of building a county."""
    diff = county.village_xy[:, None, :] - county.fac_xy[None, :, :]
    km = np.sqrt((diff ** 2).sum(axis=2))
    hours = spec.access_minutes / 60.0 + km / spec.speed_kmh
    out = np.flatnonzero(county.fac_tier == OUTSIDE)
    if out.size:
        seat = _seat(county)
        to_seat = np.sqrt(((county.village_xy - seat) ** 2).sum(axis=1)) / spec.speed_kmh
        hours[:, out] = spec.access_minutes / 60.0 + to_seat[:, None] + outside_hours
    county.travel_hours = hours

    V = county.n_villages
    own_clinic = np.full(V, -1, dtype=np.int64)
    own_centre = np.full(V, -1, dtype=np.int64)
    is_village, is_township = county.fac_tier == VILLAGE, county.fac_tier == TOWNSHIP
    last = np.flatnonzero(county.fac_tier == COUNTY).tolist() + out.tolist()  # every village's last options
    rows = []
    for v in range(V):
        same = county.fac_township == county.village_township[v]
        clinic = _nearest(hours[v], same & is_village)
        centre = _nearest(hours[v], same & is_township)
        if centre < 0:
            centre = _nearest(hours[v], is_township)
        own_clinic[v], own_centre[v] = clinic, centre
        others = np.flatnonzero(is_township & ~same)
        others = others[np.argsort(hours[v, others], kind="stable")][: spec.nearby_townships]
        row = [f for f in (clinic, centre) if f >= 0] + others.tolist() + last
        rows.append(list(dict.fromkeys(int(f) for f in row)))
    K = max(len(r) for r in rows)
    county.choice_set = np.array([r + [-1] * (K - len(r)) for r in rows], dtype=np.int64)
    county.own_clinic, county.own_centre = own_clinic, own_centre
    county.fac_mobile = np.zeros(county.n_facilities, dtype=bool)
    return county


def add_facility(county: County, name: str, tier: int, doctors: int, beds: int, township: int,
                 village: int, mobile: bool = False) -> int:
    """Append a facility at a village (e.g. a touring team) and put it in that village's choice set."""
    f = county.n_facilities
    county.fac_names = county.fac_names + [name]
    county.fac_tier = np.append(county.fac_tier, tier)
    county.fac_doctors = np.append(county.fac_doctors, doctors)
    county.fac_beds = np.append(county.fac_beds, beds)
    county.fac_xy = np.vstack([county.fac_xy, county.village_xy[village]])
    county.fac_township = np.append(county.fac_township, township)
    county.fac_mobile = np.append(county.fac_mobile, mobile)
    county.fac_community = np.append(county.fac_community, county.village_community[village])
    col = np.full((county.n_villages, 1), np.inf)
    col[village, 0] = county.travel_hours[village, county.own_clinic[village]] if county.own_clinic[village] >= 0 \
        else county.travel_hours[village].min()
    county.travel_hours = np.hstack([county.travel_hours, col])
    row = county.choice_set[village]
    if (row < 0).any():
        county.choice_set[village, np.flatnonzero(row < 0)[0]] = f
    else:
        extra = np.full((county.n_villages, 1), -1, dtype=np.int64)
        extra[village, 0] = f
        county.choice_set = np.hstack([county.choice_set, extra])
    return f


def _seat(county: County) -> np.ndarray:
    hosp = np.flatnonzero(county.fac_tier == COUNTY)
    return county.fac_xy[hosp[0]] if hosp.size else np.zeros(2)


def _nearest(row: np.ndarray, mask: np.ndarray) -> int:
    idx = np.flatnonzero(mask)
    return int(idx[np.argmin(row[idx])]) if idx.size else -1


def _cap(n: int | None) -> int:
    return UNLIMITED if n is None else int(n)


def _assemble(villages: list[tuple[str, str, int, float, float]],
              facilities: list[tuple[str, str, int | None, int | None, float, float, str | None]],
              spec: GeographySpec) -> County:
    townships = list(dict.fromkeys(v[1] for v in villages))
    tidx = {t: i for i, t in enumerate(townships)}
    facs = list(facilities)
    if spec.outside is not None:
        o: OutsideSpec = spec.outside
        facs.append((o.name, "outside", o.doctors, o.beds, 0.0, 0.0, None))
    names = [f[0] for f in facs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise GeographyError("geography.facilities", f"facility names must be unique; repeated: {dup[:5]}")
    vnames = [v[0] for v in villages]
    if len(set(vnames)) < len(vnames):
        dup = sorted({n for n in vnames if vnames.count(n) > 1})
        raise GeographyError("geography.villages", f"village names must be unique; repeated: {dup[:5]}")
    for f in facs:
        if f[1] in ("village", "township") and f[6] not in tidx or f[6] is not None and f[6] not in tidx:
            raise GeographyError("geography.facilities", f"facility {short_repr(f[0])} ({f[1]}) names township "
                                 f"{short_repr(f[6])}, which has no villages; known townships: {townships[:10]}")
    county = County(
        village_names=[v[0] for v in villages],
        village_township=np.array([tidx[v[1]] for v in villages], dtype=np.int64),
        village_pop=np.array([v[2] for v in villages], dtype=np.int64),
        village_xy=np.array([[v[3], v[4]] for v in villages], dtype=float).reshape(-1, 2),
        township_names=townships,
        fac_names=names,
        fac_tier=np.array([TIERS.index(f[1]) for f in facs], dtype=np.int64),
        fac_doctors=np.array([_cap(f[2]) for f in facs], dtype=np.int64),
        fac_beds=np.array([_cap(f[3]) for f in facs], dtype=np.int64),
        fac_xy=np.array([[f[4], f[5]] for f in facs], dtype=float).reshape(-1, 2),
        fac_township=np.array([tidx.get(f[6], -1) if f[6] else -1 for f in facs], dtype=np.int64),
    )
    return _finish(county, spec, spec.outside.travel_hours if spec.outside else None)


def _split(total: int, n: int, spread: float, rng: np.random.Generator) -> np.ndarray:
    """Split a population into n integer parts with lognormal sizes, summing exactly to total."""
    w = rng.lognormal(0.0, spread, n) if spread > 0 else np.ones(n)
    parts = np.floor(total * w / w.sum()).astype(np.int64)
    parts[np.argsort(-w, kind="stable")[: total - parts.sum()]] += 1
    return parts


def _scatter(centre: np.ndarray, n: int, radius: float, spread: float, rng: np.random.Generator) -> np.ndarray:
    dist = radius * (rng.lognormal(0.0, spread, n) if spread > 0 else np.ones(n)) * np.sqrt(rng.random(n))
    ang = rng.uniform(0, 2 * np.pi, n)
    return centre + np.column_stack([dist * np.cos(ang), dist * np.sin(ang)])


def synthetic_county(spec: GeographySpec) -> County:
    s: SyntheticSpec = spec.synthetic
    rng = np.random.default_rng(s.seed)
    T = s.townships
    seats = np.zeros((T, 2))
    if T > 1:  # township 0 is the county seat town; the others spread over the disc
        r = s.radius_km * np.sqrt(rng.uniform(0.05, 1.0, T - 1))
        a = rng.uniform(0, 2 * np.pi, T - 1)
        seats[1:] = np.column_stack([r * np.cos(a), r * np.sin(a)])
    tw = rng.lognormal(0.0, s.population_spread, T)
    tw[0] *= 2.0  # the county seat town is the largest
    tpop = np.floor(s.population * tw / tw.sum()).astype(np.int64)
    tpop[0] += s.population - tpop.sum()
    villages, facilities = [], []
    for t in range(T):
        tname = f"T{t + 1:02d}"
        pops = _split(int(tpop[t]), s.villages_per_township, s.population_spread, rng)
        xy = _scatter(seats[t], s.villages_per_township, s.village_radius_km, s.remoteness_spread, rng)
        for j in range(s.villages_per_township):
            vname = f"{tname}-V{j + 1:02d}"
            villages.append((vname, tname, int(pops[j]), float(xy[j, 0]), float(xy[j, 1])))
            facilities.append((f"{vname} clinic", "village", s.village_doctors, 0, float(xy[j, 0]),
                               float(xy[j, 1]), tname))
        facilities.append((f"{tname} health centre", "township", s.township_doctors, s.township_beds,
                           float(seats[t, 0]), float(seats[t, 1]), tname))
    for h in s.county_hospitals:
        facilities.append((h.name, "county", h.doctors, h.beds, 0.0, 0.0, None))
    return _assemble(villages, facilities, spec)


TOWNSHIP_COLUMNS = ["name", "population", "lat", "lon", "n_villages"]
FACILITY_COLUMNS = ["name", "tier", "township", "beds", "doctors", "lat", "lon"]


def _read_csv(path: str, required: list[str], key: str) -> list[dict[str, str]]:
    """Rows of a roster CSV: UTF-8 (with or without the byte-order mark Excel writes) or GBK/GB18030
    (what Excel saves as "CSV" on Chinese Windows); every row as long as the header."""
    p = Path(path)
    try:
        text = read_text(p, "CSV file", fallback_encodings=("gb18030",))
    except ConfigError as e:
        raise GeographyError(key, str(e)) from None
    try:
        table = list(csv.reader(text.splitlines()))
    except csv.Error as e:
        raise GeographyError(key, f"{p}: not a readable CSV file ({e})") from None
    header = [c.strip() for c in table[0]] if table else []
    missing = [c for c in required if c not in header]
    if missing:
        raise GeographyError(key, f"{p}: needs the columns {required} in its first line; missing {missing}"
                                  + (f" (found {short_repr(header)})" if header else " (the file is empty)"))
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise GeographyError(key, f"{p}: column(s) {dupes} appear twice in the header")
    rows = []
    for line, fields in enumerate(table[1:], start=2):
        if not any(f.strip() for f in fields):
            continue  # a blank line
        if len(fields) != len(header):
            raise GeographyError(key, f"{p}, row {line}: has {len(fields)} field(s), the header has {len(header)}; "
                                      f"every row needs a value (possibly empty) for each column")
        rows.append((line, dict(zip(header, (f.strip() for f in fields)))))
    if not rows:
        raise GeographyError(key, f"{p}: has a header but no data rows")
    return rows


def _num(row: dict[str, str], col: str, path: str, line: int, key: str, kind=float, low: float = 0,
         high: float = 1e9):
    """A number from a CSV cell, finite and in [low, high], or an error naming file, row and column."""
    text = row[col]
    try:
        value = kind(text)
    except (TypeError, ValueError, OverflowError):
        value = None
    if value is None or not np.isfinite(value):
        raise GeographyError(key, f"{path}, row {line}, column {col}: expected a{'' if kind is float else ' whole'} "
                                  f"number in [{low:,g}, {high:,g}], got {short_repr(text)}")
    if not low <= value <= high:
        shown = f"{value:,}" if kind is int else f"{value:g}"
        raise GeographyError(key, f"{path}, row {line}, column {col}: must be in [{low:,g}, {high:,g}], got {shown}")
    return value


def _unique_names(rows: list[tuple[int, dict[str, str]]], path: str, key: str, what: str) -> None:
    first: dict[str, int] = {}
    for line, row in rows:
        if not row["name"]:
            raise GeographyError(key, f"{path}, row {line}, column name: a {what} needs a name")
        if row["name"] in first:
            raise GeographyError(key, f"{path}, row {line}, column name: {what} {short_repr(row['name'])} is listed "
                                      f"twice (first in row {first[row['name']]}); names must be unique")
        first[row["name"]] = line


def roster_county(spec: GeographySpec) -> County:
    r: RosterSpec = spec.roster
    tkey, fkey = "geography.roster.townships_csv", "geography.roster.facilities_csv"
    trows = _read_csv(r.townships_csv, TOWNSHIP_COLUMNS, tkey)
    frows = _read_csv(r.facilities_csv, FACILITY_COLUMNS, fkey)
    _unique_names(trows, r.townships_csv, tkey, "township")
    _unique_names(frows, r.facilities_csv, fkey, "facility")
    seats = {t["name"]: (_num(t, "lat", r.townships_csv, i, tkey, low=-90, high=90),
                         _num(t, "lon", r.townships_csv, i, tkey, low=-180, high=180)) for i, t in trows}
    lat0 = float(np.mean([lat for lat, _ in seats.values()]))
    lon0 = float(np.mean([lon for _, lon in seats.values()]))

    def km(lat: float, lon: float) -> tuple[float, float]:
        return (lon - lon0) * 111.32 * np.cos(np.radians(lat0)), (lat - lat0) * 110.57

    counts = [_num(t, "n_villages", r.townships_csv, i, tkey, int, 1, MAX_VILLAGES) for i, t in trows]
    if sum(counts) > MAX_VILLAGES:
        raise GeographyError(tkey, f"{r.townships_csv}, column n_villages: {sum(counts):,} villages in all; a county "
                                   f"may have at most {MAX_VILLAGES:,}")
    if len(frows) + 1 > MAX_FACILITIES:
        raise GeographyError(fkey, f"{r.facilities_csv}: {len(frows):,} facilities; a county may have at most "
                                   f"{MAX_FACILITIES - 1:,} (plus the outside hospitals)")
    rng = np.random.default_rng(r.seed)
    villages = []
    for (i, t), n in zip(trows, counts):
        pops = _split(_num(t, "population", r.townships_csv, i, tkey, int, 0, MAX_POPULATION), n,
                      r.population_spread, rng)
        xy = _scatter(np.array(km(*seats[t["name"]])), n, r.village_radius_km, 0.5, rng)
        villages += [(f"{t['name']}-V{j + 1:02d}", t["name"], int(pops[j]), float(xy[j, 0]), float(xy[j, 1]))
                     for j in range(n)]
    facilities = []
    for i, f in frows:
        if f["tier"] not in ("village", "township", "county"):
            raise GeographyError(fkey, f"{r.facilities_csv}, row {i}, column tier: must be village, township or "
                                       f"county, got {short_repr(f['tier'])}")
        if f["township"] and f["township"] not in seats or not f["township"] and f["tier"] != "county":
            raise GeographyError(fkey, f"{r.facilities_csv}, row {i}, column township: "
                                       f"{short_repr(f['township'])} is not a township of {r.townships_csv}; "
                                       f"known: {list(seats)[:10]}" + (" (empty is allowed for county facilities)"
                                                                      if f["tier"] == "county" else ""))
        x, y = km(_num(f, "lat", r.facilities_csv, i, fkey, low=-90, high=90),
                  _num(f, "lon", r.facilities_csv, i, fkey, low=-180, high=180))
        doctors = _num(f, "doctors", r.facilities_csv, i, fkey, int, 0, MAX_STAFF)
        doctors = max(1, round(doctors * r.doctor_share)) if doctors else 0
        facilities.append((f["name"], f["tier"], doctors,
                           _num(f, "beds", r.facilities_csv, i, fkey, int, 0, MAX_STAFF), x, y, f["township"] or None))
    return _assemble(villages, facilities, spec)


def explicit_county(spec: GeographySpec) -> County:
    villages = [(v.name, v.township, v.population, v.x_km, v.y_km) for v in spec.villages]
    facilities = [(f.name, f.tier, f.doctors, f.beds, f.x_km, f.y_km, f.township) for f in spec.facilities
                  if _not_outside(f)]
    return _assemble(villages, facilities, spec)


def _not_outside(f: FacilitySpec) -> bool:
    if f.tier == "outside":
        raise GeographyError("geography.facilities", f"facility {f.name!r}: out-of-county care is configured under geography.outside")
    return True


def build_county(spec: GeographySpec) -> County:
    county = {"synthetic": synthetic_county, "roster": roster_county, "explicit": explicit_county}[spec.kind](spec)
    return assign_communities(county, spec.communities)


def build_key(spec: GeographySpec) -> str:
    """What a built county depends on, but for the outside hospitals' doctors and beds: a
    province's coupling rounds change only those, and ``with_outside_capacity`` sets them on a
    county already built (its travel times and choice sets take most of a build's time)."""
    return spec.model_dump_json(exclude={"outside": {"doctors", "beds"}})


def with_outside_capacity(county: County, outside: OutsideSpec | None) -> County:
    """``county`` with the outside hospitals' doctors and beds of ``outside``: a copy sharing every
    other array, or ``county`` itself when it has them already."""
    out = np.flatnonzero(county.fac_tier == OUTSIDE)
    if outside is None or not out.size:
        return county
    doctors, beds = _cap(outside.doctors), _cap(outside.beds)
    if (county.fac_doctors[out] == doctors).all() and (county.fac_beds[out] == beds).all():
        return county
    new = copy.copy(county)
    new.fac_doctors, new.fac_beds = county.fac_doctors.copy(), county.fac_beds.copy()
    new.fac_doctors[out], new.fac_beds[out] = doctors, beds
    return new


def assign_communities(county: County, communities: dict[str, CommunitySpec]) -> County:
    """Village and facility → community arrays.  With no communities configured the county is one;
    otherwise every township belongs to exactly one, and a facility to its listed community or
    else its township's (out-of-county hospitals to none)."""
    key = "geography.communities"
    T = len(county.township_names)
    if not communities:
        county.community_names = ["county"]
        county.village_community = np.zeros(county.n_villages, dtype=np.int64)
        county.fac_community = np.where(county.fac_tier == OUTSIDE, -1, 0).astype(np.int64)
        return county
    town_of = np.full(T, -1, dtype=np.int64)
    fac_of = np.full(county.n_facilities, -1, dtype=np.int64)
    for c, (name, spec) in enumerate(communities.items()):
        for t in spec.townships:
            if t not in county.township_names:
                raise GeographyError(f"{key}.{name}.townships", f"{short_repr(t)} is not a township of this county; "
                                                                 f"known: {county.township_names[:10]}")
            i = county.township_names.index(t)
            if town_of[i] >= 0:
                raise GeographyError(f"{key}.{name}.townships", f"township {short_repr(t)} is already in community "
                                                                 f"{short_repr(list(communities)[town_of[i]])}")
            town_of[i] = c
        for f in spec.facilities:
            if f not in county.fac_names:
                raise GeographyError(f"{key}.{name}.facilities", f"{short_repr(f)} is not a facility of this county; "
                                                                  f"known: {county.fac_names[:8]}")
            fac_of[county.fac_names.index(f)] = c
    missing = [county.township_names[i] for i in np.flatnonzero(town_of < 0)]
    if missing:
        raise GeographyError(key, f"every township must belong to one community; not assigned: {missing[:10]}")
    county.community_names = list(communities)
    county.village_community = town_of[county.village_township]
    own = np.where(county.fac_township >= 0, town_of[np.maximum(county.fac_township, 0)], -1)
    county.fac_community = np.where(fac_of >= 0, fac_of, np.where(county.fac_tier == OUTSIDE, -1, own))
    return county
