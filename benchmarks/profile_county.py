#!/usr/bin/env python
"""Profile one replication of a (scaled) baseline county: where does the time go?

    .venv/bin/python benchmarks/profile_county.py                    # pyinstrument, 50k residents, 0.5 y
    .venv/bin/python benchmarks/profile_county.py --cprofile --top 30
    .venv/bin/python benchmarks/profile_county.py --population 500000 --years 1 --html /tmp/p.html
    .venv/bin/python benchmarks/profile_county.py --cold     # include imports and numba cache loads

pyinstrument samples (low overhead, shares close to reality); cProfile counts every call
(exact call counts, but inflates the share of many small Python functions).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--population", type=int, default=50_000)
    ap.add_argument("--years", type=float, default=0.5)
    ap.add_argument("--cprofile", action="store_true", help="cProfile instead of pyinstrument")
    ap.add_argument("--top", type=int, default=25, help="cProfile: rows to print")
    ap.add_argument("--html", type=Path, help="pyinstrument: also write an HTML report here")
    ap.add_argument("--cold", action="store_true",
                    help="profile the first run (imports, numba cache loads) instead of a warm one")
    args = ap.parse_args(argv)

    from sim.studies.runner import single_run

    if not args.cold:  # as the engine benchmark does: imports and compiled functions loaded first
        single_run(bench.load(bench.BASELINE, bench.scaled_overrides(2000, years=0.05)))
    scenario = bench.load(bench.BASELINE, bench.scaled_overrides(args.population, years=args.years))
    if args.cprofile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        r = single_run(scenario)
        prof.disable()
        stats = pstats.Stats(prof)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
    else:
        from pyinstrument import Profiler

        prof = Profiler(interval=0.001)
        prof.start()
        r = single_run(scenario)
        prof.stop()
        print(prof.output_text(unicode=True, color=False, show_all=False))
        if args.html:
            args.html.write_text(prof.output_html(), encoding="utf-8")
    print(f"{r.accounting['arrived']:,} episodes, {r.wall_seconds:.2f} s wall (profiled)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
