"""numba's ``njit``, with an on-disk cache that cannot outlive the code it was compiled from.

numba keys a cached function on its own file only: a change to a function it calls or inlines
from another file (a rule in ``models/``, a search in ``sim/core``) would leave the old machine
code in use, silently.  Every compiled module imports ``njit`` from here; the cache lives in a
folder named by a fingerprint of numba's version and every source file under ``sim/`` and
``models/``, so any change to them compiles afresh (a few seconds, once), and folders left by
earlier code are removed.  ``NUMBA_CACHE_DIR`` chooses where those folders go.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numba
from numba import njit  # noqa: F401  (the decorator every compiled module takes from here)

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("sim", "models")


def fingerprint(root: Path = ROOT) -> str:
    """Digest of numba's version and every ``.py`` file (path and bytes) under ``SOURCES``."""
    digest = hashlib.sha256(numba.__version__.encode())
    for folder in SOURCES:
        for path in sorted((root / folder).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _use_cache_folder() -> Path:
    base = Path(os.environ.get("NUMBA_CACHE_DIR") or ROOT / ".numba_cache")
    folder = base / fingerprint()
    if base.is_dir():
        for old in base.iterdir():
            if old.is_dir() and old.name != folder.name:
                shutil.rmtree(old, ignore_errors=True)
    numba.config.CACHE_DIR = str(folder)  # read when each cached function is decorated
    return folder


CACHE_FOLDER = _use_cache_folder()
