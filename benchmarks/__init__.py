"""Benchmarks for countysim: ``python benchmarks/run_all.py`` (``make bench``)."""
