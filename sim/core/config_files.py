"""Configuration files: YAML with ``extends`` chains and ``--set dotted.key=value`` overrides.

Domain-free: any pydantic model can be loaded this way.  Every leaf remembers the file (or
``--set``) it came from, so an error names the file, the key path, the bad value and the
allowed range.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError


class ConfigError(Exception):
    """A user error in a configuration: printed without traceback, CLI exit status 2."""


class KeyPathError(ValueError):
    """A cross-field error that knows its own key path."""

    def __init__(self, path: str, value: Any, allowed: str):
        self.path, self.value, self.allowed = path, value, allowed
        super().__init__(f"{path}: {allowed} (got {value!r})")


def _deep_merge(base: dict, over: dict, src: dict[str, str], source: str, prefix: str = "") -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v, src, source, path + ".")
        else:
            out[k] = copy.deepcopy(v)
            for key in [p for p in src if p == path or p.startswith(path + ".")]:
                del src[key]
            _record(v, path, src, source)
    return out


def _record(v: Any, path: str, src: dict[str, str], source: str) -> None:
    src[path] = source
    if isinstance(v, dict):
        for k, x in v.items():
            _record(x, f"{path}.{k}", src, source)


def read_yaml(path: Path) -> dict:
    """A YAML mapping, or a ConfigError naming the file (missing, not YAML, not a mapping)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys, got {type(data).__name__}")
    return data




def load_raw(path: str | Path, path_keys: Iterable[str] = (), _seen: tuple[Path, ...] = ()) -> tuple[dict, dict[str, str]]:
    """Read a YAML file, resolving ``extends`` chains; return data and key provenance.

    ``path_keys`` name dotted keys holding file paths: they are made relative to the file
    that set them.
    """
    path = Path(path).resolve()
    if path in _seen:
        raise ConfigError(f"{path}: 'extends' forms a cycle")
    data = read_yaml(path)
    src: dict[str, str] = {}
    parent = data.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str):
            raise ConfigError(f"{path}: extends: must be a file path, got {parent!r}")
        base, src = load_raw(path.parent / parent, path_keys, _seen + (path,))
    else:
        base = {}
    merged = _deep_merge(base, data, src, str(path))
    for key in path_keys:
        _resolve_path(merged, key.split("."), path.parent)
    return merged, src


def _resolve_path(data: Any, parts: list[str], folder: Path) -> None:
    for part in parts[:-1]:
        data = data.get(part) if isinstance(data, dict) else None
    if isinstance(data, dict) and isinstance(data.get(parts[-1]), str) and not Path(data[parts[-1]]).is_absolute():
        data[parts[-1]] = str((folder / data[parts[-1]]).resolve())


def parse_override(item: str) -> tuple[str, Any]:
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected dotted.key=value")
    key, _, text = item.partition("=")
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {item!r}: empty key path")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    return key, value


def apply_overrides(data: dict, src: dict[str, str], overrides: list[str], source: str = "--set") -> dict:
    """Apply ``dotted.key=value`` items; ``source`` is what error messages name as their origin."""
    data = copy.deepcopy(data)
    for item in overrides:
        key, value = parse_override(item)
        node: Any = data
        parts = key.split(".")
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, list):
                node = _list_item(node, part, key)
                continue
            if part not in node or node[part] is None:
                node[part] = {}
                src[".".join(parts[:i + 1])] = source  # a section the override creates (perhaps misspelled)
            node = node[part]
            if not isinstance(node, (dict, list)):
                raise ConfigError(f"--set {key}: {'.'.join(parts[:i + 1])} is a value, not a section")
        last = parts[-1]
        if isinstance(node, list):
            idx = _index(last, key, len(node))
            node[idx] = value
        else:
            node[last] = value
        _record(value, key, src, source)
    return data


def _index(part: str, key: str, n: int) -> int:
    if not part.isdigit() or int(part) >= n:
        raise ConfigError(f"--set {key}: list index {part!r} out of range [0, {n - 1}]")
    return int(part)


def _list_item(node: list, part: str, key: str) -> Any:
    return node[_index(part, key, len(node))]


def _format_loc(loc: tuple) -> str:
    return ".".join(str(p) for p in loc if p not in ("function-after[_window()]",))


def source_for(path: str, src: dict[str, str], default: str) -> str:
    probe = path
    while probe:
        if probe in src:
            return src[probe]
        probe = probe.rpartition(".")[0]
    return default



def validate_model(model: type[BaseModel], data: dict, src: dict[str, str] | None = None, origin: str = "<config>",
                   what: str = "scenario") -> Any:
    """Validate merged data; raise ConfigError with file, key path, value and allowed range."""
    src = src or {}
    try:
        return model.model_validate(data)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            ctx_err = err.get("ctx", {}).get("error")
            if isinstance(ctx_err, KeyPathError):
                path, value, msg = ctx_err.path, ctx_err.value, ctx_err.allowed
            else:
                path = _format_loc(err["loc"])
                value = err.get("input")
                msg = err["msg"].removeprefix("Value error, ")
                if err["type"] == "extra_forbidden":
                    msg = "unknown key (check spelling; see docs/parameters.md for allowed keys)"
                if err["type"] == "missing":
                    value = None
            where = source_for(path, src, origin)
            shown = "" if value is None and err["type"] == "missing" else f" (got {_short(value)})"
            lines.append(f"{where}: {path or '<top>'}: {msg}{shown}")
        raise ConfigError(f"invalid {what}:\n  " + "\n  ".join(dict.fromkeys(lines))) from None


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."



class Strict(BaseModel):
    """A config block: unknown keys are errors; assignments are validated too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def probabilities(v: dict[str, float]) -> dict[str, float]:
    """Validator for a mapping of probabilities."""
    for k, x in v.items():
        if not 0 <= x <= 1:
            raise ValueError(f"{k}: must be in [0, 1], got {x}")
    return v
