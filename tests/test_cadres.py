"""Staff minutes by cadre (issue 16 item 1, the Thanzi La Onse approach): a hand-computed case from
known consultations and bed-days; facility-level overtime never hides behind pooled totals; with
doctor minutes equal to opening hours the doctor cadres' load is the doctors' utilisation, and
overtime appears exactly where a facility's utilisation passes 1; reporting changes no result."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import small_county
from hypothesis import given, settings
from hypothesis import strategies as st

from models import cadres
from models.cadres import CadresSpec
from models.kpis import KpiCalculator
from models.loading import county_of
from models.records import Monitor
from models.tiers import TIERS
from sim.core.config_files import ConfigError
from sim.studies.runner import single_run

DAY_MIN = 1440.0


def _write(writer, columns, **values):
    writer(**{name: values.get(name, 0) for name in columns})


def _sums(county, spec: CadresSpec, visits, stays):
    """The run's sums for one 30-day month (360-day year) from hand-written visits and stays."""
    mon = Monitor(county.n_facilities)
    for fac, minutes in visits:
        _write(mon.visits.writer(), mon.visits.names, fac=fac, time=1.0, service=minutes / DAY_MIN)
    for fac, start, los in stays:
        _write(mon.stays.writer(), mon.stays.names, fac=fac, time=start, los=los)
    calc = KpiCalculator(county, 0.0, 30.0, 360, 9.0)
    calc.groups, calc.cadres = {"cadres"}, spec
    e = Monitor(county.n_facilities)
    return calc.sums(mon.visits.arrays(), mon.stays.arrays(), e.episodes.arrays(), e.transfers.arrays(),
                     np.zeros(0)).iloc[0]


def _spec(**changes) -> CadresSpec:
    base = dict(report=True, minutes_per_day={c: 100.0 for c in cadres.CADRES}, working_days_per_year=360,
                doctors_per_post={"village": 1.0, "township": 1.0, "county": 2.0},
                doctors_per_bed={"village": 0.0, "township": 0.0, "county": 0.05},
                nurses_per_post={"village": 0.0, "township": 0.5, "county": 0.0},
                nurses_per_bed={"village": 0.0, "township": 0.1, "county": 0.1},
                nurse_minutes_per_consultation={"village": 0.0, "township": 6.0, "county": 0.0},
                doctor_minutes_per_bed_day={"village": 0.0, "township": 10.0, "county": 30.0},
                nurse_minutes_per_bed_day={"village": 0.0, "township": 60.0, "county": 100.0})
    base.update(changes)
    return CadresSpec(**base)


def test_hand_computed_minutes_used_and_available():
    county = county_of(small_county())
    name = county.fac_names.index
    centre, hospital = name("T01 health centre"), name("County Hospital")
    village = int(np.flatnonzero(county.fac_tier == TIERS.index("village"))[0])
    visits = [(centre, 15.0), (centre, 25.0), (village, 8.0)]
    stays = [(centre, 5.0, 3.0), (hospital, 2.0, 2.0)]
    s = _sums(county, _spec(), visits, stays)
    month = 100.0 * 30  # minutes per staff member in the month
    village_doctors = county.fac_doctors[county.fac_tier == TIERS.index("village")].sum()
    assert (county.fac_doctors[county.fac_tier == TIERS.index("township")] == 2).sum() == 3  # 3 centres, 2 each
    assert s["cadre_used_township_gp"] == pytest.approx(15 + 25 + 10 * 3)
    assert s["cadre_available_township_gp"] == pytest.approx(6 * month)
    assert s["cadre_used_village_doctor"] == pytest.approx(8)
    assert s["cadre_available_village_doctor"] == pytest.approx(village_doctors * month)
    assert s["cadre_used_county_specialist"] == pytest.approx(30 * 2)
    assert s["cadre_available_county_specialist"] == pytest.approx((2 * 3 + 0.05 * 120) * month)
    assert s["cadre_used_nurse"] == pytest.approx(2 * 6 + 60 * 3 + 100 * 2)
    nurses = 3 * (0.5 * 2 + 0.1 * 10) + 0.1 * 120
    assert s["cadre_available_nurse"] == pytest.approx(nurses * month)
    assert s["cadre_overtime"] == 0
    short = _sums(county, _spec(minutes_per_day={**_spec().minutes_per_day, "township_gp": 1.0}), visits, stays)
    assert short["cadre_overtime"] == pytest.approx(70 - 2 * 1.0 * 30)  # T01: 70 used, 60 available


cells = st.integers(1, 4).flatmap(lambda f: st.tuples(
    st.lists(st.floats(0, 500), min_size=f, max_size=f), st.lists(st.floats(0, 50), min_size=f, max_size=f),
    st.lists(st.integers(0, 5), min_size=f, max_size=f), st.lists(st.integers(0, 30), min_size=f, max_size=f),
    st.lists(st.floats(0, 300), min_size=f, max_size=f), st.lists(st.integers(1, 3), min_size=f, max_size=f)))


@settings(max_examples=60, deadline=None)
@given(cells)
def test_overtime_is_counted_facility_by_facility(data):
    """Overtime is at least the pooled excess of every cadre, and zero exactly when no facility uses
    more minutes than it has."""
    service_min, bed_days, doctors, beds, minutes_per_day, tier = (np.array(x, float) for x in data)
    spec = _spec(minutes_per_day={c: float(minutes_per_day[0]) for c in cadres.CADRES})
    consultations = np.floor(service_min / 10)
    out = cadres.minutes(spec, tier.astype(int), consultations[None], service_min[None] / DAY_MIN, bed_days[None],
                         doctors[None], beds[None], np.array([30.0]), 360)
    pooled = sum(max(out[f"cadre_used_{c}"][0] - out[f"cadre_available_{c}"][0], 0.0) for c in cadres.CADRES)
    assert out["cadre_overtime"][0] >= pooled - 1e-6
    if out["cadre_overtime"][0] == 0:
        assert all(out[f"cadre_used_{c}"][0] <= out[f"cadre_available_{c}"][0] + 1e-6 for c in cadres.CADRES)


def test_doctor_load_follows_utilisation_and_overtime_only_where_doctors_are_busier_than_their_minutes():
    """One doctor per post giving half the opening hours (270 of 540 minutes a day, every day), no
    nurses, no ward doctors or time: the doctor cadres' load is twice the doctors' utilisation KPI, and overtime is the
    consultation time beyond 270 minutes a doctor-day at exactly the facility-months whose
    utilisation is above one half."""
    run = ("simulation.years=0.25", "simulation.days_per_year=360", "simulation.warmup_days=10")
    zero = [f"workforce.cadres.{k}={{village: 0, township: 0, county: 0}}" for k in (
        "doctors_per_bed", "nurses_per_post", "nurses_per_bed", "nurse_minutes_per_consultation",
        "doctor_minutes_per_bed_day", "nurse_minutes_per_bed_day")]
    zero.append("workforce.cadres.doctors_per_post={village: 1, township: 1, county: 1}")
    s = small_county(*run, "workforce.cadres.report=true", "workforce.cadres.working_days_per_year=360",
                     "workforce.cadres.minutes_per_day={village_doctor: 270, township_gp: 270, "
                     "county_specialist: 270, nurse: 270}", *zero)
    r = single_run(s, 0)
    assert r.kpis["cadre_load_township_gp"] == pytest.approx(2 * r.kpis["utilisation_township"], rel=1e-9)
    assert r.kpis["cadre_load_county_specialist"] == pytest.approx(2 * r.kpis["utilisation_county"], rel=1e-9)
    fm = r.facility_monthly
    fm = fm[fm["tier"] != "outside"]
    over = fm["utilisation"] > 0.5
    assert over.any() and (~over & (fm["visits"] > 0)).any()
    open_minutes = fm["doctors"] * 30 * 540  # doctors × days × minutes open
    expected = ((fm["utilisation"] - 0.5) * open_minutes)[over].sum()
    total_used = r.year_sums[[f"cadre_used_{c}" for c in cadres.CADRES]].to_numpy().sum()
    assert expected > 0
    assert r.kpis["cadre_overtime_share"] * total_used == pytest.approx(expected, rel=1e-6)


def test_reporting_changes_no_result_and_is_absent_when_off():
    run = ("simulation.years=0.1",)
    off = single_run(small_county(*run), 0)
    on = single_run(small_county(*run, "workforce.cadres.report=true"), 0)
    assert not any(k.startswith("cadre_") for k in off.kpis)
    assert {k: v for k, v in on.kpis.items() if not k.startswith("cadre_")} == pytest.approx(off.kpis, nan_ok=True)
    assert on.kpis["cadre_load_nurse"] > 0


@pytest.mark.parametrize("setting, words", [
    ("workforce.cadres.minutes_per_day={nurse: 300}", ["workforce.cadres.minutes_per_day", "missing",
                                                       "village_doctor"]),
    ("workforce.cadres.nurses_per_bed={village: 0, township: -1, county: 0.4}", ["workforce.cadres.nurses_per_bed",
                                                                                  "0 or more"]),
])
def test_an_incomplete_or_negative_cadre_table_is_a_clear_error(setting, words):
    with pytest.raises(ConfigError) as e:
        small_county("workforce.cadres.report=true", setting)
    for w in words:
        assert w in str(e.value), str(e.value)
