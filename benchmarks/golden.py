"""Golden summary of a small county for a fixed seed (shared by the test and the regen script).

tests/test_golden.py recomputes the summary and compares it with tests/golden/small_county.json;
only benchmarks/regen_golden.py writes that file.  Speed-ups must leave it unchanged.
"""
from __future__ import annotations

import json
import math
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "tests" / "configs" / "golden_small.yaml"
GOLDEN = ROOT / "tests" / "golden" / "small_county.json"
REL_TOL = 1e-9
ABS_TOL = 1e-12  # only for values that should be exactly 0 but come out as float noise


def _plain(x):
    if isinstance(x, bool):
        return x
    if isinstance(x, int):
        return x
    if hasattr(x, "item"):  # numpy scalar
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None  # strict JSON; NaN (no observations) and inf are stored as null
    return x


def compute(config: Path = CONFIG, replications: int | None = None) -> dict:
    """KPI dict and episode accounting of each replication, serially (the result cannot depend on it)."""
    from models.loading import load_scenario
    from sim.studies.runner import multiple_replications

    scenario = load_scenario(config)
    n = replications or scenario.simulation.replications
    results = multiple_replications(scenario, n, workers=1)
    return {
        "config": str(Path(config).resolve().relative_to(ROOT)) if Path(config).resolve().is_relative_to(ROOT)
        else str(config),
        "seed": scenario.simulation.seed,
        "replications": n,
        "runs": [{"replication": r.replication,
                  "kpis": {k: _plain(v) for k, v in r.kpis.items()},
                  "accounting": {k: _plain(v) for k, v in r.accounting.items()}} for r in results],
    }


def load() -> dict:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def save(data: dict) -> None:
    import numpy as np
    import simpy

    out = dict(data)
    out["generated_with"] = {"python": platform.python_version(), "numpy": np.__version__,
                             "simpy": simpy.__version__}
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    tmp = GOLDEN.with_name(f".{GOLDEN.name}.tmp")
    tmp.write_text(json.dumps(out, indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(GOLDEN)


def close(a, b, rel: float = REL_TOL, abs_: float = ABS_TOL) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


def differences(expected: dict, actual: dict, rel: float = REL_TOL) -> list[str]:
    """Human-readable list of everything that differs (empty = identical within tolerance)."""
    out = []
    if expected.get("replications") != actual.get("replications"):
        out.append(f"replications: {expected.get('replications')} != {actual.get('replications')}")
    for e, a in zip(expected.get("runs", []), actual.get("runs", [])):
        rep = e["replication"]
        for part in ("kpis", "accounting"):
            ek, ak = e[part], a[part]
            for k in sorted(set(ek) - set(ak)):
                out.append(f"rep {rep} {part}.{k}: missing now (was {ek[k]!r})")
            for k in sorted(set(ak) - set(ek)):
                out.append(f"rep {rep} {part}.{k}: new (now {ak[k]!r})")
            for k in [k for k in ek if k in ak]:
                if not close(ek[k], ak[k], rel):
                    rd = "" if ek[k] in (None, 0) or ak[k] is None else \
                        f" (rel. diff {abs(ak[k] - ek[k]) / abs(ek[k]):.3g})"
                    out.append(f"rep {rep} {part}.{k}: golden {ek[k]!r}, now {ak[k]!r}{rd}")
    return out
