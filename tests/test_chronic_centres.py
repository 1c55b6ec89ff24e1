"""Chronic-disease management centres (慢病管理中心, issue 16 item 6): enrolled patients are
scheduled follow-ups at their township centre, come with a probability that falls with travel
time, and complete there unless sent up.  Checked against hand-computed values and as paired
differences with common random numbers."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import small_county

from models.levers.chronic_centres import ChronicCentres
from models.loading import county_of
from sim.core.stats import t_halfwidth
from sim.studies.runner import multiple_replications, single_run

RUN = ("simulation.years=0.3", "simulation.warmup_days=10")
ON = "chronic_centres.township_share=1.0"


def _completed(run, scenario) -> int:
    """Follow-ups completed at the centre after the warm-up, counted from the episode log."""
    ep, sim = run.logs["episodes"], scenario.simulation
    window = (ep["time"] >= sim.warmup_days) & (ep["time"] < sim.warmup_days + sim.years * sim.days_per_year)
    return int((window & (ep["scheduled"] == 1) & (ep["ups"] == 0) & (ep["status"] == 0)).sum())


def test_completion_is_the_population_weighted_chance_of_coming():
    s = small_county(*RUN, ON)
    centres = ChronicCentres(s, county_of(s))
    expected = float((centres.enrolled * centres.attend).sum() / centres.enrolled.sum())
    r = single_run(s, 0, keep_logs=True)
    scheduled = _completed(r, s) / r.kpis["followup_completion"]
    se = np.sqrt(expected * (1 - expected) / scheduled)
    assert r.kpis["followup_completion"] == pytest.approx(expected, abs=3 * se + 0.002)  # + episodes open at the end
    assert r.kpis["chronic_enrolled_share"] == pytest.approx(0.5)


def test_enrolled_share_counts_only_the_townships_with_a_centre():
    s = small_county(*RUN, "chronic_centres.township_share=0.34", "chronic_centres.enrolment=0.6")
    county = county_of(s)
    by_town = np.bincount(county.village_township, weights=county.village_pop)
    expected = 0.6 * by_town.max() / by_town.sum()  # one centre: the most populous township
    assert single_run(s, 0).kpis["chronic_enrolled_share"] == pytest.approx(expected)


def test_stock_outs_at_the_centre_cut_completion_by_the_stock_share():
    """Same patients, same attendance draws: with the medicine in stock at 60 % of township
    consultations, completion falls to 0.6 of itself within binomial noise."""
    s = small_county(*RUN, ON)
    base = single_run(s, 0, keep_logs=True)
    short = single_run(small_county(*RUN, ON, "medicines.stock_availability={township: 0.6}"), 0)
    ratio = short.kpis["followup_completion"] / base.kpis["followup_completion"]
    assert ratio == pytest.approx(0.6, abs=3 * np.sqrt(0.6 * 0.4 / _completed(base, s)))


def test_centres_add_primary_visits_paired_ci():
    n = 5
    base = multiple_replications(small_county(*RUN), n)
    on = multiple_replications(small_county(*RUN, ON), n)
    for kpi in ("visits_per_resident", "primary_care_share"):
        d = np.array([b.kpis[kpi] - a.kpis[kpi] for a, b in zip(base, on)])
        half = t_halfwidth(float(d.std(ddof=1)), n)
        assert d.mean() - half > 0, f"{kpi}: {d.mean():.4f} ± {half:.4f}"
    assert "followup_completion" not in base[0].kpis
