"""Scenario summaries (sim/studies/compare.py) against hand-computed figures."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from sim.core.stats import welch_halfwidth
from sim.studies.compare import summarise


def _runs(b_order: list[int]) -> pd.DataFrame:
    a = pd.DataFrame({"scenario": "a", "replication": [0, 1, 2], "county_visit_rate": [1.0, 2.0, 4.0]})
    b_values = {0: 2.0, 1: np.nan, 2: 7.0}  # replication 1 has no value: left out of b's figures
    b = pd.DataFrame({"scenario": "b", "replication": b_order,
                      "county_visit_rate": [b_values[r] for r in b_order]})
    return pd.concat([a, b], ignore_index=True)


def test_means_and_paired_differences_by_hand():
    out = summarise(_runs([0, 1, 2]), ["a", "b"], "a", ["county_visit_rate"]).set_index("scenario")
    b = out.loc["b"]
    assert (b["n"], b["mean"]) == (2, 4.5)
    assert math.isclose(b["sd"], math.sqrt(12.5))
    assert math.isclose(b["halfwidth"], stats.t.ppf(0.975, 1) * math.sqrt(12.5) / math.sqrt(2))
    # paired on the replications both have (0 and 2): differences 1 and 3
    assert (b["n_pairs"], b["diff_mean"]) == (2, 2.0)
    assert math.isclose(b["diff_sd"], math.sqrt(2.0))
    assert math.isclose(b["diff_halfwidth"], stats.t.ppf(0.975, 1) * math.sqrt(2.0) / math.sqrt(2))
    assert b["unpaired_halfwidth"] == welch_halfwidth(np.array([2.0, 7.0]), np.array([1.0, 2.0, 4.0]))
    a = out.loc["a"]
    assert (a["n"], a["mean"], a["n_pairs"]) == (3, 7 / 3, 0) and np.isnan(a["diff_mean"])


def test_paired_differences_do_not_depend_on_the_row_order():
    ordered = summarise(_runs([0, 1, 2]), ["a", "b"], "a", ["county_visit_rate"])
    shuffled = summarise(_runs([2, 0, 1]), ["a", "b"], "a", ["county_visit_rate"])
    cols = ["n_pairs", "diff_mean", "diff_sd", "diff_halfwidth"]
    pd.testing.assert_frame_equal(ordered[cols], shuffled[cols], check_exact=True)
