"""A smaller county for quick answers: every population and every staffed capacity scaled by one share.

The policy lab's quick mode runs a plan on such a sample so that it answers in seconds.  Residents
(township and village populations) and the doctors and beds of township centres and county
hospitals shrink together, so loads and waits stay close to the full county's; the number of
townships, villages and facilities, distances, village clinics and every rule stay as they are.
Checked, not calibrated: at a 5 % sample the baseline's primary-care share, county visit rate and
in-county inpatient share stay within 0.01 of the full county's (README, "Policy lab").  Small
capacities are rounded and kept at one or more, so the sample is an approximation, labelled as such.
"""
from __future__ import annotations

import csv
import io
import math
from copy import deepcopy
from pathlib import Path

SCALED_FACILITY_TIERS = ("township", "county")


def _scaled(value, share: float):
    """A count scaled by ``share``: rounded, at least 1 where the full county has any; None stays unlimited."""
    if value is None or value == 0:
        return value
    return max(1, int(round(value * share)))


def sample_geography(geography: dict, share: float, folder: str | Path | None = None) -> dict:
    """The resolved ``geography`` block with populations and capacities scaled by ``share``.

    A roster geography's CSVs are rewritten, scaled, into ``folder`` (required for rosters)."""
    if not 0 < share <= 1:
        raise ValueError(f"county sample share must be in (0, 1], got {share}")
    return scale_geography(geography, share, folder)


def scale_geography(geography: dict, share: float, folder: str | Path | None = None) -> dict:
    """As :func:`sample_geography`, for any factor above 0: a province's smaller and larger
    counties are its base county with residents and staffed capacity scaled together."""
    if not share > 0:
        raise ValueError(f"county scale factor must be above 0, got {share}")
    g = deepcopy(geography)
    if g.get("kind") == "synthetic":
        s = g["synthetic"]
        s["population"] = max(1, int(round(s["population"] * share)))
        s["township_doctors"] = _scaled(s["township_doctors"], share)
        s["township_beds"] = _scaled(s["township_beds"], share)
        for h in s["county_hospitals"]:
            h["doctors"], h["beds"] = _scaled(h["doctors"], share), _scaled(h["beds"], share)
    elif g.get("kind") == "roster":
        if folder is None:
            raise ValueError("a roster county sample needs a folder for its scaled CSVs")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        r = g["roster"]
        r["townships_csv"] = _scale_csv(r["townships_csv"], folder / "townships_sample.csv", share,
                                        lambda row: ("population",))
        r["facilities_csv"] = _scale_csv(r["facilities_csv"], folder / "facilities_sample.csv", share,
                                         lambda row: ("doctors", "beds") if row.get("tier") in SCALED_FACILITY_TIERS
                                         else ())
    else:
        for v in g.get("villages", []):
            v["population"] = max(1, int(round(v["population"] * share)))
        for f in g.get("facilities", []):
            if f.get("tier") in SCALED_FACILITY_TIERS:
                f["doctors"], f["beds"] = _scaled(f.get("doctors"), share), _scaled(f.get("beds"), share)
    return g


def _scale_csv(source: str, target: Path, share: float, columns) -> str:
    """Copy a roster CSV with the named numeric columns of each row scaled; other cells unchanged."""
    rows = list(csv.DictReader(io.StringIO(Path(source).read_text(encoding="utf-8-sig"))))
    fields = list(rows[0].keys()) if rows else []
    for row in rows:
        for col in columns(row):
            text = (row.get(col) or "").strip()
            try:
                value = float(text)
            except ValueError:
                continue  # left for the roster loader to report, naming the row
            if math.isfinite(value):
                row[col] = str(_scaled(int(round(value)), share) if col != "population"
                               else max(1, int(round(value * share))))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    target.write_text(out.getvalue(), encoding="utf-8")
    return str(target.resolve())
