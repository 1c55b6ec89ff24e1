"""Declared parameters: a named range over one or more config keys, and designs over them.

Sweeps, sensitivity studies and calibrations all say "this parameter, in this range"; this
module turns a value of such a parameter into ordinary ``dotted.key=value`` overrides (the
same ones ``--set`` takes), so every variant is validated and run like any scenario.

A parameter either *sets* its keys to the value or *scales* the values the reference config
has there (``mode: scale``, e.g. ``conditions.*.incidence`` × 1.1 for incidence scaling).
``*`` in a key stands for every key of the mapping at that point of the config.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


class ParameterSpec(BaseModel):
    """One declared parameter and its range."""

    model_config = ConfigDict(extra="forbid")

    keys: list[str] | None = Field(None, min_length=1, description="config keys; default: the parameter's name")
    mode: Literal["set", "scale"] = "set"
    low: float | None = None
    high: float | None = None
    values: list[Any] | None = Field(None, description="explicit grid values (grid sweeps only)")
    levels: int | None = Field(None, ge=2, le=10_000, description="evenly spaced grid values from low to high")
    integer: bool = Field(False, description="round to whole numbers (e.g. doctors)")
    start: float | None = Field(None, description="calibration starting value; default: mid-range")

    @model_validator(mode="after")
    def _range(self) -> "ParameterSpec":
        if self.values is not None:
            if not self.values:
                raise ValueError("empty range: 'values' lists no value")
            return self
        if self.low is None or self.high is None:
            raise ValueError("needs 'low' and 'high' (or a non-empty 'values' list)")
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low >= self.high:
            raise ValueError(f"empty range: need low < high, got low={self.low}, high={self.high}")
        if self.start is not None and not self.low <= self.start <= self.high:
            raise ValueError(f"start must lie in [low, high] = [{self.low}, {self.high}], got {self.start}")
        return self

    @staticmethod
    def require_ranges(params: dict[str, "ParameterSpec"], purpose: str) -> dict[str, "ParameterSpec"]:
        """Sensitivity and calibration search a continuous range: explicit values make no sense."""
        for name, p in params.items():
            if p.values is not None:
                raise ValueError(f"{name}: {purpose} needs a range (low, high), not 'values'")
        return params

    @property
    def bounds(self) -> tuple[float, float]:
        if self.low is None or self.high is None:
            raise ValueError("this parameter lists 'values'; a continuous range needs 'low' and 'high'")
        return self.low, self.high

    def grid(self) -> list[Any]:
        if self.values is not None:
            return list(self.values)
        if self.levels is None:
            raise ValueError("a grid sweep needs 'values' or 'levels' for every parameter")
        return [self.cast(v) for v in np.linspace(self.low, self.high, self.levels)]

    def cast(self, value: Any) -> Any:
        if isinstance(value, (bool, str)) or value is None:
            return value
        return int(round(float(value))) if self.integer else float(value)

    def from_unit(self, u: float) -> Any:
        lo, hi = self.bounds
        return self.cast(lo + float(u) * (hi - lo))

    def to_unit(self, value: float) -> float:
        lo, hi = self.bounds
        return (float(value) - lo) / (hi - lo)


def expand_key(pattern: str, config: dict) -> list[str]:
    """``conditions.*.incidence`` → one key per condition in ``config`` (a resolved dict).

    A key without ``*`` is returned as is, even when the config lacks it: validating the
    variant then reports the unknown key with its allowed alternatives.
    """
    if "*" not in pattern:
        return [pattern]
    found: list[str] = []

    def walk(node: Any, parts: list[str], prefix: list[str]) -> None:
        if not parts:
            found.append(".".join(prefix))
            return
        head, rest = parts[0], parts[1:]
        if head == "*":
            for k in node if isinstance(node, dict) else []:
                walk(node[k], rest, prefix + [str(k)])
        elif (child := _child(node, head)) is not _MISSING:
            walk(child, rest, prefix + [head])

    walk(config, pattern.split("."), [])
    return found


_MISSING = object()


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        return node.get(part, _MISSING)
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return _MISSING


def get_path(config: dict, key: str) -> Any:
    node: Any = config
    for part in key.split("."):
        node = _child(node, part)
        if node is _MISSING:
            return None
    return node


def format_value(value: Any) -> str:
    """YAML text that parses back to exactly ``value`` (``1e-05`` alone would read as a string)."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()
    return text.removesuffix("...").strip()


def overrides_for(name: str, spec: ParameterSpec, value: Any, reference: dict) -> list[str]:
    """The ``key=value`` overrides that give parameter ``name`` the value ``value``.

    ``reference`` is the resolved config the parameter acts on (wildcards expand over it and
    ``scale`` multiplies its values).  Raises ValueError naming the key when that is impossible.
    """
    out = []
    for pattern in spec.keys or [name]:
        keys = expand_key(pattern, reference)
        if not keys:
            raise ValueError(f"key pattern {pattern!r} matches nothing in the config")
        for key in keys:
            if spec.mode == "scale":
                base = get_path(reference, key)
                if not isinstance(base, (int, float)) or isinstance(base, bool):
                    raise ValueError(f"mode 'scale' needs a number at {key}, the config has {base!r}")
                v = float(f"{base * float(value):.12g}")  # 2.185, not 2.1849999999999996
                out.append(f"{key}={format_value(int(round(v)) if isinstance(base, int) else v)}")
            else:
                out.append(f"{key}={format_value(value)}")
    return out


def read_value(name: str, spec: ParameterSpec, resolved: dict, reference: dict) -> float:
    """The parameter's value in a resolved config (set: the value; scale: ratio to reference)."""
    first = expand_key((spec.keys or [name])[0], reference)
    if not first:
        return float("nan")
    value = get_path(resolved, first[0])
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return float("nan")
    if spec.mode == "scale":
        base = get_path(reference, first[0])
        return float(value) / base if isinstance(base, (int, float)) and base else float("nan")
    return float(value)


# --------------------------------------------------------------------------- designs
def grid_design(params: dict[str, ParameterSpec]) -> list[dict[str, Any]]:
    """Full factorial over every parameter's grid, first parameter varying slowest."""
    names = list(params)
    return [dict(zip(names, combo)) for combo in itertools.product(*(params[n].grid() for n in names))]


def lhs_design(params: dict[str, ParameterSpec], samples: int, seed: int) -> list[dict[str, Any]]:
    """Latin hypercube of ``samples`` points over the declared ranges (scipy.stats.qmc, seeded)."""
    from scipy.stats import qmc

    names = list(params)
    unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(seed)).random(samples)
    return [{n: params[n].from_unit(u[i]) for i, n in enumerate(names)} for u in unit]
