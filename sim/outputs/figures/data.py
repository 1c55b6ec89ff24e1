"""A results folder as tidy tables, and the exact data each figure draws.

Reads both layouts:

* a batch folder (``countysim experiment | sensitivity | calibrate``): tables with a
  ``scenario`` column, ``summary.csv`` (experiments), ``points.csv``/``sensitivity.csv``
  (sensitivity), ``fit.csv`` (calibration) and a manifest with every resolved config;
* a single-scenario folder (``countysim run --out DIR``): the same tables without a
  ``scenario`` column (the scenario's name is added), ``summary.json`` and a manifest with
  one resolved config.

Every ``prepare_*`` function returns the frame its figure draws, value for value, and raises
:class:`MissingResultsError` naming the folder and what is missing when it cannot.
"""
from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from models.kpis import ALL_KPI_INFO, KPI_INFO
from sim.core.stats import confidence_interval
from sim.studies.province_tables import PROVINCE

PROVINCE_TOTALS = "the counties' totals: their summed visits, stays, costs and resident-years (never averaged shares)"
FIRST_KPIS = ("county_visit_rate", "primary_care_share")  # the two national targets lead every figure
MAX_KPIS = 8
MAX_SCENARIOS = 40  # more (long sweeps) → explicit scenarios first, the rest in the sweep figure
TIERS = ("village", "township", "county", "outside")
LOAD_TIERS = ("township", "county")  # tiers with doctors and beds whose load is worth a heatmap row
WAIT_TIERS = ("village", "township", "county")  # outside hospitals have unlimited capacity: no queue
PATHS = ("treated at first contact", "referred up", "referred down", "referred up, then down")
# tables that results folders written by older countysim versions lack → what they hold
NEWER_TABLES = {"villages": "village", "flows": "flow", "facility_monthly": "per-facility monthly"}
LOAD_COLUMNS = {"utilisation": "doctors", "bed_occupancy": "beds"}  # load measure → the capacity it divides by


class MissingResultsError(ValueError):
    """A results folder lacks a file, table or column a figure needs."""


class DamagedResultsError(ValueError):
    """A results file exists but cannot be read (not JSON, not Parquet, cut short): no figure is drawn."""


class Results:
    """One results folder, loaded lazily."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise MissingResultsError(f"{self.root}: no such results folder")
        path = self.root / "manifest.json"
        if not path.exists():
            raise MissingResultsError(f"{self.root}: not a countysim results folder (manifest.json is missing); "
                                      f"expected the --out folder of `countysim run` or a batch folder")
        self.manifest = _read_manifest(path)
        if "kind" in self.manifest:
            self.kind = self.manifest["kind"]
        elif "config" in self.manifest and "scenario" in self.manifest:
            self.kind = "run"
        else:
            raise MissingResultsError(f"{path}: neither a batch manifest (no 'kind') nor a run manifest "
                                      f"(no 'scenario' and 'config')")
        self._tables: dict[str, pd.DataFrame] = {}

    # ------------------------------------------------------------------ metadata
    @property
    def is_batch(self) -> bool:
        return self.kind != "run"

    @property
    def name(self) -> str:
        return self.manifest.get("study") or self.manifest.get("scenario") or self.root.name

    @property
    def study(self) -> dict:
        return self.manifest.get("study_resolved") or {}

    @cached_property
    def scenarios(self) -> list[str]:
        if self.kind == "province":  # its totals first: the reference its summary compares counties with
            return [PROVINCE] + [s["name"] for s in self.manifest.get("scenarios", [])]
        if self.is_batch:
            return [s["name"] for s in self.manifest.get("scenarios", [])]
        return [self.manifest["scenario"]]

    @property
    def reference(self) -> str:
        ref = self.manifest.get("reference") or self.study.get("reference")
        return ref if ref in self.scenarios else self.scenarios[0]

    @property
    def configs(self) -> dict[str, dict]:
        if self.is_batch:
            return self.manifest.get("resolved_configs", {})
        return {self.manifest["scenario"]: self.manifest["config"]}

    @property
    def descriptions(self) -> dict[str, str]:
        if self.is_batch:
            own = {s["name"]: s.get("description") or "" for s in self.manifest.get("scenarios", [])}
            return {PROVINCE: PROVINCE_TOTALS, **own} if self.kind == "province" else own
        cfg = self.manifest["config"]
        return {self.manifest["scenario"]: (cfg.get("description") or "").strip()}

    @property
    def params(self) -> dict[str, dict]:
        return {s["name"]: s.get("params") or {} for s in self.manifest.get("scenarios", [])}

    @property
    def sweep_params(self) -> list[str]:
        sweep = self.study.get("sweep") if self.kind == "experiment" else None
        return list(sweep["parameters"]) if sweep else []

    @property
    def sweep_method(self) -> str | None:
        sweep = self.study.get("sweep") if self.kind == "experiment" else None
        return sweep.get("method") if sweep else None

    @property
    def sweep_scenarios(self) -> list[str]:
        if not self.sweep_params:
            return []
        explicit = set(self.study.get("scenarios") or {}) or {"base"}
        return [s for s in self.scenarios if s not in explicit]

    @property
    def scenario_labels(self) -> dict[str, str]:
        """Axis label of each scenario: a sweep point carries its parameter values, e.g.
        ``sweep_001 (county.outpatient_rate=0.45)``; other scenarios their name."""
        sweep, params = set(self.sweep_scenarios), self.params
        out = {}
        for name in self.scenarios:
            values = {k: v for k, v in (params.get(name) or {}).items() if k in self.sweep_params}
            out[name] = (f"{name} ({', '.join(f'{_short_key(k)}={_short_value(v)}' for k, v in values.items())})"
                         if name in sweep and values else name)
        return out

    @property
    def explicit_scenarios(self) -> list[str]:
        sweep = set(self.sweep_scenarios)
        return [s for s in self.scenarios if s not in sweep]

    @property
    def question(self) -> str:
        q = self.study.get("question") or self.study.get("description")
        if q:
            return str(q).strip()
        return self.descriptions.get(self.scenarios[0], "")

    def shown_kpis(self) -> list[str]:
        """The two target KPIs first, then the study's shown KPIs (at most MAX_KPIS)."""
        from sim.studies.experiment import DEFAULT_SHOWN_KPIS

        listed = self.study.get("kpis") or list(DEFAULT_SHOWN_KPIS)
        listed = [k for k in listed if k in KPI_INFO]
        out = list(dict.fromkeys([*FIRST_KPIS, *listed]))
        return out[:MAX_KPIS]

    def simulation(self, scenario: str | None = None) -> dict:
        cfg = self.configs.get(scenario or self.reference) or next(iter(self.configs.values()), {})
        return cfg.get("simulation", {})

    # ------------------------------------------------------------------ files
    def missing(self, what: str, files: list[str], why: str) -> MissingResultsError:
        return MissingResultsError(f"{self.root}: {what} needs {', '.join(files)}, which "
                                   f"{'is' if len(files) == 1 else 'are'} missing ({why})")

    def table(self, name: str, what: str = "this figure") -> pd.DataFrame:
        """``<name>.parquet`` with a ``scenario`` column (added for single-run folders)."""
        if name not in self._tables:
            path = self.root / f"{name}.parquet"
            if not path.exists():
                why = (f"written by countysim since per-run {NEWER_TABLES[name]} tables are stored; rerun the study"
                       if name in NEWER_TABLES else "the batch did not finish, or the folder was pruned")
                raise self.missing(what, [path.name], why)
            df = _read_table(path, pd.read_parquet, "Parquet table")
            if "scenario" not in df.columns:
                df.insert(0, "scenario", self.scenarios[0])
            self._tables[name] = df
        return self._tables[name]

    def csv(self, name: str, what: str, why: str) -> pd.DataFrame:
        path = self.root / name
        if not path.exists():
            raise self.missing(what, [name], why)
        return _read_table(path, pd.read_csv, "CSV table")

    def require_columns(self, df: pd.DataFrame, columns: list[str], table: str, what: str) -> None:
        lacking = [c for c in columns if c not in df.columns]
        if lacking:
            raise MissingResultsError(f"{self.root}: {what} needs column(s) {lacking} in {table}")

    def summary(self) -> pd.DataFrame:
        """Per scenario × KPI: mean, 95 % CI and the paired difference against the reference."""
        if "summary" not in self._tables:
            path = self.root / "summary.csv"
            if self.kind in ("experiment", "province") and path.exists():  # a province's: from summed counts
                df = _read_table(path, pd.read_csv, "CSV table")
            else:
                from sim.studies.compare import summarise

                runs = self.table("runs", "the KPI summary")
                df = summarise(runs, self.scenarios, self.reference, kpis=[k for k in ALL_KPI_INFO if k in runs])
            self._tables["summary"] = df
        return self._tables["summary"]

    def replications(self) -> pd.Series:
        runs = self.table("runs", "replication counts")
        return runs.groupby("scenario", sort=False)["replication"].nunique()


    def require_runs(self, what: str) -> None:
        """A folder whose batch never finished has a manifest but no runs table: say so up front."""
        runs = self.table("runs", what)
        if not len(runs) or not any(k in runs.columns for k in ALL_KPI_INFO):
            raise DamagedResultsError(f"{self.root / 'runs.parquet'}: holds no finished run with KPI columns; "
                                      f"rerun the study into this folder")


def _read_manifest(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise DamagedResultsError(f"{path}: not a readable manifest ({type(e).__name__}: {e}); the folder is "
                                  f"damaged: rerun the study into it (or restore the file)") from None
    if not isinstance(data, dict):
        raise DamagedResultsError(f"{path}: must hold a JSON object, got {type(data).__name__}; rerun the study")
    scenarios = data.get("scenarios", [])
    if not isinstance(scenarios, list) or not all(isinstance(s, dict) and isinstance(s.get("name"), str)
                                                  for s in scenarios):
        raise DamagedResultsError(f"{path}: scenarios: must be a list of {{name: ...}} entries; rerun the study")
    for key in ("config", "resolved_configs", "study_resolved", "seeds"):
        if key in data and not isinstance(data[key], dict):
            raise DamagedResultsError(f"{path}: {key}: must be a JSON object, got {type(data[key]).__name__}; "
                                      f"rerun the study")
    if "kind" not in data and not isinstance(data.get("scenario"), str):
        raise DamagedResultsError(f"{path}: scenario: must be a scenario name; rerun the study")
    return data


def _read_table(path: Path, reader, what: str) -> pd.DataFrame:
    try:
        return reader(path)
    except Exception as e:  # noqa: BLE001 - pyarrow and pandas raise many types for a damaged file
        raise DamagedResultsError(f"{path}: not a readable {what} ({type(e).__name__}: {str(e)[:200]}); the "
                                  f"folder is damaged: rerun the study into it (or restore the file)") from None


def _short_key(key: str) -> str:
    """The last two parts of a dotted config key (``county.outpatient_rate``)."""
    return ".".join(key.split(".")[-2:])


def _short_value(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _scenario_order(res: Results, names, limit: int = MAX_SCENARIOS) -> list[str]:
    present = set(names)
    order = [s for s in res.scenarios if s in present]
    if len(order) > limit:
        explicit = [s for s in res.explicit_scenarios if s in present]
        order = (explicit + [s for s in order if s not in explicit])[:limit]
    return order


def _ordered(df: pd.DataFrame, col: str, order: list) -> pd.DataFrame:
    df = df[df[col].isin(order)].copy()
    df[col] = pd.Categorical(df[col], categories=order, ordered=True)
    df = df.sort_values(col, kind="stable")
    df[col] = df[col].astype(str)
    return df.reset_index(drop=True)


# ---------------------------------------------------------------------- 1, 2: scenarios
def _by_kpi_then_scenario(df: pd.DataFrame, kpis: list[str], order: list[str]) -> pd.DataFrame:
    df = df[df["kpi"].isin(kpis) & df["scenario"].isin(order)].copy()
    df["_k"] = df["kpi"].map({k: i for i, k in enumerate(kpis)})
    df["_s"] = df["scenario"].map({s: i for i, s in enumerate(order)})
    return df.sort_values(["_k", "_s"], kind="stable").drop(columns=["_k", "_s"]).reset_index(drop=True)


def prepare_kpi_intervals(res: Results, kpis: list[str] | None = None) -> pd.DataFrame:
    """scenario, kpi, mean, ci_low, ci_high, n (from summary.csv, or the runs of a single run)."""
    what = "KPI by scenario"
    s = res.summary()
    kpis = [k for k in (kpis or res.shown_kpis()) if k in set(s["kpi"])]
    if not kpis:
        raise MissingResultsError(f"{res.root}: {what} found none of the KPIs {res.shown_kpis()} in the summary")
    order = _scenario_order(res, s["scenario"].unique())
    df = _by_kpi_then_scenario(s[["scenario", "kpi", "mean", "ci_low", "ci_high", "n"]], kpis, order)
    df.attrs.update(reference=res.reference, kpis=kpis, scenarios=order, omitted=len(res.scenarios) - len(order),
                    labels=res.scenario_labels)
    return df


def prepare_paired_differences(res: Results, kpis: list[str] | None = None) -> pd.DataFrame:
    """scenario, kpi, diff_mean, diff_ci_low, diff_ci_high, n_pairs for every non-reference scenario."""
    what = "paired differences"
    if len(res.scenarios) < 2:
        raise MissingResultsError(
            f"{res.root}: {what} need two or more scenarios run with common random numbers (an experiment); "
            f"this folder holds one scenario ({res.scenarios[0]})")
    s = res.summary()
    res.require_columns(s, ["diff_mean", "diff_ci_low", "diff_ci_high", "n_pairs"], "summary.csv", what)
    kpis = [k for k in (kpis or res.shown_kpis()) if k in set(s["kpi"])]
    order = [x for x in _scenario_order(res, s["scenario"].unique()) if x != res.reference]
    cols = ["scenario", "kpi", "diff_mean", "diff_ci_low", "diff_ci_high", "n_pairs"]
    df = _by_kpi_then_scenario(s[cols], kpis, order)
    if df.empty or df["diff_mean"].isna().all():
        raise MissingResultsError(f"{res.root}: {what}: the summary has no paired differences against "
                                  f"{res.reference!r}")
    df.attrs.update(reference=res.reference, kpis=kpis, scenarios=order, labels=res.scenario_labels)
    return df


# ---------------------------------------------------------------------- 3: monthly
MAX_SERIES = 8


def prepare_monthly(res: Results, kpis: list[str] | None = None) -> pd.DataFrame:
    """scenario, kpi, month, t_month (mid-point, months since the start incl. warm-up), mean, ci_low, ci_high, n."""
    what = "monthly KPI time series"
    monthly = res.table("monthly", what)
    res.require_columns(monthly, ["month", "replication"], "monthly.parquet", what)
    kpis = [k for k in (kpis or res.shown_kpis()) if k in monthly.columns][:6]
    order = _scenario_order(res, monthly["scenario"].unique(), MAX_SERIES)
    rows = []
    for scen in order:
        sim = res.simulation(scen)
        dpy = float(sim.get("days_per_year", 365))
        length = dpy / 12.0
        warmup = float(sim.get("warmup_days", 0.0))
        end = warmup + float(sim.get("years", 1.0)) * dpy
        g = monthly[monthly["scenario"] == scen]
        for month, gm in g.groupby("month", sort=True):
            start = warmup + month * length
            stop = min(start + length, end)
            for k in kpis:
                mean, lo, hi, n = confidence_interval(gm[k].to_numpy(dtype=float))
                rows.append({"scenario": scen, "kpi": k, "month": int(month), "t_month": (start + stop) / 2 / length,
                             "mean": mean, "ci_low": lo, "ci_high": hi, "n": n})
    df = pd.DataFrame(rows, columns=["scenario", "kpi", "month", "t_month", "mean", "ci_low", "ci_high", "n"])
    sim = res.simulation()
    df.attrs.update(kpis=kpis, scenarios=order, omitted=len(set(monthly["scenario"])) - len(order),
                    warmup_months=float(sim.get("warmup_days", 0.0)) / (float(sim.get("days_per_year", 365)) / 12))
    return df


# ---------------------------------------------------------------------- 4: flows
MAX_FLOW_PANELS = 4


def _flow_scenarios(res: Results, names) -> list[str]:
    order = _scenario_order(res, names)
    head = [res.reference] if res.reference in order else []
    return (head + [s for s in order if s not in head])[:MAX_FLOW_PANELS]


def _per_replication(res: Results, flows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    reps = res.replications()
    df = flows.groupby(["scenario", *keys], sort=False)["episodes"].sum().reset_index()
    df["episodes"] = df["episodes"] / df["scenario"].map(reps).astype(float)
    df["share"] = df["episodes"] / df.groupby("scenario")["episodes"].transform("sum")
    return df


def prepare_flow_matrix(res: Results) -> pd.DataFrame:
    """scenario, first_tier, final_tier, episodes (mean per replication), share of the scenario's episodes.

    Every tier pair appears (zeros included): the frame is the heatmap cell by cell."""
    what = "the flow matrix"
    flows = res.table("flows", what)
    res.require_columns(flows, ["first_tier", "final_tier", "episodes"], "flows.parquet", what)
    order = _flow_scenarios(res, flows["scenario"].unique())
    df = _per_replication(res, flows[flows["scenario"].isin(order)], ["first_tier", "final_tier"])
    full = pd.MultiIndex.from_product([order, TIERS, TIERS], names=["scenario", "first_tier", "final_tier"])
    df = df.set_index(["scenario", "first_tier", "final_tier"]).reindex(full, fill_value=0.0).reset_index()
    df.attrs.update(scenarios=order, omitted=len(set(flows["scenario"])) - len(order))
    return df


def referral_path(up: pd.Series, down: pd.Series) -> pd.Series:
    out = np.where(up & down, PATHS[3], np.where(up, PATHS[1], np.where(down, PATHS[2], PATHS[0])))
    return pd.Series(out, index=up.index)


def prepare_referral_paths(res: Results) -> pd.DataFrame:
    """scenario, first_tier, final_tier, path, episodes (mean per replication), share (Sankey ribbons)."""
    what = "the referral Sankey diagram"
    flows = res.table("flows", what)
    res.require_columns(flows, ["first_tier", "final_tier", "referred_up", "referred_down", "episodes"],
                        "flows.parquet", what)
    order = _flow_scenarios(res, flows["scenario"].unique())
    f = flows[flows["scenario"].isin(order)].copy()
    f["path"] = referral_path(f["referred_up"].astype(bool), f["referred_down"].astype(bool))
    df = _per_replication(res, f, ["first_tier", "final_tier", "path"])
    df = _ordered(df, "scenario", order)
    rank = {t: i for i, t in enumerate(TIERS)}
    prank = {p: i for i, p in enumerate(PATHS)}
    df = df.sort_values(["scenario", "first_tier", "path", "final_tier"],
                        key=lambda c: c.map({s: i for i, s in enumerate(order)}) if c.name == "scenario"
                        else c.map(prank) if c.name == "path" else c.map(rank), kind="stable").reset_index(drop=True)
    df.attrs.update(scenarios=order, omitted=len(set(flows["scenario"])) - len(order))
    return df


# ---------------------------------------------------------------------- 5: load and waits
TOP_FACILITIES = 10  # busiest facilities drawn one by one below the tier totals


def prepare_facility_load(res: Results, top: int = TOP_FACILITIES) -> pd.DataFrame:
    """scenario, row, kind, tier, facilities, utilisation, bed_occupancy: means over replications.

    Rows: first each tier's total (``kind`` "tier": township centres, county hospitals, and touring
    mobile clinics apart; busy time ÷ capacity over the tier, i.e. the doctor- or bed-weighted mean of
    its facilities, ``facilities`` counts them), then the ``top`` busiest fixed facilities one by one
    (``kind`` "facility"), ranked by their highest utilisation or occupancy in any scenario.  A county
    has hundreds of facilities; the figure stays one page."""
    what = "the facility load heatmap"
    fac = res.table("facilities", what)
    res.require_columns(fac, ["facility", "tier", "utilisation", "bed_occupancy"], "facilities.parquet", what)
    order = _scenario_order(res, fac["scenario"].unique(), 12)
    f = fac[fac["tier"].isin(LOAD_TIERS) & fac["scenario"].isin(order)].copy()
    f["mobile"] = f["mobile"].eq(True) if "mobile" in f else False
    fixed = f[~f["mobile"]]
    each = fixed.groupby(["scenario", "facility", "tier"], sort=False)[list(LOAD_COLUMNS)].mean().reset_index()
    peak = each.set_index("facility")[list(LOAD_COLUMNS)].max(axis=1).groupby(level=0).max()
    busiest = list(peak.sort_values(ascending=False, kind="stable").index[:top])
    each = each[each["facility"].isin(busiest)].rename(columns={"facility": "row"})
    each = each.assign(kind="facility", facilities=1)
    totals = _tier_totals(f) if {"doctors", "beds"} <= set(f.columns) else pd.DataFrame()
    df = pd.concat([totals, each], ignore_index=True)
    rows = list(dict.fromkeys(totals["row"])) if len(totals) else []
    rows += [r for r in busiest if r in set(each["row"])]
    df = _ordered(df, "scenario", order)
    df["_r"] = df["row"].map({r: i for i, r in enumerate(rows)})
    df = df.sort_values(["_r", "scenario"], kind="stable").drop(columns="_r").reset_index(drop=True)
    df = df[["scenario", "row", "kind", "tier", "facilities", *LOAD_COLUMNS]]
    df.attrs.update(scenarios=order, rows=rows, top=len(busiest), fixed=int(fixed["facility"].nunique()),
                    omitted=len(set(fac["scenario"])) - len(order), labels=res.scenario_labels)
    return df


def _tier_totals(f: pd.DataFrame) -> pd.DataFrame:
    """Per scenario and tier (mobile clinics apart): busy time ÷ capacity in each replication, then the mean."""
    group = np.where(f["mobile"], "mobile", f["tier"])
    labels = {"township": "all township centres", "mobile": "all mobile clinics", "county": "all county hospitals"}
    out = []
    for (scenario, key), g in f.assign(_g=group).groupby(["scenario", "_g"], sort=False):
        row = {"_rank": list(labels).index(key), "scenario": scenario,
               "row": f"{labels[key]} ({g['facility'].nunique()})", "kind": "tier",
               "tier": "township" if key == "mobile" else key, "facilities": g["facility"].nunique()}
        for measure, capacity in LOAD_COLUMNS.items():
            c = g[capacity].astype(float)
            used = (g[measure] * c).where(c > 0).groupby(g["replication"]).sum(min_count=1)
            row[measure] = float((used / c.where(c > 0).groupby(g["replication"]).sum(min_count=1)).mean())
        out.append(row)
    return pd.DataFrame(out).sort_values("_rank", kind="stable").drop(columns="_rank")


def load_row(tier: str, township: str, facility: str, mobile: bool) -> str:
    """Heatmap row of a facility: village clinics (hundreds in a county) and touring mobile clinics
    are pooled per township; every other facility is its own row."""
    if tier == "village":
        return f"{township} village clinics" if township else "village clinics"
    if mobile:
        return f"{township} mobile clinics" if township else "mobile clinics"
    return facility


def prepare_load_by_month(res: Results, scenario: str | None = None) -> pd.DataFrame:
    """scenario, measure (utilisation / bed_occupancy), row, tier, facilities, month, value — one scenario
    (default: the reference), from facility_monthly.parquet.

    A row is one facility, except village clinics and mobile clinics, which are pooled per township
    (``facilities`` counts the pooled ones); a pooled row's value is the capacity-weighted mean of its
    facilities' values (utilisation weighted by doctors, occupancy by beds: total busy time ÷ total
    capacity, the month's own where the table has it) in each replication.  ``value`` is the mean over
    replications.  Only facilities with that capacity appear in a measure (outside hospitals with unlimited capacity, village clinics in
    bed occupancy, do not).  Rows are ordered by tier, then by the facilities table's order."""
    what = "the facility-by-month load heatmap"
    fm = res.table("facility_monthly", what)
    res.require_columns(fm, ["replication", "month", "facility", "tier", "township", *LOAD_COLUMNS],
                        "facility_monthly.parquet", what)
    fac = res.table("facilities", what)
    res.require_columns(fac, ["replication", "facility", *LOAD_COLUMNS.values()], "facilities.parquet", what)
    scenario = scenario or res.reference
    if scenario not in set(fm["scenario"]):
        present = _scenario_order(res, fm["scenario"].unique())
        if not present:
            raise MissingResultsError(f"{res.root}: {what}: facility_monthly.parquet has no rows")
        scenario = present[0]
    f = fm[fm["scenario"] == scenario]
    cap = fac[fac["scenario"] == scenario]
    cap = cap.assign(mobile=cap["mobile"].astype(bool) if "mobile" in cap else False)
    monthly = [c for c in LOAD_COLUMNS.values() if c in f.columns]  # the month's own capacity (newer results)
    cap = cap[["replication", "facility", "mobile", *[c for c in LOAD_COLUMNS.values() if c not in monthly]]]
    f = f.merge(cap, on=["replication", "facility"], how="left", validate="many_to_one")
    f["mobile"] = f["mobile"].eq(True)
    f["row"] = [load_row(t, w, n, m) for t, w, n, m in zip(f["tier"], f["township"], f["facility"], f["mobile"])]
    rank = {t: i for i, t in enumerate(TIERS)}
    first = {}
    for row, tier, facility in zip(f["row"], f["tier"], f["facility"]):
        first.setdefault(row, (rank.get(tier, len(TIERS)), len(first)))
    order = sorted(first, key=first.get)
    frames = []
    for measure, capacity in LOAD_COLUMNS.items():
        c = f[capacity].astype(float)
        g = f[(c > 0) & f[measure].notna()].assign(_w=c, _used=lambda d: d[measure] * d["_w"])
        per_rep = g.groupby(["row", "tier", "replication", "month"], sort=False) \
            .agg(_used=("_used", "sum"), _w=("_w", "sum"), facilities=("facility", "size")).reset_index()
        per_rep["value"] = per_rep["_used"] / per_rep["_w"]
        df = per_rep.groupby(["row", "tier", "month"], sort=False) \
            .agg(facilities=("facilities", "max"), value=("value", "mean")).reset_index()
        df.insert(0, "measure", measure)
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    df["_m"] = df["measure"].map({m: i for i, m in enumerate(LOAD_COLUMNS)})
    df["_r"] = df["row"].map({r: i for i, r in enumerate(order)})
    df = df.sort_values(["_m", "_r", "month"], kind="stable").drop(columns=["_m", "_r"]).reset_index(drop=True)
    df.insert(0, "scenario", scenario)
    df["month"] = df["month"].astype(int)
    rows = {m: [r for r in order if r in set(df.loc[df["measure"] == m, "row"])] for m in LOAD_COLUMNS}
    if not any(rows.values()):
        raise MissingResultsError(f"{res.root}: {what}: no facility of scenario {scenario!r} has doctors or beds")
    one = f.drop_duplicates("facility")
    df.attrs.update(scenario=scenario, rows=rows, months=sorted(df["month"].unique().tolist()),
                    replications=int(f["replication"].nunique()),
                    pooled={"village clinics": int((one["tier"] == "village").sum()),
                            "mobile clinics": int((one["mobile"] & (one["tier"] != "village")).sum())},
                    left_out=[t for t in TIERS if t in set(f.loc[~f["row"].isin(set(df["row"])), "tier"])])
    return df


def prepare_waits(res: Results) -> pd.DataFrame:
    """scenario, facility, tier, mean_wait_min, mean_bed_wait_days: each facility's mean over replications
    (the distribution over facilities of a tier is what the figure shows)."""
    what = "waiting-time distributions"
    fac = res.table("facilities", what)
    res.require_columns(fac, ["facility", "tier", "mean_wait_min", "mean_bed_wait_days"], "facilities.parquet", what)
    order = _scenario_order(res, fac["scenario"].unique(), 8)
    f = fac[fac["tier"].isin(WAIT_TIERS) & fac["scenario"].isin(order)]
    df = f.groupby(["scenario", "facility", "tier"], sort=False)[["mean_wait_min", "mean_bed_wait_days"]] \
        .mean().reset_index()
    df = _ordered(df, "scenario", order)
    df.attrs.update(scenarios=order, omitted=len(set(fac["scenario"])) - len(order))
    return df


# ---------------------------------------------------------------------- 6: sweeps
def prepare_sweep(res: Results, kpis: list[str] | None = None) -> pd.DataFrame:
    """scenario, <swept parameters>, kpi, mean, ci_low, ci_high for every sweep point."""
    what = "sweep response curves"
    if not res.sweep_params:
        raise MissingResultsError(f"{res.root}: {what} need an experiment with a `sweep:` block; "
                                  f"{'this is ' + _a(res.kind) + ' folder' if res.kind != 'experiment' else 'it has none'}")
    s = res.summary()
    kpis = [k for k in (kpis or res.shown_kpis()) if k in set(s["kpi"])][:6]
    points = res.sweep_scenarios
    params = res.params
    df = s[s["scenario"].isin(points) & s["kpi"].isin(kpis)][["scenario", "kpi", "mean", "ci_low", "ci_high", "n"]]
    for p in res.sweep_params:
        df.insert(1, p, df["scenario"].map(lambda n, p=p: params.get(n, {}).get(p, np.nan)).astype(float))
    cols = ["scenario", *res.sweep_params, "kpi", "mean", "ci_low", "ci_high", "n"]
    df = df[cols].reset_index(drop=True)
    ref = s[(s["scenario"] == res.reference) & s["kpi"].isin(kpis)].set_index("kpi")["mean"].to_dict() \
        if res.reference not in points else {}
    df.attrs.update(params=res.sweep_params, kpis=kpis, method=res.sweep_method, reference=res.reference,
                    reference_means=ref)
    return df


# ---------------------------------------------------------------------- 7, 8: sensitivity, calibration
def prepare_sensitivity(res: Results, method: str) -> pd.DataFrame:
    """Rows of sensitivity.csv for one method (morris: mu_star, mu_star_conf, mu, sigma; sobol: S1, ST and CIs)."""
    what = f"the {'Morris' if method == 'morris' else 'Sobol'} figure"
    if res.kind != "sensitivity":
        raise MissingResultsError(f"{res.root}: {what} needs sensitivity.csv from `countysim sensitivity`; "
                                  f"this is {_a(res.kind)} folder")
    df = res.csv("sensitivity.csv", what, "the analysis failed or the batch did not finish")
    df = df[df["method"] == method].reset_index(drop=True)
    if df.empty:
        raise MissingResultsError(f"{res.root}: {what}: sensitivity.csv has no {method} indices "
                                  f"(the study used method {res.study.get('method')!r})")
    need = ["mu_star", "mu_star_conf", "sigma"] if method == "morris" else ["S1", "S1_conf", "ST", "ST_conf"]
    res.require_columns(df, ["kpi", "parameter", *need], "sensitivity.csv", what)
    return df[["kpi", "parameter", *need, *[c for c in ("mu",) if method == "morris" and c in df]]]


def prepare_calibration(res: Results) -> pd.DataFrame:
    """fit.csv: kpi, observed, sd, simulated_mean, ci_low, ci_high, z."""
    what = "the calibration fit"
    if res.kind != "calibration":
        raise MissingResultsError(f"{res.root}: {what} needs fit.csv from `countysim calibrate`; "
                                  f"this is {_a(res.kind)} folder")
    df = res.csv("fit.csv", what, "the calibration did not finish")
    res.require_columns(df, ["kpi", "observed", "sd", "simulated_mean", "ci_low", "ci_high"], "fit.csv", what)
    return df[["kpi", "observed", "sd", "simulated_mean", "ci_low", "ci_high", "z"]].reset_index(drop=True)


# ---------------------------------------------------------------------- 9: map
def prepare_villages(res: Results, scenarios: list[str] | None = None) -> pd.DataFrame:
    """scenario, village, township, x_km, y_km, population, remoteness_quintile, primary_care_share,
    oop_per_episode, county_visit_rate: means over the replications of each scenario (default: the
    reference first, then up to three more, as the flow figures)."""
    what = "the village map"
    v = res.table("villages", what)
    res.require_columns(v, ["village", "x_km", "y_km", "primary_care_share", "oop_per_episode"],
                        "villages.parquet", what)
    order = scenarios or _flow_scenarios(res, v["scenario"].unique())
    v = v[v["scenario"].isin(order)]
    if v.empty:
        raise MissingResultsError(f"{res.root}: {what}: villages.parquet has no rows for scenario(s) {order}")
    keys = ["scenario", "village", "township", "x_km", "y_km", "population", "remoteness_quintile"]
    df = v.groupby(keys, sort=False)[["primary_care_share", "oop_per_episode", "county_visit_rate"]] \
        .mean().reset_index()
    df = _ordered(df, "scenario", [s for s in order if s in set(df["scenario"])])
    df.attrs.update(scenarios=list(dict.fromkeys(df["scenario"])), labels=res.scenario_labels,
                    omitted=len(set(res.table("villages", what)["scenario"])) - df["scenario"].nunique())
    return df


def prepare_sites(res: Results, scenario: str | None = None) -> pd.DataFrame:
    """facility, tier, x_km, y_km of township centres and county hospitals of one scenario (default: the
    reference), from the facilities table (touring mobile clinics left out).  Folders whose facilities table
    has no coordinates (written by older versions) or none at all: townships at their villages' centroid,
    no county hospital."""
    scenario = scenario or res.reference
    try:
        fac = res.table("facilities", "the village map")
    except MissingResultsError:
        fac = pd.DataFrame(columns=["scenario", "tier"])
    fac = fac[(fac["scenario"] == scenario) & fac["tier"].isin(LOAD_TIERS)]
    if {"x_km", "y_km"} <= set(fac.columns) and len(fac):
        if "mobile" in fac.columns:
            fac = fac[~fac["mobile"].astype(bool)]
        df = fac.drop_duplicates("facility")[["facility", "tier", "x_km", "y_km"]].reset_index(drop=True)
        df.attrs.update(approximate=False)
        return df
    v = prepare_villages(res, [scenario])
    c = v.groupby("township", sort=False)[["x_km", "y_km"]].mean().reset_index()
    df = pd.DataFrame({"facility": c["township"] + " (centroid)", "tier": "township",
                       "x_km": c["x_km"], "y_km": c["y_km"]})
    df.attrs.update(approximate=True)
    return df


# ---------------------------------------------------------------------- 3b: trajectories
TRAJECTORY_KPIS = ("county_visit_rate", "primary_care_share", "fund_per_resident", "visits_per_resident")


def prepare_trajectory(res: Results) -> pd.DataFrame:
    """scenario, kpi, year, mean, ci_low, ci_high, n: each headline KPI by calendar year.

    ``attrs``: ``targets`` (scenario, kpi, year, value) from each scenario's plan, ``changes``
    (scenario, year, key, value) from its schedule, ``kpis`` and ``scenarios``."""
    what = "KPI trajectories by calendar year"
    yearly = res.table("yearly", what)
    res.require_columns(yearly, ["year", "replication"], "yearly.parquet", what)
    if yearly["year"].nunique() < 2:
        raise MissingResultsError(f"{res.root}: {what} need a run of two or more years (this one has "
                                  f"{yearly['year'].nunique()})")
    order = _scenario_order(res, yearly["scenario"].unique(), MAX_SERIES)
    targets = [(s, k, int(y), float(v)) for s in order for k, row in (res.configs.get(s, {}).get("targets") or {}).items()
               for y, v in row.items()]
    kpis = list(dict.fromkeys([*TRAJECTORY_KPIS[:2], *(k for _, k, _, _ in targets), *TRAJECTORY_KPIS[2:]]))
    kpis = [k for k in kpis if k in yearly.columns][:6]
    rows = []
    for scen in order:
        g = yearly[yearly["scenario"] == scen]
        for year, gy in g.groupby("year", sort=True):
            for k in kpis:
                mean, lo, hi, n = confidence_interval(gy[k].to_numpy(dtype=float))
                rows.append({"scenario": scen, "kpi": k, "year": int(year), "mean": mean, "ci_low": lo,
                             "ci_high": hi, "n": n})
    df = pd.DataFrame(rows, columns=["scenario", "kpi", "year", "mean", "ci_low", "ci_high", "n"])
    changes = [(s, int(y), key, value) for s in order
               for y, row in (res.configs.get(s, {}).get("schedule") or {}).items() for key, value in row.items()]
    df.attrs.update(kpis=kpis, scenarios=order, targets=targets, changes=changes)
    return df


# ---------------------------------------------------------------------- 11: province
def prepare_province(res: Results) -> pd.DataFrame:
    """year, county, population, county_visit_rate, primary_care_share, targets_met, rank (counties
    from ranking.csv) and one ``province`` row per year (its totals from summary_by_year.csv)."""
    what = "the province figure"
    if res.kind != "province":
        raise MissingResultsError(f"{res.root}: {what} is drawn for province studies (countysim province); "
                                  f"this is {_a(res.kind)} folder")
    rank = res.csv("ranking.csv", what, "the province study did not finish")
    by_year = res.csv("summary_by_year.csv", what, "the province study did not finish")
    kpis = ["county_visit_rate", "primary_care_share"]
    res.require_columns(rank, ["year", "county", "population", *kpis, "targets_met", "rank"], "ranking.csv", what)
    prov = by_year[by_year["scenario"] == "province"].pivot(index="year", columns="kpi", values="mean")
    prov = prov[kpis].reset_index().assign(county="province", population=int(rank.groupby("year")["population"]
                                                                                .sum().iloc[0]))
    cols = ["year", "county", "population", *kpis, "targets_met", "rank"]
    return pd.concat([rank[cols], prov], ignore_index=True)
