"""Benchmark functions behind ``benchmarks/run_all.py`` (and the smoke test).

Every function returns a plain dict of measurements; nothing here prints or judges targets.
Shared machines are noisy, so the comparisons that matter are measured side by side in the
same process (engine overhead: interleaved rounds) and reported as ratios.

Run as a script only as a child process (``bench.py --child '{json}'``): it loads a scenario,
runs one replication and prints one JSON line, so the parent sees the model's own peak RSS.
"""
from __future__ import annotations

import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.yaml"
BASELINE_POPULATION = 500_000
FULL_MECHANISMS = ROOT / "benchmarks" / "configs" / "full_mechanisms_2024_2027.yaml"  # issue 15: every mechanism on
# scaling: a tiny county run twice before the timed run, so a fresh process has loaded the compiled
# code (numba's imports and on-disk cache) that every county size pays once, as it has its imports
WARM_UP = dict(population=5_000, years=0.1)
SINGLE_THREAD_ENV = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                      "NUMEXPR_NUM_THREADS")}

if str(ROOT) not in sys.path:  # the package is installed editable; this only helps odd set-ups
    sys.path.insert(0, str(ROOT))


# --------------------------------------------------------------------------- scenarios
def scaled_overrides(population: int, config: Path = BASELINE, years: float | None = None,
                     reference_population: int = BASELINE_POPULATION) -> list[str]:
    """``--set`` overrides that make a county of ``population`` look like the baseline, scaled.

    Utilisation stays comparable: townships grow with population (villages per township and
    hence village and township-centre sizes stay as in the baseline), county hospital doctors
    and beds scale with population, and the radius with its square root (same density).
    """
    from models.loading import load_scenario_data as load_raw

    data, _ = load_raw(config)
    syn = data["geography"]["synthetic"]
    f = population / reference_population
    up = lambda x: max(1, int(math.floor(x * f + 0.5)))  # round half up, at least one
    out = [f"geography.synthetic.population={population}",
           f"geography.synthetic.townships={up(syn['townships'])}",
           f"geography.synthetic.radius_km={syn['radius_km'] * math.sqrt(f)!r}"]
    for i, h in enumerate(syn["county_hospitals"]):
        out.append(f"geography.synthetic.county_hospitals.{i}.doctors={up(h['doctors'])}")
        out.append(f"geography.synthetic.county_hospitals.{i}.beds={up(h['beds'])}")
    if years is not None:
        out.append(f"simulation.years={years!r}")
    return out


def load(config: Path | str = BASELINE, overrides: list[str] | None = None):
    from models.loading import load_scenario

    return load_scenario(config, overrides or [])


# --------------------------------------------------------------------------- 1. engine overhead
def mmc_simpy(customers: int, lam: float, mu: float, c: int, seed: int = 1) -> dict:
    """Bare SimPy M/M/c: one process per customer, Resource request → timeout → release."""
    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=c)
    done = [0]
    wait_sum = [0.0]

    def customer(env, service):
        arrive = env.now
        with server.request() as req:
            yield req
            wait_sum[0] += env.now - arrive
            yield env.timeout(service)
        done[0] += 1

    def source(env):
        for _ in range(customers):
            yield env.timeout(rng.expovariate(lam))
            env.process(customer(env, rng.expovariate(mu)))

    env.process(source(env))
    t0, c0 = time.perf_counter(), time.process_time()
    env.run()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"customers": done[0], "seconds": seconds, "cpu_seconds": cpu, "rate": done[0] / seconds,
            "rate_cpu": done[0] / cpu, "mean_wait": wait_sum[0] / max(done[0], 1)}


def mmc_ciw(customers: int, lam: float, mu: float, c: int, seed: int = 1) -> dict:
    """The same M/M/c in ciw: simulate until ``customers`` have completed service."""
    import ciw

    ciw.seed(seed)
    network = ciw.create_network(arrival_distributions=[ciw.dists.Exponential(rate=lam)],
                                 service_distributions=[ciw.dists.Exponential(rate=mu)],
                                 number_of_servers=[c])
    t0, c0 = time.perf_counter(), time.process_time()
    q = ciw.Simulation(network)
    q.simulate_until_max_customers(customers, method="Complete")
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    done = q.nodes[-1].number_of_completed_individuals
    waits = [r.waiting_time for r in q.get_all_records()]
    return {"customers": done, "seconds": seconds, "cpu_seconds": cpu, "rate": done / seconds,
            "rate_cpu": done / cpu, "mean_wait": sum(waits) / max(len(waits), 1)}


def county_rate(scenario) -> dict:
    """Episodes per second of ``single_run`` (county build, simulation and KPIs included)."""
    from sim.studies.runner import single_run

    t0, c0 = time.perf_counter(), time.process_time()
    r = single_run(scenario)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    episodes = int(r.accounting["arrived"])
    return {"episodes": episodes, "visits": int(r.kpis.get("visits", 0)), "seconds": seconds,
            "cpu_seconds": cpu, "rate": episodes / seconds, "rate_cpu": episodes / cpu}


def engine_overhead(population: int = 50_000, years: float = 0.5, customers: int = 150_000,
                    lam: float = 4.0, mu: float = 1.0, c: int = 5, rounds: int = 5) -> dict:
    """County model, bare SimPy and ciw measured in interleaved rounds in this process.

    Each round runs all three back to back (rotating the order), so the ratios of a round share
    the machine's load at that moment; reported ratios are medians over rounds.  Rates are
    given per wall-clock second and per CPU second of this (single-threaded) process; the CPU
    ones do not count time the process spent waiting for a core, so they are the stable
    comparison on a shared machine.
    """
    scenario = load(BASELINE, scaled_overrides(population, years=years))
    county_rate(load(BASELINE, scaled_overrides(min(population, 2000), years=0.05)))  # warm imports
    mmc_simpy(min(customers, 1000), lam, mu, c)
    mmc_ciw(min(customers, 1000), lam, mu, c)
    runs: dict[str, list[dict]] = {"county": [], "simpy": [], "ciw": []}
    jobs = {"county": lambda: county_rate(scenario),
            "simpy": lambda: mmc_simpy(customers, lam, mu, c, seed=1),
            "ciw": lambda: mmc_ciw(customers, lam, mu, c, seed=1)}
    order = list(jobs)
    for r in range(rounds):
        for name in order[r % 3:] + order[:r % 3]:
            runs[name].append(jobs[name]())

    def ratios(other: str, key: str) -> list[float]:
        return [a[key] / b[key] for a, b in zip(runs["county"], runs[other])]

    med = statistics.median
    out = {"population": population, "years": years, "customers": customers, "lam": lam, "mu": mu, "c": c,
           "rounds": rounds, "county_episodes": runs["county"][0]["episodes"]}
    for name in runs:
        out[f"{name}_rate"] = med(x["rate"] for x in runs[name])
        out[f"{name}_rate_cpu"] = med(x["rate_cpu"] for x in runs[name])
    for other in ("simpy", "ciw"):
        out[f"ratios_{other}"] = ratios(other, "rate_cpu")
        out[f"ratios_{other}_wall"] = ratios(other, "rate")
        out[f"ratio_{other}"] = med(out[f"ratios_{other}"])
        out[f"ratio_{other}_wall"] = med(out[f"ratios_{other}_wall"])
    out["mmc_wait_simpy"], out["mmc_wait_ciw"] = runs["simpy"][0]["mean_wait"], runs["ciw"][0]["mean_wait"]
    return out


# --------------------------------------------------------------------------- child runs
def run_child(config: Path | str = BASELINE, overrides: list[str] | None = None, timeout: float = 1800,
              warm_up: bool = False) -> dict:
    """One replication in a fresh interpreter; returns its timings and peak RSS.

    With ``warm_up`` the child first runs the ``WARM_UP`` county twice (timed: ``warm_up_cpu``,
    the first run's CPU seconds and the second's) so that the timed run starts with the compiled
    code loaded; without, the timed run is the process's first (``county_year``: the whole cost).

    ``peak_rss_mib`` is ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` of this process after the child
    ended, which is the largest of all children waited for so far; ``child_rss_mib`` is the
    child's own ``RUSAGE_SELF`` figure, and ``rss_exact`` says whether the two must agree
    (no bigger child ran before).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    spec = json.dumps({"config": str(config), "overrides": overrides or [], "warm_up": warm_up})
    env = {**os.environ, **SINGLE_THREAD_ENV}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", spec], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    process_seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_seconds"] = process_seconds
    out["process_cpu_seconds"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out["peak_rss_mib"] = after.ru_maxrss / 1024.0  # Linux: KiB
    out["rss_exact"] = before.ru_maxrss <= out["child_rss_mib"] * 1024.0
    return out


def _memory_mib() -> dict[str, float]:
    """This process's resident set now (``VmRSS``) and its high-water mark (``VmHWM``), MiB."""
    status = Path("/proc/self/status").read_text(encoding="ascii").splitlines()
    return {k: float(line.split()[1]) / 1024.0 for line in status for k in ("VmRSS", "VmHWM")
            if line.startswith(k + ":")}


def _reset_peak_memory() -> None:
    """Reset ``VmHWM`` to the current RSS (Linux: writing 5 to ``/proc/self/clear_refs``)."""
    Path("/proc/self/clear_refs").write_text("5", encoding="ascii")


def _child_main(spec: str) -> None:
    """One ``single_run`` in this fresh process, printing its timings and memory as JSON.

    ``run_rss_mib``, the memory the run adds, is the run's own peak RSS less the RSS once the
    scenario and county are loaded: the high-water mark is reset after loading, because building
    the county needs more memory for a moment than it keeps (and ``ru_maxrss`` also starts at the
    parent's high-water mark, which a child inherits across ``exec``), which would hide a small
    run's memory.  ``child_rss_mib`` stays ``ru_maxrss``, the process's absolute peak.
    """
    args = json.loads(spec)
    t_start = time.perf_counter()
    from sim.studies.runner import single_run

    warm_up_cpu = None
    if args["warm_up"]:
        tiny = load(BASELINE, scaled_overrides(WARM_UP["population"], years=WARM_UP["years"]))
        warm_up_cpu = []
        for _ in range(2):
            c0 = time.process_time()
            single_run(tiny)
            warm_up_cpu.append(time.process_time() - c0)
    scenario = load(args["config"], args["overrides"])
    county_kpis = ("utilisation_county", "utilisation_township", "bed_occupancy_county")
    loaded = _memory_mib()  # interpreter, libraries, scenario and county
    _reset_peak_memory()
    t0, c0 = time.perf_counter(), time.process_time()
    r = single_run(scenario)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    run_peak = _memory_mib()["VmHWM"]
    print(json.dumps({
        "population": int(scenario.geography.synthetic.population) if scenario.geography.synthetic else None,
        "years": scenario.simulation.years, "episodes": int(r.accounting["arrived"]),
        "visits": int(r.kpis["visits"]), "seconds": seconds, "cpu_seconds": cpu,
        "startup_seconds": t0 - t_start, "child_rss_mib": rss, "loaded_rss_mib": loaded["VmRSS"],
        "own_peak_rss_mib": max(loaded["VmHWM"], run_peak), "run_rss_mib": max(run_peak - loaded["VmRSS"], 1e-3),
        "kpis": {k: (None if r.kpis[k] != r.kpis[k] else float(r.kpis[k])) for k in county_kpis},
        "warm_up_cpu": warm_up_cpu,
    }))


# --------------------------------------------------------------------------- 2. county-year
def county_year(config: Path | str = BASELINE, overrides: list[str] | None = None) -> dict:
    """The (baseline) county for its configured horizon, one replication, one core, fresh process."""
    out = run_child(config, overrides)
    out["rate"] = out["episodes"] / out["seconds"]
    return out


# --------------------------------------------------------------------------- 3. scaling
def fit_exponent(x: list[float], y: list[float]) -> float:
    """Least-squares slope of log y on log x."""
    lx, ly = [math.log(v) for v in x], [math.log(v) for v in y]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    sxx = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sxx if sxx > 0 else float("nan")


def scaling(populations: tuple[int, ...] = (50_000, 100_000, 200_000, 500_000), years: float = 1.0,
            rounds: int = 1) -> dict:
    """Time against episodes for scaled counties, each run in a fresh process after ``WARM_UP``.

    The fitted exponent is the run's own (steady state): loading the compiled code is a cost a
    fresh process pays once whatever the county's size, like its imports, and is reported on its
    own (``one_off_cpu_seconds``: the warm-up county's first run less its second, the median over
    the children).  ``exponent_cpu_fresh`` fits run plus that one-off cost, what a process that
    runs one county and exits spends, for comparison.  With ``rounds`` > 1 the sizes run in
    alternating order (small to large, then large to small, ...) and each point keeps its fastest
    run (wall and CPU separately): on a shared machine the minimum is the best estimate of the
    work itself.
    """
    runs: dict[int, list[dict]] = {p: [] for p in populations}
    for i in range(rounds):
        for pop in (populations if i % 2 == 0 else tuple(reversed(populations))):
            runs[pop].append(run_child(BASELINE, scaled_overrides(pop, years=years), warm_up=True))
    points = []
    for pop in populations:
        p = dict(min(runs[pop], key=lambda q: q["cpu_seconds"]))
        p["seconds"] = min(q["seconds"] for q in runs[pop])
        p["cpu_seconds"] = min(q["cpu_seconds"] for q in runs[pop])
        p["us_per_episode"] = 1e6 * p["seconds"] / p["episodes"]
        p["us_per_episode_cpu"] = 1e6 * p["cpu_seconds"] / p["episodes"]
        p["all_cpu_seconds"] = [q["cpu_seconds"] for q in runs[pop]]
        points.append(p)
    one_off = statistics.median(q["warm_up_cpu"][0] - q["warm_up_cpu"][1] for qs in runs.values() for q in qs)
    eps = [p["episodes"] for p in points]
    return {"years": years, "rounds": rounds, "points": points, "warm_up": WARM_UP,
            "one_off_cpu_seconds": one_off,
            "warm_up_cpu_seconds": [q["warm_up_cpu"] for qs in runs.values() for q in qs],
            "exponent": fit_exponent(eps, [p["seconds"] for p in points]),
            "exponent_cpu": fit_exponent(eps, [p["cpu_seconds"] for p in points]),
            "exponent_cpu_fresh": fit_exponent(eps, [p["cpu_seconds"] + one_off for p in points]),
            # memory: judged over the three largest counties, where growth faster than episodes would
            # show (a fixed cost weighs on the small ones); all sizes for context
            "exponent_rss": fit_exponent(eps[-3:], [p["run_rss_mib"] for p in points[-3:]]),
            "exponent_rss_all": fit_exponent(eps, [p["run_rss_mib"] for p in points])}


# --------------------------------------------------------------------------- 4. batch scaling
def batch(population: int = 20_000, years: float = 1.0, runs: int = 8, workers: tuple[int, ...] = (1, 2),
          repeats: int = 1) -> dict:
    """The same ``runs``-replication experiment with each number of workers; speed-up vs the first.

    With ``repeats`` > 1 the worker counts alternate (1, 2, 2, 1, ...) and the fastest time of
    each counts, so a burst of load from other users hits both sides alike.
    """
    from sim.studies.runner import multiple_replications

    scenario = load(BASELINE, scaled_overrides(population, years=years))
    times: dict[int, list[float]] = {w: [] for w in workers}
    cores: dict[int, list[float]] = {w: [] for w in workers}
    kpis = {}
    for _, w in _alternating(workers, repeats):
        r0, c0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.process_time(), time.perf_counter()
        results = multiple_replications(scenario, runs, workers=w)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # pool workers are joined by now
        cpu = (time.process_time() - c0) + (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        times[w].append(wall)
        cores[w].append(cpu / wall)  # CPU seconds obtained per wall second: ~w on an idle machine
        kpis[w] = [r.kpis for r in results]
    seconds = {w: min(t) for w, t in times.items()}
    best = {w: cores[w][times[w].index(min(times[w]))] for w in workers}
    first = workers[0]
    same = all(_same_kpis(kpis[first], kpis[w]) for w in workers)
    return {"population": population, "years": years, "runs": runs, "repeats": repeats, "seconds": seconds,
            "all_seconds": times, "cores_obtained": best,
            "speedup": {w: seconds[first] / seconds[w] for w in workers},
            "identical_results": same, "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count()}


def _alternating(workers: tuple[int, ...], repeats: int):
    """(repeat, worker count): the counts in order, then reversed, and so on (1, 2, 2, 1, ...)."""
    for i in range(repeats):
        for w in (workers if i % 2 == 0 else tuple(reversed(workers))):
            yield i, w


# --------------------------------------------------------------------------- 5. figures
def figures_overhead(population: int = 20_000, years: float = 0.1, replications: int = 2, repeats: int = 2) -> dict:
    """``countysim run --out`` of a tiny county with and without its figures, each in a fresh process
    (alternating, fastest of ``repeats``): how much the figure step adds to a quick loop."""
    import tempfile

    sets = [x for o in scaled_overrides(population, years=years) for x in ("--set", o)]
    times: dict[str, list[float]] = {"without": [], "with": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            for kind in (("without", "with") if i % 2 == 0 else ("with", "without")):
                cmd = [sys.executable, "-m", "sim.outputs.cli", "run", str(BASELINE), *sets, "--replications",
                       str(replications), "--quiet", "--out", f"{tmp}/{kind}{i}"]
                t0 = time.perf_counter()
                subprocess.run(cmd + (["--no-figures"] if kind == "without" else []), cwd=ROOT, check=True,
                               capture_output=True)
                times[kind].append(time.perf_counter() - t0)
    seconds = {k: min(v) for k, v in times.items()}
    return {"population": population, "years": years, "replications": replications, "repeats": repeats,
            "seconds": seconds, "ratio": seconds["with"] / seconds["without"]}


# --------------------------------------------------------------------------- 6. province on Dask
def province(counties: int = 20, population: tuple[int, int] = (10_000, 30_000), years: float = 0.5,
             workers: tuple[int, ...] = (1, 2), rounds: int = 2, repeats: int = 1) -> dict:
    """A ``counties``-county province (small synthetic counties, one replication, ``rounds`` coupling
    rounds) on a Dask ``LocalCluster`` of each size; wall time excludes starting the cluster.
    With ``repeats`` > 1 the worker counts alternate (1, 2, 2, 1, ...) and the fastest time of
    each counts, as in ``batch``.

    Also the measured cost of one county-year run in a worker (from the rounds' manifests) and the
    coordinator's serial time per run (wall on one worker minus the runs' own time), for projections.
    """
    import tempfile

    import pandas as pd
    import yaml

    from sim.studies.executors import Dask
    from sim.studies.province import run_province

    lo, hi = population
    mean_population = (hi - lo) / math.log(hi / lo) if hi > lo else lo  # mean of the log-uniform draw
    base = scaled_overrides(int(mean_population), years=years)
    study = {"name": "bench_province", "base": str(BASELINE), "seed": 1, "replications": 1,
             "set": dict(o.split("=", 1) for o in base) | {"simulation.warmup_days": 10},
             "outside": {"doctors": 3 * counties, "beds": 60 * counties, "max_iterations": rounds,
                         "tolerance": 1e-9, "wait_tolerance_min": 0},  # never settles early: ``rounds`` rounds
             "synthetic_counties": {"count": counties, "population": {"low": lo, "high": hi},
                                    "radius_km": {"low": 10, "high": 30}, "seed": 1}}
    seconds, run_seconds, tables, cores, all_seconds = {}, {}, [], {}, {w: [] for w in workers}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "province.yaml"
        path.write_text(yaml.safe_dump(study), encoding="utf-8")
        for i, w in _alternating(workers, repeats):
            out = Path(tmp) / f"w{w}_{i}"
            executor = Dask(local_workers=w)
            try:
                c0, t0 = executor.worker_cpu_seconds(), time.perf_counter()
                result = run_province(path, executor, out=out, progress=False)
                wall = time.perf_counter() - t0
                cpu = executor.worker_cpu_seconds() - c0
            finally:
                executor.close()
            all_seconds[w].append(wall)
            manifests = sorted((out / "iterations").glob("*/manifest.json"))
            tables.append(pd.read_parquet(out / "runs.parquet"))
            done_rounds = len(manifests)
            if wall <= min(all_seconds[w]):  # the fastest of this worker count counts
                seconds[w], cores[w] = wall, cpu / wall  # cores: ~w on an idle machine
                run_seconds[w] = sum(json.loads(m.read_text())["timings"]["run_seconds_total"] for m in manifests)
    first = workers[0]
    runs = counties * done_rounds
    same = all(tables[0].equals(t) for t in tables)
    return {"counties": counties, "population": population, "mean_population": mean_population, "years": years,
            "rounds": done_rounds, "iterations": result.iterations, "seconds": seconds, "all_seconds": all_seconds,
            "repeats": repeats, "cores_obtained": cores,
            "speedup": {w: seconds[first] / seconds[w] for w in workers}, "identical_results": same,
            "run_seconds": run_seconds[first] / runs,  # wall in a worker: inflated when the machine is loaded
            "run_cpu_seconds": seconds[first] * cores[first] / runs,  # CPU in a worker: what a free core needs
            "serial_seconds": max(0.0, seconds[first] - run_seconds[first]) / runs}


def province_projection(measured: dict, counties: int = 100, replications: int = 10, rounds: int = 3,
                        workers: tuple[int, ...] = (1, 2, 8, 32, 128), full_population: int = BASELINE_POPULATION,
                        ) -> list[dict]:
    """Hours for ``counties`` × ``replications`` county-years × ``rounds`` coupling rounds on N workers,
    from the measured costs.

    Assumptions: each worker has a core of its own, so a run takes the worker CPU seconds measured
    per run on one worker; runs within a round are independent and spread evenly (ceil(runs / N)
    waves; a round submits the largest counties first, so it ends on small runs); the coordinator's
    serial time per run is the measured one, whatever N; 3 coupling rounds
    (assumed: a province's coupling.csv says how many it took); a full county costs the measured
    run × (its residents ÷ the bench county's mean) × (1 year ÷ the bench's years), linear in
    residents as the scaling section measures.
    """
    runs = counties * replications
    scale = full_population / measured["mean_population"] / measured["years"]
    rows = []
    for n in workers:
        waves = math.ceil(runs / n)
        per_run = measured["run_cpu_seconds"]
        for label, cost in (("bench-size counties", per_run),
                            (f"{full_population // 1000}k-resident county-years", per_run * scale)):
            seconds = rounds * (waves * cost + runs * measured["serial_seconds"])
            rows.append({"workers": n, "counties": label, "hours": seconds / 3600})
    return rows


def _same_kpis(a: list[dict], b: list[dict]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x.keys() != y.keys():
            return False
        for k in x:
            if not (x[k] == y[k] or (x[k] != x[k] and y[k] != y[k])):
                return False
    return True


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child_main(sys.argv[2])
    else:
        sys.exit("bench.py is a library; run benchmarks/run_all.py")
