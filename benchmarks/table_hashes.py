#!/usr/bin/env python
"""Fingerprints of every table a run writes, to show that a speed-up leaves results unchanged.

    .venv/bin/python benchmarks/table_hashes.py > /tmp/before.txt          # on the old code
    .venv/bin/python benchmarks/table_hashes.py --compare /tmp/before.txt  # on the new code

One line per case: sha256 (first 16 hex digits) of the visits, stays, episodes, transfers,
outside-care, missed follow-up and arrival-time tables, the queue samples and both budget
tables.  The cases switch on every lever family: the baseline, full reform, a phased plan,
chronic centres, medicine stock-outs, rotation, payment reform, family doctors, pooling, full
reform with balking, lognormal service and queue sampling, Huairou (yearly outpatient
deductibles) and the golden county.  The golden
test compares KPIs at 1e-9; this compares the raw tables bit for bit.  With ``--results`` each
case also runs ``single_run`` and fingerprints every table of its result (KPIs by month and
year, facilities, villages, flows, ...), for speed-ups of the KPI tables themselves.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench  # noqa: E402

POLICIES = ROOT / "configs" / "policies"
CASES = {
    "baseline": (bench.BASELINE, bench.scaled_overrides(50_000, years=0.5)),
    "full_reform": (POLICIES / "full_reform.yaml", bench.scaled_overrides(50_000, years=0.5)),
    "hunan_plan": (ROOT / "configs" / "plans" / "hunan_2027.yaml",
                   bench.scaled_overrides(30_000) + ["simulation.years=4"]),
    "chronic": (POLICIES / "chronic_centres.yaml", bench.scaled_overrides(30_000, years=0.5)),
    "medicine_stock": (POLICIES / "medicine_stock.yaml", bench.scaled_overrides(30_000, years=0.5)),
    "rotation": (POLICIES / "workforce_rotation.yaml", bench.scaled_overrides(30_000, years=1.0)),
    "payment_reform": (POLICIES / "payment_reform.yaml", bench.scaled_overrides(30_000, years=0.5)),
    "family_doctor": (POLICIES / "family_doctor.yaml", bench.scaled_overrides(30_000, years=0.5)),
    "pooling": (POLICIES / "workforce_pooling.yaml", bench.scaled_overrides(100_000, years=0.3)),
    "full_reform_balk_lognormal_sampled": (POLICIES / "full_reform.yaml", bench.scaled_overrides(30_000, years=0.5) + [
        "service.balk_queue_length=3", "service.distribution=lognormal", "simulation.sample_interval_days=0.1"]),
    "huairou_yearly_deductible": (ROOT / "configs" / "huairou.yaml", ["simulation.years=0.3"]),
    "golden": (ROOT / "tests" / "configs" / "golden_small.yaml", []),
}
TABLES = ("visits", "stays", "episodes", "transfers", "outside", "missed")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def fingerprints(config: Path, overrides: list[str]) -> dict[str, str]:
    """Run replication 0 of the scenario and fingerprint its tables."""
    from models.loading import county_of
    from sim.core.streams import make_streams, replication_seed
    from sim.pathway import CountyModel

    scenario = bench.load(config, overrides)
    model = CountyModel(scenario, county_of(scenario), make_streams(replication_seed(scenario.simulation.seed, 0)))
    mon = model.run()
    out = {}
    for name in TABLES:
        arrays = getattr(mon, name).arrays()
        out[name] = _sha(b"".join(k.encode() + np.ascontiguousarray(arrays[k]).tobytes() for k in sorted(arrays)))
    out["arrivals"] = _sha(mon.arrivals().tobytes())
    out["samples"] = _sha(np.concatenate([mon.in_system_doctors, mon.in_system_beds]).tobytes())
    out["budget"] = _sha(repr(mon.budget).encode())
    out["community_budget"] = _sha(repr(mon.community_budget).encode())
    return out


def result_fingerprints(config: Path, overrides: list[str]) -> dict[str, str]:
    """Replication 0's ``RunResult``: every table (values, column names and dtypes) and dict."""
    import pandas as pd

    from sim.studies.runner import single_run

    result = single_run(bench.load(config, overrides))
    out = {}
    for name, value in sorted(vars(result).items()):
        if isinstance(value, pd.DataFrame):
            frame = value.reset_index()
            out[name] = _sha(repr((list(frame.columns), [str(d) for d in frame.dtypes])).encode()
                             + pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        elif isinstance(value, dict) and name != "logs":
            out[name] = _sha(repr(sorted(value.items())).encode())
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="*", help=f"subset of {', '.join(CASES)} (default: all)")
    ap.add_argument("--compare", type=Path, help="an earlier output: exit 1 unless every case is identical")
    ap.add_argument("--results", action="store_true", help="also fingerprint each case's single_run result tables")
    args = ap.parse_args(argv)
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        ap.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    before = {}
    if args.compare:
        for line in args.compare.read_text(encoding="utf-8").splitlines():
            name, _, rest = line.partition(" ")
            before[name] = json.loads(rest)
    differ = []
    for name in args.cases or CASES:
        now = fingerprints(*CASES[name])
        if args.results:
            now.update({f"result.{k}": v for k, v in result_fingerprints(*CASES[name]).items()})
        print(name, json.dumps(now), flush=True)
        if args.compare and before.get(name) != now:
            differ.append(name)
    if args.compare:
        print("identical" if not differ else f"DIFFERENT: {', '.join(differ)}", file=sys.stderr)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
