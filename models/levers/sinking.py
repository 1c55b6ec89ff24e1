"""Resource sinking (资源下沉, seed 001).

- Stationed physicians: ``per_township`` county physicians work at every township centre, each
  staffing an outpatient room there, and leave the largest county hospital, which closes the
  rooms they stand for (``geography.county_physicians_per_room``: most of a county hospital's
  physicians are on its wards, not at its outpatient desks); while there they widen the
  township's outpatient catalogue and raise its perceived quality.  (They are stationed for the
  whole run.)
- Mobile clinics (巡回医疗): a township team tours the most remote villages on
  ``days_per_month`` days; on those days it is one more choice in that village, with the
  township's catalogue and no travel.
- Village integration (乡村一体化): village clinics run as township outposts, with the
  township's perceived quality and its outpatient catalogue up to severity 2.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from models.geography import County, add_facility, rooms_vacated
from models.tiers import TIERS
from sim.core.config_files import Strict

if TYPE_CHECKING:
    from models.scenario import Scenario


class StationedPhysiciansSpec(Strict):
    """County physicians stationed at townships (下沉)."""

    per_township: int = Field(0, ge=0, le=50)
    capability_boost: int = Field(1, ge=0, le=3, description="severity levels added to township outpatient care")
    quality_boost: float = Field(0.2, ge=0, le=5, description="perceived quality added at township centres")


class MobileClinicSpec(Strict):
    """巡回医疗: township teams touring the most remote villages."""

    village_share: float = Field(0.0, ge=0, le=1, description="most remote villages served")
    days_per_month: int = Field(2, ge=1, le=31)
    doctors: int = Field(2, ge=1, le=50)


class SinkingSpec(Strict):
    """Resource sinking — models/levers/sinking.py."""

    stationed_physicians: StationedPhysiciansSpec = Field(default_factory=StationedPhysiciansSpec)
    mobile_clinic: MobileClinicSpec = Field(default_factory=MobileClinicSpec)
    village_integration: bool = Field(False, description="village clinics run as township outposts (乡村一体化)")


KEY = "sinking"
TITLE = "资源下沉 Resource sinking"
Spec = SinkingSpec



VILLAGE, TOWNSHIP, COUNTY = TIERS.index("village"), TIERS.index("township"), TIERS.index("county")
TOUR_CYCLE_DAYS = 30


def adjust_county(scenario: Scenario, county: County) -> None:
    st = scenario.sinking.stationed_physicians
    centres = np.flatnonzero((county.fac_tier == TOWNSHIP) & ~county.fac_mobile)
    if st.per_township and centres.size:
        hospitals = np.flatnonzero((county.fac_tier == COUNTY) & (county.fac_doctors > 0))
        if hospitals.size:
            lead = hospitals[np.argmax(county.fac_doctors[hospitals])]
            closed = rooms_vacated(st.per_township * centres.size, scenario.geography.county_physicians_per_room)
            county.fac_doctors[lead] -= min(closed, int(county.fac_doctors[lead]) - 1)
            county.fac_doctors[centres] += np.where(county.fac_doctors[centres] >= 0, st.per_township, 0)
    mc = scenario.sinking.mobile_clinic
    if mc.village_share > 0:
        remote = _most_remote(county, mc.village_share)
        for v in remote:
            add_facility(county, f"{county.village_names[v]} mobile clinic", TOWNSHIP, mc.doctors, 0,
                         int(county.village_township[v]), village=int(v), mobile=True)


def _most_remote(county: County, share: float) -> np.ndarray:
    centre = county.own_centre
    t = np.where(centre >= 0, county.travel_hours[np.arange(county.n_villages), np.maximum(centre, 0)], np.inf)
    n = int(round(share * county.n_villages))
    return np.argsort(-t, kind="stable")[:n]


def adjust_capability(scenario: Scenario, county: County, cap: np.ndarray) -> None:
    st = scenario.sinking.stationed_physicians
    centres = (county.fac_tier == TOWNSHIP) & ~county.fac_mobile
    if st.per_township and st.capability_boost:
        cap[0, centres] = np.minimum(cap[0, centres] + st.capability_boost, cap.max())
    if scenario.sinking.village_integration:
        township = getattr(scenario.capability, "township").outpatient
        villages = county.fac_tier == VILLAGE
        for c, name in enumerate(scenario.conditions):
            cap[0, villages, c] = np.maximum(cap[0, villages, c], min(township.get(name, 0), 2))


def quality_boost(scenario: Scenario, county: County) -> np.ndarray:
    """Perceived-quality change per facility from stationed physicians and integration."""
    boost = np.zeros(county.n_facilities)
    st = scenario.sinking.stationed_physicians
    if st.per_township:
        boost[(county.fac_tier == TOWNSHIP) & ~county.fac_mobile] += st.quality_boost
    if scenario.sinking.village_integration:
        q = scenario.choice.quality
        boost[county.fac_tier == VILLAGE] += q.get("township", 0.0) - q.get("village", 0.0)
    return boost


def unavailable_today(scenario: Scenario, county: County, day: int) -> np.ndarray:
    """Mobile clinics not touring their village today."""
    mobile = county.fac_mobile.nonzero()[0]
    if mobile.size == 0:
        return mobile
    offset = np.arange(mobile.size)
    touring = (day + offset * 7) % TOUR_CYCLE_DAYS < scenario.sinking.mobile_clinic.days_per_month
    return mobile[~touring]
