"""Configuration files: YAML with ``extends`` chains and ``--set dotted.key=value`` overrides.

Domain-free: any pydantic model can be loaded this way.  Every leaf remembers the file (or
``--set``) it came from, so an error names the file, the key path, the bad value and the
allowed range.
"""
from __future__ import annotations

import copy
import functools
import reprlib
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
        super().__init__(f"{path}: {allowed} (got {_short(value)})")


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


MAX_FILE_BYTES = 20_000_000  # a scenario with 5,000 villages listed explicitly is well under 1 MB
MAX_VALUES = 500_000  # values in one file after expanding YAML aliases (&anchor / *alias)
MAX_DEPTH = 40  # nesting levels; the deepest real key path is about six


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A key given twice in one YAML mapping."""


class _Loader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice in one mapping (PyYAML silently keeps the last)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node.start_mark)
                except TypeError:
                    continue  # unhashable key: the base class reports it
                if first is not key_node.start_mark:
                    raise DuplicateKeyError(
                        None, None, f"key {_short(key)} appears twice in one mapping (first on line "
                        f"{first.line + 1}); give each key once", key_node.start_mark)
        return super().construct_mapping(node, deep)


def read_text(path: Path, what: str = "file", fallback_encodings: tuple[str, ...] = ()) -> str:
    """Text of a user file: UTF-8 (a byte-order mark is dropped), else one of ``fallback_encodings``;
    a ConfigError naming the file when it is missing, a folder, too large or undecodable."""
    try:
        if path.is_dir():
            raise ConfigError(f"{path}: is a folder, not a {what}; give the path of the file itself")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(f"{path}: {path.stat().st_size:,} bytes; a {what} may have at most "
                              f"{MAX_FILE_BYTES:,} bytes")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the {what} ({e.strerror or e})") from None
    except ValueError as e:  # e.g. an embedded NUL character
        raise ConfigError(f"{_short(str(path))}: not a usable file path ({e})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        for encoding in fallback_encodings:
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
        accepted = " or ".join(["UTF-8", *fallback_encodings])
        raise ConfigError(f"{path}: not {accepted} text (byte 0x{raw[e.start]:02x} at offset {e.start}); save the "
                          f"{what} as UTF-8 (e.g. Excel: Save As > 'CSV UTF-8'; editors: encoding UTF-8)") from None


def parse_yaml(text: str, origin: str) -> Any:
    """YAML text → data, or a ConfigError naming ``origin``, the line and what is wrong."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = " ".join(x for x in (e.context, e.problem) if x)
        raise ConfigError(f"{origin}: not valid YAML: {where}{what}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{origin}: not valid YAML: {e}") from None
    except RecursionError:
        raise ConfigError(f"{origin}: nested too deeply; at most {MAX_DEPTH} levels are allowed") from None
    check_size(data, origin)
    return data


def check_size(data: Any, origin: str) -> None:
    """Refuse data nested deeper than MAX_DEPTH or with more than MAX_VALUES values once aliases are
    expanded ("billion laughs"); walks at most MAX_VALUES nodes, so a hostile file cannot hang it."""
    stack, count = [(data, 0, "")], 0
    while stack:
        node, depth, key = stack.pop()
        count += 1
        where = f"{origin}: {key}: " if key else f"{origin}: "
        if count > MAX_VALUES:
            raise ConfigError(f"{where}more than {MAX_VALUES:,} values once YAML aliases (*name) are expanded; "
                              f"a configuration needs far fewer: remove the repeated aliases")
        if depth > MAX_DEPTH:
            raise ConfigError(f"{where}nested too deeply; at most {MAX_DEPTH} levels are allowed")
        if isinstance(node, dict):
            stack.extend((v, depth + 1, _child_key(key, k, depth)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, depth + 1, _child_key(key, i, depth)) for i, v in enumerate(node))


def _child_key(key: str, part: Any, depth: int) -> str:
    """Key paths in size errors, kept short: the first three levels name the block at fault."""
    return key if depth >= 3 else f"{key}.{str(part)[:40]}".lstrip(".")


def read_yaml(path: Path) -> dict:
    """A YAML mapping, or a ConfigError naming the file (missing, a folder, not text, not YAML,
    a key given twice, too large or too deep, not a mapping)."""
    data = parse_yaml(read_text(path, "YAML file"), str(path))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys, got {type(data).__name__}")
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        raise ConfigError(f"{path}: {_short(bad[0])}: keys must be text")
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
            raise ConfigError(f"{path}: extends: must be a file path, got {_short(parent)}")
        try:
            found = (path.parent / parent).exists()
        except (OSError, ValueError):
            found = False
        if not found:
            raise ConfigError(f"{path}: extends: {_short(parent)} not found (looked for {_short(str(path.parent / parent))})")
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


@functools.lru_cache(maxsize=4096)
def _parsed(text: str) -> Any:
    """A YAML value, parsed once: a province sets the same values for every county, each
    parse costs a quarter of a millisecond."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


def parse_override(item: str) -> tuple[str, Any]:
    if "=" not in item:
        raise ConfigError(f"--set {_short(item)}: expected dotted.key=value")
    key, _, text = item.partition("=")
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {_short(item)}: empty key path")
    if key.count(".") >= MAX_DEPTH:
        raise ConfigError(f"--set {_short(key)}: a key path has at most {MAX_DEPTH} parts")
    try:
        value = copy.deepcopy(_parsed(text))  # a copy: callers may change what they are given
    except DuplicateKeyError as e:
        raise ConfigError(f"--set {key}: {e.problem}") from None
    except yaml.YAMLError:
        value = text
    except RecursionError:
        raise ConfigError(f"--set {key}: value nested too deeply; at most {MAX_DEPTH} levels are allowed") from None
    check_size(value, f"--set {key}")
    return key, value


def apply_overrides(data: dict, src: dict[str, str], overrides: list[str], source: str = "--set") -> dict:
    """Apply ``dotted.key=value`` items; ``source`` is what error messages name as their origin."""
    return apply_values(data, src, [parse_override(item) for item in overrides], source)


def apply_values(data: dict, src: dict[str, str], items: list[tuple[str, Any]], source: str,
                 label: str = "--set") -> dict:
    """A copy of ``data`` with each (dotted key, value) set; ``label`` names the items in errors."""
    data = copy.deepcopy(data)
    for key, value in items:
        node: Any = data
        parts = key.split(".")
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, list):
                node = _list_item(node, part, key, label)
                continue
            if part not in node or node[part] is None:
                node[part] = {}
                src[".".join(parts[:i + 1])] = source  # a section --set creates is --set's
            node = node[part]
            if not isinstance(node, (dict, list)):
                raise ConfigError(f"{label} {key}: {'.'.join(parts[:i + 1])} is a value, not a section")
        last = parts[-1]
        if isinstance(node, list):
            node[_index(last, key, len(node), label)] = value
        else:
            node[last] = value
        _record(value, key, src, source)
    return data


def _index(part: str, key: str, n: int, label: str = "--set") -> int:
    if not (part.isascii() and part.isdigit()) or int(part) >= n:
        raise ConfigError(f"{label} {key}: list index {part!r} out of range [0, {n - 1}]")
    return int(part)


def _list_item(node: list, part: str, key: str, label: str = "--set") -> Any:
    return node[_index(part, key, len(node), label)]


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
        raise ConfigError(f"invalid {what}:\n  " + "\n  ".join(first_lines(list(dict.fromkeys(lines))))) from None


def first_lines(lines: list[str], limit: int = 20) -> list[str]:
    """At most ``limit`` error lines: a file with thousands of bad rows gets a readable message."""
    return lines[:limit] + ([f"... and {len(lines) - limit} more"] if len(lines) > limit else [])


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxstring, _REPR.maxother = 3, 4, 6, 76, 76


def _short(v: Any) -> str:
    """At most 80 characters of ``repr(v)``, in bounded time whatever the size of ``v``."""
    text = _REPR.repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


short_repr = _short



class Strict(BaseModel):
    """A config block: unknown keys are errors; assignments are validated too; no NaN or infinity."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


def probabilities(v: dict[str, float]) -> dict[str, float]:
    """Validator for a mapping of probabilities."""
    for k, x in v.items():
        if not 0 <= x <= 1:
            raise ValueError(f"{k}: probability must be in [0, 1], got {x}")
    return v
