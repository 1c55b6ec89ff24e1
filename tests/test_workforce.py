"""Rotation of county doctors to township centres (县管乡用, issue 16 item 1): a posting's doctors
serve at the centre for exactly its months and are missing from the county hospital then; a
posting shorter than the minimum is a clear configuration error; the effect on the primary-care
share is a paired difference with common random numbers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SMALL, load, small_county

from models.loading import plan_of
from sim.core.config_files import ConfigError
from sim.core.stats import t_halfwidth
from sim.outputs.cli import main
from sim.studies.runner import multiple_replications, single_run

# 360-day years and a whole-day warm-up: months are 30 days and start on whole days, so a posting's
# capacity change falls exactly on its month boundaries
YEAR = ("simulation.years=1", "simulation.start_year=2025", "simulation.days_per_year=360",
        "simulation.warmup_days=10")
CENTRE, HOSPITAL = "T01 health centre", "County Hospital"


def posting(to: str = CENTRE, doctors: int = 1, start: str = "2025-03", months: int = 6) -> str:
    return f"{{to: {to}, doctors: {doctors}, start: '{start}', months: {months}}}"


def postings(*items: str) -> str:
    return f"workforce.rotation.postings=[{', '.join(items or (posting(),))}]"


def _doctors(run, facility: str) -> np.ndarray:
    fm = run.facility_monthly
    return fm.loc[fm["facility"] == facility, "doctors"].to_numpy()


def test_posted_doctors_are_at_the_centre_for_exactly_their_months_and_missing_from_the_hospital():
    """Four physicians staff four rooms at the centre; the hospital, with 7 physicians a room
    (geography.county_physicians_per_room), closes round(4 / 7) = 1 of its 3 rooms meanwhile."""
    r = single_run(small_county(*YEAR, postings(posting(doctors=4))), 0)
    serving = np.zeros(12, dtype=bool)
    serving[2:8] = True  # March to August 2025
    np.testing.assert_array_equal(_doctors(r, CENTRE), np.where(serving, 6.0, 2.0))
    np.testing.assert_array_equal(_doctors(r, HOSPITAL), np.where(serving, 2.0, 3.0))
    np.testing.assert_array_equal(_doctors(r, "T02 health centre"), np.full(12, 2.0))
    assert r.kpis["rotations_served"] == 4  # physicians completing a posting
    assert r.kpis["doctors_per_1000_township"] == pytest.approx((6 + 4 * 6 / 12) / 20_000 * 1000)
    assert r.kpis["doctors_per_1000_county"] == pytest.approx((3 - 6 / 12) / 20_000 * 1000)


@pytest.mark.parametrize("per_room, posted, closed", [(7, 1, 0), (7, 3, 0), (7, 4, 1), (7, 11, 2), (1, 1, 1),
                                                       (2.5, 5, 2), (3, 4, 1)])
def test_the_home_hospital_closes_the_rooms_its_posted_physicians_stand_for(per_room, posted, closed):
    s = small_county(*YEAR, "geography.synthetic.county_hospitals.0.doctors=6",
                     f"geography.county_physicians_per_room={per_room}", postings(posting(doctors=posted)))
    r = single_run(s, 0)
    np.testing.assert_array_equal(_doctors(r, HOSPITAL)[2:8], np.full(6, 6.0 - closed))
    np.testing.assert_array_equal(_doctors(r, CENTRE)[2:8], np.full(6, 2.0 + posted))
    assert r.kpis["primary_senior_doctor_days"] == pytest.approx(posted * 6 * 30)


def test_the_plan_table_shows_the_postings_month_by_month():
    s = small_county(*YEAR, "geography.synthetic.county_hospitals.0.doctors=6",
                     postings(posting(to="all", start="2025-07", months=6)))
    months = plan_of(s).months()
    assert months["workforce.rotation.doctors_serving"].tolist() == [0] * 6 + [3] * 6  # one at each of 3 centres
    assert months["workforce.rotation.doctors_completing"].tolist() == [0] * 11 + [3]


def test_no_postings_adds_no_plan_and_no_workforce_kpis():
    s = small_county(*YEAR)
    assert plan_of(s).empty
    assert "rotations_served" not in single_run(small_county("simulation.years=0.1"), 0).kpis


def test_months_before_a_posting_are_bit_identical_to_no_posting():
    base = single_run(small_county(*YEAR), 0).monthly
    posted = single_run(small_county(*YEAR, postings(posting(start="2025-07"))), 0).monthly
    shared = [c for c in base.columns if c in posted.columns]
    pd.testing.assert_frame_equal(base.loc[:5, shared], posted.loc[:5, shared])
    assert not base.loc[6:, "utilisation_township"].equals(posted.loc[6:, "utilisation_township"])


KEY = "workforce.rotation.postings.0"


@pytest.mark.parametrize("setting, words", [
    (postings(posting(months=3)), [f"{KEY}.months", "at least", "minimum_months = 6", "(got 3)"]),
    (postings(posting(to="Nowhere centre")), [f"{KEY}.to", "not a township centre", "T01 health centre"]),
    (postings(posting(start="2031-01")), [f"{KEY}.start", "outside the run", "2025-01 to 2025-12"]),
    (postings(posting(to="all", doctors=8)), ["leave 'County Hospital' with 0 doctors", "post fewer doctors"]),
])
def test_bad_postings_are_clear_errors(setting, words):
    with pytest.raises(ConfigError) as e:
        small_county(*YEAR, setting)
    for w in words:
        assert w in str(e.value), str(e.value)


def test_postings_count_the_doctors_stationed_physicians_already_took():
    """Stationed physicians (下沉; 30 close round(30 / 7) = 4 rooms, capped to leave 1 of 3) leave the
    hospital one room; a posting of 4 on top closes another (round(4 / 7) = 1) and would leave none."""
    with pytest.raises(ConfigError) as e:
        small_county(*YEAR, postings(posting(doctors=4)), "sinking.stationed_physicians.per_township=10")
    assert "with sinking.stationed_physicians leave 'County Hospital' with 0 doctors" in str(e.value), str(e.value)
    small_county(*YEAR, postings(posting(doctors=4)))  # the same posting alone is fine


def test_a_short_posting_stops_the_cli_with_status_2_and_no_traceback(tmp_path, capsys):
    args = ["run", str(SMALL), "--set", postings(posting(months=2)),
            "--replications", "1", "--out", str(tmp_path / "out"), "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "workforce.rotation.postings.0.months" in err and "Traceback" not in err


@pytest.mark.parametrize("per_room, county_wait_sign", [(7, -1), (1, 1)])
def test_rotation_raises_the_primary_care_share_paired_ci(per_room, county_wait_sign):
    """A county doctor at each of two centres for the whole quarter: more township doctors and a
    wider township catalogue; the primary-care share rises (paired 95 % CI > 0).  With 7 physicians
    a room the hospital keeps its 3 rooms (round(2 / 7) = 0) and loses patients, so its waits
    shorten; were each physician a room (1), it would close 2 and its waits lengthen."""
    n, run = 5, ("simulation.years=0.25", "simulation.start_year=2025", "simulation.warmup_days=10",
                 f"geography.county_physicians_per_room={per_room}")
    on = (*run, postings(posting(start="2025-01"), posting(to="T02 health centre", start="2025-01")))
    base = multiple_replications(small_county(*run), n)
    rot = multiple_replications(small_county(*on), n)
    d = np.array([b.kpis["primary_care_share"] - a.kpis["primary_care_share"] for a, b in zip(base, rot)])
    half = t_halfwidth(float(d.std(ddof=1)), n)
    assert d.mean() - half > 0, f"paired effect {d.mean():.4f} ± {half:.4f} does not exclude zero"
    w = county_wait_sign * np.array([b.kpis["wait_county_min"] - a.kpis["wait_county_min"]
                                     for a, b in zip(base, rot, strict=True)])
    assert w.mean() - t_halfwidth(float(w.std(ddof=1)), n) > 0, f"county waits do not move as {county_wait_sign}"


def test_the_shipped_rotation_policy_posts_a_doctor_to_every_centre_in_two_waves():
    months = plan_of(load(ROOT / "configs" / "policies" / "workforce_rotation.yaml")).months()
    assert months["workforce.rotation.doctors_serving"].tolist() == [0] * 3 + [15] * 9  # 15 townships
