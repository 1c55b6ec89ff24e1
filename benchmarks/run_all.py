#!/usr/bin/env python
"""countysim benchmarks: one table, measured side by side in one run (``make bench``).

Sections (all by default, in this order):
  engine       county model episodes/s vs a bare SimPy M/M/c and ciw's M/M/c, interleaved rounds
  county-year  the baseline county, one replication, one core, fresh process: wall, episodes/s, peak RSS
  scaling      50k-2M residents (capacities scaled), each after a warm-up: exponents of time and memory vs episodes
  batch        the same 16-replication experiment on 1 and 2 workers: speed-up
  figures      a tiny two-replication run --out with and without its figures: the figure step's cost
  province     a 20-county province (150k-450k residents) on a Dask LocalCluster of 1 and 2 workers: speed-up,
               and a projection for 100 counties x 10 replications from the measured per-county cost

The machines are shared and noisy: ratios are what the targets judge; absolute figures are
context.  A full run writes the table and the machine it ran on to benchmarks/LATEST.md.

    python benchmarks/run_all.py                 # everything (a few minutes)
    python benchmarks/run_all.py --quick         # tiny sizes, smoke test; does not touch LATEST.md
    python benchmarks/run_all.py --sections engine batch
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench  # noqa: E402

SECTIONS = ("engine", "county-year", "scaling", "batch", "figures", "province")
TARGETS = {
    "ratio_simpy": 5.0,        # issue 15: county episodes/s ≥ 5 × bare SimPy M/M/c customers/s, per CPU s
    "ratio_ciw": 2.0,          # county episodes/s ≥ 2 × ciw customers/s
    "county_year_seconds": 40.0,
    "county_year_cpu_seconds": 6.0,  # issue 15: a county-year in ≤ 6 s CPU
    "county_year_rss_mib": 1024.0,
    "county_year_full_cpu_seconds": 10.0,  # issue 15: every mechanism on, full_reform with a 2024-2027 plan
    "exponent": (0.95, 1.05),
    "exponent_rss": 1.05,      # issue 15: memory grows no faster than episodes (same margin as time)
    "speedup": 1.8,
    "figures_ratio": 3.0,      # a tiny run with its figures ≤ 3 × the same run without
}

FULL = {
    "engine": dict(population=50_000, years=0.5, customers=150_000, lam=4.0, mu=1.0, c=5, rounds=5),
    "county_year": dict(overrides=[], full_overrides=[]),
    "scaling": dict(populations=(50_000, 100_000, 200_000, 500_000, 2_000_000), years=1.0, rounds=3),
    "batch": dict(population=100_000, years=1.0, runs=16, workers=(1, 2), repeats=2),
    "figures": dict(population=20_000, years=0.1, replications=2, repeats=2),
    "province": dict(counties=20, population=(150_000, 450_000), years=1.0, workers=(1, 2), rounds=1, repeats=3),
}
QUICK = {
    "engine": dict(population=3_000, years=0.1, customers=5_000, lam=4.0, mu=1.0, c=5, rounds=2),
    "county_year": dict(overrides=bench.scaled_overrides(10_000, years=0.1),
                        full_overrides=bench.scaled_overrides(60_000, bench.FULL_MECHANISMS, years=4)),
    "scaling": dict(populations=(5_000, 10_000, 20_000), years=0.1, rounds=1),
    "batch": dict(population=3_000, years=0.1, runs=8, workers=(1, 2), repeats=1),
    "figures": dict(population=3_000, years=0.05, replications=2, repeats=1),
    "province": dict(counties=4, population=(2_000, 4_000), years=0.05, workers=(1, 2), rounds=1, repeats=2),
}


# --------------------------------------------------------------------------- machine
def machine_info() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = {}
    for mod in ("simpy", "ciw", "numpy", "sim"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # pragma: no cover - informational only
            versions[mod] = "?"
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": usable,
            "memory_gib": mem, "python": f"{platform.python_implementation()} {platform.python_version()}",
            "platform": platform.platform(), "versions": versions}


def load_avg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


# --------------------------------------------------------------------------- table
class Table:
    def __init__(self, quick: bool):
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.quick = quick
        self.verdicts: list[bool] = []

    def add(self, section: str, what: str, value: str, target: str = "", ok: bool | None = None) -> None:
        verdict = ""
        if ok is not None:
            self.verdicts.append(ok)
            verdict = "PASS" if ok else "FAIL"
            if self.quick:
                verdict = f"({verdict.lower()})"
        self.rows.append((section, what, value, target, verdict))

    def text(self) -> str:
        head = ("section", "measurement", "value", "target", "result")
        w = [max(len(r[i]) for r in self.rows + [head]) for i in range(5)]
        fmt = lambda r: "  ".join([r[0].ljust(w[0]), r[1].ljust(w[1]), r[2].rjust(w[2]), r[3].ljust(w[3]), r[4]])
        return "\n".join([fmt(head), "-" * (sum(w) + 12)] + [fmt(r) for r in self.rows])

    def markdown(self) -> str:
        lines = ["| section | measurement | value | target | result |", "|---|---|---:|---|---|"]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        return "\n".join(lines)


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _pop(p: int) -> str:
    return f"{p // 1000}k" if p % 1000 == 0 else str(p)


# --------------------------------------------------------------------------- sections
def do_engine(t: Table, p: dict) -> dict:
    r = bench.engine_overhead(**p)
    mmc = f"M/M/{r['c']} λ={r['lam']:g} μ={r['mu']:g}, {_n(r['customers'])} customers"
    both = lambda k: f"{_n(r[k + '_rate'])} ({_n(r[k + '_rate_cpu'])})"
    t.add("engine", f"county model episodes/s, wall (per CPU s) ({_pop(r['population'])} residents, "
                    f"{r['years']:g} y, {_n(r['county_episodes'])} episodes)", both("county"))
    t.add("engine", f"bare SimPy customers/s, wall (per CPU s) ({mmc})", both("simpy"))
    t.add("engine", f"ciw customers/s, wall (per CPU s) (same {mmc.split(',')[0]}, same count)", both("ciw"))
    for other, label in (("simpy", "SimPy"), ("ciw", "ciw")):
        t.add("engine", f"county / {label} per CPU s (wall), median of {r['rounds']} interleaved rounds",
              f"{r['ratio_' + other]:.2f} ({r['ratio_' + other + '_wall']:.2f})",
              f">= {TARGETS['ratio_' + other]}", r["ratio_" + other] >= TARGETS["ratio_" + other])
    return r


def do_county_year(t: Table, p: dict) -> dict:
    r = bench.county_year(bench.BASELINE, p["overrides"])
    label = f"{_pop(r['population'])} residents, {r['years']:g} y" if r["population"] else f"{r['years']:g} y"
    t.add("county-year", f"process wall, s ({label}; start-up + load + run)", f"{r['process_seconds']:.1f}",
          f"<= {TARGETS['county_year_seconds']:g}", r["process_seconds"] <= TARGETS["county_year_seconds"])
    t.add("county-year", "single_run wall, s (CPU s; the CPU s is judged)",
          f"{r['seconds']:.1f} ({r['cpu_seconds']:.1f})",
          f"<= {TARGETS['county_year_cpu_seconds']:g} CPU s", r["cpu_seconds"] <= TARGETS["county_year_cpu_seconds"])
    t.add("county-year", "episodes", _n(r["episodes"]))
    t.add("county-year", "episodes/s", _n(r["rate"]))
    exact = "" if r["rss_exact"] else f"; own {r['child_rss_mib']:.0f}"
    t.add("county-year", f"peak RSS, MiB (RUSAGE_CHILDREN ru_maxrss{exact})", f"{r['peak_rss_mib']:.0f}",
          f"<= {TARGETS['county_year_rss_mib']:g}",
          (r["peak_rss_mib"] if r["rss_exact"] else r["child_rss_mib"]) <= TARGETS["county_year_rss_mib"])
    full = bench.county_year(bench.FULL_MECHANISMS, p["full_overrides"])
    per_year = full["cpu_seconds"] / full["years"]
    t.add("county-year", f"every mechanism on ({bench.FULL_MECHANISMS.name}, {_pop(full['population'])} residents, "
                         f"{full['years']:g} y, {_n(full['episodes'])} episodes): CPU s per county-year (peak RSS MiB)",
          f"{per_year:.1f} ({full['child_rss_mib']:.0f})", f"<= {TARGETS['county_year_full_cpu_seconds']:g} CPU s",
          per_year <= TARGETS["county_year_full_cpu_seconds"])
    r["full_mechanisms"] = full
    return r


def do_scaling(t: Table, p: dict) -> dict:
    r = bench.scaling(**p)
    for q in r["points"]:
        u = q["kpis"]
        best = f"best of {r['rounds']}, " if r["rounds"] > 1 else ""
        t.add("scaling", f"{_pop(q['population'])}: {_n(q['episodes'])} episodes, {q['seconds']:.1f} s wall, "
                         f"µs/episode CPU (wall), {best}county util. {u['utilisation_county']:.2f}, "
                         f"beds {u['bed_occupancy_county']:.2f}",
              f"{q['us_per_episode_cpu']:.2f} ({q['us_per_episode']:.2f})")
    w = r["warm_up"]
    t.add("scaling", f"one-off cost of a fresh process's first run, CPU s (loading compiled code; each child "
                     f"first runs a {_pop(w['population'])} county for {w['years']:g} y twice: first less second, "
                     f"median)", f"{r['one_off_cpu_seconds']:.2f}")
    lo, hi = TARGETS["exponent"]
    t.add("scaling", "fitted exponent, log CPU time vs log episodes (wall), the run after the warm-up",
          f"{r['exponent_cpu']:.3f} ({r['exponent']:.3f})", f"{lo}-{hi}", lo <= r["exponent_cpu"] <= hi)
    t.add("scaling", "for comparison: the same fit with the one-off cost added to every size (a process that "
                     "runs one county and exits)", f"{r['exponent_cpu_fresh']:.3f}")
    t.add("scaling", "fitted exponent, log memory the run adds (its own peak RSS: VmHWM reset once loaded, less "
                     "RSS then) vs log episodes, three largest (MiB added by the largest)",
          f"{r['exponent_rss']:.3f} ({r['points'][-1]['run_rss_mib']:.0f})", f"<= {TARGETS['exponent_rss']:g}",
          r["exponent_rss"] <= TARGETS["exponent_rss"])
    return r


def do_batch(t: Table, p: dict) -> dict:
    r = bench.batch(**p)
    w = list(r["seconds"])
    for k in w:
        best = f", best of {r['repeats']}" if r["repeats"] > 1 else ""
        t.add("batch", f"{r['runs']} runs x {_pop(r['population'])} residents x {r['years']:g} y, "
                       f"{k} worker{'s' if k > 1 else ''}, s wall{best} (CPU s per wall s obtained)",
              f"{r['seconds'][k]:.1f} ({r['cores_obtained'][k]:.2f})")
    last = w[-1]
    t.add("batch", f"speed-up on {last} workers ({r['cpus']} usable CPUs)", f"{r['speedup'][last]:.2f}",
          f">= {TARGETS['speedup']}", r["speedup"][last] >= TARGETS["speedup"])
    t.add("batch", "results identical across worker counts", "yes" if r["identical_results"] else "NO",
          "yes", r["identical_results"])
    return r


def do_figures(t: Table, p: dict) -> dict:
    r = bench.figures_overhead(**p)
    what = f"{r['replications']} replications x {_pop(r['population'])} residents x {r['years']:g} y"
    t.add("figures", f"countysim run --out, {what}: s wall without / with figures",
          f"{r['seconds']['without']:.1f} / {r['seconds']['with']:.1f}")
    t.add("figures", "with figures ÷ without", f"{r['ratio']:.2f}", f"<= {TARGETS['figures_ratio']:g}",
          r["ratio"] <= TARGETS["figures_ratio"])
    return r


def do_province(t: Table, p: dict) -> dict:
    r = bench.province(**p)
    lo, hi = r["population"]
    what = (f"{r['counties']} counties of {_pop(lo)}-{_pop(hi)} residents x {r['years']:g} y, 1 replication, "
            f"{r['rounds']} coupling round(s)")
    best = f", best of {r['repeats']}" if r["repeats"] > 1 else ""
    for w, s in r["seconds"].items():
        t.add("province", f"{what}, Dask LocalCluster {w} worker{'s' if w > 1 else ''}, s wall{best} (worker CPU s "
                          f"per wall s obtained)", f"{s:.1f} ({r['cores_obtained'][w]:.2f})")
    last = list(r["seconds"])[-1]
    t.add("province", f"speed-up on {last} Dask workers", f"{r['speedup'][last]:.2f}", f">= {TARGETS['speedup']}",
          r["speedup"][last] >= TARGETS["speedup"])
    t.add("province", "results identical across worker counts", "yes" if r["identical_results"] else "NO", "yes",
          r["identical_results"])
    cpu = {w: r["seconds"][w] * r["cores_obtained"][w] for w in r["seconds"]}
    t.add("province", "worker CPU s for the same runs, " + " / ".join(f"{w} worker(s)" for w in cpu)
          + " (more on more workers: parallel overhead; under 1 core per worker obtained: a loaded machine)",
          " / ".join(f"{c:.1f}" for c in cpu.values()))
    t.add("province", "per county run in a worker: wall s / CPU s (coordinator's serial s per run)",
          f"{r['run_seconds']:.2f} / {r['run_cpu_seconds']:.2f} ({r['serial_seconds']:.3f})")
    r["projection"] = bench.province_projection(r)
    for row in r["projection"]:
        t.add("province", f"projection: 100 counties x 10 replications x 3 rounds, {row['counties']}, "
                          f"{row['workers']} workers, hours", f"{row['hours']:.2f}")
    return r


RUNNERS = {"engine": (do_engine, "engine"), "county-year": (do_county_year, "county_year"),
           "scaling": (do_scaling, "scaling"), "batch": (do_batch, "batch"), "figures": (do_figures, "figures"),
           "province": (do_province, "province")}


# --------------------------------------------------------------------------- record
def write_latest(path: Path, table: Table, info: dict, argv: list[str], started: str, load_start: str,
                 load_end: str, minutes: float, raw: dict) -> None:
    v = info["versions"]
    mem = f"{info['memory_gib']:.1f} GiB" if info["memory_gib"] else "?"
    lines = [
        "# Latest benchmark run",
        "",
        "Written by `benchmarks/run_all.py` (`make bench`); do not edit by hand.",
        "Ratios are what the targets judge: the machine is shared, absolute figures are context.",
        "",
        f"- date: {started} (UTC), {minutes:.1f} min",
        f"- command: `python benchmarks/run_all.py{''.join(' ' + a for a in argv)}`",
        f"- CPU: {info['cpu']}; {info['cores']} logical cores, {info['usable_cores']} usable; memory {mem}",
        f"- Python: {info['python']} on {info['platform']}",
        f"- versions: countysim {v['sim']}, simpy {v['simpy']}, ciw {v['ciw']}, numpy {v['numpy']}",
        f"- load average (1/5/15 min) at start: {load_start}; at end: {load_end}",
        "",
        table.markdown(),
        "",
    ]
    fmt = lambda xs: ", ".join(f"{x:.2f}" for x in xs)
    if "engine" in raw:
        e = raw["engine"]
        lines += [f"- engine rounds, per CPU s: county/SimPy {fmt(e['ratios_simpy'])}; county/ciw "
                  f"{fmt(e['ratios_ciw'])}; wall: county/SimPy {fmt(e['ratios_simpy_wall'])}; county/ciw "
                  f"{fmt(e['ratios_ciw_wall'])}.  M/M/c mean wait (same λ, μ, c, so the two queues should "
                  f"agree): SimPy {e['mmc_wait_simpy']:.3f}, ciw {e['mmc_wait_ciw']:.3f}."]
    if "county-year" in raw:
        c = raw["county-year"]
        lines += [f"- county-year child: start-up {c['startup_seconds']:.1f} s, single_run {c['seconds']:.1f} s "
                  f"wall / {c['cpu_seconds']:.1f} s CPU, own peak RSS {c['child_rss_mib']:.0f} MiB."]
    if "scaling" in raw:
        lines += ["- scaling CPU s per run: " + "; ".join(f"{_pop(q['population'])} {fmt(q['all_cpu_seconds'])}"
                                                        for q in raw["scaling"]["points"])]
        lines += ["- scaling warm-up county's first / second run in each child, CPU s: " + "; ".join(
            f"{a:.2f} / {b:.2f}" for a, b in raw["scaling"]["warm_up_cpu_seconds"])]
        lines += ["- scaling memory of the fastest run, MiB, RSS once loaded / added by the run (its peak RSS, "
                  "VmHWM reset once loaded, less RSS then) / added per million episodes: " + "; ".join(
                      f"{_pop(q['population'])} {q['loaded_rss_mib']:.0f} / {q['run_rss_mib']:.0f} / "
                      f"{q['run_rss_mib'] / q['episodes'] * 1e6:.0f}" for q in raw["scaling"]["points"])
                  + f"; exponent over all {len(raw['scaling']['points'])} sizes "
                  f"{raw['scaling']['exponent_rss_all']:.3f}."]
    if "batch" in raw:
        b = raw["batch"]
        lines += ["- batch times, s: " + "; ".join(f"{w} worker(s) {fmt(ts)}" for w, ts in b["all_seconds"].items())]
    if "province" in raw:
        lines += ["- province times, s: " + "; ".join(f"{w} worker(s) {fmt(ts)}"
                                                     for w, ts in raw["province"]["all_seconds"].items())]
        lines += ["- province projection: " + bench.province_projection.__doc__.split("Assumptions: ")[1]
                  .replace("\n   ", "").replace("  ", " ").strip()]
    lines += ["", "Wall-clock figures include time spent waiting for a core while other users' jobs run; the",
              "per-CPU-second figures and the load average show how much that was.", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test); targets shown in brackets")
    ap.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS), metavar="SECTION",
                    help=f"subset of {', '.join(SECTIONS)} (default: all)")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds in the engine section")
    rec = ap.add_mutually_exclusive_group()
    rec.add_argument("--record", action="store_true", default=None,
                     help="write LATEST.md even for --quick or a subset of sections")
    rec.add_argument("--no-record", dest="record", action="store_false", help="do not write LATEST.md")
    ap.add_argument("--latest", type=Path, default=HERE / "LATEST.md", help="where to record (default: %(default)s)")
    ap.add_argument("--strict", action="store_true", help="exit status 1 when a target is missed")
    args = ap.parse_args(argv)

    params = {k: dict(v) for k, v in (QUICK if args.quick else FULL).items()}
    if args.rounds:
        params["engine"]["rounds"] = args.rounds
    chosen = [s for s in SECTIONS if s in args.sections]  # fixed order: county-year before other children
    record = args.record if args.record is not None else (not args.quick and len(chosen) == len(SECTIONS))

    info = machine_info()
    started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
    load_start = load_avg()
    print(f"countysim benchmarks{' (quick)' if args.quick else ''}: {', '.join(chosen)}", file=sys.stderr)
    print(f"machine: {info['cpu']}, {info['usable_cores']}/{info['cores']} cores, {info['python']}; "
          f"load {load_start}", file=sys.stderr)
    busy = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if busy > 1.0:
        print(f"note: load average {busy:.2f} on {info['usable_cores']} cores before starting: other jobs are "
              f"running, wall-clock figures will be inflated (CPU-second figures much less)", file=sys.stderr)
    table, raw = Table(args.quick), {}
    t0 = time.perf_counter()
    for name in chosen:
        fn, key = RUNNERS[name]
        s0 = time.perf_counter()
        print(f"  {name} ...", end="", flush=True, file=sys.stderr)
        raw[name] = fn(table, params[key])
        print(f" {time.perf_counter() - s0:.0f} s", file=sys.stderr)
    minutes = (time.perf_counter() - t0) / 60
    load_end = load_avg()

    print()
    print(table.text())
    print(f"\n{info['cpu']}, {info['usable_cores']}/{info['cores']} cores, {info['python']}; "
          f"load {load_start} -> {load_end}; {minutes:.1f} min")
    if args.quick:
        print("quick sizes: results in brackets are indicative only; the targets are for the full sizes")
    missed = sum(not ok for ok in table.verdicts)
    print(f"{len(table.verdicts) - missed}/{len(table.verdicts)} targets met")
    if record:
        write_latest(args.latest, table, info, argv, started, load_start, load_end, minutes, raw)
        print(f"recorded in {args.latest.relative_to(ROOT) if args.latest.is_relative_to(ROOT) else args.latest}")
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
