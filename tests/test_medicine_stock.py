"""Medicine stock-outs at primary level (缺药, 上下级用药衔接; issue 16 item 1b): a chronic patient
whose medicine a village clinic or township centre lacks is sent up the referral chain; the
unified drug list's shortage delivery fills most would-be stock-outs.  Effects are paired
differences with common random numbers (the stock draws have a stream of their own)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from conftest import small_county

from sim.core.config_files import ConfigError
from sim.core.stats import t_halfwidth
from sim.studies.runner import multiple_replications, runs_frame, single_run

N = 5
RUN = ("simulation.years=0.3", "simulation.warmup_days=10")
STOCK = "medicines.stock_availability={village: 0.5, township: 0.8}"


@lru_cache(maxsize=None)
def runs(*extra: str) -> pd.DataFrame:
    return runs_frame(multiple_replications(small_county(*RUN, *extra), N))


def paired_ci(kpi: str, base: tuple[str, ...], policy: tuple[str, ...]) -> tuple[float, float]:
    d = runs(*policy)[kpi].to_numpy() - runs(*base)[kpi].to_numpy()
    return float(d.mean()), t_halfwidth(float(d.std(ddof=1)), N)


def test_stock_outs_send_chronic_patients_up():
    up, up_half = paired_ci("upward_referrals_per_1000", (), (STOCK,))
    primary, primary_half = paired_ci("primary_care_share", (), (STOCK,))
    assert up - up_half > 0, f"upward referrals {up:.1f} ± {up_half:.1f}"
    assert primary + primary_half < 0, f"primary-care share {primary:.4f} ± {primary_half:.4f}"
    assert (runs(STOCK)["stockout_share_village"] > runs(STOCK)["stockout_share_township"]).all()


def test_the_unified_drug_list_cuts_stock_outs():
    with_list = (STOCK, "medicines.unified_drug_list=true")
    for tier in ("village", "township"):
        d, half = paired_ci(f"stockout_share_{tier}", (STOCK,), with_list)
        assert d + half < 0, f"{tier}: {d:.4f} ± {half:.4f}"
    d, half = paired_ci("upward_referrals_per_1000", (STOCK, "medicines.unified_drug_list=false"), with_list)
    assert d + half < 0


def test_stock_outs_happen_only_where_stock_is_short():
    r = runs("medicines.stock_availability={village: 0.5}")
    assert (r["stockout_share_village"] > 0).all() and (r["stockout_share_township"] == 0).all()


def test_full_stock_is_bit_identical_to_no_stock_block():
    base, full = runs(), runs("medicines.stock_availability={village: 1.0, township: 1.0}")
    pd.testing.assert_frame_equal(base, full[base.columns], check_exact=True)
    assert "stockout_share_village" not in base.columns and "stockout_share_village" not in full.columns


def test_a_stock_out_share_outside_zero_to_one_is_a_clear_error():
    with pytest.raises(ConfigError) as e:
        small_county("medicines.stock_availability={village: 1.5}")
    assert "medicines.stock_availability" in str(e.value)


def test_unified_list_fills_the_configured_share_of_stock_outs():
    """Village stock-out share with the list ÷ without ≈ 1 − shortage_delivery (0.8) among
    chronic visits; the list also widens the catalogue, so the ratio is checked loosely."""
    ratio = np.mean(runs(STOCK, "medicines.unified_drug_list=true")["stockout_share_village"]) / \
        np.mean(runs(STOCK)["stockout_share_village"])
    assert ratio == pytest.approx(0.2, abs=0.06)


def test_stock_can_be_scheduled_by_year():
    """A phased plan raising village stock from 2026 cuts that year's stock-out share (same draws)."""
    s = small_county("simulation.years=1.1", "simulation.start_year=2025", "simulation.warmup_days=10",
                     "medicines.stock_availability={village: 0.5}",
                     "schedule.2026.medicines.stock_availability.village=0.9")
    y = single_run(s, 0).yearly.set_index("year")["stockout_share_village"]
    assert y[2026] < 0.5 * y[2025]
