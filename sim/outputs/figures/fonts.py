"""Fonts for figures: Latin text in DejaVu Sans, Chinese in the project's own CJK font.

The CJK font ships with countysim (:mod:`sim.outputs.cjk_font`), regular and bold, so every
machine draws the KPIs' Chinese names the same way, without a system font and without
"Failed to find font weight" warnings.  Set ``COUNTYSIM_CJK_FONT`` to another font file that
covers the Chinese text to use that one, or to ``none`` for English-only labels.
"""
from __future__ import annotations

import contextlib
import os
import re
from functools import lru_cache
from pathlib import Path

from matplotlib import font_manager

from models.kpis import ALL_KPI_INFO
from sim.outputs import cjk_font as shipped

LATIN = "DejaVu Sans"
# Chinese text the figures may draw beyond the KPI names.
EXTRA_TEXT = "县域医共体村卫生室乡镇卫生院县级医院县外目标首诊上转下转"


def chinese_text() -> str:
    """Every CJK character a figure may draw."""
    return shipped.cjk_chars("".join(zh for zh, _ in ALL_KPI_INFO.values()) + EXTRA_TEXT)


def _covers(path: str | Path, text: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        charmap = FT2Font(str(path)).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(c) in charmap for c in text)


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Family name of the CJK font figures use (registered with matplotlib), or None for English only."""
    forced = os.environ.get("COUNTYSIM_CJK_FONT", "").strip()
    if forced.lower() in ("none", "0", "off", "english"):
        return None
    files = [Path(forced)] if forced else list(shipped.FILES.values())
    if not all(p.is_file() and _covers(p, chinese_text()) for p in files):
        return None
    for p in files:
        font_manager.fontManager.addfont(str(p))
    return font_manager.FontProperties(fname=str(files[0])).get_name()


def rc() -> dict:
    """rcParams: Latin text in DejaVu Sans, CJK glyphs from the CJK font (matplotlib's per-glyph fallback)."""
    cjk = cjk_font()
    families = [LATIN] + ([cjk] if cjk else [])
    # an explicit family list: matplotlib falls back glyph by glyph only along such a list
    return {"font.family": families, "font.sans-serif": families, "axes.unicode_minus": True}


@contextlib.contextmanager
def cached_lookups():
    """Answer each font query once while a figure is drawn: matplotlib resolves the font family list
    again for every text it measures or draws (about 12,000 look-ups for the figures of one run),
    each time re-reading eleven rcParams.  Valid only while the figure's rcParams are fixed (inside
    ``style.theme()``); the manager's own method is back afterwards."""
    manager = font_manager.fontManager
    if "findfont" in vars(manager):  # nested: the outer context's cache serves
        yield
        return
    lookup = manager.findfont
    answers: dict = {}

    def findfont(prop, fontext="ttf", directory=None, fallback_to_default=True, rebuild_if_missing=True):
        if isinstance(prop, font_manager.FontProperties):  # mutable: key on its values, as its hash does
            what = (tuple(prop.get_family()), prop.get_slant(), prop.get_variant(), prop.get_weight(),
                    prop.get_stretch(), prop.get_size(), prop.get_file(), prop.get_math_fontfamily())
        else:
            what = prop
        key = (what, fontext, directory, fallback_to_default, rebuild_if_missing)
        if key not in answers:
            answers[key] = lookup(prop, fontext, directory, fallback_to_default, rebuild_if_missing)
        return answers[key]

    manager.findfont = findfont
    try:
        yield
    finally:
        del manager.findfont


def has_cjk() -> bool:
    return cjk_font() is not None


def with_zh(english: str, zh: str, sep: str = " ") -> str:
    """``English 中文`` when a CJK font renders it, else ``English``."""
    return f"{english}{sep}{zh}" if zh and has_cjk() else english


def strip_cjk(text: str) -> str:
    """Text without CJK characters (for the English-only fallback of free text)."""
    return re.sub(r"\s*[\(（]?[\u2e80-\uffff]+[\)）]?", "", text).strip() if not has_cjk() else text


def describe() -> str:
    cjk = cjk_font()
    return f"CJK font: {cjk}" if cjk else "no CJK font: English labels only"
