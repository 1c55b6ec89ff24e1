"""Command line: ``countysim run | validate``.

User errors (bad config, missing file) print one clear message and exit with status 2,
without a traceback.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

from sim.config import ConfigError, load_scenario, resolved_dict

EXIT_USER_ERROR = 2


def _overrides(args: argparse.Namespace) -> list[str]:
    extra = list(args.set or [])
    for flag, key in (("replications", "simulation.replications"), ("seed", "simulation.seed"),
                      ("years", "simulation.years")):
        value = getattr(args, flag, None)
        if value is not None:
            extra.append(f"{key}={value}")
    return extra


def cmd_validate(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.config, _overrides(args))
    print(f"# {args.config}: valid", file=sys.stderr)
    print(yaml.safe_dump(resolved_dict(scenario), sort_keys=False, allow_unicode=True), end="")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from sim.runner import default_workers, format_table, multiple_replications, runs_frame, summarise, write_outputs

    scenario = load_scenario(args.config, _overrides(args))
    workers = args.workers or default_workers()
    n = scenario.simulation.replications
    if not args.quiet:
        print(f"countysim: {scenario.name}: {n} replication(s) × {scenario.simulation.years:g} year(s), "
              f"seed {scenario.simulation.seed}, {workers} worker(s)", file=sys.stderr)
    t0 = time.perf_counter()
    results = multiple_replications(scenario, n, workers=workers, progress=not args.quiet)
    wall = time.perf_counter() - t0
    if args.out:
        summary = write_outputs(args.out, scenario, results, wall, source=str(Path(args.config).resolve()))
    else:
        summary = summarise(runs_frame(results))
    print(format_table(summary))
    if args.out:
        print(f"\nwrote {args.out}/ (summary.json, runs.parquet, monthly.parquet, facilities.parquet, "
              f"manifest.json) in {wall:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="countysim", description="Simulate tiered rural care in a Chinese county.")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("config", help="scenario YAML")
        sp.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a config value, e.g. reimbursement.township.outpatient_rate=0.9")
        sp.add_argument("--replications", type=int)
        sp.add_argument("--seed", type=int)
        sp.add_argument("--years", type=float)

    run = sub.add_parser("run", help="run replications and print KPIs with 95%% CIs")
    common(run)
    run.add_argument("--out", help="directory for summary.json, parquet tables and manifest.json")
    run.add_argument("--workers", type=int, help="processes (default: all cores)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    val = sub.add_parser("validate", help="check a config and print the resolved version")
    common(val)
    val.set_defaults(func=cmd_validate)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as e:
        print(f"countysim: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("countysim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
