"""Phased reform plans (分年度实施方案): lever values by calendar year.

A scenario's ``schedule`` maps a calendar year to ``{dotted.key: value}``; the value holds from
1 January of that year until changed (``ramp: step``) or moves month by month in a straight
line between scheduled years (``ramp: linear``; the run's first month is the line's start,
at the value the scenario file sets).  The plan resolves into one parameter row per calendar
month (``plan.parquet``) and one validated scenario per distinct row, which the run adopts
on the first day of its month.

What may change mid-run: any scalar key of a lever or of the county's rules (reimbursement,
choice, referral, capability, tier prices, service), and capacity (``capacity.*``,
``sinking.stationed_physicians.*``).  What may not: the geography and facility list, the
condition list, simulation settings, and the plan itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.core.config_files import ConfigError

FIXED = {
    "name": "the scenario's name",
    "description": "the scenario's description",
    "simulation": "simulation settings are fixed for a run",
    "geography": "the geography and facility list are fixed for a run; schedule capacity with "
                 "capacity.doctors_factor.<tier> or capacity.beds_factor.<tier>",
    "schedule": "a schedule cannot schedule itself",
    "ramp": "the ramp applies to the whole plan",
    "targets": "targets are not levers",
    "adaptation": "residents' habits and perceptions are set up once for a run",
    "workforce.cadres": "staff minutes by cadre are a reporting block, set for the whole run",
    "sinking.mobile_clinic.village_share": "mobile clinics add facilities, and the facility list is fixed for a run",
}
RAMPS = ("step", "linear")
MONTH_PATTERN = r"^(\d{4})-(0[1-9]|1[0-2])$"  # a calendar month, YYYY-MM (levers' calendars)


def run_months(years: float) -> int:
    """Calendar months a run of ``years`` touches (a part month counts)."""
    return max(1, int(np.ceil(years * 12 - 1e-9)))


def month_index(month: str, start_year: int) -> int:
    """Month of the run (0 = January of ``start_year``) of a YYYY-MM calendar month."""
    year, mon = month.split("-")
    return 12 * (int(year) - start_year) + int(mon) - 1


def outside_run(month: str, start_year: int, years: float) -> str | None:
    """Why a YYYY-MM month is not a month of the run, or None when it is."""
    n = run_months(years)
    if 0 <= month_index(month, start_year) < n:
        return None
    last = start_year * 12 + n - 1
    return f"{month} is outside the run ({start_year}-01 to {last // 12}-{last % 12 + 1:02d})"


def flatten(block: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}`` (a schedule year may be written either way)."""
    if not isinstance(block, dict):
        return {prefix.rstrip("."): block}
    out: dict[str, Any] = {}
    for k, v in block.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def fixed_reason(key: str) -> str | None:
    """Why ``key`` cannot be scheduled, or None when it can."""
    for prefix, why in FIXED.items():
        if key == prefix or key.startswith(prefix + "."):
            return why
    if key.startswith("conditions.") and key.count(".") < 2:
        return "the condition list is fixed for a run; schedule a condition's values (e.g. conditions.<name>.incidence)"
    return None


def lookup(data: dict, key: str) -> tuple[bool, Any]:
    """(found, value) of a dotted key in nested config data (list items by index)."""
    node: Any = data
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


@dataclass
class Plan:
    """A resolved plan: a parameter row per calendar month and the scenario each row means."""

    start_year: int
    rows: list[dict[str, Any]] = field(default_factory=list)  # month index → {key: value}
    keys: list[str] = field(default_factory=list)
    variant_of_month: list[int] = field(default_factory=list)  # month index → index into variants
    variants: list[Any] = field(default_factory=list)  # validated scenarios, one per distinct row
    columns: dict[str, list] = field(default_factory=dict)  # per-month figures of levers' calendars

    @property
    def empty(self) -> bool:
        return not self.variants

    def months(self) -> pd.DataFrame:
        frame = month_frame(self.rows, self.start_year)
        for key, values in self.columns.items():
            frame[key] = values
        return frame

    def change_days(self, warmup: float, days_per_year: int) -> list[tuple[int, int]]:
        """(day, variant) for each month whose parameters differ from the month before: the run
        adopts them on the first whole day of that month."""
        out = []
        for m in range(1, len(self.variant_of_month)):
            if self.variant_of_month[m] != self.variant_of_month[m - 1]:
                day = int(np.ceil(warmup + m * days_per_year / 12.0 - 1e-9))
                out.append((day, self.variant_of_month[m]))
        return out


def month_table(base: dict, schedule: dict[int, dict[str, Any]], ramp: str, start_year: int,
                n_months: int) -> tuple[list[dict[str, Any]], list[str]]:
    """The value of every scheduled key in every calendar month of the run (None: not set)."""
    keys = sorted({k for row in schedule.values() for k in row})
    rows: list[dict[str, Any]] = [{} for _ in range(n_months)]
    for key in keys:
        _, start_value = lookup(base, key)
        anchors = [(0, start_value)] + [(12 * (y - start_year), row[key]) for y, row in sorted(schedule.items())
                                        if key in row]
        for m in range(n_months):
            rows[m][key] = _value_at(m, anchors, ramp)
    return rows, keys


def with_calendars(plan: Plan, scenario: Any, calendars: list[tuple[Any, list]], n_months: int) -> Plan:
    """Split the plan's months further by levers' own monthly calendars (rotations serving):
    one scenario per distinct (scheduled row, calendar state), made by ``lever.for_month``."""
    if not calendars:
        return plan
    rows = plan.variant_of_month or [0] * n_months
    bases = plan.variants or [scenario]
    seen: dict[tuple, int] = {}
    variants, of_month = [], []
    for m in range(n_months):
        states = tuple(months[m] for _, months in calendars)
        key = (rows[m], states)
        if key not in seen:
            variant = bases[rows[m]]
            for (lever, _), state in zip(calendars, states):
                variant = lever.for_month(variant, state)
            seen[key] = len(variants)
            variants.append(variant)
        of_month.append(seen[key])
    plan.variants, plan.variant_of_month = variants, of_month
    if not plan.rows:
        plan.rows = [{} for _ in range(n_months)]
    return plan


def month_frame(rows: list[dict[str, Any]], start_year: int) -> pd.DataFrame:
    """The monthly parameter table as written to ``plan.parquet`` (values as text where mixed)."""
    df = pd.DataFrame({"year": [start_year + m // 12 for m in range(len(rows))],
                       "month": [m % 12 + 1 for m in range(len(rows))], "month_index": range(len(rows))})
    for key in (rows[0] if rows else {}):
        values = [r[key] for r in rows]
        numeric = all(v is None or _numeric(v) for v in values)
        df[key] = [(float(v) if numeric and v is not None else v if numeric else repr(v)) for v in values]
    return df


def _value_at(m: int, anchors: list[tuple[int, Any]], ramp: str) -> Any:
    before = [(t, v) for t, v in anchors if t <= m]
    t0, v0 = before[-1]
    after = [(t, v) for t, v in anchors if t > m]
    if ramp == "step" or not after or not _numeric(v0) or not _numeric(after[0][1]):
        return v0
    t1, v1 = after[0]
    value = v0 + (v1 - v0) * (m - t0) / (t1 - t0)
    return int(round(value)) if isinstance(v0, int) and isinstance(v1, int) else float(value)


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_schedule(schedule: dict, base: dict, start_year: int, years: float, where) -> None:
    """Reject years outside the run, unknown or fixed keys, and non-scalar values; ``where(year,
    key)`` names the file a schedule entry came from."""
    last = start_year + int(np.ceil(years - 1e-9)) - 1
    for year, row in schedule.items():
        if not start_year <= year <= last:
            raise ConfigError(f"{where(year, None)}: schedule.{year}: year outside the run "
                              f"(simulation.start_year {start_year}, {years:g} year(s): {start_year}–{last})")
        for key, value in row.items():
            why = fixed_reason(key)
            if why:
                raise ConfigError(f"{where(year, key)}: schedule.{year}.{key}: cannot change mid-run: {why}")
            _, current = lookup(base, key)
            if isinstance(value, (dict, list)) or isinstance(current, (dict, list)):
                raise ConfigError(f"{where(year, key)}: schedule.{year}.{key}: only single values can be scheduled "
                                  f"(got {type(value if isinstance(value, (dict, list)) else current).__name__})")
