"""countysim's Python API: ``import countysim as cs`` (docs/api.md).

A stable surface that re-exports; the implementation lives in ``sim/`` and ``models/``.
"""
from sim import __version__
from sim.outputs.api import (
    HEADLINE,
    ConfigError,
    Results,
    compare,
    experiment,
    figures,
    load,
    open_results,
    province,
    run,
)
from sim.studies.county_sample import sample_geography

__all__ = ["HEADLINE", "ConfigError", "Results", "__version__", "compare", "experiment", "figures", "load",
           "open_results", "province", "run", "sample_geography"]
