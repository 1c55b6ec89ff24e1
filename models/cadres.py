"""Staff minutes by cadre (人员结构): clinical minutes available and used, as in Thanzi La Onse.

Thanzi La Onse (the open whole-health-system model of Malawi) expresses the workforce as the
clinical minutes each cadre has per day at each facility, and every appointment as the minutes
it takes of each cadre.  Here, per facility and month:

- staff: a simulated "doctor" is a consulting post open every opening hour (time-weighted where
  rotations, pooling or turnover move them).  The facility tier's doctor cadre (village doctor
  乡村医生, township general practitioner 全科医生, county specialist 专科医生) counts
  ``doctors_per_post`` × posts + ``doctors_per_bed`` × beds, nurses (护士) ``nurses_per_post`` ×
  posts + ``nurses_per_bed`` × beds, ratios by tier;
- available: staff × ``minutes_per_day`` of the cadre × working days in the month
  (``working_days_per_year`` spread over the simulated year);
- used: a consultation takes its simulated consultation time of the doctor cadre plus
  ``nurse_minutes_per_consultation``; an occupied bed-day takes ``doctor_minutes_per_bed_day``
  and ``nurse_minutes_per_bed_day``;
- overtime: minutes used above those available, facility by facility and month by month.

Reporting only: computed from the run's consultations and bed-days, it changes no simulated
result.  Hospitals outside the county are not counted.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from models.tiers import TIERS
from sim.core.config_files import KeyPathError, Strict

CADRES = ("village_doctor", "township_gp", "county_specialist", "nurse")
DOCTOR_CADRE = {"village": "village_doctor", "township": "township_gp", "county": "county_specialist"}
CADRE_ZH = {"village_doctor": "乡村医生", "township_gp": "乡镇全科医生", "county_specialist": "县级专科医生",
            "nurse": "护士"}
Cadre = Literal["village_doctor", "township_gp", "county_specialist", "nurse"]
CountyTier = Literal["village", "township", "county"]
MINUTES_PER_DAY = 1440.0
TIER_TABLES = ("doctors_per_post", "doctors_per_bed", "nurses_per_post", "nurses_per_bed",
               "nurse_minutes_per_consultation", "doctor_minutes_per_bed_day", "nurse_minutes_per_bed_day")


def by_tier(village: float, township: float, county: float, description: str):
    """A value per county tier, with its defaults and what it means."""
    return Field(default_factory=lambda: {"village": village, "township": township, "county": county},
                 description=description)


class CadresSpec(Strict):
    """Staff minutes by cadre (THLO-style reporting) — models/cadres.py."""

    report: bool = Field(False, description="report minutes used vs available by cadre (reporting only: no "
                                            "simulated result changes)")
    minutes_per_day: dict[Cadre, float] = Field(
        default_factory=lambda: {"village_doctor": 360.0, "township_gp": 420.0, "county_specialist": 420.0,
                                 "nurse": 420.0},
        description="clinical minutes a staff member gives per working day (assumed: an 8-hour day less "
                    "public-health and paperwork; village doctors part-time)")
    working_days_per_year: float = Field(250.0, gt=0, le=366, description="working days per year (assumed: 365 "
                                                                          "less 104 weekend days and 11 holidays)")
    doctors_per_post: dict[CountyTier, float] = by_tier(
        1.0, 2.0, 2.0, "doctors per simulated doctor (a consulting post open every opening hour of the year; "
                       "assumed: 365 ÷ 250 working days, plus leave and rota); village doctors are the clinic's posts")
    doctors_per_bed: dict[CountyTier, float] = by_tier(0.0, 0.1, 0.3, "ward doctors per bed (assumed)")
    nurses_per_post: dict[CountyTier, float] = by_tier(0.0, 0.5, 1.0, "outpatient nurses per simulated doctor "
                                                                      "(assumed)")
    nurses_per_bed: dict[CountyTier, float] = by_tier(
        0.0, 0.3, 0.5, "ward nurses per bed (assumed; with the defaults a township centre of 8 posts and 45 beds has "
                       "about 20 doctors and 18 nurses of the 48 staff of an average centre, national_statistics.csv "
                       "— a check, not a calibration)")
    nurse_minutes_per_consultation: dict[CountyTier, float] = by_tier(
        0.0, 5.0, 8.0, "nurse minutes per consultation (triage, injections; assumed)")
    doctor_minutes_per_bed_day: dict[CountyTier, float] = by_tier(
        0.0, 15.0, 20.0, "doctor minutes per occupied bed-day (ward round, notes; assumed)")
    nurse_minutes_per_bed_day: dict[CountyTier, float] = by_tier(
        0.0, 90.0, 120.0, "nurse minutes per occupied bed-day (assumed)")
    @model_validator(mode="after")
    def _complete(self) -> "CadresSpec":
        """Every cadre and tier given, no negative minutes or ratios (a partial block is a clear error)."""
        tables = {"minutes_per_day": CADRES, **{k: tuple(DOCTOR_CADRE) for k in TIER_TABLES}}
        for name, keys in tables.items():
            values = getattr(self, name)
            missing = [k for k in keys if k not in values]
            if missing:
                raise KeyPathError(f"workforce.cadres.{name}", values, f"give a value for each of {list(keys)}; "
                                                                       f"missing {missing}")
            bad = {k: v for k, v in values.items() if not v >= 0}
            if bad:
                raise KeyPathError(f"workforce.cadres.{name}", bad, "values must be 0 or more")
        return self


def minutes(spec: CadresSpec, fac_tier: np.ndarray, consultations: np.ndarray, consult_days: np.ndarray,
            bed_days: np.ndarray, doctors: np.ndarray, beds: np.ndarray, days: np.ndarray,
            days_per_year: float) -> dict[str, np.ndarray]:
    """Per month: minutes used and available of each cadre, and overtime minutes (all cadres).

    Arrays are (month, facility): consultations, their simulated consultation time (days),
    occupied bed-days, time-weighted doctors and beds (−1: unlimited, not counted); ``days`` is
    the length of each month."""
    n = len(days)
    working = (np.asarray(days, float) * spec.working_days_per_year / days_per_year)[:, None]
    doctors, beds = np.maximum(doctors, 0.0), np.maximum(beds, 0.0)
    out = {f"cadre_{k}_{c}": np.zeros(n) for c in CADRES for k in ("used", "available")}
    out["cadre_overtime"] = np.zeros(n)
    for t, cadre in DOCTOR_CADRE.items():
        fac = np.asarray(fac_tier) == TIERS.index(t)
        if not fac.any():
            continue
        doc_used = consult_days[:, fac] * MINUTES_PER_DAY + spec.doctor_minutes_per_bed_day[t] * bed_days[:, fac]
        nurse_used = (spec.nurse_minutes_per_consultation[t] * consultations[:, fac]
                      + spec.nurse_minutes_per_bed_day[t] * bed_days[:, fac])
        staff = spec.doctors_per_post[t] * doctors[:, fac] + spec.doctors_per_bed[t] * beds[:, fac]
        doc_avail = staff * spec.minutes_per_day[cadre] * working
        nurses = spec.nurses_per_post[t] * doctors[:, fac] + spec.nurses_per_bed[t] * beds[:, fac]
        nurse_avail = nurses * spec.minutes_per_day["nurse"] * working
        for c, used, avail in ((cadre, doc_used, doc_avail), ("nurse", nurse_used, nurse_avail)):
            out[f"cadre_used_{c}"] += used.sum(axis=1)
            out[f"cadre_available_{c}"] += avail.sum(axis=1)
            out["cadre_overtime"] += np.maximum(used - avail, 0.0).sum(axis=1)
    return out
