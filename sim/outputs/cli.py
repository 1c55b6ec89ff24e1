"""Command line: ``countysim run | validate | experiment | sensitivity | calibrate | figures | report``.

User errors (bad config, missing file) print one clear message and exit with status 2,
without a traceback.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

from models.loading import load_scenario, resolved_dict
from sim.core.config_files import ConfigError

EXIT_USER_ERROR = 2
EXIT_RUNS_FAILED = 1  # a batch finished but some of its runs raised (see manifest.json)


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
    from sim.studies.runner import (
        default_workers,
        format_table,
        multiple_replications,
        runs_frame,
        summarise,
        write_outputs,
    )

    scenario = load_scenario(args.config, _overrides(args))
    workers = args.workers or default_workers()
    n = scenario.simulation.replications
    if not args.quiet:
        print(f"countysim: {scenario.name}: {n} replication(s) × {scenario.simulation.years:g} year(s), "
              f"seed {scenario.simulation.seed}, {workers} worker(s)", file=sys.stderr)
    if args.event_log and not args.out:
        raise ConfigError("--event-log needs --out DIR (the log goes to DIR/events/rep<r>/)")
    t0 = time.perf_counter()
    events = Path(args.out) / "events" if args.event_log else None
    results = multiple_replications(scenario, n, workers=workers, progress=not args.quiet, event_log=events)
    wall = time.perf_counter() - t0
    if args.out:
        summary = write_outputs(args.out, scenario, results, wall, source=str(Path(args.config).resolve()))
    else:
        summary = summarise(runs_frame(results))
    print(format_table(summary))
    if args.out:
        print(f"\nwrote {args.out}/ (summary.json, runs.parquet, monthly.parquet, yearly.parquet, facilities.parquet, "
              f"facility_monthly.parquet, villages.parquet, flows.parquet, manifest.json) in {wall:.1f} s")
        return _figures_after(Path(args.out), args)
    return 0


def _figures_after(out: Path, args: argparse.Namespace, status: int = 0) -> int:
    """Figures at the end of a run or batch, unless ``--no-figures``; a failure here keeps the results."""
    if getattr(args, "no_figures", False):
        return status
    from sim.outputs.figures import make_figures

    try:
        fs = make_figures(out)
    except Exception as e:  # noqa: BLE001 - results are written; say how to retry
        print(f"countysim: figures failed ({type(e).__name__}: {e}); the results are saved: rerun "
              f"`countysim figures {out}`", file=sys.stderr)
        return status or EXIT_RUNS_FAILED
    _print_figures(fs, args.quiet)
    return status


def _print_figures(fs, quiet: bool) -> None:
    print(f"figures: {len(fs.figures)} in {fs.folder}/ (PNG 300 dpi and SVG; {fs.font})", file=sys.stderr)
    if not quiet:
        for name, why in fs.skipped.items():
            print(f"  skipped {name}: {why.split(': ', 1)[-1]}", file=sys.stderr)


def cmd_figures(args: argparse.Namespace) -> int:
    from sim.outputs.figures import FIGURES, MissingResultsError, make_figures

    unknown = [n for n in args.only or [] if n not in FIGURES]
    if unknown:
        raise ConfigError(f"--only: unknown figure(s) {unknown}; known: {list(FIGURES)}")
    try:
        fs = make_figures(args.results, args.out, only=args.only)
    except MissingResultsError as e:
        raise ConfigError(str(e)) from None
    _print_figures(fs, args.quiet)
    for f in fs.figures:
        print(f"{f.name}: {', '.join(p.name for p in f.files)}")
    return 0 if fs.figures else EXIT_RUNS_FAILED


def cmd_report(args: argparse.Namespace) -> int:
    from sim.outputs.figures import MissingResultsError
    from sim.outputs.report import write_report

    try:
        path = write_report(args.results, args.out, refresh_figures=args.refresh_figures)
    except MissingResultsError as e:
        raise ConfigError(str(e)) from None
    print(f"wrote {path}", file=sys.stderr)
    return 0


def _executor(args: argparse.Namespace):
    from sim.studies.executors import make_executor

    return make_executor(args.workers, args.scheduler, args.dask_local)


def _batch_status(result, out: Path, quiet: bool) -> int:
    failed = len(result.failures)
    print(f"\n{result.finished}/{result.planned} runs finished ({result.skipped} from an earlier invocation), "
          f"{failed} failed, {result.wall_seconds:.1f} s; results in {out}/", file=sys.stderr)
    if failed:
        print(f"countysim: {failed} run(s) failed; tracebacks in {out}/manifest.json (rerun with --resume)",
              file=sys.stderr)
    return EXIT_RUNS_FAILED if failed else 0


def cmd_experiment(args: argparse.Namespace) -> int:
    from sim.studies.compare import format_advice, format_summary
    from sim.studies.experiment import load_experiment, run_experiment

    if args.dry_run:
        print(load_experiment(args.file, args.set, args.replications)[1].describe())
        return 0
    executor = _executor(args)
    try:
        spec, plan, result, summary = run_experiment(
            args.file, executor, out=args.out, resume=args.resume, progress=not args.quiet,
            target_halfwidth=args.target_halfwidth, extra_overrides=args.set, replications=args.replications)
    finally:
        executor.close()
    kpis = spec.shown_kpis()
    print(format_summary(summary, kpis, spec.reference_name))
    print(format_advice(summary, kpis))
    out = Path(args.out or Path("results") / spec.name)
    return _figures_after(out, args, _batch_status(result, out, args.quiet))


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from sim.studies.sensitivity import (
        format_indices,
        plan_sensitivity,
        run_sensitivity,
    )

    if args.dry_run:
        print(plan_sensitivity(args.file, args.set)[2].describe())
        return 0
    executor = _executor(args)
    try:
        spec, result, indices = run_sensitivity(args.file, executor, out=args.out, resume=args.resume,
                                                progress=not args.quiet, extra_overrides=args.set)
    finally:
        executor.close()
    if indices is not None:
        print(format_indices(indices))
    out = Path(args.out or Path("results") / spec.name)
    status = _batch_status(result, out, args.quiet)
    return _figures_after(out, args, status or (EXIT_RUNS_FAILED if indices is None else 0))


def cmd_calibrate(args: argparse.Namespace) -> int:
    from sim.studies.calibration import format_fit, prepare_calibration, run_calibration

    if args.dry_run:
        cal = prepare_calibration(args.file, args.set)
        print(f"calibration {cal.spec.name}: {len(cal.targets)} target(s) {list(cal.targets['kpi'])}; "
              f"parameters {list(cal.spec.parameters)}; up to {cal.spec.max_evaluations} evaluations × "
              f"{cal.spec.replications} replication(s); corners of the parameter box are valid")
        return 0
    executor = _executor(args)
    try:
        spec, fit, out = run_calibration(args.file, executor, out=args.out, progress=not args.quiet,
                                         extra_overrides=args.set)
    finally:
        executor.close()
    print(format_fit(fit))
    print(f"\nwrote {out}/calibrated.yaml, fit.csv, evaluations.csv, manifest.json", file=sys.stderr)
    return _figures_after(Path(out), args)


def cmd_validate_model(args: argparse.Namespace) -> int:
    from sim.outputs.validation_report import write

    path = write(args.out, args.replications, args.full_county, args.workers)
    print(f"wrote {path}", file=sys.stderr)
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
    run.add_argument("--no-figures", action="store_true", help="with --out: do not draw figures into OUT/figures")
    run.add_argument("--event-log", action="store_true",
                     help="with --out: stream every visit, stay and episode to OUT/events/rep<r>/*.parquet")
    run.set_defaults(func=cmd_run)

    val = sub.add_parser("validate", help="check a config and print the resolved version")
    common(val)
    val.set_defaults(func=cmd_validate)

    def batch(sp: argparse.ArgumentParser, resume: bool = True) -> None:
        sp.add_argument("file", help="study YAML (see experiments/)")
        sp.add_argument("--out", help="results folder (default: results/<name>)")
        where = sp.add_mutually_exclusive_group()
        where.add_argument("--workers", type=int, help="local processes (default: all cores; 1 = in-process)")
        where.add_argument("--scheduler", metavar="ADDRESS", help="existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
        where.add_argument("--dask-local", type=int, metavar="N", help="start a Dask LocalCluster with N workers")
        if resume:
            sp.add_argument("--resume", action="store_true", help="keep finished runs of an interrupted batch")
        sp.add_argument("--quiet", action="store_true", help="no progress bar (logs, CI)")
        sp.add_argument("--dry-run", action="store_true", help="validate everything and show the plan; run nothing")
        sp.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override the base config of every scenario (before the scenario's own overrides)")
        sp.add_argument("--no-figures", action="store_true", help="do not draw figures into the results folder")

    exp = sub.add_parser("experiment", help="scenarios × replications (and sweeps) with paired comparisons")
    batch(exp)
    exp.add_argument("--replications", type=int, help="override the file's replications")
    exp.add_argument("--target-halfwidth", action="append", metavar="H|KPI=H",
                     help="advise replications for a 95%% CI half-width: H for the shown share KPIs, "
                          "KPI=H for one KPI in its unit (repeatable)")
    exp.set_defaults(func=cmd_experiment)

    sens = sub.add_parser("sensitivity", help="Morris screening or Sobol indices (SALib)")
    batch(sens)
    sens.set_defaults(func=cmd_sensitivity)

    cal = sub.add_parser("calibrate", help="fit declared parameters to observed KPI targets")
    batch(cal, resume=False)
    cal.set_defaults(func=cmd_calibrate)

    vm = sub.add_parser("validate-model", help="compare the model with published effects (docs/validation.md)")
    vm.add_argument("--out", default="docs/validation.md", help="report file (default: docs/validation.md)")
    vm.add_argument("--replications", type=int, default=3)
    vm.add_argument("--workers", type=int, default=2, help="processes per scenario")
    vm.add_argument("--full-county", action="store_true", help="the 500k baseline county (slow) instead of 60k")
    vm.set_defaults(func=cmd_validate_model)

    fig = sub.add_parser("figures", help="publication figures (PNG 300 dpi and SVG) from a results folder")
    fig.add_argument("results", help="results folder of countysim run --out, experiment, sensitivity or calibrate")
    fig.add_argument("--out", help="figure folder (default: RESULTS/figures)")
    fig.add_argument("--only", action="append", metavar="NAME", help="draw only this figure (repeatable)")
    fig.add_argument("--quiet", action="store_true", help="do not list skipped figures")
    fig.set_defaults(func=cmd_figures)

    rep = sub.add_parser("report", help="self-contained HTML report of a results folder")
    rep.add_argument("results", help="results folder")
    rep.add_argument("--out", help="report file (default: RESULTS/report.html)")
    rep.add_argument("--refresh-figures", action="store_true", help="redraw the figures even if they are current")
    rep.set_defaults(func=cmd_report)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as e:
        print(f"countysim: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("countysim: interrupted (finished runs of a batch are kept: rerun it with --resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
