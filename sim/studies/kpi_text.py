"""KPI values as a terminal shows them: one number format per unit, no scientific notation.

Shares print as per cent (differences of shares as percentage points); other units with a
thousands separator and as many decimals as the value's size needs, the same decimals for a
mean and its interval so they line up.  Names and units come from the KPI registry.
"""
from __future__ import annotations

import math
import re
import textwrap
import unicodedata

from models.kpi_registry import REGISTRY

WIDTH = 80  # columns of a terminal the tables must fit
COUNTS = {"visits": "total", "admissions": "total", "episodes": "total"}  # run totals beside the registry's KPIs
SHARE_UNITS = {"share": "%", "year on year": "%/yr", "share of contracted residents' admissions": "% FD admissions",
               "share of primary visits": "% primary"}
MILLION = 1e6  # amounts from here on print in millions ("M CNY/yr"), so budgets fit the columns


def is_share(kpi: str) -> bool:
    k = REGISTRY.get(kpi)
    return bool(k and k.is_share)


def short_unit(kpi: str) -> str:
    """The registry's unit, short enough for a table column: ``%``, ``CNY/resident-yr``, ``min``."""
    k = REGISTRY.get(kpi)
    if k is None:
        return COUNTS.get(kpi, "")
    if k.is_share:
        return SHARE_UNITS.get(k.unit, "% " + k.unit.split(" of ")[-1])
    u = k.unit.replace("resident-years", "res-yr").replace("resident-year", "res-yr").replace("minutes", "min")
    u = re.sub(r"\byear$", "yr", u)
    u = re.sub(r"^(visits|admissions) per ", "/", u)
    return u.replace(" per ", "/").replace("per ", "/")


def decimals(kpi: str, x: float) -> int:
    if is_share(kpi):
        return 2
    a = abs(x) if math.isfinite(x) else 0.0
    return 0 if a >= 1000 else 1 if a >= 100 else 2 if a >= 1 or a == 0 else 3 if a >= 0.01 else 4


def number(kpi: str, x: float, places: int | None = None, sign: bool = False) -> str:
    """``x`` in the KPI's display unit (shares × 100), or ``–`` when missing."""
    if x is None or not math.isfinite(x):
        return "–"
    places = decimals(kpi, x) if places is None else places
    value = 100 * x if is_share(kpi) else x
    return f"{value:{'+' if sign else ''},.{places}f}"


def in_millions(kpi: str, mean: float) -> bool:
    return not is_share(kpi) and math.isfinite(mean) and abs(mean) >= MILLION


def interval(kpi: str, lo: float, hi: float, places: int, sign: bool = False) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    return f"[{number(kpi, lo, places, sign)}, {number(kpi, hi, places, sign)}]"


def all_missing_line(kpis: list[str], why: str = "not measured here (their lever is off)") -> str:
    """One wrapped line naming the KPIs left out of a table because they have no value."""
    if not kpis:
        return ""
    return textwrap.fill(f"{len(kpis)} KPI(s) {why}: {', '.join(kpis)}", WIDTH, subsequent_indent="  ")


def display_width(text: str) -> int:
    """Terminal columns: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(cell: str, align: str, width: int) -> str:
    fill = " " * (width - display_width(cell))
    return fill + cell if align == ">" else cell + fill


def columns(rows: list[list[str]], align: str) -> list[str]:
    """Rows of cells joined in columns (``align``: one of ``<`` or ``>`` per column), trailing blanks cut."""
    widths = [max(display_width(r[i]) for r in rows) for i in range(len(align))]
    return [" ".join(_pad(c, a, w) for c, a, w in zip(r, align, widths)).rstrip() for r in rows]
