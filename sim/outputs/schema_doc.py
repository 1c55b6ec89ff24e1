"""Generate the configuration reference (docs/parameters.md) from the pydantic schema.

The reference is derived, never hand-kept: ``python -m sim.outputs.schema_doc > docs/parameters.md``;
tests/test_docs.py fails when the file and the schema drift apart.
"""
from __future__ import annotations

import sys
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from models.scenario import Scenario

HEADER = """# Configuration reference

Generated from the schema in `models/scenario.py`, `models/geography.py` and `models/levers/` by
`python -m sim.outputs.schema_doc > docs/parameters.md`; do not edit by hand.  Where each value of the
baseline comes from (a row of `docs/sources/data/` or "assumed") is written next to it in
`configs/baseline.yaml`; the policy levers are explained in `docs/levers.md`.

`<name>` in a key stands for a name you choose (a condition class, a tier).  Ranges are
inclusive unless marked `>` or `<`.
"""


def _models(annotation: Any) -> list[type[BaseModel]]:
    args = typing.get_args(annotation)
    found = [annotation] if isinstance(annotation, type) and issubclass(annotation, BaseModel) else []
    for a in args:
        found += _models(a)
    return found


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " \\| ".join(repr(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in typing.get_args(annotation))}]"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def _range(field: FieldInfo) -> str:
    parts = []
    for m in field.metadata:
        for attr, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"), ("min_length", "length >=")):
            if getattr(m, attr, None) is not None:
                parts.append(f"{sym} {getattr(m, attr)}")
    return ", ".join(parts)


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "(section)"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def rows(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, str, str, str]]:
    out = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = field.annotation
        nested = _models(annotation)
        if typing.get_origin(annotation) is dict:
            key_t, val_t = typing.get_args(annotation)
            nested_val = _models(val_t)
            if nested_val:
                out.append((path, f"mapping of {_type_name(key_t)} to sections", "", _default(field),
                            field.description or (nested_val[0].__doc__ or "").strip().split("\n")[0]))
                out += rows(nested_val[0], f"{path}.<name>.")
                continue
        if nested and typing.get_origin(annotation) is not list:
            out.append((path, "section", "", _default(field), field.description or (nested[0].__doc__ or "").strip()
                        .split("\n")[0]))
            out += rows(nested[0], f"{path}.")
            continue
        if nested:
            out.append((path, "list of sections", _range(field), _default(field), field.description or ""))
            out += rows(nested[0], f"{path}.<i>.")
            continue
        out.append((path, _type_name(annotation), _range(field), _default(field), field.description or ""))
    return out


def markdown() -> str:
    lines = [HEADER, "| key | type | range | default | meaning |", "|---|---|---|---|---|"]
    for path, typ, rng, default, desc in rows(Scenario):
        cell = [path, typ, rng, default, desc.replace("|", "\\|").replace("\n", " ")]
        lines.append("| " + " | ".join(f"`{cell[0]}`" if i == 0 else c for i, c in enumerate(cell)) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())
