"""TCM (中医药) is patients' choice: its share follows the logit of price and reimbursement and
moves when they change; offering it draws patients to primary care."""
import math
from functools import lru_cache

import numpy as np
from conftest import small_county

from sim.core.stats import confidence_interval
from sim.studies.runner import multiple_replications, runs_frame, single_run

ALL = "tcm.conditions=[minor_acute, chronic_followup, moderate_acute, severe_complex, emergency]"
OFFERED = "tcm.offered={village: 1.0, township: 1.0}"


def test_equal_prices_and_no_preference_give_an_even_choice():
    """Hand-computed case: with preference 0, no TCM price change and no bonus, P(TCM) = 1/2."""
    r = single_run(small_county(OFFERED, ALL, "tcm.preference=0"), 0)
    n = r.kpis["visits"] * r.kpis["primary_care_share"]
    assert abs(r.kpis["tcm_share_primary"] - 0.5) < 4 * math.sqrt(0.25 / n)
    assert single_run(small_county(), 0).kpis["tcm_share_primary"] == 0


@lru_cache(maxsize=None)
def _runs(*overrides: str):
    return runs_frame(multiple_replications(small_county(*overrides), 4, workers=2))


def _paired(kpi: str, on: tuple[str, ...], off: tuple[str, ...]) -> tuple[float, float, float]:
    mean, lo, hi, _ = confidence_interval(_runs(*on)[kpi].to_numpy() - _runs(*off)[kpi].to_numpy())
    return mean, lo, hi


def test_tcm_reimbursement_bonus_raises_the_tcm_share():
    """Same facilities offering TCM, only its reimbursement differs: the share is an outcome."""
    mean, lo, hi = _paired("tcm_share_primary", (OFFERED, "tcm.reimbursement_bonus=0.3"), (OFFERED,))
    assert lo > 0, f"TCM share paired difference {mean:.4f} [{lo:.4f}, {hi:.4f}]"


def test_offering_tcm_draws_patients_to_primary_care():
    mean, lo, hi = _paired("primary_care_share", (OFFERED,), ())
    assert lo > 0, f"primary-care share paired difference {mean:.4f} [{lo:.4f}, {hi:.4f}]"
    assert np.isfinite(_runs(OFFERED)["tcm_share_primary"]).all()
