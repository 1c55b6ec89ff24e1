"""Atomic result files: write to a temporary name, then rename, so a crash never leaves half a file.

JSON is strict (NaN and infinity become null); used by single runs and experiment batches alike.
"""
from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.config_files import ConfigError


def atomic_write(path: Path, write) -> None:
    """``write(tmp_path)`` then rename: readers and crashes never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """``df`` as the bytes of a Parquet file (``write_parquet``, and a run's parts encoded in a worker)."""
    return df.to_parquet(index=False)


def write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def write_json(path: Path, data: Any) -> None:
    text = json.dumps(_finite(data), indent=2, ensure_ascii=False, allow_nan=False, default=_json_default)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_parquet(path: Path, df: pd.DataFrame) -> None:
    write_bytes(path, parquet_bytes(df))


def write_csv(path: Path, df: pd.DataFrame) -> None:
    atomic_write(path, lambda tmp: df.to_csv(tmp, index=False, float_format="%.10g"))


def _finite(data: Any) -> Any:
    """NaN and infinity become null: strict JSON for every reader."""
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    if isinstance(data, (float, np.floating)) and not np.isfinite(data):
        return None
    return data


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, (Path,)):
        return str(o)
    raise TypeError(type(o))


# --------------------------------------------------------------------------- output folders
MARKER = ".countysim-results.json"  # what a results folder holds: kind, name and source of its study


def writable_folder(path: Path, flag: str = "--out") -> Path:
    """Create ``path`` if needed and check a file can be written there; a ConfigError naming the
    flag and folder otherwise (a file in the way, a read-only place, an impossible path)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {path}: is a file, not a folder; give a folder for the results")
    ancestor = next((p for p in path.parents if p.exists()), None)
    if ancestor is not None and not ancestor.is_dir():
        raise ConfigError(f"{flag} {path}: {ancestor} is a file, so no folder can be made under it")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test.{os.getpid()}.tmp"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise ConfigError(f"{flag} {path}: cannot write results there ({e.strerror or e}); choose a folder "
                          f"you can write to") from None
    return path


class OutputFolder:
    """A results folder claimed by one process for one study.

    ``open`` takes a lock next to the folder (a second process writing there is refused, not
    mixed in), and refuses a folder holding another study's results or unrelated files unless
    ``overwrite``; then results go to a staging folder that ``commit`` swaps in, so the old
    contents stay whole until the new ones are complete.
    """

    def __init__(self, path: str | Path, overwrite: bool = False, flag: str = "--out"):
        self.final = Path(path).absolute()
        self.overwrite, self.flag = overwrite, flag
        self.root = self.final
        self._lock = None

    def open(self, identity: dict[str, str]) -> Path:
        if self._lock is not None:
            return self.root
        from filelock import FileLock, Timeout

        writable_folder(self.final, self.flag)
        lock = FileLock(str(self.final.parent / f".{self.final.name}.lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise ConfigError(f"{self.flag} {self.final}: another countysim process is writing results there; wait "
                              f"for it to finish or choose another folder") from None
        self._lock = lock
        found = _identity(self.final)
        same = found is None or all(found.get(k) == identity.get(k) for k in ("kind", "name"))
        if not same and not self.overwrite:
            self.close()
            raise ConfigError(f"{self.flag} {self.final}: already holds {_describe(found, self.final)}; countysim will "
                              f"not mix {_describe(identity)} into it: choose another folder, or pass --overwrite "
                              f"to replace its contents once the new results are complete")
        if self.overwrite and found is not None and not same:
            self.root = self.final.parent / f".{self.final.name}.new"
            shutil.rmtree(self.root, ignore_errors=True)
            self.root.mkdir()
        write_json(self.root / MARKER, identity)
        return self.root

    @contextmanager
    def claimed(self, identity: dict[str, str]):
        """``open`` … ``commit``, ``close``; on an error the lock goes and the old contents stay as they were."""
        root = self.open(identity)
        try:
            yield root
        except BaseException:
            self.close()
            raise
        self.commit()
        self.close()

    def commit(self) -> None:
        """Swap the staging folder in (``overwrite``); the old contents go only when the new are whole."""
        if self.root != self.final:
            old = self.final.parent / f".{self.final.name}.old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(self.final, old)
            os.replace(self.root, self.final)
            shutil.rmtree(old, ignore_errors=True)
            self.root = self.final

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def _identity(folder: Path) -> dict[str, str] | None:
    """What the folder holds: None when empty; the marker (or an older manifest) otherwise;
    ``{"kind": "other"}`` for files countysim did not write."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []
    marker = folder / MARKER
    for path in (marker, folder / "manifest.json"):
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and path == marker:
                return {k: str(v) for k, v in data.items()}
            if isinstance(data, dict) and ("kind" in data or "scenario" in data):
                return {"kind": str(data.get("kind", "run")), "name": str(data.get("study") or data.get("scenario")),
                        "source": str(data.get("study_file") or data.get("source"))}
    return {"kind": "other"} if entries else None


def _describe(identity: dict[str, str], folder: Path | None = None) -> str:
    if identity.get("kind") == "other":
        names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))[:5] if folder else []
        return f"files countysim did not write ({', '.join(names)})"
    return f"the results of {identity.get('kind')} {identity.get('name')!r} ({identity.get('source')})"
