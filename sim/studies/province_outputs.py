"""A province's results folder, from its last coupling round.

``OUT/`` holds the last round's county tables (``runs.parquet``, ``yearly.parquet``, ... as an
experiment's, one scenario per county), and:

* ``province_yearly.parquet``: province KPIs per replication and year, from summed county sums
  (only when every run finished: a total missing a county would be wrong);
* ``summary.csv`` / ``summary.json``: every county and the province (whole run), mean and 95 % CI;
  the province is the reference, so each county's paired difference is county − province;
* ``summary_by_year.csv``: the same by calendar year;
* ``ranking.csv``: counties by year against the 90 % / 65 % targets;
* ``coupling.csv``: every coupling round, per county and for the province;
* ``manifest.json``: the last round's batch manifest with ``kind: province`` and the coupling.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from sim.core.files import atomic_write, write_parquet
from sim.studies.compare import summarise, summarise_by_year
from sim.studies.province_tables import PROVINCE, province_runs, province_yearly, ranking
from sim.studies.store import TABLES
from sim.studies.summaries import write_summaries


def write_outputs(store, province, batch, last_round: Path, coupling: pd.DataFrame,
                  converged: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write the province's tables into ``store``; return (summary, ranking)."""
    for table in TABLES:  # the last round's county tables, as an experiment's
        source = last_round / f"{table}.parquet"
        if source.exists():
            atomic_write(store.root / source.name, lambda tmp, source=source: shutil.copyfile(source, tmp))
    names = [d.name for d in province.defs]
    order = [PROVINCE] + names
    sums = batch.tables["year_sums"]
    runs, yearly = batch.tables["runs"], batch.tables["yearly"]
    if not sums.empty and not batch.failures:  # a province total needs every county's every run
        yearly_province = province_yearly(sums)
        store.write_csv("summary_by_year.csv", summarise_by_year(pd.concat([yearly, yearly_province]), order,
                                                                 PROVINCE))
        write_parquet(store.root / "province_yearly.parquet", yearly_province)
        runs = pd.concat([runs, province_runs(sums)], ignore_index=True)
    summary = summarise(runs, order, PROVINCE)
    write_summaries(store.root, summary, PROVINCE)
    rank = ranking(yearly, province.population)
    store.write_csv("ranking.csv", rank)
    store.write_csv("coupling.csv", coupling)
    o = province.spec.outside
    manifest = {**batch.manifest, "kind": "province",
                "coupling": {"iterations": int(coupling["iteration"].max()) if len(coupling) else 0,
                             "converged": converged is not None, "settled_by": converged,
                             "tolerance": o.tolerance, "max_iterations": o.max_iterations,
                             "damping": o.damping, "outside": o.model_dump(mode="json"),
                             "rounds": coupling.to_dict(orient="records")},
                "population": province.population}
    store.write_manifest(manifest)
    return summary, rank
