"""The levers a planner can schedule in the lab: names and explanations from ``docs/levers.md``,
keys, types and ranges from the scenario schema (the same ``rows`` that generate docs/parameters.md).

A lever here is one row of the table in docs/levers.md (e.g. 家庭医生签约 Family-doctor contracting)
with the single-valued, schedulable keys its "config keys" cell names.  Keys of a registered lever
module that no row names form one more lever under the module's TITLE, so every lever setting is
reachable.  The disease catalogue (``capability.*``, one key per tier × condition) is left to YAML.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from models.levers import LEVERS
from models.plan import fixed_reason, flatten, lookup
from models.scenario import Scenario
from sim.outputs.schema_doc import rows

LEVERS_DOC = Path(__file__).resolve().parents[3] / "docs" / "levers.md"
BLOCKS = ("reimbursement",) + tuple(lever.KEY for lever in LEVERS)
LEFT_TO_YAML = ("capability.",)
# Mappings keyed by tier: what a missing entry means, and the allowed values
# (models/levers/capacity.py: factors in (0, 10], 1 = as configured).
TIER_MAPS = {"capacity.doctors_factor": (1.0, "> 0, <= 10"), "capacity.beds_factor": (1.0, "> 0, <= 10")}


@dataclass(frozen=True)
class Setting:
    """One schedulable key: its type (float, int or bool), bounds and meaning."""

    key: str
    kind: str
    range_text: str
    description: str
    low: float | None = None
    high: float | None = None

    def allowed(self) -> str:
        return "true or false" if self.kind == "bool" else (self.range_text or "any number")

    def step(self, value: float) -> float:
        if self.kind == "int":
            return 1
        if self.high is not None and self.high <= 10:
            return 0.01
        return max(1.0, 10 ** (len(str(int(abs(value)))) - 2)) if value else 1.0


@dataclass(frozen=True)
class Lever:
    ident: str
    name_en: str
    name_zh: str
    explanation: str
    settings: tuple[Setting, ...] = field(default=())

    @property
    def title(self) -> str:
        return f"{self.name_zh} {self.name_en}"


def _bounds(text: str) -> tuple[float | None, float | None]:
    low = high = None
    for op, num in re.findall(r"(>=|>|<=|<)\s*(-?[\d.]+)", text):
        if op.startswith(">"):
            low = float(num)
        else:
            high = float(num)
    return low, high


def _pattern(doc_key: str) -> re.Pattern:
    """``reimbursement.<tier>.{outpatient,inpatient}_rate`` → a regex over concrete dotted keys."""
    out, i = "", 0
    for m in re.finditer(r"\{([^}]*)\}|<[^>]+>|\*", doc_key):
        out += re.escape(doc_key[i:m.start()])
        tok = m.group(0)
        out += ("(?:" + "|".join(map(re.escape, m.group(1).split(","))) + ")") if tok.startswith("{") else \
            "[^.]+" if tok.startswith("<") else ".*"
        i = m.end()
    out += re.escape(doc_key[i:])
    return re.compile(out + r"(?:\..*)?$")


def doc_rows(text: str | None = None) -> list[dict[str, Any]]:
    """The lever table of docs/levers.md: name, Chinese term, key patterns, one-line mechanism."""
    text = text if text is not None else LEVERS_DOC.read_text(encoding="utf-8")
    out = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5 or not line.startswith("|") or set(cells[0]) <= set("-: ") or cells[1] == "lever":
            continue
        patterns = [p for p in re.findall(r"`([^`]+)`", cells[3]) if "." in p]
        first = re.split(r"(?<=[.!?])\s", cells[4].strip(), maxsplit=1)[0]
        out.append({"name_en": cells[1], "name_zh": cells[2], "patterns": [_pattern(p) for p in patterns],
                    "explanation": re.sub(r"\s*\(`[^)]*`\)", "", first).strip()})
    return out


@lru_cache(maxsize=1)
def _schema() -> dict[str, tuple[str, str, str]]:
    """Dotted key pattern → (type, range, meaning), from the schema."""
    return {path: (typ, rng, desc) for path, typ, rng, _default, desc in rows(Scenario)}


def _setting(key: str) -> Setting | None:
    for prefix, (_, rng) in TIER_MAPS.items():
        if key.startswith(prefix + "."):
            return Setting(key, "float", rng, f"{prefix} for the {key.rsplit('.', 1)[1]} tier", *_bounds(rng))
    for path, (typ, rng, desc) in _schema().items():
        if re.fullmatch(re.escape(path).replace(re.escape("<name>"), "[^.]+"), key):
            kind = {"float": "float", "int": "int", "bool": "bool"}.get(typ)
            return Setting(key, kind, rng, desc, *_bounds(rng)) if kind else None
    return None


def county_values(resolved: dict) -> dict[str, Any]:
    """Every schedulable single value of the lever blocks, as the county sets it (tier mappings filled)."""
    values = {}
    for block in BLOCKS:
        for key, value in flatten(resolved.get(block, {}), block + ".").items():
            if isinstance(value, bool) or (isinstance(value, (int, float)) and value is not None):
                values[key] = value
    for prefix, (missing, _) in TIER_MAPS.items():
        _, current = lookup(resolved, prefix)
        for tier in _tiers_of(prefix):
            values[f"{prefix}.{tier}"] = (current or {}).get(tier, missing)
    return {k: v for k, v in values.items() if not fixed_reason(k) and not k.startswith(LEFT_TO_YAML)}


def _tiers_of(prefix: str) -> list[str]:
    import typing

    node: Any = Scenario
    for part in prefix.split("."):
        node = node.model_fields[part].annotation
    key_type = typing.get_args(node)[0]
    return list(typing.get_args(key_type))


def _slug(name: str) -> str:
    """A lever's id from its English name: stable when rows are added to docs/levers.md."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def catalogue(resolved: dict, doc_text: str | None = None) -> list[Lever]:
    """The levers of docs/levers.md with their settings, then the leftover keys of each lever module."""
    values = county_values(resolved)
    settings = {k: s for k in values if (s := _setting(k)) is not None}
    taken: set[str] = set()
    levers = []
    for row in doc_rows(doc_text):
        keys = [k for k in settings if k not in taken and any(p.match(k) for p in row["patterns"])]
        if keys:
            taken.update(keys)
            levers.append(Lever(_slug(row["name_en"]), row["name_en"], row["name_zh"], row["explanation"],
                                tuple(settings[k] for k in keys)))
    for module in LEVERS:
        keys = [k for k in settings if k not in taken and k.startswith(module.KEY + ".")]
        if keys:
            zh, _, en = module.TITLE.partition(" ")
            doc = (module.__doc__ or "").strip().splitlines()[0]
            levers.append(Lever(module.KEY, en, zh, doc, tuple(settings[k] for k in keys)))
    return levers
