"""Command line: ``countysim run | validate | experiment | province | sensitivity | calibrate | plan-search |
figures | report | lab``.

User errors (bad config, missing file) print one clear message and exit with status 2,
without a traceback.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import yaml

import sim
from models.loading import load_scenario, plan_of, resolved_dict
from sim.core.config_files import ConfigError
from sim.core.files import OutputFolder, writable_folder
from sim.studies.run_failures import WorkerDied

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

    scenario = load_scenario(args.config, _overrides(args))
    if args.event_log and not args.out:
        raise ConfigError("--event-log needs --out DIR (the log goes to DIR/events/rep<r>/)")
    if args.out:  # claim the folder before simulating: a bad --out must not cost the runs
        folder = OutputFolder(args.out, args.overwrite)
        with folder.claimed({"kind": "run", "name": scenario.name, "source": str(Path(args.config).resolve())}) as root:
            shutil.rmtree(root / "figures", ignore_errors=True)  # drawn from an earlier run's tables
            shutil.rmtree(root / "events", ignore_errors=True)
            (root / "report.html").unlink(missing_ok=True)
            summary, wall, runs = _simulate(scenario, args, root)
        _print_summary(summary, scenario, runs, args)
        files = "summary.csv, summary.json, runs.parquet, monthly.parquet, yearly.parquet, facilities.parquet, " \
                "facility_monthly.parquet, villages.parquet, flows.parquet, " \
                + ("plan.parquet, " if not plan_of(scenario).empty else "") + "manifest.json"
        print(f"\nwrote {args.out}/ ({files}) in {wall:.1f} s", file=sys.stderr)
        return _figures_after(Path(args.out), args)
    summary, _, runs = _simulate(scenario, args, None)
    _print_summary(summary, scenario, runs, args)
    return 0


def _print_summary(summary: dict, scenario, runs, args: argparse.Namespace) -> None:
    """The KPI table (or, with --json, the summary.json text); for a multi-year run or a plan,
    the trajectory and its targets too."""
    from models.kpi_registry import HEADLINE
    from models.scenario import run_years
    from sim.studies.runner import format_table, format_trajectory
    from sim.studies.summaries import run_summary, summary_json_text

    if args.json:
        print(summary_json_text(run_summary(runs, scenario.name), scenario.name, summary))
        return
    print(format_table(summary, wide=args.wide))
    if scenario.simulation.years > 1 or scenario.schedule or scenario.targets:
        shown = HEADLINE + [k for k in scenario.targets if k not in HEADLINE]
        if scenario.payment.global_budget.enabled:
            shown += ["budget_balance", "reserve_closing"]
        if scenario.payment.assessment.enabled:
            shown.append("assessment_score")
        if scenario.payment.dip.enabled:
            shown.append("dip_point_price")
        print("\n" + format_trajectory(summary, shown, run_years(scenario.simulation)[1]))


def _simulate(scenario, args: argparse.Namespace, out: Path | None):
    from sim.studies.pools import default_workers
    from sim.studies.runner import (
        multiple_replications,
        runs_frame,
        summarise,
        write_outputs,
        yearly_frame,
    )

    workers = args.workers or default_workers()
    n = scenario.simulation.replications
    if not args.quiet:
        print(f"countysim: {scenario.name}: {n} replication(s) × {scenario.simulation.years:g} year(s), "
              f"seed {scenario.simulation.seed}, {workers} worker(s)", file=sys.stderr)
    t0 = time.perf_counter()
    events = out / "events" if args.event_log else None
    results = multiple_replications(scenario, n, workers=workers, progress=not args.quiet, event_log=events)
    wall = time.perf_counter() - t0
    runs = runs_frame(results)
    if out is not None:
        return write_outputs(out, scenario, results, wall, source=str(Path(args.config).resolve())), wall, runs
    return summarise(runs, yearly_frame(results), scenario.targets), wall, runs


def _figures_after(out: Path, args: argparse.Namespace, status: int = 0) -> int:
    """Figures at the end of a run or batch, unless ``--no-figures``; a failure here keeps the results."""
    if getattr(args, "no_figures", False):
        return status
    from sim.outputs.figures import make_figures

    try:
        fs = make_figures(out, progress=not args.quiet, workers=_figure_workers(args))
    except Exception as e:  # noqa: BLE001 - results are written; say how to retry
        print(f"countysim: figures failed ({type(e).__name__}: {e}); the results are saved: rerun "
              f"`countysim figures {out}`", file=sys.stderr)
        return status or EXIT_RUNS_FAILED
    _print_figures(fs, args.quiet)
    return status


def _figure_workers(args: argparse.Namespace) -> int:
    """Local cores for drawing figures: ``--workers`` if given, else all (a remote scheduler's workers
    do not count: figures are drawn here)."""
    from sim.studies.pools import default_workers

    return getattr(args, "workers", None) or default_workers()


def _print_figures(fs, quiet: bool) -> None:
    print(f"figures: {len(fs.figures)} in {fs.folder}/ (PNG 300 dpi and SVG; {fs.font})", file=sys.stderr)
    if not quiet:
        for name, why in fs.skipped.items():
            print(f"  skipped {name}: {why.split(': ', 1)[-1]}", file=sys.stderr)


def cmd_figures(args: argparse.Namespace) -> int:
    from sim.outputs.figures import FIGURES, DamagedResultsError, MissingResultsError, Results, make_figures

    unknown = [n for n in args.only or [] if n not in FIGURES]
    if unknown:
        raise ConfigError(f"--only: unknown figure(s) {unknown}; known: {list(FIGURES)}")
    try:
        res = Results(args.results)
        res.require_runs("figures")
        if args.out:
            writable_folder(Path(args.out))
        fs = make_figures(res, args.out, only=args.only, progress=not args.quiet, workers=_figure_workers(args))
    except (MissingResultsError, DamagedResultsError) as e:
        raise ConfigError(str(e)) from None
    _print_figures(fs, args.quiet)
    for f in fs.figures:
        print(f"{f.name}: {', '.join(p.name for p in f.files)}")
    return 0 if fs.figures else EXIT_RUNS_FAILED


def cmd_report(args: argparse.Namespace) -> int:
    from sim.outputs.figures import DamagedResultsError, MissingResultsError
    from sim.outputs.report import write_report

    try:
        path = write_report(args.results, args.out, refresh_figures=args.refresh_figures)
    except (MissingResultsError, DamagedResultsError) as e:
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
    from sim.studies.compare import format_advice, format_by_year, format_summary
    from sim.studies.experiment import load_experiment, run_experiment
    from sim.studies.summaries import summary_json_text

    if args.dry_run:
        print(load_experiment(args.file, args.set, args.replications)[1].describe())
        return 0
    executor = _executor(args)
    try:
        spec, plan, result, summary = run_experiment(
            args.file, executor, out=args.out, resume=args.resume, progress=not args.quiet,
            target_halfwidth=args.target_halfwidth, extra_overrides=args.set, replications=args.replications,
            overwrite=args.overwrite)
    finally:
        executor.close()
    kpis = spec.shown_kpis()
    if args.json:
        print(summary_json_text(summary, spec.reference_name))
    else:
        print(format_summary(summary, kpis, spec.reference_name))
        advice = format_advice(summary, kpis)
        if advice:
            print(advice)
    out = Path(args.out or Path("results") / spec.name)
    if (out / "summary_by_year.csv").exists():
        import pandas as pd

        print(format_by_year(pd.read_csv(out / "summary_by_year.csv"), kpis[:4], spec.reference_name))
    return _figures_after(out, args, _batch_status(result, out, args.quiet))


def cmd_province(args: argparse.Namespace) -> int:
    from sim.studies.province import load_province, run_province
    from sim.studies.province_tables import format_province

    if args.dry_run:
        print(load_province(args.file, args.set, args.replications).describe())
        return 0
    executor = _executor(args)
    try:
        result = run_province(args.file, executor, out=args.out, resume=args.resume, progress=not args.quiet,
                              extra_overrides=args.set, replications=args.replications, overwrite=args.overwrite)
    finally:
        executor.close()
    print(format_province(result.summary, result.ranking, result.coupling, result.converged))
    out = Path(args.out or Path("results") / result.province.spec.name)
    return _figures_after(out, args, _batch_status(result.batch, out, args.quiet))


def cmd_plan_search(args: argparse.Namespace) -> int:
    from sim.outputs.figures.plan_search import pareto_figure
    from sim.studies.plan_search import format_search, load_search, search, write_results

    if args.trials is not None and args.trials < 2:
        raise ConfigError(f"--trials {args.trials}: at least 2 timetables")
    spec, resolver = load_search(args.file)
    if args.dry_run:
        print(f"plan-search {spec.name}: valid; {args.trials or spec.trials} timetables × {spec.replications} "
              f"replication(s) over {list(spec.levers)}")
        return 0
    trials = search(spec, resolver, args.trials, progress=not args.quiet)
    out = Path(args.out or Path("results") / spec.name)
    summary = write_results(out, spec, Path(args.file).resolve(), trials)
    pareto_figure(out, spec.cost, spec.probability)
    print(format_search(summary))
    print(f"\nwrote {out}/ (trials.csv, pareto.csv, search.json, figures/10_plan_search"
          + (", best_plan.yaml" if summary["best"] else "") + ")")
    return 0


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
                                                progress=not args.quiet, extra_overrides=args.set,
                                                overwrite=args.overwrite)
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
                                         extra_overrides=args.set, overwrite=args.overwrite)
    finally:
        executor.close()
    print(format_fit(fit))
    print(f"\nwrote {out}/calibrated.yaml, fit.csv, evaluations.csv, manifest.json", file=sys.stderr)
    return _figures_after(Path(out), args)


def cmd_lab(args: argparse.Namespace) -> int:
    from sim.outputs.lab import serve

    if not 0 < args.port < 65536:
        raise ConfigError(f"--port {args.port}: must be 1-65535")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"countysim lab: serving on {args.host}: anyone who can reach this address can run simulations "
              "and read the lab's results", file=sys.stderr)
    serve(args.host, args.port, args.results)
    return 0


def cmd_validate_model(args: argparse.Namespace) -> int:
    from sim.outputs.validation_report import write

    path = write(args.out, args.replications, args.full_county, args.workers)
    print(f"wrote {path}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="countysim", description="Simulate tiered rural care in a Chinese county.")
    p.add_argument("--version", action="version", version=f"countysim {sim.__version__}")
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
    run.add_argument("--overwrite", action="store_true",
                     help="with --out: replace a folder holding other results (once the new ones are complete)")
    run.add_argument("--json", action="store_true", help="print the summary as JSON (the summary.json format) "
                                                           "instead of the table, for scripts")
    run.add_argument("--wide", action="store_true", help="table with the Chinese KPI names and full units")
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
        sp.add_argument("--overwrite", action="store_true",
                        help="replace a results folder holding another study's results or other files "
                             "(once the new results are complete)")

    exp = sub.add_parser("experiment", help="scenarios × replications (and sweeps) with paired comparisons")
    batch(exp)
    exp.add_argument("--replications", type=int, help="override the file's replications")
    exp.add_argument("--json", action="store_true", help="print the summary as JSON (the summary.json format) "
                                                         "instead of the tables, for scripts")
    exp.add_argument("--target-halfwidth", action="append", metavar="H|KPI=H",
                     help="advise replications for a 95%% CI half-width: H for the shown share KPIs, "
                          "KPI=H for one KPI in its unit (repeatable)")
    exp.set_defaults(func=cmd_experiment)

    prov = sub.add_parser("province", help="many counties sharing the outside hospitals, ranked against the "
                                           "90 %% / 65 %% targets by year (see docs/province.md)")
    batch(prov)
    prov.add_argument("--replications", type=int, help="override the file's replications")
    prov.set_defaults(func=cmd_province)

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

    ps = sub.add_parser("plan-search", help="cheapest phased plan meeting targets by year (Optuna, common random numbers)")
    ps.add_argument("file", help="search YAML (see experiments/reach_65.yaml)")
    ps.add_argument("--out", help="results folder (default: results/<name>)")
    ps.add_argument("--trials", type=int, help="override the file's number of timetables to try")
    ps.add_argument("--dry-run", action="store_true", help="validate the file, its bounds and targets; run nothing")
    ps.add_argument("--quiet", action="store_true", help="no progress bar")
    ps.set_defaults(func=cmd_plan_search)

    rep = sub.add_parser("report", help="self-contained HTML report of a results folder")
    rep.add_argument("results", help="results folder")
    rep.add_argument("--out", help="report file (default: RESULTS/report.html)")
    rep.add_argument("--refresh-figures", action="store_true", help="redraw the figures even if they are current")
    rep.set_defaults(func=cmd_report)

    lab = sub.add_parser("lab", help="the policy lab in the browser (Streamlit), http://127.0.0.1:8501")
    lab.add_argument("--port", type=int, default=8501)
    lab.add_argument("--host", default="127.0.0.1", help="bind address (default: this machine only)")
    lab.add_argument("--results", default="results/lab", help="the lab's folder for runs, plans and uploads")
    lab.set_defaults(func=cmd_lab)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as e:
        print(f"countysim: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as e:  # a path the user gave that cannot be read or written: name it, no traceback
        if e.filename is None:
            raise
        print(f"countysim: error: {e.filename}: {e.strerror or e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except WorkerDied as e:  # not the user's input, not a bug in the model: say what to do
        print(f"countysim: {e}", file=sys.stderr)
        return EXIT_RUNS_FAILED
    except KeyboardInterrupt:
        print("countysim: interrupted (finished runs of a batch are kept: rerun it with --resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
