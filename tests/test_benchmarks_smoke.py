"""Smoke test of the benchmark functions at tiny sizes: they run and return positive rates.

No timing assertions (timings in tests are forbidden: the machines are shared); ``make bench``
measures and judges the targets.
"""
from __future__ import annotations

import math

import pytest

from benchmarks import bench, run_all


def test_mmc_simpy_and_ciw_run_the_same_queue():
    s = bench.mmc_simpy(300, lam=4.0, mu=1.0, c=5)
    c = bench.mmc_ciw(300, lam=4.0, mu=1.0, c=5)
    assert s["customers"] == c["customers"] == 300
    assert s["rate"] > 0 and c["rate"] > 0
    assert s["mean_wait"] >= 0 and c["mean_wait"] >= 0


def test_engine_overhead_tiny():
    r = bench.engine_overhead(population=1_000, years=0.05, customers=200, rounds=1)
    assert r["county_episodes"] > 0
    for key in ("county_rate", "simpy_rate", "ciw_rate", "ratio_simpy", "ratio_ciw"):
        assert r[key] > 0 and math.isfinite(r[key]), key


def test_scaled_overrides_keep_capacity_per_resident():
    s = bench.load(bench.BASELINE, bench.scaled_overrides(50_000, years=0.1))
    base = bench.load(bench.BASELINE).geography.synthetic
    syn = s.geography.synthetic
    up = lambda x: max(1, math.floor(x * 0.1 + 0.5))  # noqa: E731 - round half up, at least one
    assert syn.population == 50_000 and s.simulation.years == 0.1
    assert syn.townships == up(base.townships)
    assert [h.doctors for h in syn.county_hospitals] == [up(h.doctors) for h in base.county_hospitals]
    assert [h.beds for h in syn.county_hospitals] == [up(h.beds) for h in base.county_hospitals]


def test_county_year_and_scaling_children_tiny():
    r = bench.county_year(bench.BASELINE, bench.scaled_overrides(2_000, years=0.05))
    assert r["episodes"] > 0 and r["rate"] > 0 and r["seconds"] > 0
    assert r["peak_rss_mib"] > 0 and r["child_rss_mib"] > 0
    sc = bench.scaling(populations=(1_000, 2_000), years=0.05)
    assert len(sc["points"]) == 2 and all(p["us_per_episode"] > 0 for p in sc["points"])
    assert math.isfinite(sc["exponent"])


def test_batch_tiny_identical_across_workers():
    r = bench.batch(population=1_000, years=0.05, runs=2, workers=(1, 2))
    assert r["identical_results"]
    assert all(v > 0 for v in r["seconds"].values()) and r["speedup"][2] > 0


def test_province_tiny_identical_across_dask_workers():
    r = bench.province(counties=2, population=(1_000, 2_000), years=0.05, workers=(1, 2), rounds=1)
    assert r["identical_results"] and r["rounds"] == 1 and r["run_seconds"] > 0
    assert all(c > 0 for c in r["cores_obtained"].values())
    rows = bench.province_projection(r, workers=(1, 4))
    hours = {(x["workers"], x["counties"]): x["hours"] for x in rows}
    assert len(hours) == 4 and all(h > 0 for h in hours.values())
    for label in {x["counties"] for x in rows}:
        assert hours[(4, label)] <= hours[(1, label)]  # more workers, fewer waves of the same runs


def test_fit_exponent():
    assert bench.fit_exponent([1, 10, 100], [2, 20, 200]) == pytest.approx(1.0)
    assert bench.fit_exponent([1, 10, 100], [1, 100, 10_000]) == pytest.approx(2.0)


def test_run_all_quick_engine_section_does_not_record(tmp_path, capsys, monkeypatch):
    latest = tmp_path / "LATEST.md"
    monkeypatch.setitem(run_all.QUICK, "engine", {**run_all.QUICK["engine"], "population": 1_000,
                                                  "customers": 200, "rounds": 1})
    assert run_all.main(["--quick", "--sections", "engine", "--latest", str(latest)]) == 0
    out = capsys.readouterr().out
    assert "county / SimPy" in out and "county / ciw" in out
    assert not latest.exists()
    assert run_all.main(["--quick", "--sections", "engine", "--record", "--latest", str(latest)]) == 0
    text = latest.read_text()
    assert "CPU:" in text and "Python:" in text and "| engine |" in text
