"""The architecture contract: no import cycles; sim/core is domain-free; models/ knows no SimPy.

The forbidden-import contracts live in pyproject.toml ([tool.importlinter]) and run here with
import-linter; cycles are found module by module on grimp's import graph (the one
import-linter builds).  Imports under ``if TYPE_CHECKING:`` are type hints, not dependencies.
"""
from __future__ import annotations

import os
from pathlib import Path

import grimp
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0, \
        "an import contract is broken: run lint-imports for the chain"


def _cycles(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    """Pairs (a, b) where a imports b directly and b reaches a back."""
    found = []
    for a in sorted(graph.modules):
        for b in sorted(graph.find_modules_directly_imported_by(a)):
            if graph.chain_exists(importer=b, imported=a):
                found.append((a, b))
    return found


def test_no_import_cycles():
    os.chdir(ROOT)
    graph = grimp.build_graph("sim", "models", "countysim", exclude_type_checking_imports=True)
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for m in ("p.a", "p.b", "p.c"):
        graph.add_module(m)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    assert _cycles(graph) == []
    graph.add_import(importer="p.c", imported="p.a")
    assert ("p.a", "p.b") in _cycles(graph)
