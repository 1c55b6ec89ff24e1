"""Fonts for figures: a CJK font for the KPIs' Chinese names when one is installed, else English only.

Matplotlib caches its font list, so a CJK font installed after that cache was built (e.g.
``apt-get install fonts-noto-cjk``) is not in it: the system font folders are scanned for
known CJK font files and those are registered.  A font counts only if it has a glyph for every
Chinese character the figures use, so a label is never drawn as empty boxes ("tofu"): without
such a font, labels carry no Chinese at all.

Without a system CJK font, the Noto Sans CJK SC file bundled by the ``mplfonts`` dependency is
used.  Set ``COUNTYSIM_CJK_FONT`` to a font file to use that one, or to ``none`` for English only.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from matplotlib import font_manager

from models.kpis import ALL_KPI_INFO

# Family names, best first: Simplified-Chinese faces before other CJK faces of the same design.
CANDIDATES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "Noto Sans CJK TC",
    "Noto Sans CJK JP", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC",
    "Hiragino Sans GB", "Heiti SC", "SimHei", "STHeiti", "Sarasa Gothic SC", "AR PL UKai CN",
    "AR PL UMing CN", "Droid Sans Fallback",
)
# File names of CJK fonts in system folders (matched case-insensitively).
FILE_PATTERN = re.compile(r"(notosanscjk|notoserifcjk|notosanssc|sourcehansans|wqy|wenquanyi|simhei|msyh|"
                          r"pingfang|hiragino|droidsansfallback|uming|ukai|sarasa)", re.I)
LATIN = "DejaVu Sans"
# Chinese text the figures may draw beyond the KPI names.
EXTRA_TEXT = "县域医共体村卫生室乡镇卫生院县级医院县外目标首诊上转下转"


def chinese_text() -> str:
    """Every CJK character a figure may draw."""
    text = "".join(zh for zh, _ in ALL_KPI_INFO.values()) + EXTRA_TEXT
    return "".join(sorted({c for c in text if _is_cjk(c)}))


def _is_cjk(c: str) -> bool:
    return ord(c) > 0x2E7F


def _covers(path: str, text: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        charmap = FT2Font(path).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(c) in charmap for c in text)


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Family name of an installed font that renders every Chinese label, or None."""
    forced = os.environ.get("COUNTYSIM_CJK_FONT", "").strip()
    if forced.lower() in ("none", "0", "off", "english"):
        return None
    text = chinese_text()
    if forced:
        if Path(forced).is_file() and _covers(forced, text):
            font_manager.fontManager.addfont(forced)
            return font_manager.FontProperties(fname=forced).get_name()
        return None
    found = _registered(text)
    if found:
        return found
    for path in font_manager.findSystemFonts() + _bundled():  # the cache may predate the install
        if FILE_PATTERN.search(Path(path).name):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    return _registered(text)


def _bundled() -> list[str]:
    """Noto Sans CJK SC as shipped by the ``mplfonts`` package (a project dependency), so a
    fresh machine without system CJK fonts still labels figures in Chinese."""
    try:
        import mplfonts
    except ImportError:
        return []
    folder = Path(mplfonts.__file__).parent / "fonts"
    return [str(p) for p in sorted(folder.glob("NotoSansCJK*.otf"))]


def _registered(text: str) -> str | None:
    entries = {}
    for f in font_manager.fontManager.ttflist:
        entries.setdefault(f.name, f.fname)
    for name in CANDIDATES:
        if name in entries and _covers(entries[name], text):
            return name
    return None


def rc() -> dict:
    """rcParams: Latin text in DejaVu Sans, CJK glyphs from the CJK font (matplotlib's per-glyph fallback)."""
    cjk = cjk_font()
    families = [LATIN] + ([cjk] if cjk else [])
    # an explicit family list: matplotlib falls back glyph by glyph only along such a list
    return {"font.family": families, "font.sans-serif": families, "axes.unicode_minus": True}


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
    return f"CJK font: {cjk}" if cjk else "no CJK font installed: English labels only"
