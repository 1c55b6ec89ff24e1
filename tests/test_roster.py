"""The Huairou roster example (seed 003): a real facility list loaded from CSV runs end to end."""
from pathlib import Path

import numpy as np
import pytest

from models.geography import build_county
from models.loading import load_scenario
from models.tiers import TIERS
from sim.core.config_files import ConfigError
from sim.studies.runner import single_run

ROOT = Path(__file__).resolve().parents[1]
HUAIROU = ROOT / "configs" / "huairou.yaml"


def test_huairou_roster_builds_the_listed_network():
    county = build_county(load_scenario(HUAIROU).geography)
    tiers = [TIERS[t] for t in county.fac_tier]
    assert (tiers.count("county"), tiers.count("township"), tiers.count("village"), tiers.count("outside")) == \
        (7, 18, 53, 1)
    assert len(county.township_names) == 16
    assert county.population == 441_040  # 2020 census total, split over towns in configs/data/
    assert np.isfinite(county.travel_hours[:, county.fac_tier != TIERS.index("outside")]).all()


def test_huairou_runs_and_counts_every_visit():
    r = single_run(load_scenario(HUAIROU, ["simulation.years=0.05", "simulation.warmup_days=2"]), 0)
    assert r.kpis["visits"] == r.facilities["visits"].sum() > 0
    assert 0 < r.kpis["primary_care_share"] < 1 and 0 < r.kpis["county_visit_rate"] <= 1


def test_roster_errors_name_the_file_row_and_column(tmp_path):
    bad = tmp_path / "facilities.csv"
    rows = (ROOT / "configs" / "data" / "huairou_facilities.csv").read_text(encoding="utf-8").splitlines()
    head, first = rows[0], rows[1].split(",")
    first[head.split(",").index("beds")] = "many"
    bad.write_text("\n".join([head, ",".join(first)] + rows[2:]) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_scenario(HUAIROU, [f"geography.roster.facilities_csv={bad}"])
    assert "facilities.csv" in str(e.value) and "row 2" in str(e.value) and "beds" in str(e.value)
