"""A full hospital (床位已满): an admission that would wait longer than
``referral.full_bed_wait_days`` for a bed goes to the next capable hospital, a smaller county
hospital with beds, else outside the county, where the transfer counts as a referral up."""
from __future__ import annotations

import numpy as np
from conftest import small_county

from models.loading import county_of
from models.referral import TREAT_HERE, ReferralModel, overflow_hospitals
from models.tiers import SEVERITY_LEVELS
from sim.core.stats import t_halfwidth
from sim.studies.runner import single_run

THREE = ("geography.synthetic.county_hospitals=[{name: General, doctors: 3, beds: 40}, "
         "{name: TCM, doctors: 2, beds: 8}, {name: Maternal, doctors: 2, beds: 8}]")
BUSY = ("simulation.years=0.15", "geography.synthetic.county_hospitals.0.beds=25")


def test_the_overflow_chain_runs_from_larger_to_smaller_hospitals_then_outside():
    """Hand-checked: General (40 beds) → TCM (8, listed first of the two) → Maternal (8) → outside;
    township centres and the outside hospital send no one on."""
    s = small_county(THREE)
    county = county_of(s)
    n_cases = len(s.conditions) * SEVERITY_LEVELS * 2
    can = ReferralModel(s, county).can.reshape(county.n_facilities, n_cases)
    overflow = overflow_hospitals(county, can)
    names = list(county.fac_names)
    general, tcm, maternal, outside = (names.index(n) for n in ("General", "TCM", "Maternal", "City hospitals"))
    admissions = np.arange(1, n_cases, 2)  # a case's last bit: admitted
    county_level = admissions[can[general, admissions]]  # the three share the county catalogue
    beyond = admissions[~can[general, admissions]]
    assert county_level.size and beyond.size
    assert (overflow[general, county_level] == tcm).all() and (overflow[general, beyond] == outside).all()
    assert (overflow[tcm, county_level] == maternal).all() and (overflow[tcm, beyond] == outside).all()
    assert (overflow[maternal, admissions] == outside).all()
    for f in range(county.n_facilities):
        if f not in (general, tcm, maternal):
            assert (overflow[f] == TREAT_HERE).all(), names[f]


def _stays(*overrides: str, replication: int = 0):
    run = single_run(small_county(*BUSY, *overrides), replication, keep_logs=True)
    return run, run.logs["stays"]


def test_no_county_admission_waits_longer_than_the_limit_and_without_it_some_would():
    names = list(county_of(small_county(*BUSY)).fac_names)
    hospital, outside = names.index("County Hospital"), names.index("City hospitals")
    run_off, off = _stays("referral.full_bed_wait_days=365")
    run_on, on = _stays("referral.full_bed_wait_days=1")
    assert off["wait"][off["fac"] == hospital].max() > 3, "the test county was meant to fill its hospital"
    assert on["wait"][on["fac"] == hospital].max() <= 1
    assert (on["fac"] == outside).sum() > (off["fac"] == outside).sum()
    sent = on["sent_on"] == 1  # the one county hospital sends its patients to the city
    assert sent.sum() > 20 and (on["fac"][sent] == outside).all() and not (off["sent_on"] == 1).any()
    assert run_off.kpis["full_hospital_transfers_per_1000"] == 0 < run_on.kpis["full_hospital_transfers_per_1000"]


def test_a_full_hospital_sends_patients_out_of_county_paired_ci():
    """One county hospital: the patients it cannot bed within a day go to the city (paired
    replications, 95 % CI): fewer admissions stay in the county, and more episodes were referred
    up (the transfer is a referral for the fund; ``upward_referrals_per_1000`` counts
    consultations that refer, and a transfer at admission is not one)."""
    n, share, ups = 5, [], []
    for r in range(n):
        off, _ = _stays("referral.full_bed_wait_days=365", replication=r)
        on, _ = _stays("referral.full_bed_wait_days=1", replication=r)
        share.append(on.kpis["in_county_inpatient_share"] - off.kpis["in_county_inpatient_share"])
        ups.append(float((on.logs["episodes"]["ups"] > 0).sum()) - float((off.logs["episodes"]["ups"] > 0).sum()))
    for name, d, sign in (("in-county inpatient share", np.array(share), -1), ("referred episodes", np.array(ups), 1)):
        half = t_halfwidth(float(d.std(ddof=1)), n)
        assert sign * d.mean() - half > 0, f"{name}: {d.mean():.4f} ± {half:.4f}"
