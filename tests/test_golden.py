"""Optimisations must not change results: a fixed-seed small county against its stored golden summary.

The golden file is never written here.  If this fails after a change that was *meant* to alter
results, regenerate it deliberately with ``.venv/bin/python benchmarks/regen_golden.py`` and say
so in the commit; if the change was meant to be a pure speed-up, the speed-up is wrong.
"""
from __future__ import annotations

import pytest

from benchmarks import golden


def test_golden_small_county_unchanged():
    if not golden.GOLDEN.exists():
        pytest.fail(f"{golden.GOLDEN} is missing; create it deliberately with benchmarks/regen_golden.py")
    expected = golden.load()
    actual = golden.compute(golden.CONFIG, expected["replications"])
    assert actual["seed"] == expected["seed"], "golden_small.yaml seed changed"
    diffs = golden.differences(expected, actual)
    assert not diffs, (f"{len(diffs)} result(s) differ from {golden.GOLDEN.name} beyond rel. tol. "
                       f"{golden.REL_TOL:g}:\n  " + "\n  ".join(diffs[:40])
                       + "\n(regenerate only deliberately: benchmarks/regen_golden.py)")


def test_golden_comparison_is_strict():
    """The comparison itself: 1e-9 relative passes, 1e-6 fails, NaN (null) matches only null."""
    base = {"replications": 1, "runs": [{"replication": 0, "kpis": {"a": 1.0, "b": None, "c": 0.0},
                                         "accounting": {"arrived": 10}}]}
    same = {"replications": 1, "runs": [{"replication": 0, "kpis": {"a": 1.0 + 1e-12, "b": None, "c": 0.0},
                                         "accounting": {"arrived": 10}}]}
    off = {"replications": 1, "runs": [{"replication": 0, "kpis": {"a": 1.0 + 1e-6, "b": 0.0, "c": 0.0},
                                        "accounting": {"arrived": 11}}]}
    assert golden.differences(base, same) == []
    assert len(golden.differences(base, off)) == 3
